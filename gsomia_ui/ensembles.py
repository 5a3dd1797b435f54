"""The page's ensembles: one setting over seeds, the fitted posterior, and two settings
compared over the same seeds. The runs and the statistics are ``experiments.ensemble``'s
(the sweep runner's single run on the sweep backends' warm process pool, the same one
``gsomia calibrate --posterior`` uses); this module turns them into immutable views the
panels draw as rows come in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.ensemble import (
    PosteriorEnsemble,
    batches,
    outcome_shares,
    posterior_ensemble,
    reversal_histogram,
    run_batches,
    share_differences,
)

DEFAULT_SEEDS = 50
MAX_SEEDS = 500
WORKERS = 2
"""Worker processes of the page's ensembles (at most the machine's cores)."""
DEFAULT_DRAWS = 20
DEFAULT_DRAW_SEEDS = 5
DEFAULT_FIT = Path(__file__).resolve().parents[1] / "results" / "fit"
"""The committed fit of the defaults (a clone's ``results/fit``)."""

Progress = Callable[[int, int], None]


def workers() -> int:
    """Worker processes for an ensemble: ``WORKERS``, at most the cores we may use."""
    from experiments.backends import default_workers

    return max(1, min(WORKERS, default_workers()))


def warm_up() -> None:
    """Start the shared worker pool in the background (the first ensemble then starts at
    once); nothing on a single core."""
    n = workers()
    if n > 1:
        from experiments.backends import warm_pool

        threading.Thread(target=warm_pool, args=(n,), daemon=True, name="warm-pool").start()


def default_fit_dir() -> str:
    """The fit folder the posterior panel offers: the clone's results/fit, else
    ./results/fit."""
    return str(DEFAULT_FIT if DEFAULT_FIT.is_dir() else Path.cwd() / "results" / "fit")


# ---- one setting over seeds ------------------------------------------------------------------
@dataclass(frozen=True)
class EnsembleView:
    """The ensemble so far: per-seed rows (in seed order) and how many were asked for."""

    label: str
    requested: int
    rows: tuple[dict[str, Any], ...] = ()
    cancelled: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> int:
        """Runs finished."""
        return len(self.rows)


def ensemble_table(ens: EnsembleView) -> pd.DataFrame:
    """Outcome shares with 95% Wilson intervals."""
    return outcome_shares([r["outcome"] for r in ens.rows])


def ensemble_runs_table(ens: EnsembleView) -> pd.DataFrame:
    """One row per finished seed: the sweep runner's named outcomes."""
    return pd.DataFrame(
        [{k: v for k, v in r.items() if k not in ("series", "dates")} for r in ens.rows]
    )


def ensemble_bands(ens: EnsembleView, name: str) -> pd.DataFrame:
    """Median and 5–95% band of series ``name`` by month over the finished seeds."""
    if not ens.rows:
        return pd.DataFrame(columns=["date", "p5", "median", "p95"])
    data = np.vstack([r["series"][name] for r in ens.rows])
    q = np.percentile(data, [5, 50, 95], axis=0)
    return pd.DataFrame({"date": ens.rows[0]["dates"], "p5": q[0], "median": q[1], "p95": q[2]})


def band_dates(bands: pd.DataFrame) -> list[date]:
    """The bands' month ends as dates."""
    return [date.fromisoformat(str(d)) for d in bands["date"]]


def run_ensemble(
    params: Mapping[str, Any],
    seeds: Sequence[int],
    label: str,
    keep_going: Callable[[], bool] = lambda: True,
    progress: Progress = lambda done, total: None,
    workers: int = 1,
) -> Iterator[EnsembleView]:
    """Run ``seeds`` of ``params``, yielding the ensemble (rows in seed order) as batches
    finish; stops (with ``cancelled`` set) as soon as ``keep_going()`` is false. The rows
    are the same on any number of ``workers``."""
    total = len(seeds)
    rows: list[dict[str, Any]] = []

    def view(cancelled: bool = False) -> EnsembleView:
        ordered = tuple(sorted(rows, key=lambda r: r["seed"]))
        return EnsembleView(label, total, ordered, cancelled, dict(params))

    for done in run_batches(batches(params, seeds), workers, keep_going):
        rows.extend(done)
        progress(len(rows), total)
        yield view()
    if len(rows) < total:
        yield view(cancelled=True)


# ---- two settings over the same seeds --------------------------------------------------------
@dataclass(frozen=True)
class ComparisonView:
    """Two settings' rows over the same seeds, as far as they have run."""

    label_a: str
    label_b: str
    requested: int
    rows_a: tuple[dict[str, Any], ...] = ()
    rows_b: tuple[dict[str, Any], ...] = ()
    cancelled: bool = False

    @property
    def done(self) -> int:
        """Seeds both settings have run."""
        return len({r["seed"] for r in self.rows_a} & {r["seed"] for r in self.rows_b})

    def table(self) -> pd.DataFrame:
        """Each outcome's share under A and B over the seeds both ran, and A - B with its
        95% Newcombe interval for paired data."""
        return share_differences(
            {r["seed"]: r["outcome"] for r in self.rows_a},
            {r["seed"]: r["outcome"] for r in self.rows_b},
        )

    def histograms(self) -> tuple[dict[str, int], dict[str, int]]:
        """Reversal timing of A and B over the seeds both ran."""
        both = {r["seed"] for r in self.rows_a} & {r["seed"] for r in self.rows_b}
        return (
            reversal_histogram([r for r in self.rows_a if r["seed"] in both]),
            reversal_histogram([r for r in self.rows_b if r["seed"] in both]),
        )


def run_comparison(
    params_a: Mapping[str, Any],
    params_b: Mapping[str, Any],
    seeds: Sequence[int],
    labels: tuple[str, str],
    keep_going: Callable[[], bool] = lambda: True,
    progress: Progress = lambda done, total: None,
    workers: int = 1,
) -> Iterator[ComparisonView]:
    """Run ``seeds`` under both settings (their batches interleaved, so both advance
    together), yielding the comparison as batches finish."""
    total = len(seeds)
    work_a = batches(params_a, seeds, {"setting": "a"})
    work_b = batches(params_b, seeds, {"setting": "b"})
    work = [b for pair in zip(work_a, work_b, strict=True) for b in pair]
    rows: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}

    def view(cancelled: bool = False) -> ComparisonView:
        a, b = (tuple(sorted(rows[k], key=lambda r: r["seed"])) for k in ("a", "b"))
        return ComparisonView(labels[0], labels[1], total, a, b, cancelled)

    for done in run_batches(work, workers, keep_going):
        for row in done:
            rows[row["setting"]].append(row)
        current = view()
        progress(current.done, total)
        yield current
    final = view()
    if final.done < total:
        yield view(cancelled=True)


