"""Scoring runs against targets: pure functions from runs to met / not met and a distance.

Each target gets a distance in [0, 1] per run: 0 when the run meets it (that is what
"met" means), 1 when it misses it entirely; a poll grows with the excess over its
tolerance (1 at twice the tolerance) and a sequence counts its missed steps. With
``miss_months`` (the ``[fit]`` key) an event or step that comes late or early counts
the months it is off over ``miss_months`` (a full miss from ``miss_months`` off, or when it
never happens), so an ABC-SMC fit can move toward the right months step by step; with
``miss_points`` a poll counts its excess over the tolerance over ``miss_points`` (a full
miss that far beyond the tolerance), so a fit far from every poll still sees which side
is nearer. A parameter
vector's runs (its seeds, per scenario) score each target by the mean distance over its
seeds; its distance is the weighted mean over targets (0 = every seed meets every
target). The posterior predictive of a target is the share of seeds meeting it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.calibration import first_months
from experiments.targets import POLL_SHARES, Step, Target, TargetSet, scenario_registry
from model.config import load_config
from model.parameters import ConfigError, check_consistency, defaults, validate

Monthly = pd.DataFrame | Mapping[str, Sequence[Any]]
"""A run's monthly series: ``GSOMIAModel.monthly()`` (indexed by month end), or the
columns as the model's DataCollector holds them (``model_vars``: a ``"date"`` list and one
list per column), which scoring reads without building a DataFrame."""


@dataclass(frozen=True)
class Run:
    """What scoring reads of one run: its dated events (objects with ``date``, ``actor``
    and ``event``, e.g. ``GSOMIAModel.timeline``), outcome and monthly series
    (``Monthly``; only poll targets read it)."""

    events: Sequence[Any]
    outcome: str
    monthly: Monthly | None = None

    @classmethod
    def of(cls, model: Any, monthly: bool = True) -> Run:
        """The scored view of a finished model run (without its monthly series unless
        ``monthly``: only polls read it; the collector's lists, no DataFrame)."""
        series = model.datacollector.model_vars if monthly else None
        return cls(tuple(model.timeline), model.outcome, series)


def _index(ym: tuple[int, int]) -> int:
    return ym[0] * 12 + ym[1] - 1


def _months(run: Run, actor: str, events: Iterable[str]) -> list[tuple[int, int]]:
    names = set(events)
    return [
        (e.date.year, e.date.month) for e in run.events if e.actor == actor and e.event in names
    ]


def _firsts(run: Run) -> dict[tuple[str, str], tuple[int, int]]:
    return first_months(
        {"date": e.date.isoformat(), "actor": e.actor, "event": e.event} for e in run.events
    )


def step_met(step: Step, run: Run, tolerance_months: int = 0) -> bool:
    """Whether ``step`` happens in its month (within ``tolerance_months``): the actor's
    first such event (``occurrence = "first"``, as ``gsomia calibrate`` counts) or any."""
    months = _months(run, step.actor, step.events)
    if not months:
        return False
    if step.occurrence == "first":
        months = [min(months)]
    want = _index(step.month)
    return any(abs(_index(m) - want) <= tolerance_months for m in months)


def step_distance(step: Step, run: Run, tolerance_months: int = 0, miss_months: int = 0) -> float:
    """0 when ``step`` is met (``step_met``); otherwise 1, or with ``miss_months`` > 0 the
    months it is off beyond the tolerance over ``miss_months`` (at most 1; 1 when the
    event never happens)."""
    months = _months(run, step.actor, step.events)
    if not months:
        return 1.0
    if step.occurrence == "first":
        months = [min(months)]
    want = _index(step.month)
    off = min(abs(_index(m) - want) for m in months) - tolerance_months
    if off <= 0:
        return 0.0
    return 1.0 if miss_months <= 0 else min(1.0, off / miss_months)


def share_on(monthly: Monthly, column: str, day: date, where: str = "poll") -> float:
    """A monthly column on ``day``: each row is the state at the end of its month (the
    index), so a day between two month ends is interpolated linearly in days."""
    frame = isinstance(monthly, pd.DataFrame)
    columns = [c for c in (monthly.columns if frame else monthly) if frame or c != "date"]
    if column not in columns:
        raise ConfigError(
            f"{where}: the model's monthly series has no column {column!r} (columns: "
            + ", ".join(map(str, columns))
            + "); allowed: a poll target giving only the answers the model reports"
        )
    days = _days(monthly.index if frame else monthly["date"])
    values = np.asarray(monthly[column], dtype=float)
    t = np.datetime64(day, "D")
    if t < days[0] or t > days[-1]:
        raise ConfigError(
            f"{where}: date {day.isoformat()} is outside the run's months ({days[0]} to "
            f"{days[-1]}); allowed: a date inside the scenario's span"
        )
    x = (days - days[0]).astype(float)
    return float(np.interp(float((t - days[0]).astype(int)), x, values))


def _days(dates: Any) -> np.ndarray:
    """Month ends (ISO strings, dates or timestamps) as days; numpy parses ISO dates
    directly, where pandas guessed the format of every call's strings again."""
    try:
        return np.asarray(dates, dtype="datetime64[D]")
    except (TypeError, ValueError):
        return pd.to_datetime(pd.Index(dates)).to_numpy(dtype="datetime64[D]")


def poll_deviations(target: Target, run: Run) -> dict[str, float]:
    """Model share minus poll share, in points, for each answer the poll gives."""
    where = f"target {target.name!r}"
    if run.monthly is None or target.poll_date is None:
        raise ValueError(f"{where}: a poll needs its date and the run's monthly series")
    return {
        answer: 100.0 * share_on(run.monthly, POLL_SHARES[answer], target.poll_date, where)
        - observed
        for answer, observed in target.shares
    }


def distance(target: Target, run: Run, miss_months: int = 0, miss_points: float = 0.0) -> float:
    """The target's distance for one run, in [0, 1]; 0 exactly when the run meets it
    (``miss_months``, ``miss_points``: see the module's docstring)."""
    kind = target.kind
    if kind == "event":
        return step_distance(target.steps[0], run, target.tolerance_months, miss_months)
    if kind == "sequence":
        missed = sum(step_distance(s, run, 0, miss_months) for s in target.steps)
        parts = len(target.steps)
        if target.outcome is not None:
            missed += run.outcome != target.outcome
            parts += 1
        return missed / parts
    if kind == "poll":
        worst = max(abs(d) for d in poll_deviations(target, run).values())
        scale = miss_points if miss_points > 0 else target.tolerance
        return min(1.0, max(0.0, worst - target.tolerance) / scale)
    if target.absent is None:
        raise ValueError(f"target {target.name!r}: kind {kind!r} without its event")
    actor, event = target.absent
    if kind == "absent":
        return 1.0 if _months(run, actor, (event,)) else 0.0
    # event_not_followed: the anchor in its month, then no such event within the window
    anchor = target.steps[0]
    if not step_met(anchor, run):
        return 1.0
    start = _index(min(_months(run, anchor.actor, anchor.events)))
    after = [_index(m) - start for m in _months(run, actor, (event,))]
    return 1.0 if any(0 <= d <= target.within_months for d in after) else 0.0


def met(target: Target, run: Run) -> bool:
    """Whether one run meets the target."""
    return distance(target, run) == 0.0


@dataclass(frozen=True)
class Score:
    """A parameter vector's score over its runs: per target the mean distance and the
    share of seeds meeting it, and the weighted distance."""

    distances: dict[str, float]
    met_shares: dict[str, float]
    distance: float

    def stats(self) -> dict[str, float]:
        """Flat summary statistics (what the ABC-SMC history stores per particle)."""
        out = {f"d:{k}": v for k, v in self.distances.items()}
        out |= {f"met:{k}": v for k, v in self.met_shares.items()}
        return out


def score_runs(targets: TargetSet, runs: Mapping[str, Sequence[Run]]) -> Score:
    """Score the runs of one parameter vector (``runs[scenario]``: its seeds' runs)."""
    dist, shares = {}, {}
    for t in targets.targets:
        ds = [
            distance(t, r, targets.fit.miss_months, targets.fit.miss_points)
            for r in runs[t.scenario]
        ]
        if not ds:
            raise ValueError(f"no runs of scenario {t.scenario!r} for target {t.name!r}")
        dist[t.name] = float(np.mean(ds))
        shares[t.name] = float(np.mean([d == 0.0 for d in ds]))
    return Score(dist, shares, weighted_distance(targets, dist))


def weighted_distance(targets: TargetSet, distances: Mapping[str, float]) -> float:
    """Weighted mean of per-target distances (weights from the targets file)."""
    total = sum(t.weight for t in targets.targets)
    return sum(t.weight * distances[t.name] for t in targets.targets) / total


def simulate_runs(
    targets: TargetSet, params: Mapping[str, float], seeds: Sequence[int]
) -> dict[str, list[Run]]:
    """Run every scenario the targets name for each seed with ``params`` (``run_many``:
    the scenario's config read once per fit process, its seeds' runs in one call)."""
    from experiments.runner import run_many

    runs: dict[str, list[Run]] = {}
    for scenario, path in targets.scenarios.items():
        polls = any(t.kind == "poll" for t in targets.for_scenario(scenario))
        config = scenario_config(path)  # its [cast]'s actors may declare fitted parameters
        kwargs = config | validate(dict(params), "override", scenario_registry(config))
        check_consistency(
            defaults() | {k: v for k, v in kwargs.items() if k != "exogenous"}, str(path)
        )
        view = functools.partial(Run.of, monthly=polls)
        runs[scenario] = list(run_many(kwargs, seeds, view=view))
    return runs


def scenario_config(path: Path) -> dict[str, Any]:
    """``load_config(path)``, read once while the file is unchanged (a fit runs its
    scenarios for every particle)."""
    return dict(_config(str(path), path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=16)
def _config(path: str, _mtime_ns: int) -> dict[str, Any]:
    return load_config(path)


def simulate(targets: TargetSet, params: Mapping[str, float], seeds: Sequence[int]) -> Score:
    """Run every scenario the targets name for each seed with ``params`` and score them."""
    return score_runs(targets, simulate_runs(targets, params, seeds))
