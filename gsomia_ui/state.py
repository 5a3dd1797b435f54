"""One browser session's state: its model and the operations on it (Reset, Step, Play,
Run to end). Only the session's background task touches the model, one operation at a
time (a Reset pressed while playing waits for the month being simulated); the page
reads the snapshot ``view``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from gsomia_ui.inputs import parse_seed, same
from gsomia_ui.scenarios import DEFAULT_SEED, ScenarioModel
from gsomia_ui.view import RunView, make_view

PLAY_INTERVAL_S = 0.25
"""Pause between months while playing (so the page can be read as it moves)."""


class Session:
    """One browser session's model and its latest snapshot. Only the session's background
    task touches the model, one operation at a time (a Reset pressed while playing waits
    for the month being simulated); the page reads ``view``."""

    def __init__(self) -> None:
        self.model: ScenarioModel | None = None
        self.view: RunView | None = None
        self._lock = threading.Lock()

    def reset(
        self,
        scenario: str,
        seed: Any,
        values: Mapping[str, Any],
        keep_going: Callable[[], bool] = lambda: True,
    ) -> RunView:
        """Build a fresh model from the controls (unless superseded meanwhile)."""
        model = ScenarioModel(scenario=scenario, rng=seed, **dict(values))
        with self._lock:
            if keep_going() or self.model is None:
                self.model = model
                self.view = make_view(model)
            return self.view

    def step(self, keep_going: Callable[[], bool] = lambda: True) -> RunView:
        """Simulate one month (nothing after the end, nothing once superseded)."""
        with self._lock:
            model = self.model
            if model is None:
                raise RuntimeError("no model yet")
            if model.running and keep_going():
                model.step()
            self.view = make_view(model)
            return self.view

    def finish(self, keep_going: Callable[[], bool] = lambda: True) -> RunView:
        """Simulate every remaining month (while ``keep_going()``), one snapshot at the end."""
        with self._lock:
            model = self.model
            if model is None:
                raise RuntimeError("no model yet")
            while model.running and keep_going():
                model.step()
            self.view = make_view(model)
            return self.view

    def operate(
        self, op: str, args: tuple[Any, ...], keep_going: Callable[[], bool]
    ) -> Iterator[RunView]:
        """Run operation ``op`` ("reset" with ``args`` (scenario, seed, values), "step",
        "end", "play"), yielding a snapshot after each month it draws."""
        if op == "reset":
            yield self.reset(*args, keep_going=keep_going)
        elif op == "step":
            yield self.step(keep_going)
        elif op == "end":  # no drawing on the way: one snapshot at the end
            yield self.finish(keep_going)
        else:
            while self.model is not None and self.model.running and keep_going():
                yield self.step(keep_going)
                time.sleep(PLAY_INTERVAL_S)


def pending_changes(view: RunView, scenario: str, seed: str, values: Mapping[str, Any]) -> bool:
    """Whether the controls differ from what the current run ran (Reset would change it)."""
    if scenario != view.scenario or parse_seed(seed, DEFAULT_SEED)[0] != view.seed:
        return True
    return any(not same(v, view.parameters.get(k)) for k, v in values.items() if k != "name")
