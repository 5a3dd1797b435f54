"""Calibration targets as data: what runs of the model must reproduce, and how closely.

A targets file (``configs/targets/*.toml``) holds observed evidence as ``[[target]]``
tables and, in ``[fit]``, what ``gsomia fit`` estimates::

    [targets]
    description = "..."                  # optional

    [fit]
    parameters = ["audience_cost", "us_pressure_weight"]   # registry names (float; an
                                                           # actor's own: "patroller.patrol_cost")
    seeds = 4            # model runs per particle and scenario
    population = 100     # particles per ABC-SMC generation
    generations = 8      # at most this many generations
    check_seeds = 100    # seeds of the report's check of the point estimates
    epsilon_quantile = 0.5   # optional: each generation's epsilon, as a quantile of the last
    miss_months = 0      # optional: months off that make a full miss (0: any month off)
    miss_points = 0      # optional: points beyond a poll's tolerance that make a full miss
                         # (0: twice the tolerance)
    [fit.bounds.audience_cost]           # optional: a narrower prior than the registry's
    low = 1.0
    high = 8.0

    [[target]]
    name = "notice_2019_08"
    scenario = "baseline_2019"           # a shipped scenario's name or a path
    kind = "event"                       # see KINDS
    weight = 1.0                         # > 0 (default 1)
    ...                                  # the kind's own keys

Kinds (``KINDS``): ``event`` (an actor's event in a month, within ``tolerance_months``),
``sequence`` (every step in its month, optionally an outcome), ``poll`` (the shares for
ending / keeping / undecided on a date, within ``tolerance`` points), ``absent`` (no such
event in the run) and ``event_not_followed`` (an event in a month and no other event
within some months after it). The schema is declared once (``KINDS``, ``FIT_KEYS``);
every problem is a ``ConfigError`` naming the file, the key and what is allowed, before
anything runs.

The parameters a fit can estimate are those of the casts its targets' scenarios run
(``model.parameters.registry(actors)``: the central ``PARAMETERS`` and the parameters a
scenario's ``[cast]`` actors declare). When the scenarios run different casts, only the
parameters every one of those casts knows can be fitted (a particle sets each parameter
in every scenario's runs); a parameter only some of them declare is refused naming the
scenarios whose cast lacks it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from model.cast import cast_classes
from model.config import data_dir, list_scenarios, load_config, read_toml, resolve_path
from model.outcome import OUTCOMES
from model.parameters import (
    PARAMETERS,
    ConfigError,
    Param,
    defaults,
    registry,
    reject_unknown,
    suggest,
)
from model.vocabulary import Vocabulary, vocabulary

TABLES = ("targets", "fit", "target")
HEADER_KEYS = ("description",)
FIT_KEYS = (
    "parameters",
    "bounds",
    "seeds",
    "population",
    "generations",
    "check_seeds",
    "epsilon_quantile",
    "miss_months",
    "miss_points",
)
BOUND_KEYS = ("low", "high")
COMMON_KEYS = ("name", "scenario", "kind", "weight", "source")
STEP_KEYS = ("actor", "event", "month", "occurrence")
OCCURRENCES = ("first", "any")
"""``first``: the actor's first such event falls in the month (as ``gsomia calibrate``
counts); ``any``: some such event falls in it (an escalation that may follow earlier
steps)."""
POLL_SHARES = {
    "end": "opinion_share",
    "keep": "opinion_keep_share",
    "undecided": "opinion_undecided_share",
}
"""Poll answer -> the column of ``GSOMIAModel.monthly()`` holding that share of all
citizens."""
KINDS: dict[str, tuple[str, ...]] = {
    "event": ("actor", "event", "month", "occurrence", "tolerance_months"),
    "sequence": ("steps", "outcome"),
    "poll": ("date", "end", "keep", "undecided", "tolerance"),
    "absent": ("actor", "event"),
    "event_not_followed": ("actor", "event", "month", "not_followed_by"),
}
"""Each kind's own keys (besides ``COMMON_KEYS``)."""
FOLLOW_KEYS = ("actor", "event", "within_months")
MAX_SEEDS = 10_000
MAX_POPULATION = 100_000
MAX_GENERATIONS = 1_000


