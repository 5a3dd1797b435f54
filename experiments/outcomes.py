"""What a sweep records of one run, declared once: each result column with its Parquet type,
its meaning and how it is read off a finished model.

``result_columns`` (the row schema), ``metrics`` (the names) and ``summarise`` (the values)
all come from ``columns(actors)``: the columns every run has, and one payoff column per
actor of the run's cast (``payoff_<actor>``); adding an outcome is one ``Column`` here.
``COLUMNS``, ``RESULT_COLUMNS`` and ``METRICS`` are the default cast's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pyarrow as pa


def _month(d: Any) -> str | None:
    return None if d is None else f"{d:%Y-%m}"


class RunView:
    """A finished model with the derived quantities several columns share (computed once).

    The monthly series are read from the model's DataCollector as the lists it holds
    (``model_vars``), not through ``model.monthly()``: building that DataFrame cost more
    than every column together. Reductions are numpy's on the same float64 values, as
    pandas' are, so the numbers are the DataFrame's (tested)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.series: dict[str, list[Any]] = model.datacollector.model_vars
        self.events = model.timeline

    def column(self, name: str) -> np.ndarray:
        """A monthly series as an array (what ``model.monthly()[name]`` holds)."""
        return np.asarray(self.series[name])

    def first(self, actor: str, names: Iterable[str]) -> Any:
        """Date of the first event of ``actor`` among ``names`` (None: never)."""
        names = set(names)
        return next((e.date for e in self.events if e.actor == actor and e.event in names), None)

    @cached_property
    def notice(self) -> Any:
        """Seoul's termination notice."""
        return self.first("seoul", ("termination_notice",))

    @cached_property
    def reversal(self) -> Any:
        """Seoul's reversal (conditional suspension or rescinded notice)."""
        return self.first("seoul", ("conditional_suspension", "rescind_notice"))

    @cached_property
    def curbs(self) -> Any:
        """Tokyo's first export curb."""
        return self.first("tokyo", ("targeted_export_controls", "whitelist_removal"))

    @cached_property
    def symmetric_pause(self) -> bool:
        """Seoul pauses its WTO case and Tokyo offers talks in the month of the reversal."""
        if self.reversal is None:
            return False
        month = _month(self.reversal)
        same = {(e.actor, e.event) for e in self.events if _month(e.date) == month}
        return ("seoul", "wto_suspension") in same and ("tokyo", "talks_offer") in same

    @cached_property
    def reproduces_2019(self) -> bool:
        """The run reproduces the whole observed 2019 sequence."""
        from experiments.calibration import first_months, reproduces_2019

        firsts = first_months(e.to_dict() for e in self.events)
        return bool(reproduces_2019(firsts, self.model.outcome))

    def peak(self, column: str) -> float:
        """Maximum of a monthly series."""
        return float(self.column(column).max())

    def final(self, column: str) -> Any:
        """Last value of a monthly series."""
        return self.series[column][-1]

    def total(self, column: str) -> float:
        """Sum of a monthly series."""
        return float(self.column(column).sum())


@dataclass(frozen=True)
class Column:
    """One result column: name, Parquet type, meaning, and its value for a finished run."""

    name: str
    dtype: pa.DataType
    meaning: str
    value: Callable[[RunView], Any]


def _months(r: RunView) -> int | None:
    months = r.model.reversal_months_before_expiry
    return None if months is None else int(months)


