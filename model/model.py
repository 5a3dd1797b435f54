"""GSOMIAModel: the 2019 crisis over the South Korea-Japan intelligence pact as a Mesa model.

One step is one calendar month. Each month: exogenous shocks dated in it land; North
Korea's launches are drawn; the model solves the month's game composed from its cast of
governments (``model.month``); each government draws and applies its own move; the
pact's calendar runs (a standing notice lapses at midnight at the start of the
anniversary, an active pact renews); the Korean public reacts; relations and Tokyo's
grievance move; the data collector records the month.

The cast is data: ``actors`` (classes, or ``"module:Class"`` names) and ``move_order``
(stages of simultaneous movers). The default is Washington and Beijing first and
simultaneously, then Tokyo, then Seoul (``DEFAULT_ACTORS``, ``DEFAULT_MOVE_ORDER``).
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network

from model.calendar import (
    MonthCalendar,
    PactCalendar,
    add_months,
    month_end,
    month_start,
    months_between,
    same_month,
)
from model.config import ExogenousEvent, load_config, parse_exogenous
from model.environment import Environment
from model.explain import Decision
from model.game import Cast, MoveOrder, StateCodec
from model.lookahead import fixed_key, horizon
from model.month import MonthGame, Realised
from model.opinion import OpinionEffects, OpinionNetwork, OpinionPush
from model.outcome import Episode, Event
from model.pact import WTO_STATES, Pact
from model.parameters import (
    PARAMETERS,
    ConfigError,
    check_consistency,
    check_seed,
    defaults,
    registry,
    treaty_calendar,
    validate,
)
from model.params import make_params
from model.vocabulary import check_shocks

DEFAULT_ACTORS = (
    "agents.seoul:Seoul",
    "agents.tokyo:Tokyo",
    "agents.washington:Washington",
    "agents.beijing:Beijing",
)
"""The strategic governments of every shipped scenario (player order)."""
PUBLIC = "agents.public:KoreanPublic"
"""The Korean public's agent class."""
DEFAULT_MOVE_ORDER = (("washington", "beijing"), ("tokyo",), ("seoul",))
"""Washington and Beijing move first and simultaneously, Tokyo second, Seoul last (in
2019 Seoul answered Tokyo: the 08-22 notice followed the 08-02 white-list removal)."""

DOMAINS = {
    "targeted_export_controls": "trade",
    "whitelist_removal": "trade",
    "lift_controls": "trade",
    "talks_offer": "trade",
    "wto_complaint": "trade",
    "wto_suspension": "trade",
    "protest": "diplomacy",
}
"""Domain of each event (as in timeline_2019.csv); the rest are security events."""

ACTOR_POSITIONS = {
    "seoul": (0.0, 0.0),
    "tokyo": (1.0, 0.0),
    "washington": (0.5, 0.9),
    "beijing": (0.5, -0.9),
}
"""Fixed layout of the relations network (no random layout); other actors go on a circle."""
RELATIONS = (
    ("seoul", "tokyo", {"kind": "rivals", "tension": 0.0, "trade_dependence": 1.0}),
    ("seoul", "washington", {"kind": "alliance", "tension": 0.0, "us_pressure": 0.0}),
    ("tokyo", "washington", {"kind": "alliance", "tension": 0.0, "us_pressure": 0.0}),
    ("seoul", "beijing", {"kind": "trade", "tension": 0.0, "inducement": 0.0}),
    ("washington", "beijing", {"kind": "rivals", "tension": 0.5}),
)
"""Bilateral relations between the default actors, with their starting attributes."""
_ALLIANCE = {"rivals": 0.0, "alliance": 1.0, "trade": 0.0}


def resolve_actor(spec: Any) -> Any:
    """An actor class from a class or a ``"module:Class"`` name."""
    if isinstance(spec, str):
        module, _, name = spec.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError, ValueError) as exc:  # ValueError: no module
            raise ConfigError(
                f"constructor: invalid value {spec!r} for 'actors'; allowed: classes or "
                "'module:Class' names of importable government classes"
            ) from exc
    return spec