@dataclass(frozen=True)
class Step:
    """One event a target expects: ``actor``'s ``event`` (or any of several names) in the
    month ``month`` (year, month)."""

    actor: str
    events: tuple[str, ...]
    month: tuple[int, int]
    occurrence: str = "first"


@dataclass(frozen=True)
class Target:
    """One validated target. ``spec`` holds the kind's own values."""

    name: str
    scenario: str
    kind: str
    weight: float
    steps: tuple[Step, ...] = ()
    tolerance_months: int = 0
    outcome: str | None = None
    poll_date: date | None = None
    shares: tuple[tuple[str, float], ...] = ()  # (answer, percent) given by the poll
    tolerance: float = 0.0  # poll: percentage points
    absent: tuple[str, str] | None = None  # (actor, event)
    within_months: int = 0
    source: str = ""


@dataclass(frozen=True)
class FitSettings:
    """The ``[fit]`` table: parameters to estimate with their prior bounds, and the size of
    the ABC-SMC run."""

    bounds: tuple[tuple[str, float, float], ...]
    seeds: int
    population: int
    generations: int
    check_seeds: int
    epsilon_quantile: float = 0.5
    """Each generation's epsilon: this weighted quantile of the previous generation's
    distances (0.5: the median). Lower it when many particles tie at one distance (a
    median at the largest distance would accept every particle and the fit would not
    move)."""
    miss_months: int = 0
    """Months off at which a late or early event counts as a full miss (0: any month off
    is a full miss); see ``experiments.fit_score``."""
    miss_points: float = 0.0
    """Points beyond a poll's tolerance at which it counts as a full miss (0: the
    tolerance again, a full miss at twice the tolerance); see ``experiments.fit_score``."""

    @property
    def names(self) -> tuple[str, ...]:
        """The estimated parameters, in file order."""
        return tuple(b[0] for b in self.bounds)


@dataclass(frozen=True)
class TargetSet:
    """A validated targets file."""

    path: Path | None
    name: str
    description: str
    targets: tuple[Target, ...]
    fit: FitSettings
    scenarios: dict[str, Path] = field(default_factory=dict)
    text: str = ""

    def fingerprint(self) -> str:
        """SHA-256 over the file's text and the bytes of every scenario it names: what a
        resumed fit must match."""
        h = hashlib.sha256(self.text.encode())
        for name in sorted(self.scenarios):
            h.update(name.encode())
            h.update(self.scenarios[name].read_bytes())
        return h.hexdigest()

    def for_scenario(self, scenario: str) -> tuple[Target, ...]:
        """The targets scored on runs of ``scenario``."""
        return tuple(t for t in self.targets if t.scenario == scenario)


def list_target_sets() -> dict[str, tuple[Path, str]]:
    """The shipped target sets: name (file stem) -> (path, description)."""
    out = {}
    for path in sorted((data_dir() / "targets").glob("*.toml")):
        try:
            data, _ = read_toml(path, "targets")
            description = str(data.get("targets", {}).get("description", ""))
        except ConfigError:
            description = ""
        out[path.stem] = (path, description)
    return out


