"""docs/glossary.md lists every output of a run, and nothing else (issue 22).

A short run of the small scenario writes its files; every top-level key of its ``summary.json``
and every column of every Parquet table it writes must be a row of the glossary's section for
that file, and every row of the glossary must be a key or column the outputs have. The parser is
checked on its own: a glossary with one row removed, or one row too many, must be caught.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from sim.api import compose_scenario, run

GLOSSARY = Path(__file__).resolve().parent.parent / "docs" / "glossary.md"
SUMMARY = "summary.json"

_NAME = re.compile(r"`([^`]+)`")


def parse_glossary(text: str) -> dict[str, list[str]]:
    """The glossary's rows by section: ``{file name: [key, ...]}``.

    A section starts at a ``## `file` `` heading (the file's name in backticks); its rows are
    the table lines whose first cell is a name in backticks. Each row must have three non-empty
    cells (key, unit, definition); a malformed row or a section without rows raises ValueError.
    """
    sections: dict[str, list[str]] = {}
    current = None
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("## "):
            m = _NAME.search(line)
            current = m.group(1) if m else None
            if current is not None:
                if current in sections:
                    raise ValueError(f"line {n}: section {current} appears twice")
                sections[current] = []
            continue
        if current is None or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`([^`]+)`", cells[0])
        if m is None:  # the header row and its rule
            continue
        if len(cells) != 3 or not all(cells):
            raise ValueError(f"line {n}: a row needs key | unit | definition, got {len(cells)} "
                             f"cells (a '|' inside a definition?): {line}")
        sections[current].append(m.group(1))
    for name, keys in sections.items():
        if not keys:
            raise ValueError(f"section {name} has no rows")
    return sections


def glossary_gaps(sections: dict[str, list[str]], outputs: dict[str, list[str]]) -> list[str]:
    """What the glossary and the outputs disagree on, one line each (empty: they agree).

    ``outputs``: each written file's keys or columns, ``{file name: [key, ...]}``.
    """
    gaps = []
    for name in sorted(set(outputs) - set(sections)):
        gaps.append(f"{name}: written by a run, no section in docs/glossary.md")
    for name in sorted(set(sections) - set(outputs)):
        gaps.append(f"{name}: a section in docs/glossary.md, not written by a run")
    for name in sorted(set(outputs) & set(sections)):
        rows = sections[name]
        for key in sorted({k for k in rows if rows.count(k) > 1}):
            gaps.append(f"{name}: {key} listed twice in docs/glossary.md")
        for key in outputs[name]:
            if key not in rows:
                gaps.append(f"{name}: {key} is in the outputs, missing from docs/glossary.md")
        for key in rows:
            if key not in outputs[name]:
                gaps.append(f"{name}: {key} is in docs/glossary.md, not in the outputs")
    return gaps


def run_outputs(run_dir: Path) -> dict[str, list[str]]:
    """The keys of ``summary.json`` and the columns of each Parquet table in ``run_dir``."""
    out = {SUMMARY: list(json.loads((run_dir / SUMMARY).read_text()))}
    for path in sorted(run_dir.glob("*.parquet")):
        out[path.name] = list(pd.read_parquet(path).columns)
    return out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, list[str]]:
    """A short run of the small scenario (2,000 households, 40 days: the repurchase rate is
    defined from day 30), written to disk as ``gbsim`` writes it."""
    run_dir = tmp_path_factory.mktemp("glossary_run")
    cfg, named = compose_scenario(["experiment=smoke", "days=40"])
    run(cfg, run_dir, quiet=True, scenario=named)
    return run_outputs(run_dir)


def test_glossary_lists_every_output_and_nothing_else(outputs):
    assert set(outputs) == {SUMMARY, "daily.parquet", "platforms.parquet", "leaders.parquet",
                            "leader_stats.parquet", "leader_reviews.parquet",
                            "spoilage.parquet", "losses.parquet", "households.parquet"}
    gaps = glossary_gaps(parse_glossary(GLOSSARY.read_text(encoding="utf-8")), outputs)
    assert not gaps, "docs/glossary.md is out of date:\n" + "\n".join(gaps)


def test_glossary_sections_follow_the_file_order():
    """summary.json first, then the tables; each section's heading names the file."""
    names = list(parse_glossary(GLOSSARY.read_text(encoding="utf-8")))
    assert names[0] == SUMMARY
    assert all(n.endswith(".parquet") for n in names[1:])


# --- the checker itself, on glossaries that are wrong on purpose ---------------------------

_TEXT = """\
# Glossary

Some text with `backticks` and a | table | outside any section.

## `summary.json`

| key | unit | definition |
|---|---|---|
| `seed` | integer | The seed. |
| `days` | days | The horizon. |

## `daily.parquet`

| key | unit | definition |
|---|---|---|
| `day` | day | Day of the run. |
| `orders` | orders | Orders placed today. |
"""
_OUTPUTS = {"summary.json": ["seed", "days"], "daily.parquet": ["day", "orders"]}


def test_parser_reads_rows_by_section():
    assert parse_glossary(_TEXT) == _OUTPUTS
    assert glossary_gaps(parse_glossary(_TEXT), _OUTPUTS) == []


def test_a_missing_key_is_caught():
    text = _TEXT.replace("| `days` | days | The horizon. |\n", "")
    assert glossary_gaps(parse_glossary(text), _OUTPUTS) == [
        "summary.json: days is in the outputs, missing from docs/glossary.md"]


def test_a_key_the_outputs_lack_is_caught():
    outputs = {**_OUTPUTS, "daily.parquet": ["day"]}
    assert glossary_gaps(parse_glossary(_TEXT), outputs) == [
        "daily.parquet: orders is in docs/glossary.md, not in the outputs"]


def test_a_table_without_a_section_and_a_duplicate_row_are_caught():
    outputs = {**_OUTPUTS, "losses.parquet": ["day"]}
    text = _TEXT + "| `day` | day | Again. |\n"
    assert glossary_gaps(parse_glossary(text), outputs) == [
        "losses.parquet: written by a run, no section in docs/glossary.md",
        "daily.parquet: day listed twice in docs/glossary.md"]


def test_the_real_glossary_with_one_row_removed_fails():
    """Each row of docs/glossary.md is needed: drop any one and the check names it."""
    text = GLOSSARY.read_text(encoding="utf-8")
    sections = parse_glossary(text)
    lines = text.splitlines(keepends=True)
    row = next(i for i, ln in enumerate(lines) if ln.startswith("| `consumer_surplus_total"))
    cut = parse_glossary("".join(lines[:row] + lines[row + 1:]))
    assert glossary_gaps(cut, sections) == [
        "summary.json: consumer_surplus_total_yuan is in the outputs, missing from "
        "docs/glossary.md"]


@pytest.mark.parametrize("bad", [
    "| `seed` | integer |\n",                    # no definition
    "| `seed` | | The seed. |\n",               # no unit
    "| `seed` | integer | a | b |\n",           # a '|' in the definition
])
def test_a_malformed_row_is_refused(bad):
    text = _TEXT.replace("| `seed` | integer | The seed. |\n", bad)
    with pytest.raises(ValueError, match="key \\| unit \\| definition"):
        parse_glossary(text)
