"""Fuzzed bad configs (issue 32): hundreds of generated bad inputs, each stopped by the config
checks with one line that names the key and what is allowed.

The inputs are generated from the schema (tests/schema_fuzz.py: every key, its type, range and
choices), so a new key is fuzzed with no change here:

* through :func:`sim.config.validate` in process (fast): numbers out of range or not finite,
  names outside their choices, list items out of range, malformed tiers, scandals and subsidy
  lists, and the rules between keys (odd ring degrees, segment shares, life fractions);
* through :func:`sim.api.check_overrides` in process (composes with Hydra, ~0.5 s each): wrong
  types, unknown keys, unknown group options, malformed list overrides;
* through :func:`sim.api.check_overrides` with a scenario file of the user's own, outside the
  repo (on the search path): a misspelt key, a value out of range, bad indentation, no
  ``# @package _global_`` line, an unknown group option in its defaults list; the line names the
  file too;
* through the ``gbsim`` command (``python -m sim``, a subprocess each, ~4 s): a sample of the
  same overrides; exit status 2, one line on stderr, no traceback, nothing written.
"""

from __future__ import annotations

import os
import re
import string
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.api import check_overrides
from sim.config import ConfigError, validate
from tests.schema_fuzz import (
    EVEN,
    GROUPS,
    _get,
    _set,
    count,
    examples,
    group_options,
    leaves,
    to_schema,
    with_options,
)

REPO = Path(__file__).resolve().parent.parent
# What a message says is allowed: a range, a set of choices or keys, a rule, or a type. Hydra's
# own type messages say it by what the value is not ("... is not a ListConfig, list or tuple":
# a list is wanted), which sim.api passes on as they are.
ALLOWED = re.compile(r"allowed|must|choose one of|could not be converted to|not a valid|"
                     r"is not a ListConfig, list or tuple|"
                     r"not a subclass|not in '|give at least|at least one|no supplier|"
                     r"not wired|not a platform|not a segment|not a product")


def assert_one_line(msg: str, key: str) -> None:
    assert "\n" not in msg.strip(), f"more than one line: {msg!r}"
    assert "Traceback" not in msg, msg
    assert key in msg, f"the message does not name {key}: {msg!r}"
    assert ALLOWED.search(msg), f"the message does not say what is allowed: {msg!r}"


# ---------------------------------------------------------------------------------------------
# in process, through validate: values a composed config can hold but the checks must refuse


_OPTIONS = group_options()
_WORD = st.text(string.ascii_lowercase, min_size=1, max_size=8)
# Words OmegaConf reads as a bool, a null or a number: not a wrong type for every key.
_READABLE = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "none", "nan", "inf",
             "infinity", "t", "f"}


def _bad_number(lf, draw):
    ends = [(b, s) for b, s in ((lf.lo, -1), (lf.hi, 1)) if b is not None]
    bound, sign = draw(st.sampled_from(ends))
    if lf.kind == "int":
        return int(bound) + sign * draw(st.integers(1, 10**6))
    step = draw(st.sampled_from([1e-3, 0.5, 1.0, 10.0, 1e6])) * (1.0 + abs(bound))
    return float(bound) + sign * step


