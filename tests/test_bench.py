"""The benchmark suite runs and writes valid JSON (``python -m benchmarks --quick``).

Never asserts on speed: only that every figure is there with median/min/max summaries.
"""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIGURES = ("run", "throughput", "overhead", "memory", "scaling", "ui", "fit")


def _summaries(node):
    """Every dict holding a median/min/max summary under ``node``."""
    if isinstance(node, dict):
        if {"median", "min", "max"} <= node.keys():
            yield node
            return
        for value in node.values():
            yield from _summaries(value)
    elif isinstance(node, list):
        for value in node:
            yield from _summaries(value)


def test_quick_benchmarks_write_valid_json(tmp_path):
    out = tmp_path / "bench" / "latest.json"
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["mode"] == "quick"
    assert data["errors"] == {}
    machine = data["machine"]
    for key in ("cpu", "cores", "ram_gib", "python", "packages", "loadavg"):
        assert key in machine
    for pkg in ("numpy", "mesa"):
        assert machine["packages"][pkg]
    assert set(data["figures"]) == set(FIGURES)
    for name in FIGURES:
        found = list(_summaries(data["figures"][name]))
        assert found, f"figure {name} has no median/min/max summary"
        for s in found:
            assert s["min"] <= s["median"] <= s["max"], (name, s)
            assert s["n"] >= 1 and len(s["values"]) == s["n"]
    run = data["figures"]["run"]
    assert {"decisions", "opinion", "data_collection"} <= set(run["profile"]["split"])
    assert abs(sum(g["share"] for g in run["profile"]["split"].values()) - 1.0) < 1e-6
    targets = data["targets"]
    assert {"speedup_all_cores", "vs_batch_run", "harness_overhead"} <= set(targets)
    # issue 17's figures, side by side in the one run
    for name in ("one_run", "one_run_vs_bare_mesa", "vs_batch_run_small", "memory_per_worker"):
        assert targets[name]["value"] is not None, name
    assert targets["fit_speedup"]["value"] > 0
    throughput = data["figures"]["throughput"]
    assert throughput["small"]["runs"] == 12 and throughput["design"]["runs"] == 4
    scaled = data["figures"]["fit"]["evidence_2019_scaled"]
    assert scaled["simulations"] >= 2 * scaled["population"]
    assert "wrote" in res.stdout
