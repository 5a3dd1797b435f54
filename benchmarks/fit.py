"""``fit``: what ``gsomia fit`` costs. The wall time of the shipped small fit
(``configs/targets/smoke.toml``) on all cores, its throughput in simulations (particles:
one parameter vector run on every scenario for each seed) and model runs per second, the
time of one particle of ``evidence_2019`` (the production targets) in this process, and a
scaled-down ``evidence_2019`` fit (fewer particles and generations, the same targets,
scenarios and seeds per particle, so the same cost per simulation) on all cores, with the
wall time of the shipped fit it implies."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.common import derived, summary


def figure(quick: bool, workers: int, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """The fit figure; ``quick`` shrinks the smoke fit to one generation of 6 particles."""
    from experiments.fit import run_fit
    from experiments.targets import load_targets

    smoke = load_targets("smoke")
    if quick:
        smoke = replace(smoke, fit=replace(smoke.fit, population=6, generations=1, check_seeds=2))
    per_particle = len(smoke.scenarios) * smoke.fit.seeds
    walls, sims, runs = [], [], []
    for i in range(repeats):
        tmp = Path(tempfile.mkdtemp(prefix="gsomia-bench-fit-"))
        try:
            t0 = time.perf_counter()
            result = run_fit(smoke, tmp / "fit", workers=workers, seed=i, progress=False)
            wall = time.perf_counter() - t0
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log(f"smoke fit {i}: {wall:.1f} s, {result.simulations} simulations")
        walls.append(wall)
        sims.append(result.simulations / wall)
        runs.append(result.simulations * per_particle / wall)
    out: dict[str, Any] = {
        "description": "gsomia fit of configs/targets/smoke.toml (pyabc ABC-SMC)",
        "workers": workers,
        "population": smoke.fit.population,
        "generations": smoke.fit.generations,
        "runs_per_simulation": per_particle,
        "smoke_wall": summary(walls, "s"),
        "simulations_per_s": derived(sims, "simulations/s"),
        "model_runs_per_s": derived(runs, "runs/s"),
        "evidence_2019": _evidence_particle(1 if quick else 3, log),
    }
    particle = out["evidence_2019"].get("particle")
    if particle is not None:
        out["evidence_2019_scaled"] = _evidence_fit(quick, workers, particle["median"], log)
    return out


SHIPPED_SIMULATIONS = 13_278
"""Simulations of the shipped evidence_2019 fit (results/fit/report.md: 10 generations of
200 particles and the prior sample)."""
CHECK_RUNS = 3 * 100
"""Particles the shipped fit's report checks: 3 point estimates x check_seeds 100."""


def _evidence_fit(
    quick: bool, workers: int, particle_s: float, log: Callable[[str], None]
) -> dict[str, Any]:
    """evidence_2019 fitted with ``population`` particles for ``generations`` generations
    and one check seed; the shipped fit's wall time is estimated as its simulations at
    this fit's rate plus its check's particles at ``particle_s`` each, on ``workers``."""
    from experiments.fit import run_fit
    from experiments.targets import load_targets

    ts = load_targets("evidence_2019")
    population, generations = (6, 1) if quick else (40, 2)
    scaled = replace(
        ts, fit=replace(ts.fit, population=population, generations=generations, check_seeds=1)
    )
    tmp = Path(tempfile.mkdtemp(prefix="gsomia-bench-fit-"))
    try:
        t0 = time.perf_counter()
        result = run_fit(scaled, tmp / "fit", workers=workers, seed=0, progress=False)
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rate = result.simulations / wall
    estimate = SHIPPED_SIMULATIONS / rate + CHECK_RUNS * particle_s / workers
    log(f"evidence_2019 at {population} x {generations}: {wall:.1f} s, {rate:.2f} simulations/s")
    return {
        "description": (
            f"evidence_2019 with population {population}, {generations} generation(s), "
            f"check_seeds 1, on {workers} workers, end to end (pilot, pool, generations, "
            "check, report). shipped_fit_estimate: the shipped fit's "
            f"{SHIPPED_SIMULATIONS} simulations at this rate plus its check ({CHECK_RUNS} "
            "particles at the one-core particle time, over the workers)."
        ),
        "workers": workers,
        "population": population,
        "generations": generations,
        "simulations": result.simulations,
        "wall": summary([wall], "s"),
        "simulations_per_s": derived([rate], "simulations/s"),
        "shipped_fit_estimate": derived([estimate], "s"),
    }


def _evidence_particle(repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Seconds of one evidence_2019 particle (every scenario x fit.seeds runs, scored) at
    the prior's centre, on one core; skipped (with the reason) when the targets cannot be
    loaded or scored with this model."""
    from experiments.fit_score import simulate
    from experiments.targets import load_targets
    from model.parameters import ConfigError

    try:
        ts = load_targets("evidence_2019")
        centre = {n: (lo + hi) / 2 for n, lo, hi in ts.fit.bounds}
        times = []
        for i in range(repeats):
            t0 = time.perf_counter()
            simulate(ts, centre, list(range(i * ts.fit.seeds, (i + 1) * ts.fit.seeds)))
            times.append(time.perf_counter() - t0)
    except ConfigError as exc:
        log(f"evidence_2019 particle skipped: {exc}")
        return {"skipped": str(exc)}
    return {
        "runs_per_simulation": len(ts.scenarios) * ts.fit.seeds,
        "particle": summary(times, "s"),
    }