@st.composite
def bad_config(draw):
    """(plain config, the key the message must name): one thing wrong, drawn from the schema."""
    cfg = with_options({g: draw(st.sampled_from(_OPTIONS[g])) for g in GROUPS})
    every = leaves(cfg)
    kind = draw(st.sampled_from(["range", "range", "range", "nonfinite", "choice", "list_item",
                                 "tiers", "scandal", "category_rates", "odd_degree",
                                 "segments", "life", "empty"]))
    if kind == "range":
        lf = draw(st.sampled_from([x for x in every if x.numeric and
                                   (x.lo is not None or x.hi is not None)]))
        _set(cfg, lf.key, _bad_number(lf, draw))
        return cfg, lf.key
    if kind == "nonfinite":
        lf = draw(st.sampled_from([x for x in every if x.kind == "float" and x.numeric]))
        _set(cfg, lf.key, draw(st.sampled_from([float("nan"), float("inf"), -float("inf")])))
        return cfg, lf.key
    if kind == "choice":
        lf = draw(st.sampled_from([x for x in every if x.choices is not None]))
        _set(cfg, lf.key, draw(_WORD.filter(lambda w: w not in lf.choices)))
        return cfg, lf.key
    if kind == "list_item":
        lf = draw(st.sampled_from([x for x in every if x.kind in ("list[float]", "list[int]")
                                   and not x.key.startswith("incentive.tier_")]))
        items = list(lf.value or [0])
        items[draw(st.integers(0, len(items) - 1))] = _bad_number(
            type(lf)(lf.key, lf.kind[5:-1], False, lf.lo, lf.hi, None, None, None), draw)
        _set(cfg, lf.key, items)
        return cfg, lf.key
    if kind == "tiers":
        inc = cfg["incentive"]
        how = draw(st.sampled_from(["descending", "not from 0", "lengths"]))
        if how == "descending":
            inc["tier_sales_yuan"], inc["tier_extra_rates"] = [0.0, 500.0, 100.0], [0, 0.1, 0.2]
        elif how == "not from 0":
            inc["tier_sales_yuan"], inc["tier_extra_rates"] = [10.0, 500.0], [0.0, 0.1]
        else:
            inc["tier_sales_yuan"], inc["tier_extra_rates"] = [0.0, 500.0], [0.0]
        return cfg, "incentive.tier_sales_yuan"
    if kind == "scandal":
        names = list(cfg["platforms"])
        sc = {"day": 10, "platform": names[0], "severity": 0.5}
        field = draw(st.sampled_from(["day", "platform", "severity"]))
        sc[field] = {"day": -draw(st.integers(1, 1000)),
                     "platform": draw(_WORD.filter(lambda w: w not in names)),
                     "severity": 1.0 + draw(st.floats(0.01, 100.0))}[field]
        cfg["wom"]["scandals"] = [{"day": 3, "platform": names[-1], "severity": 0.1}, sc]
        return cfg, f"wom.scandals[1].{field}"
    if kind == "category_rates":
        cat = draw(_WORD.filter(lambda w: w not in cfg["products"]))
        cfg["incentive"]["category_rate_multiplier"] = {cat: 1.5}
        return cfg, f"incentive.category_rate_multiplier.{cat}"
    if kind == "odd_degree":
        key = draw(st.sampled_from(EVEN))
        net = key.split(".")[1]
        cfg["market"]["network"] = net
        k = _get(cfg, key)
        _set(cfg, key, k + 1 if k + 1 < cfg["market"]["consumers"] else k - 1)
        if k % 2:  # already odd (it was not): keep it odd
            _set(cfg, key, k)
        return cfg, key
    if kind == "segments":
        where = draw(st.sampled_from(["town", "village"]))
        seg = draw(st.sampled_from(sorted(cfg["market"]["segments"])))
        cfg["market"]["segments"][seg][f"share_{where}"] += draw(st.floats(0.01, 0.5))
        return cfg, f"share_{where}"
    if kind == "life":
        cat = draw(st.sampled_from(sorted(cfg["products"])))
        p = cfg["products"][cat]
        p["initial_life_min"], p["initial_life_max"] = 0.9, 0.5
        return cfg, f"products.{cat}.initial_life_min"
    what = draw(st.sampled_from(["q10", "platforms", "products"]))
    if what == "q10":
        cat = draw(st.sampled_from(sorted(cfg["products"])))
        cfg["products"][cat]["q10_bands"] = []
        return cfg, f"products.{cat}.q10_bands"
    cfg[what] = {}
    return cfg, what


@pytest.mark.slow
@settings(max_examples=examples(180))
@given(bad_config())
def test_bad_values_are_refused_in_one_line_by_validate(case):
    cfg, key = case
    with pytest.raises(ConfigError) as e:
        validate(to_schema(cfg))
    assert_one_line(str(e.value), key)
    count("bad configs refused by validate (in process)")


# ---------------------------------------------------------------------------------------------
# in process, through check_overrides: what only the command line can say


def _word_for(lf):
    return _WORD.filter(lambda w: w not in _READABLE and w not in (lf.choices or ()))


