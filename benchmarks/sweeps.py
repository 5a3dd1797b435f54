"""Ways to run the runs of a sweep spec: the sweep runner, ``mesa.batch_run`` on the same
grid, and a bare Python loop. Each returns wall-clock seconds (and what it produced)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import n_runs


def base_params(spec: Any) -> dict[str, Any]:
    """The constructor keywords every run of ``spec`` shares (base config + [fixed])."""
    from model.config import load_config

    return load_config(spec.config) | spec.fixed


def run_ours(spec: Any, workers: int, tmp: Path | None = None) -> float:
    """Seconds for ``run_sweep`` (local backend) from call to runs.parquet written; the
    output goes to a fresh temporary directory, removed afterwards."""
    from experiments.runner import run_sweep

    out = Path(tempfile.mkdtemp(prefix="gsomia-bench-", dir=tmp))
    try:
        t0 = time.perf_counter()
        run_sweep(spec, out=out / "sweep", workers=workers, progress=False)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)


def batch_parameters(spec: Any) -> tuple[dict[str, Any], list[int]]:
    """``mesa.batch_run``'s ``parameters`` and ``rng`` for the same grid as ``spec``: every
    shared keyword as a one-element list (batch_run would iterate a tuple such as the
    exogenous shocks), every varied one as its grid levels; one seed per replication
    (batch_run reuses a seed list across points, the runner derives one per run: the
    same work, other draws)."""
    from experiments.designs import grid_values
    from experiments.runner import run_seed

    if spec.design != "grid":
        raise ValueError("mesa.batch_run runs full factorial grids only")
    params: dict[str, Any] = {k: [v] for k, v in base_params(spec).items()}
    for p in spec.parameters:
        params[p.name] = grid_values(p)
    seeds = [run_seed(spec.seed, 0, rep) for rep in range(spec.replications)]
    return params, seeds


def run_batch(spec: Any, workers: int) -> tuple[float, list[dict[str, Any]]]:
    """Seconds for ``mesa.batch_run`` on the spec's grid (``data_collection_period=-1``,
    ``number_processes=workers``) and its result rows."""
    import mesa
    import tqdm

    from model.model import GSOMIAModel

    # batch_run makes a (hidden) tqdm bar, whose monitor thread would outlive it and make
    # the runner measured after it spawn its workers instead of forking them
    tqdm.tqdm.monitor_interval = 0
    params, seeds = batch_parameters(spec)
    t0 = time.perf_counter()
    rows = mesa.batch_run(
        GSOMIAModel,
        parameters=params,
        rng=seeds,
        number_processes=workers,
        data_collection_period=-1,
        max_steps=100_000,
        display_progress=False,
    )
    elapsed = time.perf_counter() - t0
    if len(rows) != n_runs(spec):
        raise RuntimeError(f"batch_run returned {len(rows)} rows, expected {n_runs(spec)}")
    return elapsed, rows


def run_bare(spec: Any, summarise: bool = False) -> float:
    """Seconds for a plain loop over the spec's runs (same points, same seeds as the
    runner) constructing and running the model; with ``summarise`` also the runner's
    per-run summary (``experiments.runner.summarise``)."""
    from experiments.designs import points
    from experiments.runner import run_seed
    from experiments.runner import summarise as summary_of
    from model.model import GSOMIAModel

    base = base_params(spec)
    pts = points(spec)
    t0 = time.perf_counter()
    for pid, point in enumerate(pts):
        for rep in range(spec.replications):
            model = GSOMIAModel(rng=run_seed(spec.seed, pid, rep), **(base | point))
            model.run()
            if summarise:
                summary_of(model)
    return time.perf_counter() - t0
