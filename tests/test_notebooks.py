"""The notebooks run, top to bottom, at small sizes; they are committed without outputs; every
cell that draws a figure shows it (an image/png output, as JupyterLab would display it)."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
# Smaller than the notebooks' own sizes: the cell after the "parameters" cell overrides them
# (papermill's convention), so the test runs every cell in seconds.
# A cell draws a figure if it makes one (the project's figures.subplots, or pyplot directly) or
# shows a saved one (IPython's Image: the strategist's notebook shows gbsim-compare's PNG).
DRAWS = re.compile(r"\bsubplots\(|\bplt\.|\bImage\(")
SMALL = {
    "01_tour.ipynb": "HOUSEHOLDS = 1000\nDAYS = 45",
    "02_policy_comparison.ipynb": 'SEEDS = [1, 2, 3]\nCOMMON = ["experiment=smoke", '
                                  '"market.consumers=1000", "days=70"]\nCUT_DAY = 40',
    # Runs and files in a temporary directory; days 70-99 are after the entrant's entry (day 60).
    "03_strategist.ipynb": 'import tempfile\nSEEDS = "1-3"\nCOMMON = ["market.consumers=1000", '
                           '"market.county.compound_size=200", "market.county.village_size=150"]'
                           '\nDAYS = 100\nWINDOW = "70-99"\nOUT = tempfile.mkdtemp()',
    # Quits with members fall in days 30-110, and the commission cut's window (day 120 on) is in.
    "04_leaders.ipynb": "HOUSEHOLDS = 2000\nDAYS = 140\nSEEDS = [1, 2]",
}


@pytest.mark.slow  # runs every cell: small markets over seeds
@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebook_is_clean_and_runs(name, tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), \
        f"{name}: commit notebooks without outputs"
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(SMALL[name]))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    drawing = [c for c in code if DRAWS.search(c.source)]
    assert drawing, f"{name}: no cell draws a figure (is DRAWS out of date?)"
    for c in drawing:
        images = [o for o in c.outputs if "image/png" in o.get("data", {})]
        assert images, (f"{name}: a cell draws a figure but shows no image (a non-interactive "
                        f"backend chosen at import?): {c.source[:80]!r}")
        shown = [o["data"]["image/png"] for o in images]
        assert len(set(shown)) == len(shown), (f"{name}: a figure shown twice (a trailing `fig` "
                                               f"as well as the inline backend): {c.source[:80]!r}")
    if name == "02_policy_comparison.ipynb":
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "identical in 3 of 3 seeds" in printed, "common random numbers before the cut"
    if name == "03_strategist.ipynb":
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "unknown key 'coupon_yuan_per_ordr'" in printed, "the typo is named"
        assert "share.entrant@70-99" in printed and "95% CI" in printed
    if name == "04_leaders.ipynb":
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "quits with members" in printed and "of the fall among households" in printed
