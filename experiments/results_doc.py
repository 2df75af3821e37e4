"""Rewrite the *Latest output* blocks of ``docs/results.md`` from the experiments' last outputs.

``make figures`` runs every experiment and keeps what each printed in
``experiments/results/<name>.txt``; this script then puts each output between the markers
``<!-- output: <name> -->`` and ``<!-- /output -->`` of ``docs/results.md``, with the commit that
printed it. The text around the blocks is left as it is. Quick runs (``make figures QUICK=1``)
do not call it: their numbers are a smoke test, not results.

    python experiments/results_doc.py [--results experiments/results] [--doc docs/results.md]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the repo's sim package

from sim.outputs import atomic_write  # noqa: E402
from sim.version import version_line  # noqa: E402

BLOCK = re.compile(r"(<!-- output: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /output -->)", re.S)


def fill(doc: str, outputs: dict[str, str], stamp: str) -> tuple[str, list[str]]:
    """``doc`` with each block whose experiment has an output replaced; also the names filled."""
    filled = []

    def sub(m: re.Match) -> str:
        name = m["name"]
        if name not in outputs:
            return m.group(0)
        filled.append(name)
        text = outputs[name].rstrip("\n")
        return f"{m.group(1)}```text\n{text}\n```\n\n*{stamp}*\n{m.group(4)}"

    return BLOCK.sub(sub, doc), filled


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=ROOT / "experiments" / "results")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "results.md")
    a = ap.parse_args(argv)
    outputs = {p.stem: p.read_text() for p in sorted(a.results.glob("*.txt"))}
    doc = a.doc.read_text()
    new, filled = fill(doc, outputs, f"printed by {version_line()}")
    atomic_write(a.doc, lambda p: p.write_text(new))
    missing = sorted(set(m["name"] for m in BLOCK.finditer(doc)) - set(filled))
    print(f"results_doc: {len(filled)} blocks rewritten in {a.doc}"
          + (f"; no output yet for: {', '.join(missing)}" if missing else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