def make_cast(actors: Sequence[Any] | None, move_order: Sequence[Sequence[str]] | None) -> Cast:
    """The cast of a model from its ``actors`` and ``move_order`` keywords."""
    classes = tuple(resolve_actor(a) for a in (DEFAULT_ACTORS if actors is None else actors))
    order = DEFAULT_MOVE_ORDER if move_order is None else move_order
    try:
        return Cast(classes, MoveOrder(tuple(tuple(s) for s in order)))
    except ValueError as exc:
        raise ConfigError(f"constructor: invalid value for 'move_order': {exc}") from exc


def _seed_from(rng: Any) -> Any:
    """Accept what Mesa accepts, plus a seed typed as text (Mesa's UI passes strings)."""
    if isinstance(rng, str):
        text = rng.strip()
        try:
            return int(text)
        except ValueError as exc:
            raise ConfigError(
                f"constructor: invalid value {rng!r} for 'rng'; allowed: an integer seed "
                "(digits), a numpy Generator or SeedSequence, or None"
            ) from exc
    if isinstance(rng, bool):
        raise ConfigError(
            f"constructor: invalid value {rng!r} for 'rng'; allowed: an integer seed, a "
            "numpy Generator or SeedSequence, or None"
        )
    if isinstance(rng, int | np.integer):
        if rng < 0:
            raise ConfigError(
                f"constructor: invalid value {rng!r} for 'rng'; allowed: a non-negative integer"
            )
        return int(rng)  # stdlib random (Mesa's model.random) rejects numpy integers
    return check_seed(rng)  # anything else Mesa cannot seed from is a ConfigError