@st.composite
def bad_override(draw):
    """(override, the key the message must name): a wrong type, an unknown key or group option,
    a malformed list; keys drawn from the schema (the default scenario's config)."""
    every = leaves(with_options({}))
    kind = draw(st.sampled_from(["type", "type", "int_float", "bool_word", "unknown_key",
                                 "group_option", "list", "scandals"]))
    if kind == "type":
        lf = draw(st.sampled_from([x for x in every if x.kind in ("float", "int", "bool")
                                   and x.choices is None]))
        value = draw(st.one_of(_word_for(lf), st.just("[1, 2]"), st.just("{a: 1}")))
        return f"{lf.key}={value}", lf.key
    if kind == "int_float":
        lf = draw(st.sampled_from([x for x in every if x.kind == "int"]))
        return f"{lf.key}={draw(st.integers(0, 100))}.5", lf.key
    if kind == "bool_word":
        # OmegaConf would read these as a bool (3 -> true, "off" -> false) without a word
        lf = draw(st.sampled_from([x for x in every if x.kind == "bool"]))
        value = draw(st.one_of(st.integers(-5, 5).map(str),
                               st.sampled_from(["yes", "no", "on", "off", "y", "n", "1.0"])))
        return f"{lf.key}={value}", lf.key
    if kind == "unknown_key":
        lf = draw(st.sampled_from(every))
        parent = lf.key.rpartition(".")[0]
        siblings = {x.key.rpartition(".")[2] for x in every if x.key.rpartition(".")[0] == parent}
        name = draw(_WORD.filter(lambda w: w not in siblings and w not in _READABLE))
        key = f"{parent}.{name}" if parent else name
        if key in GROUPS or key in ("experiment", "schema"):
            key = f"{key}.x"
        return f"{key}=1", key
    if kind == "group_option":
        g = draw(st.sampled_from([*GROUPS, "experiment"]))
        opts = {p.stem for p in (REPO / "configs" / g).glob("*.yaml")}
        return f"{g}={draw(_WORD.filter(lambda w: w not in opts and w not in _READABLE))}", g
    if kind == "list":
        lf = draw(st.sampled_from([x for x in every if x.kind in ("list[float]", "list[int]")]))
        bad = draw(st.sampled_from(["[{w}]", "[1, {w}]", "{w}"]))
        return f"{lf.key}={bad.format(w=draw(_word_for(lf)))}", lf.key
    bad = draw(st.sampled_from(["[{{day: 5, platform: {w}}}]", "[{{{w}: 5}}]", "[1, 2]",
                                "[{{day: {w}, platform: incumbent}}]"]))
    return "wom.scandals=" + bad.format(w=draw(_WORD.filter(
        lambda w: w not in ("incumbent", "entrant", "discounter", "day", "platform",
                            "severity") and w not in _READABLE))), "wom.scandals"


@pytest.mark.slow
@settings(max_examples=examples(50))
@given(bad_override())
def test_bad_overrides_are_refused_in_one_line_before_anything_runs(case):
    override, key = case
    with pytest.raises(ConfigError) as e:
        check_overrides([override])
    assert_one_line(str(e.value), key)
    count("bad overrides refused by check_overrides (in process)")


# ---------------------------------------------------------------------------------------------
# in process: a broken scenario file in the user's own directory


def _yaml_of(key: str, value: str, indent_last: int = 0) -> list[str]:
    parts = key.split(".")
    out = ["  " * depth + f"{p}:" for depth, p in enumerate(parts[:-1])]
    return out + [" " * indent_last + "  " * (len(parts) - 1) + f"{parts[-1]}: {value}"]


_SCALARS = [x for x in leaves(with_options({})) if x.kind in ("float", "int") and x.choices is None
            and ".strategy." not in x.key and x.hi is not None and x.hi < 1e6]