# ---- small typed readers ------------------------------------------------------------------
def _int(raw: Any, where: str, key: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise ConfigError(
            f"{where}: invalid value {raw!r} for '{key}'; allowed: an integer from {low} to {high}"
        )
    return raw


def _num(raw: Any, where: str, key: str, allowed: str, positive: bool = False) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ConfigError(f"{where}: invalid value {raw!r} for '{key}'; allowed: {allowed}")
    if positive and raw <= 0:
        raise ConfigError(f"{where}: invalid value {raw!r} for '{key}'; allowed: {allowed}")
    return float(raw)


def _str(raw: Any, where: str, key: str, allowed: str = "a non-empty string") -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{where}: invalid value {raw!r} for '{key}'; allowed: {allowed}")
    return raw


def _month(raw: Any, where: str, key: str) -> tuple[int, int]:
    allowed = 'a month written "YYYY-MM" (e.g. "2019-08")'
    if not isinstance(raw, str):
        raise ConfigError(f"{where}: invalid value {raw!r} for '{key}'; allowed: {allowed}")
    try:
        y, m = raw.split("-")
        ym = (int(y), int(m))
        date(ym[0], ym[1], 1)
        if len(y) != 4:
            raise ValueError(raw)
    except ValueError as exc:
        raise ConfigError(
            f"{where}: invalid value {raw!r} for '{key}' (not a month); allowed: {allowed}"
        ) from exc
    return ym


def _require(body: Mapping[str, Any], keys: tuple[str, ...], where: str, prefix: str) -> None:
    for k in keys:
        if k not in body:
            raise ConfigError(f"{where}: missing key '{prefix}{k}'")


# ---- [fit] --------------------------------------------------------------------------------
def fittable(known: Mapping[str, Param] | None = None) -> tuple[str, ...]:
    """Parameters a fit can estimate: sweepable real numbers with a range, of ``known``
    (default: the central registry; ``fit_registry`` gives a target set's)."""
    known = PARAMETERS if known is None else known
    return tuple(
        k
        for k, p in known.items()
        if p.sweepable and p.kind is float and p.low is not None and p.high is not None
    )


def scenario_registry(config: Mapping[str, Any]) -> Mapping[str, Param]:
    """The parameters of a scenario's runs, from its ``load_config`` values: the central
    ones and those its ``[cast]`` actors declare (none without a ``[cast]``)."""
    return registry(cast_classes(config)) if "actors" in config else PARAMETERS


def fit_registry(paths: Iterable[Path]) -> tuple[Mapping[str, Param], dict[str, list[str]]]:
    """The parameters a fit over the scenarios at ``paths`` can set: those every
    scenario's cast knows (the central ones, and an actor's own only if each scenario's
    cast declares it); and, for a parameter only some casts know, the scenarios lacking it
    (for the error). A scenario that does not read is skipped (its target's check says
    why)."""
    known: dict[str, Param] | None = None
    seen: dict[str, list[str]] = {}  # name -> the scenarios whose cast knows it
    read: list[str] = []
    for path in dict.fromkeys(paths):
        try:
            params = scenario_registry(load_config(path))
        except ConfigError:
            continue
        read.append(path.name)
        for k in params:
            seen.setdefault(k, []).append(path.name)
        known = dict(params) if known is None else {k: p for k, p in known.items() if k in params}
    if known is None:
        return PARAMETERS, {}
    lacking = {
        k: [n for n in read if n not in names] for k, names in seen.items() if k not in known
    }
    # all casts know the central ones alone: the central registry itself
    return (PARAMETERS if known.keys() == PARAMETERS.keys() else known), lacking


def parse_fit(
    body: Any,
    source: str,
    known: Mapping[str, Param] | None = None,
    lacking: Mapping[str, list[str]] | None = None,
) -> FitSettings:
    """Validate the ``[fit]`` table against ``known`` (the parameters of the scenarios'
    casts: ``fit_registry``; default: the central registry); ``lacking``: a parameter
    only some of the casts know -> the scenarios whose cast lacks it."""
    known = PARAMETERS if known is None else known
    where = f"{source}: [fit]"
    if not isinstance(body, Mapping):
        raise ConfigError(f"{source}: missing table '[fit]' (the parameters to estimate)")
    reject_unknown(body, FIT_KEYS, where, prefix="fit.", scope="[fit]", show_value=False)
    _require(body, ("parameters", "seeds", "population", "generations"), where, "fit.")
    names = body["parameters"]
    allowed = fittable(known)
    if not isinstance(names, list) or not names:
        raise ConfigError(
            f"{where}: invalid value {names!r} for 'fit.parameters'; allowed: a non-empty "
            "list of parameter names (" + ", ".join(allowed) + ")"
        )
    for n in names:
        if isinstance(n, str) and lacking and n in lacking:
            raise ConfigError(
                f"{where}: parameter {n!r} in 'fit.parameters' is not known to every scenario "
                "the targets name (the cast of " + ", ".join(lacking[n]) + " does not declare "
                "it); allowed: a parameter every scenario's cast knows: " + ", ".join(allowed)
            )
        if not isinstance(n, str) or n not in allowed:
            kind = "unknown parameter" if n not in known else "parameter not fittable"
            raise ConfigError(
                f"{where}: {kind} {n!r} in 'fit.parameters'{suggest(str(n), allowed)}; "
                "allowed: a real-valued model parameter with a range: " + ", ".join(allowed)
            )
    if len(set(names)) != len(names):
        raise ConfigError(
            f"{where}: invalid value {names!r} for 'fit.parameters' (repeated name); "
            "allowed: distinct names"
        )
    raw_bounds = body.get("bounds", {})
    if not isinstance(raw_bounds, Mapping):
        raise ConfigError(
            f"{where}: invalid value {raw_bounds!r} for 'fit.bounds'; allowed: tables "
            "[fit.bounds.NAME] with keys low, high"
        )
    for n in raw_bounds:
        if n not in names:
            raise ConfigError(
                f"{where}: unknown key 'fit.bounds.{n}'{suggest(str(n), names)}; allowed: a "
                "parameter listed in 'fit.parameters': " + ", ".join(names)
            )
    bounds = []
    for n in names:
        p = known[n]
        lo, hi = float(p.low), float(p.high)  # type: ignore[arg-type]
        if n in raw_bounds:
            b = raw_bounds[n]
            key = f"fit.bounds.{n}"
            if not isinstance(b, Mapping):
                raise ConfigError(
                    f"{where}: invalid value {b!r} for '{key}'; allowed: a table with keys "
                    "low, high"
                )
            reject_unknown(b, BOUND_KEYS, where, prefix=f"{key}.", show_value=False)
            _require(b, BOUND_KEYS, where, f"{key}.")
            allowed_range = f"a number in [{lo:g}, {hi:g}] (the registry's range of '{n}')"
            new_lo = _num(b["low"], where, f"{key}.low", allowed_range)
            new_hi = _num(b["high"], where, f"{key}.high", allowed_range)
            for k, v in (("low", new_lo), ("high", new_hi)):
                if not lo <= v <= hi:
                    raise ConfigError(
                        f"{where}: invalid value {v:g} for '{key}.{k}' (outside the model's "
                        f"bounds); allowed: {allowed_range}"
                    )
            if new_lo >= new_hi:
                raise ConfigError(
                    f"{where}: invalid range for '{key}': low {new_lo:g} >= high {new_hi:g}; "
                    "allowed: low < high"
                )
            lo, hi = new_lo, new_hi
        bounds.append((n, lo, hi))
    return FitSettings(
        bounds=tuple(bounds),
        seeds=_int(body["seeds"], where, "fit.seeds", 1, MAX_SEEDS),
        population=_int(body["population"], where, "fit.population", 2, MAX_POPULATION),
        generations=_int(body["generations"], where, "fit.generations", 1, MAX_GENERATIONS),
        check_seeds=_int(body.get("check_seeds", 100), where, "fit.check_seeds", 1, MAX_SEEDS),
        epsilon_quantile=_quantile(body.get("epsilon_quantile", 0.5), where),
        miss_months=_int(body.get("miss_months", 0), where, "fit.miss_months", 0, 24),
        miss_points=_miss_points(body.get("miss_points", 0), where),
    )


def _miss_points(raw: Any, where: str) -> float:
    allowed = "a number from 0 to 100 (points of a poll share; 0: twice the tolerance)"
    x = _num(raw, where, "fit.miss_points", allowed)
    if not 0.0 <= x <= 100.0:
        raise ConfigError(
            f"{where}: invalid value {raw!r} for 'fit.miss_points'; allowed: {allowed}"
        )
    return float(x)


def _quantile(raw: Any, where: str) -> float:
    allowed = "a number in (0, 1): the quantile of the last generation's distances"
    q = _num(raw, where, "fit.epsilon_quantile", allowed)
    if not 0.0 < q < 1.0:
        raise ConfigError(
            f"{where}: invalid value {q:g} for 'fit.epsilon_quantile'; allowed: {allowed}"
        )
    return q


# ---- [[target]] ---------------------------------------------------------------------------
def _resolve_scenario(raw: Any, where: str, base: Path | None) -> tuple[str, Path]:
    shipped = list_scenarios()
    allowed = "a shipped scenario's name (" + ", ".join(shipped) + ") or a path to a scenario TOML"
    name = _str(raw, where, "scenario", allowed)
    if base is not None and (base / name).is_file():
        return name, (base / name).resolve()
    if name in shipped:
        return name, shipped[name][0]
    if Path(name).is_file():
        return name, Path(name).resolve()
    raise ConfigError(
        f"{where}: unknown scenario {name!r}{suggest(name, tuple(shipped))}; allowed: {allowed}"
    )


def _step(raw: Any, where: str, key: str, with_occurrence: bool = True) -> Step:
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{where}: invalid value {raw!r} for '{key}'; allowed: a table with keys "
            + ", ".join(STEP_KEYS)
        )
    keys = STEP_KEYS if with_occurrence else STEP_KEYS[:3]
    pre = f"{key}." if key else ""
    reject_unknown(raw, keys, where, prefix=pre, show_value=False)
    _require(raw, ("actor", "event", "month"), where, pre)
    return Step(
        actor=_str(raw["actor"], where, f"{pre}actor"),
        events=_events(raw["event"], where, f"{pre}event"),
        month=_month(raw["month"], where, f"{pre}month"),
        occurrence=_occurrence(raw.get("occurrence", "first"), where, f"{pre}occurrence"),
    )