class GSOMIAModel(mesa.Model):
    """The GSOMIA crisis model. Keywords are the parameters of ``model.parameters``
    (config key = keyword), ``exogenous`` (a list of dated shocks), ``rng`` (seed), and
    optionally ``actors`` and ``move_order`` (the cast; see the module docstring)."""

    def __init__(
        self,
        rng: Any = None,
        exogenous: Any = None,
        actors: Sequence[Any] | None = None,
        move_order: Sequence[Sequence[str]] | None = None,
        **params: Any,
    ) -> None:
        rng = _seed_from(rng)
        cast = make_cast(actors, move_order)
        known = registry(cast.actors)  # the central parameters and the cast's own
        values = defaults(known) | validate(params, "constructor", known)
        check_consistency(values, "constructor")
        if rng is None:
            rng = int(np.random.SeedSequence().entropy)
        if isinstance(rng, np.random.SeedSequence):
            rng = int(rng.generate_state(2, np.uint64)[0])
        super().__init__(rng=rng)
        # One source of randomness: every stream is a child of one SeedSequence whose
        # entropy is the integer seed (or a draw from the Generator passed in).
        entropy = int(rng) if isinstance(rng, int | np.integer) else int(self.rng.integers(2**63))
        self.seed: int = entropy
        streams = np.random.SeedSequence(entropy).spawn(4)
        self.decision_rng = np.random.default_rng(streams[0])
        opinion_rng = np.random.default_rng(streams[1])
        self.threat_rng = np.random.default_rng(streams[2])
        graph_seed = int(streams[3].generate_state(1)[0])

        self.parameters: dict[str, Any] = values
        self.params = make_params(values, known)
        self.cast = cast
        self.codec = StateCodec.of(self.cast)
        self.exogenous: tuple[ExogenousEvent, ...] = parse_exogenous(
            [] if exogenous is None else exogenous, "constructor"
        )
        check_shocks(self.exogenous, values["start"], "constructor", actors)
        self.name: str = values["name"]
        self.start: date = month_start(values["start"])
        self.end: date = month_start(values["end"])
        self.date: date = self.start

        # --- the world: the pact and the dispute ----------------------------------------
        self.calendar: PactCalendar = treaty_calendar(values)
        for actor in self.cast.actors:
            for var, value in actor.initial_state(values).items():
                setattr(self, var, value)
        self.pact = Pact(self.pact)
        self.scheduled_signing: date | None = (
            values["signing_date"] if self.pact is Pact.NEGOTIATING else None
        )
        self.episode = Episode(ever_active=self.pact is not Pact.NEGOTIATING)
        self.lapse_date: date | None = None
        if self.pact in (Pact.NOTICE_PENDING, Pact.SUSPENDED):
            self.lapse_date = self.calendar.lapse_date_for_notice(values["notice_date"])
            self.episode.notice_month = month_start(values["notice_date"])
            self.episode.lapse_date = self.lapse_date
        if self.pact is Pact.SUSPENDED:
            self.episode.reversal_month = month_start(values["suspension_date"])
            self.episode.reversal_action = "conditional_suspension"
        if self.pact is Pact.TERMINATED:
            self.episode.terminated = True
        self.grievance = values["grievance_initial"]
        self.tension = 0.0
        self.trade_dependence = 1.0
        self.launch_stock = 0.0
        self.launches = 0
        self.threat = values["nk_threat"]
        self.us_pressure = (0, 0)
        self.pressure_on_seoul = 0.0
        self.pressure_on_tokyo = 0.0
        self.beijing_stance = 0.0
        self.us_peak = 0
        self.beijing_move = 0
        self.timeline: list[Event] = []
        self.month_games: list[MonthGame] = []
        self.month_game: MonthGame | None = None
        self._decisions: list[Decision] = []

        # --- governments on the relations network ---------------------------------------
        self.relations = self._relations_graph()
        layout = {i: self._position(name) for i, name in enumerate(self.cast.names)}
        self.grid = Network(self.relations, capacity=None, random=self.random, layout=layout)
        cells = {c.coordinate: c for c in self.grid.all_cells}
        self.governments: dict[str, Any] = {
            cls.actor: cls(self, cells[i]) for i, cls in enumerate(self.cast.actors)
        }
        for i, gov in enumerate(self.governments.values()):
            gov.node_id = i
            gov.last_payoff = dict.fromkeys(self.cast.components, 0.0)
        self.movers = mesa.agent.AgentSet(
            [self.governments[m] for m in self.cast.order.movers], random=self.random
        )
        network = OpinionNetwork(
            n=values["n_citizens"],
            degree=values["citizen_degree"],
            initial_opinion=values["initial_opinion"],
            conformity=values["opinion_conformity"],
            noise=values["opinion_noise"],
            sensitivity=values["opinion_sensitivity"],
            rng=opinion_rng,
            graph_seed=graph_seed,
            effects=OpinionEffects.from_params(self.params),
            rewiring=self.params.opinion_rewiring,
            concentration=self.params.predisposition_concentration,
            undecided_band=self.params.undecided_band,
        )
        self.public = resolve_actor(PUBLIC)(self, network, values["boycott_threshold"])
        self.public.cell = None

        self.datacollector = mesa.DataCollector(model_reporters=self._reporters())
        self.running = self.date <= self.end
        self._update_relations()
        self.datacollector.collect(self)

    def __getattr__(self, name: str) -> Any:
        """Each government by name (``model.seoul``, ``model.tokyo``...)."""
        govs = self.__dict__.get("governments")
        if govs is not None and name in govs:
            return govs[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ---- construction helpers ------------------------------------------------------------
    @classmethod
    def from_config(cls, path: str | Path, **overrides: Any) -> GSOMIAModel:
        """A model from a scenario TOML (a path, or a shipped scenario's name such as
        ``"baseline_2019"``), with keyword overrides (validated the same way). The cast is
        the file's ``[cast]`` (else the default); ``actors`` given here replace it (with
        ``move_order``, or the default order), ``move_order`` alone reorders it."""
        rng = overrides.pop("rng", None)
        cast = {k: overrides.pop(k) for k in ("actors", "move_order") if k in overrides}
        given = cast.get("actors")
        classes = None if given is None else tuple(resolve_actor(a) for a in given)
        values = load_config(path, classes)
        for key in ("actors", "move_order"):
            if key in values and key not in cast:
                cast[key] = values[key]
            values.pop(key, None)
        known = registry(make_cast(cast.get("actors"), cast.get("move_order")).actors)
        if "exogenous" in overrides:
            values["exogenous"] = overrides.pop("exogenous")
        values.update(validate(overrides, "override", known))
        params = {k: v for k, v in values.items() if k != "exogenous"}
        check_consistency(defaults(known) | params, str(path))
        return cls(rng=rng, **cast, **values)

    @staticmethod
    def _position(name: str) -> tuple[float, float]:
        if name in ACTOR_POSITIONS:
            return ACTOR_POSITIONS[name]
        angle = 2 * math.pi * (sum(map(ord, name)) % 360) / 360
        return (0.5 + 1.2 * math.cos(angle), 1.2 * math.sin(angle))

    def _relations_graph(self) -> nx.Graph:
        g = nx.Graph()
        node = {name: i for i, name in enumerate(self.cast.names)}
        for name, i in node.items():
            g.add_node(i, name=name)
        for a, b, attrs in RELATIONS:
            if a in node and b in node:
                g.add_edge(node[a], node[b], alliance=_ALLIANCE[attrs["kind"]], **attrs)
        return g

    # ---- the month ---------------------------------------------------------------------------
    def step(self) -> None:
        """Simulate one calendar month."""
        if self.date > self.end:
            self.running = False
            return
        month = self.date
        self._apply_exogenous(month)
        self._draw_threat()
        self.month_game = self.solve_month(month)
        self.movers.do("choose")
        self._apply_moves(month)
        self._run_calendar(month)
        self._public_reacts()
        self._drift()
        self._update_relations()
        self.timeline.sort(key=lambda e: e.date)  # stable: same-day events keep their order
        self.date = add_months(month, 1)
        self.datacollector.collect(self)
        if self.date > self.end:
            self.running = False

    def run(self) -> str:
        """Run to the scenario's end; return the outcome."""
        while self.running:
            self.step()
        return self.outcome

    def solve_month(self, month: date) -> MonthGame:
        """The month's game from the current state, solved with continuation values up to
        the next deadline (every government expecting today's slow variables to last)."""
        deadline = self.deadline(month)
        ahead = min(max(0, months_between(month, deadline)), self.params.lookahead_months)
        cals = tuple(
            self.month_calendar(add_months(month, k), deadline) for k in range(1, ahead + 1)
        )
        expected = {}
        for gov in self.governments.values():
            moves = gov.lookahead_moves()
            if moves is not None:
                expected[gov.actor] = moves
        code = int(self.codec.encode(self.reduced_state()))
        h = horizon(self.cast, code, self.month_calendar(month), cals, fixed_key(expected))
        return MonthGame.solve(month, h, self.params, self.environment())

    # ---- state views ----------------------------------------------------------------------------
    def environment(self) -> Environment:
        """The slow variables as the governments see them this month."""
        return Environment(
            threat=self.threat,
            poll=self.public.poll,
            boycott_share=self.public.boycott_share,
            tension=self.tension,
            grievance=self.grievance,
            trade_dependence=self.trade_dependence,
            public=self.public.belief(self.launch_stock),
        )

    def reduced_state(self) -> dict[str, int]:
        """The discrete state of the month's game (the cast's state variables)."""
        return {var: int(getattr(self, var)) for var in self.cast.state_vars}

    def deadline(self, month: date) -> date:
        """The next date the pact's fate is decided: the lapse of a standing notice, a
        scheduled signing, else the treaty's next deadline (``PactCalendar.next_deadline``:
        the next anniversary of an annual treaty, the lapse of a notice given this month
        for one without renewal)."""
        if self.pact is Pact.NEGOTIATING and self.scheduled_signing is not None:
            return self.scheduled_signing
        if self.pact is Pact.NOTICE_PENDING and self.lapse_date is not None:
            return self.lapse_date
        return self.calendar.next_deadline(month)

    def month_calendar(self, month: date, deadline: date | None = None) -> MonthCalendar:
        """What the calendar allows in ``month``; ``deadline`` defaults to the actual one."""
        deadline = self.deadline(month) if deadline is None else deadline
        signing = self.scheduled_signing is not None and same_month(month, self.scheduled_signing)
        return MonthCalendar(
            notice_open=self.calendar.notice_in_month(month) is not None,
            expiry=same_month(month, deadline),
            signing=signing,
        )

    # ---- applying the month ------------------------------------------------------------------
    def emit(self, when: date, actor: str, event: str, detail: str = "", **extra: Any) -> None:
        """Add an event to the timeline (named as in ``timeline_2019.csv``)."""
        domain = DOMAINS.get(event, "security")
        self.timeline.append(Event(when, actor, event, domain, detail, extra))

    def _apply_exogenous(self, month: date) -> None:
        for e in self.exogenous:
            if same_month(e.date, month):
                self.grievance += e.grievance
                self.tension = float(np.clip(self.tension + e.tension, 0.0, 1.0))
                self.launch_stock += e.threat
                if e.opinion:
                    net = self.public.network
                    np.clip(net.opinion + e.opinion, 0.0, 1.0, out=net.opinion)
                self.timeline.append(
                    Event(
                        e.date,
                        e.actor,
                        e.event,
                        e.domain or "exogenous",
                        e.detail,
                        {"exogenous": True},
                    )
                )

    def _draw_threat(self) -> None:
        self.launches = int(self.threat_rng.poisson(self.params.nk_launch_rate))
        self.launch_stock = self.params.nk_memory * self.launch_stock + self.launches
        self.threat = self.params.nk_threat * (
            1.0 + self.params.nk_launch_effect * self.launch_stock
        )

    def _apply_moves(self, month: date) -> None:
        """Each government applies its realised move, in move order; then the game's
        state variables take their values right after the moves."""
        game = self.month_game
        codes = {m: int(g.move_code) for m, g in self.governments.items()}
        r = Realised(
            month=month,
            codes=codes,
            labels={m: self.governments[m].moves[c] for m, c in codes.items()},
            before=self.reduced_state(),
            after=game.realised_state("after"),
        )
        r.days = {m: self.governments[m].move_day(month, c) for m, c in codes.items()}
        for actor, payoff in game.payoffs().items():
            self.governments[actor].record(payoff)
        self.month_games.append(game)
        self.movers.do("apply", r)
        # the state after the moves; a lapse at the month's end is the calendar's business
        for var, value in r.after.items():
            setattr(self, var, value)
        self.pact = Pact(self.pact)

    def note_reversal(self, month: date, action: str) -> None:
        if self.episode.reversal_month is None and self.episode.notice_month is not None:
            self.episode.reversal_month = month
            self.episode.reversal_action = action

    def _run_calendar(self, month: date) -> None:
        """Lapse of a standing notice at midnight at the start of its lapse date; renewal
        of an active pact on its anniversary (a treaty without renewal has none); the
        deadline passes."""
        if (
            self.pact is Pact.NOTICE_PENDING
            and self.lapse_date
            and same_month(month, self.lapse_date)
        ):
            self.pact = Pact.TERMINATED
            self.episode.terminated = True
            self.emit(self.lapse_date, "both", "pact_terminated", "notice lapsed at midnight")
        if self.pact in (Pact.ACTIVE, Pact.SUSPENDED) and self.calendar.renews:
            anniversary = self.calendar.next_anniversary(month - timedelta(days=1))
            if same_month(anniversary, month) and anniversary > self.calendar.signing_date:
                if self.pact is Pact.ACTIVE:
                    self.emit(anniversary, "both", "pact_renewed", "automatic renewal")
                self.movers.do("deadline_passed")
        if self.pact is Pact.TERMINATED:
            self.movers.do("deadline_passed")

    def _public_reacts(self) -> None:
        self.public.react(
            OpinionPush(
                curbs=self.curb,
                firm=self.pact in (Pact.NOTICE_PENDING, Pact.TERMINATED),
                talks=bool(self.talks),
                launches=self.launch_stock,
                us_pressure=self.pressure_on_seoul,
            )
        )

    def _drift(self) -> None:
        """The one slow variable that moves on its own: Tokyo's grievance, once a dispute
        has given it one, grows while the ruling is enforced (asset seizures advanced
        through 2019). What the governments' moves do to trust, trade dependence and
        Tokyo's grievance is read from the state by their payoffs (so each government's
        lookahead counts it), not accumulated here."""
        if self.grievance > 0:  # a dispute to aggrieve Tokyo exists (the 2018 ruling)
            self.grievance += self.params.grievance_growth

    def _update_relations(self) -> None:
        """Edges and nodes of the relations network, as each government sees its ties."""
        g, node = self.relations, {n: i for i, n in enumerate(self.cast.names)}
        for name, gov in self.governments.items():
            for (a, b), attrs in gov.relations().items():
                if a in node and b in node:
                    g.edges[node[a], node[b]].update(attrs)
            g.nodes[node[name]]["stance"] = gov.stance()

    @property
    def decisions(self) -> list[Decision]:
        """Every decision so far, month by month in the cast's player order (each with the
        expected utility of every option by component, computed on first access)."""
        for game in self.month_games[len(self._decisions) // len(self.cast.names) :]:
            self._decisions.extend(game.decisions().values())
        return self._decisions

    def _reporters(self) -> dict[str, Any]:
        """The monthly series: the world's state, each actor's payoff, the outcome."""
        payoffs = {f"payoff_{name}": _payoff(name) for name in self.cast.names}
        return _BASE_REPORTERS | payoffs | _OUTCOME_REPORTERS

    # ---- results ---------------------------------------------------------------------------------
    @property
    def outcome(self) -> str:
        """renewed, early_reversal, last_minute_suspension, terminated, pending (or
        not_signed, for scenarios that start before the signing)."""
        return self.episode.classify()[0]

    @property
    def reversal_months_before_expiry(self) -> int | None:
        """Months between the reversal of the first notice and its expiry date."""
        return self.episode.classify()[1]

    def explain(self, actor: str | None = None) -> list[Decision]:
        """Every recorded decision, optionally of one actor (``seoul``, ``tokyo``...)."""
        if actor is not None and actor not in self.cast.names:
            raise ValueError(f"unknown actor {actor!r}; allowed: {', '.join(self.cast.names)}")
        return [d for d in self.decisions if actor is None or d.actor == actor]

    def monthly(self) -> Any:
        """The monthly series as a pandas DataFrame indexed by month."""
        df = self.datacollector.get_model_vars_dataframe()
        return df.set_index("date")

    def to_dict(self, decisions: bool = True) -> dict[str, Any]:
        """The run as one JSON-ready object."""
        params = {
            k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.parameters.items()
        }
        out: dict[str, Any] = {
            "outcome": self.outcome,
            "reversal_months_before_expiry": self.reversal_months_before_expiry,
            "seed": self.seed,
            "events": [e.to_dict() for e in self.timeline],
            "parameters": params,
        }
        if decisions:
            out["decisions"] = [d.to_dict() for d in self.decisions]
        return out


def _payoff(name: str) -> Any:
    return lambda m: sum(m.governments[name].last_payoff.values()) if name in m.governments else 0.0


_BASE_REPORTERS: dict[str, Any] = {
    "date": lambda m: month_end(add_months(m.date, -1)).isoformat(),
    "pact_state": lambda m: m.pact.label,
    "opinion_share": lambda m: m.public.shares[0],
    "opinion_keep_share": lambda m: m.public.shares[1],
    "opinion_undecided_share": lambda m: m.public.shares[2],
    "opinion_mean": lambda m: m.public.mean_opinion,
    "boycott_share": lambda m: m.public.boycott_share if m.curb else 0.0,
    "curb_level": lambda m: m.curb,
    "us_pressure_seoul": lambda m: m.pressure_on_seoul,
    "us_pressure_tokyo": lambda m: m.pressure_on_tokyo,
    "beijing_stance": lambda m: m.beijing_stance,
    "threat": lambda m: m.threat,
    "tension": lambda m: m.relations.edges[0, 1]["tension"],
    "grievance": lambda m: m.grievance,
    "wto": lambda m: WTO_STATES[m.wto],
    "talks": lambda m: bool(m.talks),
}
_OUTCOME_REPORTERS: dict[str, Any] = {
    "outcome": lambda m: m.outcome,
    "reversal_months_before_expiry": lambda m: m.reversal_months_before_expiry,
}


def _signature() -> inspect.Signature:
    params = [
        inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=None)
        for k in ("rng", "exogenous", "actors", "move_order")
    ]
    params += [
        inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=p.default)
        for k, p in PARAMETERS.items()
    ]
    return inspect.Signature(params)


GSOMIAModel.__signature__ = _signature()  # type: ignore[attr-defined]

__all__ = ["GSOMIAModel"]