@st.composite
def bad_scenario_file(draw):
    """(the file's text, what the message must say, the key it must name or None)."""
    header = "# @package _global_\n# a scenario of my own\n"
    kind = draw(st.sampled_from(["misspelt", "out_of_range", "indent", "no_header", "option"]))
    lf = draw(st.sampled_from(_SCALARS))
    value = str(lf.value)
    if kind == "misspelt":
        parts = lf.key.split(".")
        name = parts[-1]
        i = draw(st.integers(1, len(name) - 2))
        wrong = name[:i] + name[i + 1:]  # a letter dropped, as typing does
        siblings = {x.key.rpartition(".")[2] for x in leaves(with_options({}))
                    if x.key.rpartition(".")[0] == lf.key.rpartition(".")[0]}
        if wrong in siblings:
            wrong = name + "x"
        text = "\n".join(_yaml_of(".".join([*parts[:-1], wrong]), value))
        return header + text + "\n", f"unknown key '{wrong}'", None
    if kind == "out_of_range":
        bad = lf.hi * 2 + 1 if lf.kind == "float" else int(lf.hi) * 2 + 1
        return header + "\n".join(_yaml_of(lf.key, str(bad))) + "\n", "out of range", lf.key
    if kind == "indent":
        # a second key under the first one's parent, indented one space too far
        other = draw(st.sampled_from([x for x in _SCALARS if x.key.count(".") >= 1]))
        first = _yaml_of(other.key, str(other.value))
        last = first[-1]
        text = "\n".join([*first, " " + last.replace(other.key.rpartition(".")[2], "zz", 1)])
        return header + text + "\n", "line ", None
    if kind == "no_header":
        return "\n".join(_yaml_of(lf.key, value)) + "\n", "no '# @package _global_' line", None
    g = draw(st.sampled_from([g for g in GROUPS if g != "platforms"]))
    opts = {p.stem for p in (REPO / "configs" / g).glob("*.yaml")}
    name = draw(_WORD.filter(lambda w: w not in opts and w not in _READABLE))
    return (header + f"defaults:\n  - override /{g}: {name}\n", f"{g}={name}: no such option",
            None)


@pytest.mark.slow
@settings(max_examples=examples(30), deadline=None)
@given(bad_scenario_file())
def test_a_broken_scenario_file_of_my_own_is_refused_in_one_line_naming_it(tmp_path_factory,
                                                                            case):
    text, needle, key = case
    d = tmp_path_factory.mktemp("my_configs")
    (d / "experiment").mkdir()
    f = d / "experiment" / "mine.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        check_overrides([f"hydra.searchpath=[file://{d}]", "experiment=mine"])
    msg = str(e.value)
    assert "\n" not in msg.strip() and "Traceback" not in msg, msg
    assert needle in msg, f"{needle!r} not in {msg!r}\n{text}"
    assert str(f) in msg, f"the file is not named: {msg!r}\n{text}"
    if key is not None:
        assert key in msg, msg
    count("broken scenario files refused by check_overrides (in process)")


# ---------------------------------------------------------------------------------------------
# the command


def _gbsim(override: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sim", override], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_gbsim_refuses_bad_overrides_with_status_2_and_writes_nothing(tmp_path):
    # A fixed sample of the generated overrides (hypothesis draws them; the subprocesses run
    # two at a time, outside hypothesis, to keep the wall time near a minute).
    cases = []

    @settings(max_examples=examples(30), database=None)
    @given(bad_override())
    def gather(case):
        cases.append(case)

    gather()
    cases = list(dict.fromkeys(cases))
    assert len(cases) >= min(24, examples(30)), len(cases)
    dirs = []
    for i in range(len(cases)):
        d = tmp_path / f"case{i}"
        d.mkdir()
        dirs.append(d)
    with ThreadPoolExecutor(max_workers=2) as ex:
        done = list(ex.map(lambda a: _gbsim(a[0][0], a[1]), zip(cases, dirs, strict=True)))
    for (override, key), d, proc in zip(cases, dirs, done, strict=True):
        assert proc.returncode == 2, (override, proc.returncode, proc.stderr[-2000:])
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gbsim: error: "), (override, lines)
        assert_one_line(lines[0], key)
        assert proc.stdout == "", (override, proc.stdout)
        assert list(d.iterdir()) == [], f"{override}: wrote {list(d.iterdir())}"
        count("bad overrides refused by gbsim (subprocess, exit 2)")