SHARED_COLUMNS: tuple[Column, ...] = (
    Column("outcome", pa.string(), "the run's outcome (model.outcome)", lambda r: r.model.outcome),
    Column(
        "reversal_months_before_expiry",
        pa.int64(),
        "months between Seoul's reversal and the notice's lapse",
        _months,
    ),
    Column(
        "reversal_action",
        pa.string(),
        "how Seoul reversed",
        lambda r: r.model.episode.reversal_action,
    ),
    Column("notice_month", pa.string(), "month of the notice", lambda r: _month(r.notice)),
    Column("reversal_month", pa.string(), "month of the reversal", lambda r: _month(r.reversal)),
    Column("first_curb_month", pa.string(), "month of the first curb", lambda r: _month(r.curbs)),
    Column(
        "symmetric_pause",
        pa.bool_(),
        "WTO pause and talks offer in the reversal's month",
        lambda r: bool(r.symmetric_pause),
    ),
    Column(
        "wto_complaint",
        pa.bool_(),
        "Seoul filed a WTO complaint",
        lambda r: any(e.event == "wto_complaint" for e in r.events),
    ),
    Column(
        "talks_offered",
        pa.bool_(),
        "Tokyo offered talks",
        lambda r: any(e.event == "talks_offer" for e in r.events),
    ),
    Column(
        "reproduces_2019",
        pa.bool_(),
        "the whole 2019 sequence",
        lambda r: r.reproduces_2019,
    ),
    Column(
        "final_pact_state",
        pa.string(),
        "pact state in the last month",
        lambda r: str(r.final("pact_state")),
    ),
    Column(
        "peak_opinion_share",
        pa.float64(),
        "peak hard-line share",
        lambda r: r.peak("opinion_share"),
    ),
    Column(
        "final_opinion_share",
        pa.float64(),
        "final hard-line share",
        lambda r: float(r.final("opinion_share")),
    ),
    Column(
        "peak_boycott_share",
        pa.float64(),
        "peak boycott share",
        lambda r: r.peak("boycott_share"),
    ),
    Column(
        "peak_us_pressure_seoul",
        pa.float64(),
        "peak US pressure on Seoul",
        lambda r: r.peak("us_pressure_seoul"),
    ),
    Column(
        "peak_us_pressure_tokyo",
        pa.float64(),
        "peak US pressure on Tokyo",
        lambda r: r.peak("us_pressure_tokyo"),
    ),
    Column(
        "peak_beijing_stance",
        pa.float64(),
        "peak Beijing stance",
        lambda r: r.peak("beijing_stance"),
    ),
    Column(
        "peak_curb_level",
        pa.int64(),
        "highest curb level",
        lambda r: int(r.column("curb_level").max()),
    ),
    Column(
        "final_curb_level",
        pa.int64(),
        "curb level in the last month",
        lambda r: int(r.final("curb_level")),
    ),
    Column("peak_threat", pa.float64(), "peak threat multiplier", lambda r: r.peak("threat")),
)
N_EVENTS = Column("n_events", pa.int64(), "events in the timeline", lambda r: len(r.events))


def payoff_column(actor: str) -> Column:
    """An actor's summed payoff over the run (its monthly ``payoff_<actor>`` series)."""
    from experiments.cast import label

    name = f"payoff_{actor}"
    return Column(name, pa.float64(), f"{label(actor)}'s summed payoff", lambda r: r.total(name))


def columns(actors: Sequence[str] | None = None) -> tuple[Column, ...]:
    """The result columns of a run of a cast (its actors' names, in player order; default:
    the model's default cast): the shared ones, each actor's payoff, the event count."""
    if actors is None:
        from experiments.cast import actor_names

        actors = actor_names()
    return _columns(tuple(actors))


@lru_cache(maxsize=64)
def _columns(actors: tuple[str, ...]) -> tuple[Column, ...]:
    return (*SHARED_COLUMNS, *(payoff_column(a) for a in actors), N_EVENTS)


def result_columns(actors: Sequence[str] | None = None) -> tuple[tuple[str, pa.DataType], ...]:
    """What ``run_one`` returns for a cast (besides status and error), with Parquet types."""
    return tuple((c.name, c.dtype) for c in columns(actors))


def metrics(actors: Sequence[str] | None = None) -> tuple[str, ...]:
    """The result column names of a cast."""
    return tuple(c.name for c in columns(actors))


COLUMNS: tuple[Column, ...] = columns()
"""The default cast's columns."""
RESULT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = result_columns()
"""What ``run_one`` returns for the default cast (besides status and error), with its
Parquet type."""
METRICS = metrics()


def summarise(model: Any) -> dict[str, Any]:
    """Named outcomes and summary metrics of a finished model run (one value per column)."""
    view = RunView(model)
    return {c.name: c.value(view) for c in columns(model.cast.names)}
