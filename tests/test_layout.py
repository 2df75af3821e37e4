"""One home per mechanism: the phases' modules stay apart, the code map lists every module.

The model (``sim/model.py``) builds one object per phase (``self.<name> = Phase(self)``) and runs
them in the order of ``PHASES``. Each phase object lives in its mechanism's module, beside its
state, formulas and kernels; it reaches another mechanism through the market at run time, never by
importing its phase module, so that a mechanism can be read, and rewritten, on its own. The
import graph is the one of tests/test_architecture.py (read from the source with ``ast``).
"""

from __future__ import annotations

import ast
import re

from tests.test_architecture import SIM_DIR, import_graph, sim_modules

ROOT = SIM_DIR.parent
MODULE_LINES_MAX = 500  # issue 21: no module over ~500 lines
MODEL_LINES_MAX = 300  # issue 21: the model is a builder and a recipe


def phase_modules() -> dict[str, str]:
    """{phase name: the module of its phase class}, read from ``sim/model.py``."""
    tree = ast.parse((SIM_DIR / "model.py").read_text(encoding="utf-8"))
    imported = {}  # class name -> module
    phases = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            for alias in node.names:
                imported[alias.asname or alias.name] = node.module
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "PHASES"):
            phases = ast.literal_eval(node.value)
    built = {}  # model attribute -> class name, from `self.<attr> = Class(self)`
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute)
                and isinstance(node.targets[0].value, ast.Name)
                and node.targets[0].value.id == "self" and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)):
            built[node.targets[0].attr] = node.value.func.id
    assert phases, "sim/model.py has no PHASES"
    return {name: imported[built[attr]] for name, attr in phases}


def _mechanism(module: str) -> str:
    """A phase module's mechanism: its package (``sim.wom`` for ``sim.wom.phase``) or itself."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_every_phase_has_its_own_module():
    phases = phase_modules()
    assert list(phases) == ["calendar", "terms", "logistics_and_pickup", "word_of_mouth",
                            "reputation", "leaders", "orders", "procurement", "settlement",
                            "records"]
    assert "sim.model" not in phases.values()
    assert len(set(phases.values())) == len(phases)


def test_no_phase_module_imports_another_mechanism():
    """Each mechanism's modules import no other mechanism's phase module."""
    graph = import_graph()
    phase_mods = set(phase_modules().values())
    bad = []
    for module, imports in graph.items():
        for target in imports & phase_mods:
            if _mechanism(module) != _mechanism(target) and module != "sim.model":
                if any(module == p or _mechanism(p) == _mechanism(module) for p in phase_mods):
                    bad.append(f"{module} imports {target}")
    assert not bad, "phase modules importing one another:\n  " + "\n  ".join(sorted(bad))


def test_the_check_can_fail(monkeypatch):
    """Made to see an import of the word-of-mouth phase from the cold chain's, it reports it."""
    import tests.test_architecture as arch

    real = arch.import_graph

    def graph_with_a_bad_edge():
        g = real()
        g["sim.coldchain.phase"] = g["sim.coldchain.phase"] | {"sim.wom.phase"}
        return g

    monkeypatch.setattr("tests.test_layout.import_graph", graph_with_a_bad_edge)
    try:
        test_no_phase_module_imports_another_mechanism()
    except AssertionError as e:
        assert "sim.coldchain.phase imports sim.wom.phase" in str(e)
    else:
        raise AssertionError("the check missed a phase module importing another")


def test_module_sizes():
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in sim_modules().items()}
    over = {m: n for m, n in sizes.items() if n > MODULE_LINES_MAX}
    assert not over, f"modules over {MODULE_LINES_MAX} lines: {over}"
    assert sizes["sim.model"] <= MODEL_LINES_MAX


def test_the_code_map_lists_every_module():
    """docs/ODD.md §12 has one row per module of sim/, and no row for a module that is gone."""
    text = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    section = text[text.index("## 12. Code map"):]
    listed = set(re.findall(r"^\| `(sim/[^`]+\.py)` \|", section, flags=re.M))
    present = {str(p.relative_to(ROOT)) for p in sim_modules().values()}
    assert listed == present, (f"missing from the code map: {sorted(present - listed)}; "
                               f"listed but gone: {sorted(listed - present)}")


def test_each_phase_declares_the_state_it_owns():
    """A phase object's state is what its ``OWNS`` names, no more, no less, after some days of a
    market; no state is owned twice. (Its ``WRITES`` names what it changes beyond its own.)"""
    from sim.api import compose
    from sim.model import PHASES, GroupBuyingMarket
    from tests.helpers import SMALL

    model = GroupBuyingMarket(compose(SMALL + ["days=35", "procurement=stock"]))
    model.run()
    owned = {}
    for name, attr in PHASES:
        phase = getattr(model, attr)
        state = set(vars(phase)) - {"m", "model"}  # the market it belongs to
        assert state == set(phase.OWNS), (name, sorted(state ^ set(phase.OWNS)))
        assert isinstance(getattr(phase, "WRITES", ()), tuple), name
        for key in phase.OWNS:
            assert key not in owned, f"{key} owned by {owned[key]} and {name}"
            owned[key] = name
    recruiting = model.leadership.recruiting
    assert set(vars(recruiting)) - {"m"} == set(recruiting.OWNS)
