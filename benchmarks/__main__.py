"""``python -m benchmarks [--quick | --full] [--out PATH]``: run the benchmark suite, write
the JSON (default results/bench/latest.json) and print a table."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import FIGURES, SCHEMA
from benchmarks.common import BENCH, REPO, SMOKE, cores, loadavg, machine, spec_from
from experiments.atomic import write_text_atomic

DEFAULT_OUT = REPO / "results" / "bench" / "latest.json"
QUIET_LOAD = 0.5
QUIET_WAIT_S = 900


@dataclass(frozen=True)
class Plan:
    """Sizes and repeat counts of one mode."""

    run_repeats: int
    profile_runs: int
    smoke_repeats: int
    small_levels: tuple[int, int]  # the small sweep: bench grid levels and replications
    small_replications: int
    design_levels: int | None  # None: bench_2000 as it is (10 x 10 x 20)
    design_replications: int | None
    design_repeats: int
    design_batch_one_worker: bool
    overhead_replications: int
    overhead_levels: int | None
    overhead_repeats: int
    memory_sizes: tuple[int, ...]
    memory_repeats: int
    memory_baseline_sizes: tuple[int, ...]
    months: tuple[int, ...]
    citizens: tuple[int, ...]
    opinion_citizens: tuple[int, ...]
    scaling_repeats: int


PLANS = {
    "quick": Plan(
        run_repeats=3,
        profile_runs=1,
        smoke_repeats=1,
        small_levels=(2, 2),
        small_replications=3,
        design_levels=2,
        design_replications=1,
        design_repeats=1,
        design_batch_one_worker=True,
        overhead_replications=1,
        overhead_levels=2,
        overhead_repeats=1,
        memory_sizes=(200,),
        memory_repeats=1,
        memory_baseline_sizes=(),
        months=(3, 6, 12),
        citizens=(100, 1_000, 10_000),
        opinion_citizens=(1_000, 10_000, 100_000),
        scaling_repeats=1,
    ),
    "normal": Plan(
        run_repeats=15,
        profile_runs=5,
        smoke_repeats=5,
        small_levels=(3, 2),
        small_replications=20,
        design_levels=None,
        design_replications=None,
        design_repeats=1,
        design_batch_one_worker=False,
        overhead_replications=1,
        overhead_levels=None,
        overhead_repeats=3,
        memory_sizes=(2_000, 20_000),
        memory_repeats=1,
        memory_baseline_sizes=(),
        months=(12, 24, 48, 96),
        citizens=(1_000, 10_000, 100_000),
        opinion_citizens=(1_000, 10_000, 100_000, 1_000_000),
        scaling_repeats=3,
    ),
}
PLANS["full"] = replace(
    PLANS["normal"],
    design_repeats=3,
    design_batch_one_worker=True,
    overhead_replications=2,
    overhead_repeats=5,
    memory_baseline_sizes=(20_000,),
)


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _wait_quiet(limit: float, max_wait: float) -> dict[str, Any]:
    """Wait until the 1-minute load average is below ``limit`` (at most ``max_wait`` s)."""
    t0 = time.monotonic()
    while True:
        load = loadavg()
        if load is None or load[0] < limit:
            return {"waited_s": round(time.monotonic() - t0, 1), "loadavg": load}
        if time.monotonic() - t0 > max_wait:
            _log(f"load still {load[0]} after {max_wait:.0f} s; measuring anyway")
            return {"waited_s": round(time.monotonic() - t0, 1), "loadavg": load, "gave_up": True}
        _log(f"waiting for a quiet machine (load {load[0]} >= {limit})")
        time.sleep(15)


def _figure(name: str, plan: Plan, workers: int) -> dict[str, Any]:
    from experiments.spec import load_spec

    if name == "run":
        from benchmarks.run import figure

        return figure(plan.run_repeats, plan.profile_runs, _log)
    if name == "throughput":
        from benchmarks.throughput import throughput_figure

        smoke = load_spec(SMOKE)
        if plan.design_levels is None:
            design = load_spec(BENCH)
        else:
            design = spec_from(
                BENCH,
                "bench_2000_quick",
                replications=plan.design_replications,
                levels=dict.fromkeys(("us_pressure_weight", "audience_cost"), plan.design_levels),
            )
        pressure, cost = plan.small_levels
        small = spec_from(
            BENCH,
            f"bench_small_{pressure * cost * plan.small_replications}",
            replications=plan.small_replications,
            levels={"us_pressure_weight": pressure, "audience_cost": cost},
        )
        return throughput_figure(
            smoke,
            small,
            design,
            workers,
            plan.smoke_repeats,
            plan.design_repeats,
            plan.design_batch_one_worker,
            _log,
        )
    if name == "overhead":
        from benchmarks.throughput import overhead_figure

        levels = {}
        if plan.overhead_levels is not None:
            levels = dict.fromkeys(("us_pressure_weight", "audience_cost"), plan.overhead_levels)
        spec = spec_from(
            BENCH,
            "bench_overhead",
            replications=plan.overhead_replications,
            levels=levels,
        )
        return overhead_figure(spec, plan.overhead_repeats, _log)
    if name == "memory":
        from benchmarks.memory import figure

        fig = figure(plan.memory_sizes, workers, plan.memory_repeats, True, _log)
        if plan.memory_baseline_sizes:
            base = figure(plan.memory_baseline_sizes, workers, plan.memory_repeats, False, _log)
            fig = {
                "description": base["description"],
                "configuration": "baseline",
                "workers": workers,
                "sizes": base["sizes"],
                "cheap": fig,
            }
        return fig
    if name == "scaling":
        from benchmarks.scaling import figure

        return figure(plan.months, plan.citizens, plan.opinion_citizens, plan.scaling_repeats, _log)
    if name == "ui":
        from benchmarks.ui import figure

        return figure(plan.smoke_repeats, 10 if plan is PLANS["quick"] else 50, _log)
    if name == "fit":
        from benchmarks.fit import figure

        return figure(plan is PLANS["quick"], workers, 1, _log)
    raise ValueError(f"unknown figure {name!r}")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON whole or not at all (temporary file and rename)."""
    write_text_atomic(path, json.dumps(data, indent=1, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; write the JSON and print the table. Exit 0 unless a figure failed."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="gsomia benchmarks: one run, sweep throughput, harness overhead, "
        "memory, scaling. Never fails on speed.",
    )
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="tiny sizes (well under a minute)")
    mode.add_argument(
        "--full",
        action="store_true",
        help="repeat the 2,000-run design 3x with batch_run on 1 worker too, and measure "
        "memory at 20,000 baseline-configuration runs (hours on 2 cores)",
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON path ({DEFAULT_OUT})")
    ap.add_argument(
        "--figures",
        default=",".join(FIGURES),
        help="comma-separated subset of: " + ", ".join(FIGURES),
    )
    ap.add_argument("--workers", type=int, default=None, help="'all cores' (default: all)")
    ap.add_argument(
        "--wait-quiet",
        action="store_true",
        help=f"first wait (up to {QUIET_WAIT_S} s) for a 1-minute load below {QUIET_LOAD}",
    )
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.figures.split(",") if n.strip()]
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        ap.error(f"--figures: unknown {', '.join(unknown)}; allowed: {', '.join(FIGURES)}")
    mode_name = "quick" if args.quick else "full" if args.full else "normal"
    plan = PLANS[mode_name]
    workers = args.workers or cores()
    quiet = _wait_quiet(QUIET_LOAD, QUIET_WAIT_S) if args.wait_quiet else None

    cmd = "python -m benchmarks" + (" " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "")
    started = time.monotonic()
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "mode": mode_name,
        "command": cmd if argv is None else "python -m benchmarks " + shlex.join(argv),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished": None,
        "elapsed_s": None,
        "workers_all_cores": workers,
        "machine": machine(),
        "wait_quiet": quiet,
        "plan": plan.__dict__,
        "figures": {},
        "errors": {},
        "targets": {},
    }
    for name in names:
        _log(f"figure {name} (load {loadavg()})")
        t0 = time.monotonic()
        load0 = loadavg()
        try:
            fig = _figure(name, plan, workers)
        except Exception as exc:  # report the others; exit non-zero at the end
            _log(f"figure {name} failed: {type(exc).__name__}: {exc}")
            result["errors"][name] = f"{type(exc).__name__}: {exc}"
            continue
        fig["elapsed_s"] = round(time.monotonic() - t0, 1)
        fig["loadavg_start"], fig["loadavg_end"] = load0, loadavg()
        result["figures"][name] = fig
        write_json(args.out, result)  # partial results survive an interrupted suite
    from benchmarks.report import table, targets

    result["targets"] = targets(result)
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    result["machine"]["loadavg_end"] = loadavg()
    write_json(args.out, result)
    print(table(result))
    print(f"\nwrote {args.out} ({mode_name}, {result['elapsed_s']} s): {result['command']}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
