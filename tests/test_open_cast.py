"""The cast is open: a fifth strategic actor defined here alone (nothing under model/ or
agents/ knows it) joins a shipped scenario and plays the month's game with its own moves,
payoffs and events."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from agents import Government
from model import ConfigError, GSOMIAModel
from model.model import DEFAULT_ACTORS, DEFAULT_MOVE_ORDER

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline_2019.toml"
SHORT = {"start": "2019-06-01", "end": "2019-12-31", "n_citizens": 300, "exogenous": ()}
"""The baseline from June 2019, without its earlier shocks (before the start, an error)."""


class Pyongyang(Government):
    """North Korea as a player: a missile launch or nothing, each month. It gains from a
    divided triangle (Seoul's defiance of Washington) and pays ``launch_cost`` per
    launch; a launch adds to the threat stock the model's threat reads."""

    actor = "pyongyang"
    moves = ("hold", "launch")
    events: ClassVar[Mapping[str, tuple[str, ...]]] = {"pyongyang": ("missile_launch",)}
    components: ClassVar[tuple[str, ...]] = ("regime",)
    launch_cost: ClassVar[float] = 0.5
    gain: ClassVar[float] = 1.0

    @classmethod
    def signals(cls, g: Any, move: np.ndarray) -> dict[str, np.ndarray]:
        return {"launch": (move == 1).astype(float)}

    @classmethod
    def utility(cls, g: Any, p: Any, env: Any) -> dict[str, Any]:
        return {
            "regime": cls.gain * g.signal("defiance") * env.threat
            - cls.launch_cost * g.signal("launch")
        }

    def apply(self, r: Any) -> None:
        if r.codes["pyongyang"] == 1:
            self.model.launch_stock += 1.0
            self.model.emit(r.month, "pyongyang", "missile_launch", "a show of force")


class CheapLaunches(Pyongyang):
    """The same actor for whom launching pays."""

    launch_cost: ClassVar[float] = -2.0


def order_with(name: str) -> list[list[str]]:
    return [[name], *map(list, DEFAULT_MOVE_ORDER)]


def run(actor: type, seed: int = 1, **kw: Any) -> GSOMIAModel:
    m = GSOMIAModel.from_config(
        BASELINE,
        rng=seed,
        actors=[*DEFAULT_ACTORS, actor],
        move_order=order_with(actor.actor),
        **(SHORT | kw),
    )
    m.run()
    return m


def test_a_fifth_actor_plays_the_month():
    m = run(Pyongyang)
    assert list(m.governments) == ["seoul", "tokyo", "washington", "beijing", "pyongyang"]
    mine = m.explain("pyongyang")
    assert len(mine) == m.steps
    for d in mine:
        assert {o.action for o in d.options} == {"hold", "launch"}
        assert sum(o.probability for o in d.options) == pytest.approx(1.0)
        for o in d.options:
            assert set(o.immediate) == set(m.cast.components)
            assert "regime" in o.immediate
    # the other governments value its move: every decision carries the new component
    assert all("regime" in d.options[0].immediate for d in m.explain("seoul"))
    assert "payoff_pyongyang" in m.monthly().columns


def test_its_events_join_the_vocabulary_targets_are_checked_against():
    from model.vocabulary import vocabulary

    m = run(CheapLaunches, rationality=20.0)
    names = vocabulary(m.cast.actors, m.exogenous)
    assert ("pyongyang", "missile_launch") in {(e.actor, e.event) for e in m.timeline}
    assert {(e.actor, e.event) for e in m.timeline} <= names.pairs()
    names.check("pyongyang", "missile_launch", "targets")


def test_its_payoffs_drive_its_moves():
    costly, cheap = run(Pyongyang, rationality=20.0), run(CheapLaunches, rationality=20.0)
    costly_moves = [d.chosen for d in costly.explain("pyongyang")]
    cheap_moves = [d.chosen for d in cheap.explain("pyongyang")]
    # a launch it pays for is worth it only once Seoul defies Washington; a paid-for one
    # always is
    assert cheap_moves == ["launch"] * len(cheap_moves)
    assert costly_moves.count("launch") < len(costly_moves)
    launches = [e for e in cheap.timeline if e.event == "missile_launch"]
    assert len(launches) == len(cheap_moves)
    assert cheap.threat > costly.threat


def test_immediate_value_is_its_own_payoff():
    m = run(Pyongyang)
    for d in m.explain("pyongyang"):
        hold, launch = d.option("hold"), d.option("launch")
        gap = hold.immediate["regime"] - launch.immediate["regime"]
        assert gap == pytest.approx(Pyongyang.launch_cost)


def test_a_move_order_must_name_every_actor_once():
    with pytest.raises(ConfigError, match="move_order"):
        GSOMIAModel(rng=0, actors=[*DEFAULT_ACTORS, Pyongyang], move_order=DEFAULT_MOVE_ORDER)
    with pytest.raises(ConfigError, match="actors"):
        GSOMIAModel(rng=0, actors=["agents.nowhere:Nobody"])
