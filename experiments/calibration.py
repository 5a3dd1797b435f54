"""Calibration against a timeline: how often the model's events land in the right month.

For every event of a timeline CSV that the model can produce, the share of seeds in which
that actor's event first happens in the event's month; and the share of seeds that
reproduce the whole sequence. Which rows are modelled, exogenous or not modelled, and the
sequence a run must reproduce, are the timeline's ``Scoring``:

- for the shipped ``configs/timeline_2019.csv`` (``gsomia calibrate`` without
  ``--timeline``), 2019's, kept as data here (``SCORING_2019``): July curbs, August
  white-list removal, August notice, September WTO complaint, November conditional
  suspension with the WTO suspension and Tokyo's talks offer, and the pact not lapsed;
- for any other timeline (``--timeline CSV``), derived from the file and the cast's
  declared events (``model.vocabulary``) by ``derive_scoring``: a row the cast's
  governments or calendar declare is modelled (exogenous when dated before the
  scenario's start), a row the scenario's shocks declare is exogenous, and an optional
  ``status`` column marks the rest (``exogenous``, ``not modelled``); every modelled row
  from the start on is a step of the sequence, unless its optional ``sequence`` column
  says ``no``; rows of one actor in one month whose ``sequence`` holds the same label are
  one step met by any of them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from model import GSOMIAModel
from model.config import data_dir, decode_text, read_input
from model.outcome import OUTCOMES
from model.parameters import ConfigError
from model.vocabulary import Vocabulary, vocabulary

EXOGENOUS_EVENTS = {
    "both": ("pact_signed", "radar_incident"),
    "seoul_court": ("forced_labour_ruling",),
    "beijing": ("joint_air_patrol",),
}
"""Timeline events that are inputs (config shocks or history before the start), not
model decisions, by actor."""
NOT_MODELLED_EVENTS = {
    "seoul": ("review_hint", "dialogue_offer"),
    "both": ("leaders_talk",),
    "tokyo": ("reconsider_request",),
}
"""Cheap talk the model has no move for, by actor."""
EXOGENOUS = tuple(e for names in EXOGENOUS_EVENTS.values() for e in names)
NOT_MODELLED = tuple(e for names in NOT_MODELLED_EVENTS.values() for e in names)

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
    status: str = ""
    """The optional ``status`` column: ``modelled``, ``exogenous``, ``not modelled`` or
    blank (derived from the cast's declared events)."""
    sequence: str = ""
    """The optional ``sequence`` column: ``no`` (not a step of the sequence), a label
    (rows of one actor and month with the same label are one step met by any of them),
    or blank (a step of its own when modelled)."""


TIMELINE_COLUMNS = ("date", "actor", "event", "domain", "detail")
OPTIONAL_COLUMNS = ("status", "sequence")
"""Columns a timeline may add: how a row is scored (``derive_scoring``)."""
STATUSES = ("modelled", "exogenous", "not modelled")
NOT_A_STEP = "no"
OUTSIDE_HINT = " (an event outside the model: mark the row's 'status' exogenous or not modelled)"


def timeline_vocabulary(model: GSOMIAModel) -> Vocabulary:
    """The names a timeline may use against runs of ``model``'s scenario: what its cast,
    calendar and shocks emit, plus the history and cheap talk the model takes as input
    or has no move for."""
    names = vocabulary(model.cast.actors, model.exogenous)
    return names.with_events(EXOGENOUS_EVENTS).with_events(NOT_MODELLED_EVENTS)


def read_timeline(path: str | Path, names: Vocabulary | None = None) -> list[TimelineEvent]:
    """The events of a timeline CSV (``timeline_2019.csv``'s columns, optionally
    ``status`` and ``sequence``); ConfigError naming the file, row and column when it is
    missing, unreadable or malformed, or (with ``names``) names an actor or event the
    vocabulary lacks in a row its ``status`` does not mark as outside the model."""
    path = Path(path)
    where = f"--timeline: {path}"
    try:
        text = decode_text(read_input(path, "timeline CSV"), str(path), "timeline CSV")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except ConfigError as exc:
        raise ConfigError(f"--timeline: {exc}") from exc
    except csv.Error as exc:
        raise ConfigError(
            f"{where}: unreadable ({type(exc).__name__}: {exc}); allowed: a UTF-8 CSV with "
            "columns " + ", ".join(TIMELINE_COLUMNS)
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
        status = (r.get("status") or "").strip()
        if status and status not in STATUSES:
            raise ConfigError(
                f"{where}: line {i}: invalid value {status!r} for 'status'; allowed: "
                + ", ".join(STATUSES)
                + " or blank"
            )
        if names is not None and status not in ("exogenous", "not modelled"):
            try:
                names.check(r["actor"], r["event"], f"{where}: line {i}")
            except ConfigError as exc:
                raise ConfigError(f"{exc}{OUTSIDE_HINT}") from exc
        sequence = (r.get("sequence") or "").strip()
        out.append(
            TimelineEvent(day, r["actor"], r["event"], r["domain"], r["detail"], status, sequence)
        )
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


Step = tuple[str, tuple[str, ...], tuple[int, int]]
"""A step of a sequence: an actor, the events any of which meets it (first occurrences),
and the (year, month) it must happen in."""


def reproduces(
    firsts: dict[tuple[str, str], tuple[int, int]],
    outcome: str,
    steps: Sequence[Step],
    required: str | None = None,
    leave_out: frozenset[str] = frozenset(),
) -> bool:
    """Whether a run's first events meet every step (of the actors not in ``leave_out``)
    and, with ``required``, its outcome is that one."""
    if required is not None and outcome != required:
        return False
    return all(
        any(firsts.get((actor, ev)) == ym for ev in events)
        for actor, events, ym in steps
        if actor not in leave_out
    )


def reproduces_2019(
    firsts: dict[tuple[str, str], tuple[int, int]],
    outcome: str,
    leave_out: frozenset[str] = frozenset(),
) -> bool:
    """Whether a run's first events and outcome match the whole 2019 sequence (without
    the steps of the actors in ``leave_out``: the Seoul-Tokyo sequence is the one with
    ``{"washington"}`` left out)."""
    return reproduces(firsts, outcome, SEQUENCE, "last_minute_suspension", leave_out)


@dataclass(frozen=True)
class Scoring:
    """How a timeline is scored: each row's status (in the timeline's order), the steps
    of the sequence a run must reproduce, the outcome it must end in (None: any), the
    table's label for the sequence, and optionally a second row: the share without some
    actors' steps (its label and those actors)."""

    statuses: tuple[str, ...]
    steps: tuple[Step, ...]
    outcome: str | None = None
    label: str = "whole sequence"
    leave_out: tuple[str, frozenset[str]] | None = None


def scoring_2019(timeline: Sequence[TimelineEvent]) -> Scoring:
    """2019's scoring of the shipped timeline: its exogenous and not-modelled events by
    name, ``SEQUENCE`` with the pact not lapsed, and the row without Washington's steps."""
    statuses = tuple(
        "exogenous"
        if t.event in EXOGENOUS
        else "not modelled"
        if t.event in NOT_MODELLED
        else "modelled"
        for t in timeline
    )
    return Scoring(
        statuses,
        SEQUENCE,
        "last_minute_suspension",
        "whole 2019 sequence",
        ("without Washington's two steps", frozenset({"washington"})),
    )


def derive_scoring(
    timeline: Sequence[TimelineEvent], model: GSOMIAModel, where: str, label: str
) -> Scoring:
    """The scoring of a timeline against runs of ``model``'s scenario and cast, derived
    from the file and the cast's declared events (module docstring). ConfigError naming
    the file, line, key and the allowed values for a row that names an actor or event
    the cast and the scenario's shocks do not declare and that no ``status`` marks as
    exogenous or not modelled, and for a timeline with no modelled row to score."""
    names = timeline_vocabulary(model)
    shocks = {(e.actor, e.event) for e in model.exogenous}
    outside = {(a, e): "exogenous" for a, evs in EXOGENOUS_EVENTS.items() for e in evs}
    outside |= {(a, e): "not modelled" for a, evs in NOT_MODELLED_EVENTS.items() for e in evs}
    statuses: list[str] = []
    for i, t in enumerate(timeline, start=2):
        here = f"{where}: line {i}"
        if t.status in ("exogenous", "not modelled"):
            statuses.append(t.status)
            continue
        if not t.status and (t.actor, t.event) in outside:
            statuses.append(outside[(t.actor, t.event)])
            continue
        try:
            names.check(t.actor, t.event, here)
        except ConfigError as exc:
            raise ConfigError(f"{exc}{OUTSIDE_HINT}") from exc
        pair = (t.actor, t.event)
        if pair in shocks:
            if t.status == "modelled":
                raise ConfigError(
                    f"{here}: invalid value 'modelled' for 'status' ({t.actor}'s {t.event!r} "
                    "is a shock of the scenario, not a move); allowed: exogenous or blank"
                )
            statuses.append("exogenous")
        elif t.date < model.start:
            statuses.append("exogenous")  # history before the scenario's start
        else:
            statuses.append("modelled")
    groups: dict[tuple[str, tuple[int, int], str], list[str]] = {}
    for i, (t, status) in enumerate(zip(timeline, statuses, strict=True)):
        if status != "modelled" or t.sequence.lower() == NOT_A_STEP:
            continue
        ym = (t.date.year, t.date.month)
        key = (t.actor, ym, t.sequence or f"\0{i}")
        groups.setdefault(key, [])
        if t.event not in groups[key]:
            groups[key].append(t.event)
    if not groups:
        raise ConfigError(
            f"{where}: no modelled event from the scenario's start "
            f"({model.start.isoformat()}) on to score; allowed: a timeline with at least one "
            f"row the cast declares (actors: {', '.join(names.actors)}), not marked "
            "sequence = no"
        )
    steps = tuple((actor, tuple(evs), ym) for (actor, ym, _), evs in groups.items())
    return Scoring(tuple(statuses), steps, None, label)


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
    without_washington: float | None
    """Share reproducing the sequence without the left-out actors' steps (2019's:
    Washington's July statement and November escalation: how far the Seoul-Tokyo game
    alone gets); None when the scoring has no such row."""
    label: str = "whole 2019 sequence"
    without_label: str | None = "without Washington's two steps"

    def to_markdown(self) -> str:
        """The table as GitHub markdown."""
        lines = [
            "| date | actor | event | share in the right month |",
            "| --- | --- | --- | --- |",
        ]
        for r in self.rows:
            share = f"{r.share:.0%}" if r.share is not None else r.status
            lines.append(f"| {r.date.isoformat()} | {r.actor} | {r.event} | {share} |")
        lines.append(f"| | | **{self.label}** | **{self.whole_sequence:.0%}** |")
        if self.without_label is not None and self.without_washington is not None:
            lines.append(f"| | | {self.without_label} | {self.without_washington:.0%} |")
        outcome = ", ".join(f"{k} {v:.0%}" for k, v in self.outcomes.items() if v)
        lines.append("")
        lines.append(f"Outcomes over {self.runs} seeds: {outcome}.")
        return "\n".join(lines)


def calibrate(
    runs: Sequence[dict[str, Any]],
    timeline: Sequence[TimelineEvent],
    scoring: Scoring | None = None,
) -> Calibration:
    """Score runs against the timeline (by ``scoring``; default: 2019's)."""
    scoring = scoring_2019(timeline) if scoring is None else scoring
    firsts = [first_months(r["events"]) for r in runs]
    modelled = {(a, e) for f in firsts for (a, e) in f}
    rows = []
    for t, status in zip(timeline, scoring.statuses, strict=True):
        key = (t.actor, t.event)
        if status != "modelled":
            rows.append(CalibrationRow(t.date, t.actor, t.event, status, None))
            continue
        hits = sum(f.get(key) == (t.date.year, t.date.month) for f in firsts)
        status = "modelled" if key in modelled or hits else "modelled (never produced)"
        rows.append(CalibrationRow(t.date, t.actor, t.event, status, hits / max(1, len(runs))))
    n = max(1, len(runs))
    pairs = list(zip(firsts, runs, strict=True))

    def share(leave_out: frozenset[str] = frozenset()) -> float:
        return (
            sum(
                reproduces(f, r["outcome"], scoring.steps, scoring.outcome, leave_out)
                for f, r in pairs
            )
            / n
        )

    whole = share()
    without_label, alone = None, None
    if scoring.leave_out is not None:
        without_label, alone = scoring.leave_out[0], share(scoring.leave_out[1])
    outcomes = {o: sum(r["outcome"] == o for r in runs) / n for o in OUTCOMES}
    return Calibration(rows, whole, outcomes, len(runs), alone, scoring.label, without_label)


DEFAULT_TIMELINE = data_dir() / "timeline_2019.csv"
"""A copy of shared/timeline_2019.csv, so a clone can calibrate on its own."""


def is_2019(timeline: Sequence[TimelineEvent]) -> bool:
    """Whether a timeline is the shipped 2019 one (the file or a copy), scored by
    ``scoring_2019``; any other is scored by ``derive_scoring``."""
    return list(timeline) == read_timeline(DEFAULT_TIMELINE)


DEFAULT_SEEDS = 100
DEFAULT_POSTERIOR_SEEDS = 10
"""Seeds per parameter draw of ``gsomia calibrate --posterior`` when --seeds is not given."""


def cli_calibrate(args: Any) -> int:
    """``gsomia calibrate``: the calibration table over ``--seeds`` seeds (0..N-1); with
    ``--posterior DIR``, the outcome shares over the fit's posterior instead."""
    from experiments.backends import default_workers
    from experiments.cast import load_cast

    if getattr(args, "posterior", None) is not None:
        if getattr(args, "cast", None):
            raise ConfigError(
                "--cast: not used with --posterior (a fit's posterior is of the default "
                "cast); allowed: --cast without --posterior"
            )
        return cli_posterior(args)
    if args.seeds is None:
        args.seeds = DEFAULT_SEEDS
    if args.seeds < 1:
        raise ConfigError(f"--seeds: invalid value {args.seeds!r}; allowed: an integer >= 1")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers: invalid value {args.workers!r}; allowed: an integer >= 1")
    cast = load_cast(args.cast) if getattr(args, "cast", None) else {}
    # the config and its cast (its own [cast], or --cast instead), before any worker starts
    model = GSOMIAModel.from_config(args.config, **cast)
    path = Path(args.timeline or DEFAULT_TIMELINE)
    timeline = read_timeline(path, timeline_vocabulary(model))
    if is_2019(timeline):
        scoring = scoring_2019(timeline)
    else:
        scoring = derive_scoring(
            timeline, model, f"--timeline: {path}", f"whole {path.stem} sequence"
        )
    workers = min(args.workers or default_workers(), args.seeds)
    runs = run_seeds(args.config, range(args.seeds), workers=workers, overrides=cast)
    table = calibrate(runs, timeline, scoring)
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
    if "actors" in base:
        raise ConfigError(
            f"--config: {args.config} sets a [cast] table, not used with --posterior (a fit's "
            "posterior is of the default cast); allowed: a scenario config without [cast]"
        )
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