# ---- the fitted posterior --------------------------------------------------------------------
@dataclass(frozen=True)
class PosteriorView:
    """A posterior ensemble: ``result`` once it has run (None while running)."""

    label: str
    fit_dir: str
    draws: int
    seeds: int
    result: PosteriorEnsemble | None = None
    cancelled: bool = False

    @property
    def requested(self) -> int:
        """Runs asked for: draws x seeds, and as many at the point estimate."""
        return 2 * self.draws * self.seeds

    @property
    def done(self) -> int:
        """Runs finished."""
        if self.result is None:
            return 0
        return len(self.result.posterior_rows) + len(self.result.point_rows)


def run_posterior(
    base: Mapping[str, Any],
    fit_dir: str,
    draws: int,
    seeds: int,
    seed: int,
    label: str,
    keep_going: Callable[[], bool] = lambda: True,
    progress: Progress = lambda done, total: None,
    workers: int = 1,
) -> Iterator[PosteriorView]:
    """The posterior ensemble of ``base`` (``experiments.ensemble.posterior_ensemble``):
    a view at the start, then the result (``cancelled`` when stopped early)."""
    start = PosteriorView(label, fit_dir, draws, seeds)
    yield start
    result = posterior_ensemble(base, fit_dir, draws, seeds, seed, workers, keep_going, progress)
    final = PosteriorView(label, fit_dir, draws, seeds, result)
    yield PosteriorView(
        label, fit_dir, draws, seeds, result, cancelled=final.done < final.requested
    )
