"""The benchmark script runs end to end at small sizes and writes its JSON (no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_quick(tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, str(ROOT / "experiments" / "benchmark.py"), "--quick",
                        "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "hh-days/s" in r.stdout and "per-agent Mesa reference" in r.stdout
    res = json.loads(out.read_text())
    assert [m["consumers"] for m in res["model"]] == [1000, 3000]
    assert set(res["model"][0]["phase_s"]) >= {"word_of_mouth", "orders", "logistics_and_pickup"}
    assert res["reference"][0]["speed_ratio"] > 0