def _events(raw: Any, where: str, key: str) -> tuple[str, ...]:
    if isinstance(raw, str) and raw.strip():
        return (raw,)
    if isinstance(raw, list) and raw and all(isinstance(e, str) and e.strip() for e in raw):
        return tuple(raw)
    raise ConfigError(
        f"{where}: invalid value {raw!r} for '{key}'; allowed: an event name or a non-empty "
        "list of event names (any of them counts)"
    )


def _occurrence(raw: Any, where: str, key: str) -> str:
    if raw not in OCCURRENCES:
        raise ConfigError(
            f"{where}: invalid value {raw!r} for '{key}'; allowed: one of "
            + ", ".join(repr(o) for o in OCCURRENCES)
        )
    return str(raw)


def _in_span(ym: tuple[int, int], span: tuple[date, date], where: str, key: str) -> None:
    start, end = span
    if not (start.year, start.month) <= ym <= (end.year, end.month):
        raise ConfigError(
            f"{where}: invalid value '{ym[0]:04d}-{ym[1]:02d}' for '{key}' (outside the "
            f"scenario's span); allowed: a month from {start:%Y-%m} to {end:%Y-%m}"
        )


def _scenario_facts(path: Path) -> tuple[tuple[date, date], Vocabulary]:
    """A scenario's span (start, end) and the names its runs' timelines use."""
    config = load_config(path)
    values = defaults() | config
    actors = cast_classes(config) if "actors" in config else None
    return (values["start"], values["end"]), vocabulary(
        actors, exogenous=values.get("exogenous", ())
    )


