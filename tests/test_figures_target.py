"""`make figures` discovers the experiment scripts, passes --quick, and reports failures."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """import sys
from pathlib import Path
Path(sys.argv[0]).with_suffix(".ran").write_text(" ".join(sys.argv[1:]))
sys.exit({code})
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_figures_runs_every_script_and_lists_failures(tmp_path):
    for name, code in (("a_ok", 0), ("b_broken", 1), ("c_ok", 0)):
        (tmp_path / f"{name}.py").write_text(SCRIPT.format(code=code))
    scripts = " ".join(str(p) for p in sorted(tmp_path.glob("*.py")))
    # -o: treat the set-up stamp as done (the tests already run inside the set-up venv).
    r = subprocess.run(["make", "-C", str(ROOT), "-o", ".venv/.installed", "figures",
                        f"EXPERIMENTS={scripts}", "QUICK=1", f"PY={sys.executable}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0, "a failing experiment fails the target"
    assert "failed: " in r.stderr and "b_broken.py" in r.stderr and "a_ok" not in r.stderr
    for name in ("a_ok", "b_broken", "c_ok"):  # all ran, with --quick, despite the failure
        assert (tmp_path / f"{name}.ran").read_text() == "--quick"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_figures_discovers_experiments_dir():
    r = subprocess.run(["make", "-C", str(ROOT), "-n", "-o", ".venv/.installed", "figures"],
                       capture_output=True, text=True, timeout=60)
    others = {"benchmark.py", "results_doc.py", "validation.py",  # their own targets, no figures
              "decision.py", "war_game.py"}  # war_game: 24 scenarios, run by hand (issue 28)
    found = [p for p in (ROOT / "experiments").glob("*.py") if p.name not in others]
    for f in found:
        assert str(f.relative_to(ROOT)) in r.stdout, f"make figures should run {f.name}"
    assert "benchmark.py" not in r.stdout, "the benchmark has make bench and draws no figures"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_full_make_figures_writes_each_output_into_the_results_doc(tmp_path):
    # Full (not quick) runs keep each experiment's printed output and copy it into its block of
    # the results document; a block with no output is left alone.
    for name in ("a_exp", "b_exp"):
        (tmp_path / f"{name}.py").write_text(f"print('{name} printed', 41 + 1)\n")
    doc = tmp_path / "results.md"
    doc.write_text("# R\n\ntext a\n<!-- output: a_exp -->\nold\n<!-- /output -->\n"
                   "text b\n<!-- output: b_exp -->\nold\n<!-- /output -->\n"
                   "<!-- output: never_run -->\nkept\n<!-- /output -->\n")
    scripts = " ".join(str(p) for p in sorted(tmp_path.glob("*.py")))
    r = subprocess.run(["make", "-C", str(ROOT), "-o", ".venv/.installed", "figures",
                        f"EXPERIMENTS={scripts}", f"PY={sys.executable}",
                        f"RESULTS={tmp_path / 'out'}", f"RESULTS_DOC={doc}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    text = doc.read_text()
    assert "a_exp printed 42" in text and "b_exp printed 42" in text
    assert "old" not in text and "kept" in text and "text a" in text and "text b" in text
    assert "printed by groupbuy-sim" in text  # the code version that printed it
