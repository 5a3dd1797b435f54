"""Calibration against 2019: how often the model's events land in the right month.

For every event of ``shared/timeline_2019.csv`` that the model can produce, the share of
seeds in which that actor's event first happens in the event's month; and the share of
seeds that reproduce the whole 2019 sequence: July curbs, August white-list removal,
August notice, September WTO complaint, November conditional suspension with the WTO
suspension and Tokyo's talks offer, and the pact not lapsed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from model import GSOMIAModel
from model.config import data_dir
from model.outcome import OUTCOMES
from model.parameters import ConfigError

EXOGENOUS = ("pact_signed", "forced_labour_ruling", "radar_incident", "joint_air_patrol")
"""Timeline events that are inputs (config shocks or history before the start), not
model decisions."""
NOT_MODELLED = ("review_hint", "dialogue_offer", "leaders_talk", "reconsider_request")
"""Cheap talk the model has no move for."""

SEQUENCE = (
    ("tokyo", ("targeted_export_controls",), (2019, 7)),
    ("washington", ("public_support",), (2019, 7)),
    ("tokyo", ("whitelist_removal",), (2019, 8)),
    ("seoul", ("termination_notice",), (2019, 8)),
    ("seoul", ("wto_complaint",), (2019, 9)),
    ("washington", ("pressure_visit", "congress_resolution"), (2019, 11)),
    ("seoul", ("conditional_suspension",), (2019, 11)),
    ("seoul", ("wto_suspension",), (2019, 11)),
    ("tokyo", ("talks_offer",), (2019, 11)),
)
"""The 2019 sequence a run must reproduce (with the pact not lapsed): each step an actor,
the events any of which meets it (first occurrences) and the month. Washington's steps
are its statement of support (07-18) and a November escalation (the Defense Secretary's
visit of 11-15 or the Congress resolution of 11-21: a rung first reached in November)."""


@dataclass(frozen=True)
class TimelineEvent:
    """One row of timeline_2019.csv."""

    date: date
    actor: str
    event: str
    domain: str
    detail: str


TIMELINE_COLUMNS = ("date", "actor", "event", "domain", "detail")


def read_timeline(path: str | Path) -> list[TimelineEvent]:
    """The events of ``timeline_2019.csv``; ConfigError naming the file, row and column
    when it is missing, unreadable or malformed."""
    path = Path(path)
    where = f"--timeline: {path}"
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise ConfigError(f"{where}: no such file; allowed: a timeline CSV") from exc
    except (IsADirectoryError, PermissionError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(
            f"{where}: unreadable ({type(exc).__name__}); allowed: a UTF-8 CSV with columns "
            + ", ".join(TIMELINE_COLUMNS)
        ) from exc
    out = []
    for i, r in enumerate(rows, start=2):
        missing = [c for c in TIMELINE_COLUMNS if r.get(c) is None]
        if missing:
            raise ConfigError(
                f"{where}: line {i}: missing column(s) {', '.join(missing)}; allowed: a CSV "
                "with columns " + ", ".join(TIMELINE_COLUMNS)
            )
        try:
            day = date.fromisoformat(r["date"])
        except ValueError as exc:
            raise ConfigError(
                f"{where}: line {i}: invalid value {r['date']!r} for 'date'; allowed: a date "
                "written YYYY-MM-DD"
            ) from exc
        out.append(TimelineEvent(day, r["actor"], r["event"], r["domain"], r["detail"]))
    if not out:
        raise ConfigError(f"{where}: no events; allowed: a timeline CSV with at least one row")
    return out


def first_months(events: Iterable[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(actor, event) -> (year, month) of its first occurrence in a run."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for e in events:
        d = date.fromisoformat(e["date"])
        out.setdefault((e["actor"], e["event"]), (d.year, d.month))
    return out


def reproduces_2019(
    firsts: dict[tuple[str, str], tuple[int, int]],
    outcome: str,
    leave_out: frozenset[str] = frozenset(),
) -> bool:
    """Whether a run's first events and outcome match the whole 2019 sequence (without
    the steps of the actors in ``leave_out``: the Seoul-Tokyo sequence is the one with
    ``{"washington"}`` left out)."""
    if outcome != "last_minute_suspension":
        return False
    return all(
        any(firsts.get((actor, ev)) == ym for ev in events)
        for actor, events, ym in SEQUENCE
        if actor not in leave_out
    )


def run_seed(args: tuple[str, int, dict[str, Any]]) -> dict[str, Any]:
    """One run of a config with a seed: its outcome and events (for a process pool)."""
    config, seed, overrides = args
    m = GSOMIAModel.from_config(config, rng=seed, **overrides)
    m.run()
    return {
        "seed": seed,
        "outcome": m.outcome,
        "reversal_months_before_expiry": m.reversal_months_before_expiry,
        "events": [e.to_dict() for e in m.timeline],
    }


def run_seeds(
    config: str | Path,
    seeds: Sequence[int],
    workers: int = 1,
    overrides: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Runs for ``seeds``, in order, on ``workers`` processes."""
    jobs = [(str(config), int(s), dict(overrides or {})) for s in seeds]
    if workers <= 1:
        return [run_seed(j) for j in jobs]
    from experiments.backends import process_pool

    with process_pool(workers) as pool:
        return list(pool.map(run_seed, jobs, chunksize=max(1, len(jobs) // (4 * workers))))


@dataclass(frozen=True)
class CalibrationRow:
    """Share of runs in which one timeline event happens in its month."""

    date: date
    actor: str
    event: str
    status: str  # "modelled", "exogenous" or "not modelled"
    share: float | None


@dataclass(frozen=True)
class Calibration:
    """The calibration table and summary over a set of seeds."""

    rows: list[CalibrationRow]
    whole_sequence: float
    outcomes: dict[str, float]
    runs: int
    without_washington: float
    """Share reproducing the sequence without Washington's steps (its July statement and
    November escalation): how far the Seoul-Tokyo game alone gets."""

    def to_markdown(self) -> str:
        """The table as GitHub markdown."""
        lines = [
            "| date | actor | event | share in the right month |",
            "| --- | --- | --- | --- |",
        ]
        for r in self.rows:
            share = f"{r.share:.0%}" if r.share is not None else r.status
            lines.append(f"| {r.date.isoformat()} | {r.actor} | {r.event} | {share} |")
        lines.append(f"| | | **whole 2019 sequence** | **{self.whole_sequence:.0%}** |")
        lines.append(f"| | | without Washington's two steps | {self.without_washington:.0%} |")
        outcome = ", ".join(f"{k} {v:.0%}" for k, v in self.outcomes.items() if v)
        lines.append("")
        lines.append(f"Outcomes over {self.runs} seeds: {outcome}.")
        return "\n".join(lines)


def calibrate(runs: Sequence[dict[str, Any]], timeline: Sequence[TimelineEvent]) -> Calibration:
    """Score runs against the timeline."""
    firsts = [first_months(r["events"]) for r in runs]
    modelled = {(a, e) for f in firsts for (a, e) in f}
    rows = []
    for t in timeline:
        key = (t.actor, t.event)
        if t.event in EXOGENOUS:
            rows.append(CalibrationRow(t.date, t.actor, t.event, "exogenous", None))
            continue
        if t.event in NOT_MODELLED:
            rows.append(CalibrationRow(t.date, t.actor, t.event, "not modelled", None))
            continue
        hits = sum(f.get(key) == (t.date.year, t.date.month) for f in firsts)
        status = "modelled" if key in modelled or hits else "modelled (never produced)"
        rows.append(CalibrationRow(t.date, t.actor, t.event, status, hits / max(1, len(runs))))
    n = max(1, len(runs))
    pairs = list(zip(firsts, runs, strict=True))
    whole = sum(reproduces_2019(f, r["outcome"]) for f, r in pairs) / n
    alone = sum(reproduces_2019(f, r["outcome"], frozenset({"washington"})) for f, r in pairs) / n
    outcomes = {o: sum(r["outcome"] == o for r in runs) / n for o in OUTCOMES}
    return Calibration(rows, whole, outcomes, len(runs), alone)


DEFAULT_TIMELINE = data_dir() / "timeline_2019.csv"
"""A copy of shared/timeline_2019.csv, so a clone can calibrate on its own."""


DEFAULT_SEEDS = 100
DEFAULT_POSTERIOR_SEEDS = 10
"""Seeds per parameter draw of ``gsomia calibrate --posterior`` when --seeds is not given."""


def cli_calibrate(args: Any) -> int:
    """``gsomia calibrate``: the calibration table over ``--seeds`` seeds (0..N-1); with
    ``--posterior DIR``, the outcome shares over the fit's posterior instead."""
    from experiments.backends import default_workers
    from model.config import load_config

    if getattr(args, "posterior", None) is not None:
        return cli_posterior(args)
    if args.seeds is None:
        args.seeds = DEFAULT_SEEDS
    if args.seeds < 1:
        raise ConfigError(f"--seeds: invalid value {args.seeds!r}; allowed: an integer >= 1")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers: invalid value {args.workers!r}; allowed: an integer >= 1")
    timeline = read_timeline(args.timeline or DEFAULT_TIMELINE)  # checked before the runs
    GSOMIAModel(**load_config(args.config))  # the config too, before any worker starts
    workers = min(args.workers or default_workers(), args.seeds)
    runs = run_seeds(args.config, range(args.seeds), workers=workers)
    table = calibrate(runs, timeline)
    print(table.to_markdown())
    return 0


def cli_posterior(args: Any) -> int:
    """``gsomia calibrate --posterior DIR``: outcome shares of ``--config`` over
    ``--draws`` parameter draws from the fit's posterior x ``--seeds`` seeds, with
    intervals that count the spread between draws, next to the posterior mean over as
    many seeds (``experiments.ensemble``). Progress on stderr; Ctrl-C stops (130)."""
    from experiments.backends import default_workers
    from experiments.ensemble import load_posterior, posterior_ensemble, posterior_markdown
    from experiments.progress import Progress
    from model.config import load_config

    seeds = DEFAULT_POSTERIOR_SEEDS if args.seeds is None else args.seeds
    for key, value in (("--draws", args.draws), ("--seeds", seeds)):
        if value < 1:
            raise ConfigError(f"{key}: invalid value {value!r}; allowed: an integer >= 1")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers: invalid value {args.workers!r}; allowed: an integer >= 1")
    if args.seed < 0:
        raise ConfigError(f"--seed: invalid value {args.seed!r}; allowed: an integer >= 0")
    base = load_config(args.config)
    GSOMIAModel(**base)  # the config, before any worker starts
    load_posterior(args.posterior)  # the fit folder too
    total = 2 * args.draws * seeds
    workers = min(args.workers or default_workers(), total)
    bar = Progress(total, 0, None, "calibrate --posterior")
    seen = [0]

    def progress(done: int, _total: int) -> None:
        bar.update(done - seen[0])
        seen[0] = done

    try:
        ens = posterior_ensemble(
            base, args.posterior, args.draws, seeds, args.seed, workers, progress=progress
        )
    finally:
        bar.close()
    print(posterior_markdown(ens, Path(str(args.config)).stem, args.posterior))
    return 0