def _check_names(steps: Iterable[Step], vocab: Vocabulary, where: str, prefix: str = "") -> None:
    """Every step's actor and events are names the scenario's runs use."""
    for i, step in enumerate(steps):
        pre = prefix.format(i=i)
        for event in step.events:
            vocab.check(step.actor, event, where, f"{pre}actor", f"{pre}event")


def parse_target(
    raw: Any,
    index: int,
    source: str,
    base: Path | None,
    scenarios: dict[str, tuple[tuple[date, date], Vocabulary]],
) -> tuple[Target, Path]:
    """Validate one ``[[target]]`` table (its names against the vocabulary of its
    scenario: ``model.vocabulary``); returns it and its scenario's path."""
    where = f"{source}: target[{index}]"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: invalid value {raw!r}; allowed: a [[target]] table")
    name = raw.get("name")
    if name is not None:
        where = f"{source}: target[{index}] ({name!r})"
    _require(raw, ("name", "scenario", "kind"), where, "")
    name = _str(raw["name"], where, "name")
    kind = raw["kind"]
    if kind not in KINDS:
        raise ConfigError(
            f"{where}: unknown kind {kind!r}{suggest(str(kind), tuple(KINDS))}; allowed: one of "
            + ", ".join(KINDS)
        )
    reject_unknown(raw, COMMON_KEYS + KINDS[kind], where, scope=f"a {kind!r} target")
    scenario, path = _resolve_scenario(raw["scenario"], where, base)
    if scenario not in scenarios:
        scenarios[scenario] = _scenario_facts(path)
    span, vocab = scenarios[scenario]
    weight = _num(raw.get("weight", 1.0), where, "weight", "a number > 0", positive=True)
    source_note = raw.get("source", "")
    if not isinstance(source_note, str):
        raise ConfigError(f"{where}: invalid value {source_note!r} for 'source'; allowed: a string")
    common = {"name": name, "scenario": scenario, "kind": kind, "weight": weight}
    common["source"] = source_note

    if kind == "event":
        step = _step({k: raw[k] for k in STEP_KEYS if k in raw}, where, "", True)
        _check_names([step], vocab, where)
        _in_span(step.month, span, where, "month")
        tol = _int(raw.get("tolerance_months", 0), where, "tolerance_months", 0, 120)
        return Target(**common, steps=(step,), tolerance_months=tol), path
    if kind == "sequence":
        _require(raw, ("steps",), where, "")
        steps_raw = raw["steps"]
        if not isinstance(steps_raw, list) or not steps_raw:
            raise ConfigError(
                f"{where}: invalid value {steps_raw!r} for 'steps'; allowed: a non-empty list "
                "of tables with keys " + ", ".join(STEP_KEYS)
            )
        steps = tuple(_step(s, where, f"steps[{i}]") for i, s in enumerate(steps_raw))
        _check_names(steps, vocab, where, "steps[{i}].")
        for i, s in enumerate(steps):
            _in_span(s.month, span, where, f"steps[{i}].month")
        outcome = raw.get("outcome")
        if outcome is not None and outcome not in OUTCOMES:
            raise ConfigError(
                f"{where}: invalid value {outcome!r} for 'outcome'"
                f"{suggest(str(outcome), OUTCOMES)}; allowed: one of " + ", ".join(OUTCOMES)
            )
        return Target(**common, steps=steps, outcome=outcome), path
    if kind == "poll":
        _require(raw, ("date", "end", "tolerance"), where, "")
        day = raw["date"]
        if not isinstance(day, date) or hasattr(day, "hour"):
            raise ConfigError(
                f"{where}: invalid value {day!r} for 'date'; allowed: a date written "
                "YYYY-MM-DD (unquoted)"
            )
        if not span[0] <= day <= span[1]:
            raise ConfigError(
                f"{where}: invalid value '{day.isoformat()}' for 'date' (outside the "
                f"scenario's span); allowed: a date from {span[0].isoformat()} to "
                f"{span[1].isoformat()}"
            )
        shares = []
        for answer in POLL_SHARES:
            if answer in raw:
                v = _num(raw[answer], where, answer, "a percentage from 0 to 100")
                if not 0 <= v <= 100:
                    raise ConfigError(
                        f"{where}: invalid value {v:g} for '{answer}'; allowed: a percentage "
                        "from 0 to 100"
                    )
                shares.append((answer, v))
        if len(shares) == len(POLL_SHARES) and abs(sum(v for _, v in shares) - 100) > 1:
            raise ConfigError(
                f"{where}: invalid values for 'end', 'keep', 'undecided' (they sum to "
                f"{sum(v for _, v in shares):g}); allowed: shares of all respondents summing "
                "to 100 (within 1 point of rounding)"
            )
        tol = _num(raw["tolerance"], where, "tolerance", "a number of points > 0", positive=True)
        return Target(**common, poll_date=day, shares=tuple(shares), tolerance=tol), path
    if kind == "absent":
        _require(raw, ("actor", "event"), where, "")
        pair = (_str(raw["actor"], where, "actor"), _str(raw["event"], where, "event"))
        vocab.check(*pair, where)
        return Target(**common, absent=pair), path
    # event_not_followed
    _require(raw, ("actor", "event", "month", "not_followed_by"), where, "")
    step = _step({k: raw[k] for k in ("actor", "event", "month")}, where, "", False)
    _check_names([step], vocab, where)
    _in_span(step.month, span, where, "month")
    follow = raw["not_followed_by"]
    if not isinstance(follow, Mapping):
        raise ConfigError(
            f"{where}: invalid value {follow!r} for 'not_followed_by'; allowed: a table with "
            "keys " + ", ".join(FOLLOW_KEYS)
        )
    reject_unknown(follow, FOLLOW_KEYS, where, prefix="not_followed_by.", show_value=False)
    _require(follow, FOLLOW_KEYS, where, "not_followed_by.")
    pair = (
        _str(follow["actor"], where, "not_followed_by.actor"),
        _str(follow["event"], where, "not_followed_by.event"),
    )
    vocab.check(*pair, where, "not_followed_by.actor", "not_followed_by.event")
    within = _int(follow["within_months"], where, "not_followed_by.within_months", 1, 120)
    return Target(**common, steps=(step,), absent=pair, within_months=within), path


