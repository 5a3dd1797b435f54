"""Figures 2 and 3: sweep throughput (runner vs mesa.batch_run) and harness overhead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.common import n_runs, summary
from benchmarks.sweeps import run_bare, run_batch, run_ours


def _rounds(
    variants: dict[str, Callable[[], float]], repeats: int, label: str, log: Callable[[str], None]
) -> dict[str, list[float]]:
    """Seconds of each variant, the variants alternating within each round."""
    out: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(repeats):
        for name, fn in variants.items():
            sec = fn()
            out[name].append(sec)
            log(f"{label}: round {r + 1}/{repeats}: {name}: {sec:.2f} s")
    return out


def _ratios(a: list[float], b: list[float]) -> list[float]:
    return [x / y for x, y in zip(a, b, strict=True)]


def sweep_throughput(
    spec: Any,
    workers: int,
    repeats: int,
    batch_one_worker: bool,
    label: str,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Runs/s of one spec: the runner on 1 and ``workers`` workers and batch_run with the
    same process counts (1 worker optional), alternating; with ratios per round."""
    runs = n_runs(spec)
    variants: dict[str, Callable[[], float]] = {
        "runner_1": lambda: run_ours(spec, 1),
        f"runner_{workers}": lambda: run_ours(spec, workers),
        f"batch_run_{workers}": lambda: run_batch(spec, workers)[0],
    }
    if batch_one_worker:
        variants["batch_run_1"] = lambda: run_batch(spec, 1)[0]
    secs = _rounds(variants, repeats, label, log)
    rates = {k: [runs / s for s in v] for k, v in secs.items()}
    out: dict[str, Any] = {
        "runs": runs,
        "workers": workers,
        "seconds": {k: summary(v, "s") for k, v in secs.items()},
        "runs_per_s": {k: summary(v, "runs/s") for k, v in rates.items()},
    }
    ratios = {
        f"speedup_runner_{workers}_over_1": _ratios(rates[f"runner_{workers}"], rates["runner_1"]),
        f"runner_over_batch_run_{workers}": _ratios(
            rates[f"runner_{workers}"], rates[f"batch_run_{workers}"]
        ),
    }
    if batch_one_worker:
        ratios["runner_over_batch_run_1"] = _ratios(rates["runner_1"], rates["batch_run_1"])
        ratios[f"speedup_batch_run_{workers}_over_1"] = _ratios(
            rates[f"batch_run_{workers}"], rates["batch_run_1"]
        )
    out["ratios"] = {k: summary(v, "x", derived=True) for k, v in ratios.items()}
    return out


def throughput_figure(
    smoke: Any,
    small: Any,
    design: Any,
    workers: int,
    smoke_repeats: int,
    design_repeats: int,
    design_batch_one_worker: bool,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Figure 2: the smoke sweep, a small sweep of baseline runs (the bench grid cut to
    120 runs: start-up and writing weigh most there) and the bench design."""
    return {
        "description": (
            "Runs per second from the call to the end (process pool start-up, Parquet "
            "chunks and the merge included for the runner; the result list for "
            "batch_run). runner_W = experiments.runner.run_sweep, local backend, W workers "
            "(1 = in-process); batch_run_W = mesa.batch_run on the same model and grid, "
            "data_collection_period=-1, number_processes=W, one seed per replication. "
            "Variants alternate within each round. Ratios are per round, then summarised. "
            "small: the bench design's grid at 3 x 2 levels and 20 replications (120 "
            "baseline runs; fewer with --quick)."
        ),
        "smoke": {
            "spec": smoke.name,
            **sweep_throughput(smoke, workers, smoke_repeats, True, "throughput smoke", log),
        },
        "small": {
            "spec": small.name,
            **sweep_throughput(small, workers, smoke_repeats, False, "throughput small", log),
        },
        "design": {
            "spec": design.name,
            **sweep_throughput(
                design, workers, design_repeats, design_batch_one_worker, "throughput design", log
            ),
        },
    }


def overhead_figure(spec: Any, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Figure 3: the runner on 1 worker (in-process) against a bare loop over the same
    runs (same points and seeds), with and without the runner's per-run summary."""
    runs = n_runs(spec)
    secs = _rounds(
        {
            "bare_loop": lambda: run_bare(spec, summarise=False),
            "bare_loop_with_summary": lambda: run_bare(spec, summarise=True),
            "runner_1": lambda: run_ours(spec, 1),
        },
        repeats,
        "overhead",
        log,
    )
    over = [r / b - 1.0 for r, b in zip(secs["runner_1"], secs["bare_loop"], strict=True)]
    summ = [
        s / b - 1.0 for s, b in zip(secs["bare_loop_with_summary"], secs["bare_loop"], strict=True)
    ]
    machinery = [
        r / s - 1.0 for r, s in zip(secs["runner_1"], secs["bare_loop_with_summary"], strict=True)
    ]
    return {
        "description": (
            f"{runs} runs of spec {spec.name!r} (the bench design's grid, first replication "
            "of each point: the runner's seeds). bare_loop = for each run "
            "GSOMIAModel(rng=seed, **params).run(); bare_loop_with_summary adds "
            "experiments.runner.summarise (the outcome columns); runner_1 = run_sweep "
            "with 1 worker (in-process: chunks, Parquet, merge, meta.json). Overhead per "
            "round = runner / bare_loop - 1; split into the per-run summary and the "
            "runner's machinery."
        ),
        "runs": runs,
        "seconds": {k: summary(v, "s") for k, v in secs.items()},
        "per_run_ms": {k: summary([1000 * s / runs for s in v], "ms") for k, v in secs.items()},
        "overhead": summary(over, "fraction", derived=True),
        "overhead_summary_part": summary(summ, "fraction", derived=True),
        "overhead_machinery_part": summary(machinery, "fraction", derived=True),
    }
