"""Figure 4: peak memory (RSS of the whole process tree) of a large sweep, the sweep
runner against ``mesa.batch_run``.

Each variant runs in a fresh child process (``python -m benchmarks.memory child ...``) so
that neither inherits the other's heap; a thread here polls the RSS of that child and all
its descendants (the worker processes) from /proc and keeps the peak of the sum. The child
reports its own exact peak (``ru_maxrss``) and the largest peak among its finished
workers (``RUSAGE_CHILDREN``), which bound what polling may miss between two samples.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import BENCH, REPO, summary

POLL_S = 0.05
PSS_EVERY = 10
"""Read the (costlier) PSS only every PSS_EVERY-th sample; RSS every sample."""
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
CHEAP = {"end": date(2018, 10, 1), "n_citizens": 50}
"""The cheap configuration of the default memory figure: one simulated month (start =
end = 2018-10) and 50 citizens, so 20,000 runs take minutes; what grows with the number
of runs is the harness's bookkeeping, not the model."""
POINTS = 100
"""Design points of the bench design (10 x 10 grid); runs = POINTS x replications."""


def memory_spec(runs: int, cheap: bool) -> Any:
    """The bench design (``configs/sweeps/bench_2000.toml``'s grid) scaled to ``runs`` runs
    by its replications, with the cheap configuration fixed if ``cheap``."""
    from benchmarks.common import spec_from

    if runs % POINTS:
        raise ValueError(f"runs must be a multiple of {POINTS}")
    name = f"bench_memory_{runs}" + ("_cheap" if cheap else "")
    return spec_from(BENCH, name, replications=runs // POINTS, fixed=CHEAP if cheap else None)


# ---- the child ----------------------------------------------------------------------------
def _child(variant: str, runs: int, workers: int, cheap: bool) -> dict[str, Any]:
    spec = memory_spec(runs, cheap)
    t0 = time.perf_counter()
    if variant == "runner":
        from benchmarks.sweeps import run_ours

        run_ours(spec, workers)
        rows = runs
    elif variant == "batch_run":
        from benchmarks.sweeps import run_batch

        _, results = run_batch(spec, workers)
        rows = len(results)  # held until here, as a caller of batch_run would
    else:
        raise ValueError(f"unknown variant {variant!r}")
    elapsed = time.perf_counter() - t0
    return {
        "variant": variant,
        "runs": rows,
        "elapsed_s": elapsed,
        "self_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_maxrss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


# ---- the parent ---------------------------------------------------------------------------
def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
            except OSError:
                continue
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    """Proportional set size (shared pages split between the processes sharing them)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


class TreeSampler:
    """Polls the summed RSS of a process and its descendants from a thread."""

    def __init__(self, pid: int, interval: float = POLL_S) -> None:
        self.pid, self.interval = pid, interval
        self.peak_sum = self.peak_one = self.peak_root = self.peak_pss = 0
        self.max_procs = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            pids = _descendants(self.pid)
            sizes = [_rss(p) for p in pids]
            live = [s for s in sizes if s]
            if live:
                self.peak_sum = max(self.peak_sum, sum(live))
                self.peak_one = max(self.peak_one, max(live))
                self.peak_root = max(self.peak_root, sizes[0])
                self.max_procs = max(self.max_procs, len(live))
                if self.samples % PSS_EVERY == 0:
                    self.peak_pss = max(self.peak_pss, sum(_pss(p) for p in pids))
                self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(variant: str, runs: int, workers: int, cheap: bool) -> dict[str, Any]:
    """Run one variant in a child process and return its peak memory and timing."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.memory",
        "child",
        variant,
        str(runs),
        str(workers),
        "--cheap" if cheap else "--baseline",
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with TreeSampler(proc.pid) as sampler:
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    child = json.loads(out.decode().strip().splitlines()[-1])
    mib = 2**20
    child.update(
        {
            "peak_tree_rss_mib": sampler.peak_sum / mib,
            "peak_tree_pss_mib": sampler.peak_pss / mib,
            "peak_process_rss_mib": sampler.peak_one / mib,
            "peak_root_rss_mib": sampler.peak_root / mib,
            "max_processes": sampler.max_procs,
            "samples": sampler.samples,
            "bound_tree_rss_mib": child["self_maxrss_mib"] + workers * child["children_maxrss_mib"],
        }
    )
    return child


def figure(
    sizes: Sequence[int],
    workers: int,
    repeats: int,
    cheap: bool,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Figure 4: peak tree RSS of the runner and of batch_run at each number of runs,
    the two alternating, with the ratio runner / batch_run."""
    if not Path("/proc/self/statm").exists():
        return {"skipped": "needs Linux /proc to poll the RSS of a process tree"}
    by_size: dict[str, Any] = {}
    for runs in sizes:
        got: dict[str, list[dict[str, Any]]] = {"runner": [], "batch_run": []}
        for _ in range(repeats):
            for variant in got:
                log(f"memory: {variant}, {runs} runs, {workers} workers")
                got[variant].append(measure(variant, runs, workers, cheap))
                m = got[variant][-1]
                log(
                    f"memory: {variant}: peak {m['peak_tree_rss_mib']:.0f} MiB, "
                    f"{m['elapsed_s']:.1f} s"
                )
        entry: dict[str, Any] = {}
        for variant, ms in got.items():
            entry[variant] = {
                "peak_tree_rss_mib": summary([m["peak_tree_rss_mib"] for m in ms], "MiB"),
                "peak_tree_pss_mib": summary([m["peak_tree_pss_mib"] for m in ms], "MiB"),
                "peak_root_rss_mib": summary([m["peak_root_rss_mib"] for m in ms], "MiB"),
                "peak_process_rss_mib": summary([m["peak_process_rss_mib"] for m in ms], "MiB"),
                "bound_tree_rss_mib": summary([m["bound_tree_rss_mib"] for m in ms], "MiB"),
                "elapsed_s": summary([m["elapsed_s"] for m in ms], "s"),
                "runs_per_s": summary([runs / m["elapsed_s"] for m in ms], "runs/s"),
                "max_processes": max(m["max_processes"] for m in ms),
            }
        ratios = [
            a["peak_tree_rss_mib"] / b["peak_tree_rss_mib"]
            for a, b in zip(got["runner"], got["batch_run"], strict=True)
        ]
        entry["ratio_runner_over_batch_run"] = summary(ratios, "x", derived=True)
        by_size[str(runs)] = entry
    what = (
        "the cheap configuration (start = end = 2018-10: one simulated month; n_citizens "
        "50; rest baseline)"
        if cheap
        else "the baseline-2019 configuration (15 months, 2,000 citizens)"
    )
    return {
        "description": (
            f"Peak RSS summed over the process tree (the parent and its {workers} workers, "
            f"polled every {POLL_S * 1000:.0f} ms from /proc; PSS every "
            f"{PSS_EVERY * POLL_S * 1000:.0f} ms) of the bench design's grid "
            f"(10 x 10 points) with replications scaled to {list(sizes)} runs, on {what}: "
            "the sweep runner (local backend, writing Parquet) vs mesa.batch_run "
            "(data_collection_period=-1, results list held). Each variant in a fresh child "
            "process. RSS sums count shared library pages once per process (the same for "
            "both); peak_tree_pss splits shared pages between processes. bound_tree_rss = "
            "own ru_maxrss + workers x largest worker ru_maxrss."
        ),
        "configuration": "cheap" if cheap else "baseline",
        "workers": workers,
        "sizes": by_size,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.memory child VARIANT RUNS WORKERS --cheap|--baseline``:
    run one variant and print its measurements as JSON (used by ``measure``)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    ap.add_argument("role", choices=["child"])
    ap.add_argument("variant", choices=["runner", "batch_run"])
    ap.add_argument("runs", type=int)
    ap.add_argument("workers", type=int)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--cheap", action="store_true")
    group.add_argument("--baseline", action="store_true")
    args = ap.parse_args(argv)
    result = _child(args.variant, args.runs, args.workers, args.cheap)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