def _named_scenarios(raw_targets: Any, base: Path | None) -> list[Path]:
    """The paths of the scenarios the ``[[target]]`` tables name (those that resolve; the
    targets' own check reports the others)."""
    out = []
    for raw in raw_targets if isinstance(raw_targets, list) else ():
        if isinstance(raw, Mapping) and "scenario" in raw:
            try:
                out.append(_resolve_scenario(raw["scenario"], "", base)[1])
            except ConfigError:
                continue
    return out


def parse_targets(data: Mapping[str, Any], path: Path | None = None, text: str = "") -> TargetSet:
    """Validate a targets file already read from TOML; ``path`` names it in messages and
    anchors relative scenario paths."""
    source = str(path) if path is not None else "targets"
    reject_unknown(data, TABLES, source, kind="table", show_value=False)
    header = data.get("targets", {})
    if not isinstance(header, Mapping):
        raise ConfigError(f"{source}: invalid value {header!r} for 'targets'; allowed: a table")
    reject_unknown(header, HEADER_KEYS, source, prefix="targets.", scope="[targets]")
    description = header.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{source}: invalid value {description!r} for 'targets.description'")
    raw_targets = data.get("target")
    base = path.parent if path is not None else None
    fit = parse_fit(data.get("fit"), source, *fit_registry(_named_scenarios(raw_targets, base)))
    if not isinstance(raw_targets, list) or not raw_targets:
        raise ConfigError(f"{source}: missing table '[[target]]': a fit needs at least one target")
    facts: dict[str, tuple[tuple[date, date], Vocabulary]] = {}
    targets, scenarios = [], {}
    for i, raw in enumerate(raw_targets):
        t, scenario_path = parse_target(raw, i, source, base, facts)
        targets.append(t)
        scenarios[t.scenario] = scenario_path
    names = [t.name for t in targets]
    for n in names:
        if names.count(n) > 1:
            raise ConfigError(
                f"{source}: invalid value {n!r} for 'target.name' (repeated); allowed: a "
                "name used by one target"
            )
    name = path.stem if path is not None else "targets"
    return TargetSet(path, name, description, tuple(targets), fit, scenarios, text)


def load_targets(ref: str | Path) -> TargetSet:
    """Read and validate a targets file (a path, or a shipped set's name such as
    ``evidence_2019``); ConfigError naming the file and key."""
    path = resolve_path(ref, "targets", list_target_sets(), "targets")
    data, text = read_toml(path, "targets")
    return parse_targets(data, path, text)
