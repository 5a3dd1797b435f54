"""GSOMIAModel: the 2019 crisis over the South Korea-Japan intelligence pact as a Mesa model.

One step is one calendar month. Each month: exogenous shocks dated in it land; North
Korea's launches are drawn; the four governments play the month's game (``model.decisions``)
and each draws its move; the pact's calendar runs (a standing notice lapses at midnight at
the start of the anniversary, an active pact renews); the Korean public reacts; relations
and Tokyo's grievance move; the data collector records the month.
"""

from __future__ import annotations

import inspect
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network

from agents import Beijing, Government, KoreanPublic, Seoul, Tokyo, Washington
from model.actions import (
    ACTORS,
    BEIJING_ACTIONS,
    BEIJING_STRENGTH,
    N_CURB,
    PRESSURE_LEVELS,
    S_ABANDON,
    S_NOTICE,
    S_PACKAGE,
    S_POSTPONE,
    S_RESCIND,
    S_REVIVE,
    S_SIGN,
    S_SUSPEND,
    S_WTO,
    S_WTO_SUSPEND,
    T_HOLD,
    T_LIFT,
    T_TALKS,
    TOKYO_ACTIONS,
    US_ACTIONS,
    US_PRESSURE_EVENTS,
    Pact,
)
from model.calendar import PactCalendar, add_months, month_end, month_start, same_month
from model.config import ExogenousEvent, load_config, parse_exogenous
from model.decisions import Lookahead, continuation, solve_month
from model.explain import Decision, explain_month
from model.opinion import OpinionNetwork, OpinionPush
from model.outcome import Episode, Event
from model.parameters import (
    PARAMETERS,
    ConfigError,
    check_consistency,
    check_seed,
    defaults,
    validate,
)
from model.payoffs import (
    DEFIANCE,
    HARDNESS,
    WTO_ACTIVE,
    WTO_STATES,
    Environment,
    MonthCalendar,
    States,
    full_menus,
    month_profiles,
)

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

SUPPLY_DIVERSIFICATION = 0.02
"""Monthly fall of Korea's dependence on Japanese materials while curbs stand (the
localisation drive that followed July 2019)."""
TALKS_RELIEF = 0.03
"""Monthly fall of Seoul-Tokyo historical tension while talks run."""
NOTICE_TENSION = 0.05
"""Rise of Seoul-Tokyo historical tension with a termination notice (Tokyo's protest)."""
ACTOR_POSITIONS = {0: (0.0, 0.0), 1: (1.0, 0.0), 2: (0.5, 0.9), 3: (0.5, -0.9)}
"""Fixed layout of the relations network (no random layout): Seoul, Tokyo, Washington,
Beijing."""


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
    (config key = keyword), ``exogenous`` (a list of dated shocks) and ``rng`` (seed)."""

    def __init__(self, rng: Any = None, exogenous: Any = None, **params: Any) -> None:
        rng = _seed_from(rng)
        values = defaults() | validate(params, "constructor")
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
        self.p: dict[str, float] = {
            k: float(v) for k, v in values.items() if isinstance(v, int | float)
        }
        self.exogenous: tuple[ExogenousEvent, ...] = parse_exogenous(
            [] if exogenous is None else exogenous, "constructor"
        )
        self.name: str = values["name"]
        self.start: date = month_start(values["start"])
        self.end: date = month_start(values["end"])
        self.date: date = self.start

        # --- the pact -----------------------------------------------------------------
        self.calendar = PactCalendar(values["signing_date"])
        self.pact = Pact.from_label(values["pact_state"])
        self.scheduled_signing: date | None = (
            values["signing_date"] if self.pact is Pact.NEGOTIATING else None
        )
        self.episode = Episode(ever_active=self.pact is not Pact.NEGOTIATING)
        self.lapse_date: date | None = None
        self.commitment = 0.0
        if self.pact in (Pact.NOTICE_PENDING, Pact.SUSPENDED):
            self.lapse_date = self.calendar.lapse_date_for_notice(values["notice_date"])
            self.episode.notice_month = month_start(values["notice_date"])
            self.episode.lapse_date = self.lapse_date
            self.commitment = 1.0
        if self.pact is Pact.SUSPENDED:
            self.episode.reversal_month = month_start(values["suspension_date"])
            self.episode.reversal_action = "conditional_suspension"
        if self.pact is Pact.TERMINATED:
            self.episode.terminated = True
        self.curb = values["initial_curb_level"]
        self.wto = WTO_STATES.index(values["initial_wto"])
        self.talks = 0
        self.grievance = values["grievance_initial"]
        self.tension = 0.0
        self.trade_dependence = 1.0
        self.launch_stock = 0.0
        self.launches = 0
        self.threat = values["nk_threat"]
        self.us_pressure = (0, 0)
        self.us_peak = 0
        self.beijing_move = 0
        self.timeline: list[Event] = []
        self.decisions: list[Decision] = []
        self._lookahead = Lookahead(include_negotiating=self.pact is Pact.NEGOTIATING)

        # --- agents on the relations network -------------------------------------------
        self.relations = self._relations_graph()
        self.grid = Network(
            self.relations, capacity=None, random=self.random, layout=ACTOR_POSITIONS
        )
        cells = {c.coordinate: c for c in self.grid.all_cells}
        self.seoul = Seoul(self, cells[0])
        self.tokyo = Tokyo(self, cells[1])
        self.washington = Washington(self, cells[2])
        self.beijing = Beijing(self, cells[3])
        self.governments: dict[str, Government] = {
            g.actor: g for g in (self.seoul, self.tokyo, self.washington, self.beijing)
        }
        network = OpinionNetwork(
            n=values["n_citizens"],
            degree=values["citizen_degree"],
            initial_opinion=values["initial_opinion"],
            conformity=values["opinion_conformity"],
            noise=values["opinion_noise"],
            sensitivity=values["opinion_sensitivity"],
            rng=opinion_rng,
            graph_seed=graph_seed,
        )
        self.public = KoreanPublic(self, network, values["boycott_threshold"])
        self.public.cell = None

        self.datacollector = mesa.DataCollector(model_reporters=_REPORTERS)
        self.running = self.date <= self.end
        self._update_relations()
        self.datacollector.collect(self)

    # ---- construction helpers ------------------------------------------------------------
    @classmethod
    def from_config(cls, path: str | Path, **overrides: Any) -> GSOMIAModel:
        """A model from a scenario TOML, with keyword overrides (validated the same way)."""
        values = load_config(path)
        rng = overrides.pop("rng", None)
        if "exogenous" in overrides:
            values["exogenous"] = overrides.pop("exogenous")
        values.update(validate(overrides, "override"))
        params = {k: v for k, v in values.items() if k != "exogenous"}
        check_consistency(defaults() | params, str(path))
        return cls(rng=rng, **values)

    def _relations_graph(self) -> nx.Graph:
        g = nx.Graph()
        for i, name in enumerate(ACTORS):
            g.add_node(i, name=name)
        g.add_edge(0, 1, kind="rivals", tension=0.0, trade_dependence=1.0, alliance=0.0)
        g.add_edge(0, 2, kind="alliance", tension=0.0, us_pressure=0.0, alliance=1.0)
        g.add_edge(1, 2, kind="alliance", tension=0.0, us_pressure=0.0, alliance=1.0)
        g.add_edge(0, 3, kind="trade", tension=0.0, inducement=0.0, trade_dependence=0.5)
        g.add_edge(2, 3, kind="rivals", tension=0.5, alliance=0.0)
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
        env = self.environment()
        cal = self.month_calendar(month)
        menus = full_menus(1)
        prof = month_profiles(self.p, env, cal, self.states(), menus)
        table = self._continuation_table(month, env)
        sol = solve_month(
            prof, continuation(table, prof, menus, self.p, env), self.p["rationality"]
        )
        u = self.washington.choose(sol.sigma_us[0], self.decision_rng)
        j = self.beijing.choose(sol.sigma_beijing[0], self.decision_rng)
        t = self.tokyo.choose(sol.p_tokyo[0, u, j], self.decision_rng)
        s = self.seoul.choose(sol.p_seoul[0, u, j, t], self.decision_rng)
        decisions = explain_month(month, sol, prof, menus, (u, j, t, s))
        realised = sol.flow[0, u, j, t, s]
        for i, actor in enumerate(ACTORS):
            self.governments[actor].record(decisions[actor], realised[i])
            self.decisions.append(decisions[actor])
        self._apply_moves(
            month,
            menus.us[u],
            menus.beijing[j],
            int(menus.tokyo[0, t]),
            int(menus.seoul[0, s]),
            prof,
            t,
            s,
        )
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
            commitment=self.commitment,
        )

    def states(self) -> States:
        """The current discrete state as a batch of one."""
        return States(
            pact=np.array([int(self.pact)]),
            curb=np.array([self.curb]),
            wto=np.array([self.wto]),
            talks=np.array([self.talks]),
        )

    def deadline(self, month: date) -> date:
        """The next date the pact's fate is decided: the lapse of a standing notice, the
        next anniversary (renewal), or a scheduled signing."""
        if self.pact is Pact.NEGOTIATING and self.scheduled_signing is not None:
            return self.scheduled_signing
        if self.pact is Pact.NOTICE_PENDING and self.lapse_date is not None:
            return self.lapse_date
        return self.calendar.next_anniversary(month - timedelta(days=1))

    def month_calendar(self, month: date, deadline: date | None = None) -> MonthCalendar:
        """What the calendar allows in ``month``; ``deadline`` defaults to the actual one."""
        deadline = self.deadline(month) if deadline is None else deadline
        signing = self.scheduled_signing is not None and same_month(month, self.scheduled_signing)
        return MonthCalendar(
            notice_open=self.calendar.notice_in_month(month) is not None,
            expiry=same_month(month, deadline),
            signing=signing,
        )

    def _continuation_table(self, month: date, env: Environment) -> np.ndarray | None:
        deadline = self.deadline(month)
        ahead = min(
            max(0, (deadline.year - month.year) * 12 + deadline.month - month.month),
            int(self.p["lookahead_months"]),
        )
        if ahead == 0:
            return None
        cals = [self.month_calendar(add_months(month, k), deadline) for k in range(1, ahead + 1)]
        return self._lookahead.table(self.p, env, cals, self.beijing_move)

    # ---- applying the month ------------------------------------------------------------------
    def _emit(self, when: date, actor: str, event: str, detail: str = "", **extra: Any) -> None:
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
        self.launches = int(self.threat_rng.poisson(self.p["nk_launch_rate"]))
        self.launch_stock = self.p["nk_memory"] * self.launch_stock + self.launches
        self.threat = self.p["nk_threat"] * (1.0 + self.p["nk_launch_effect"] * self.launch_stock)

    def _apply_moves(
        self, month: date, u: int, j: int, t: int, s: int, prof: Any, ti: int, si: int
    ) -> None:
        first = month
        # Washington
        ps, pt = US_ACTIONS[u]
        for level in range(self.us_peak + 1, ps + 1):
            self._emit(
                first, "washington", US_PRESSURE_EVENTS[level], f"pressure on Seoul {level}/3"
            )
        self.us_peak = max(self.us_peak, ps)
        if pt and not self.us_pressure[1]:
            self._emit(first, "washington", "pressure_on_tokyo", "presses Tokyo on its curbs")
        self.us_pressure = (ps, pt)
        # Beijing
        if j != self.beijing_move and j:
            self._emit(first, "beijing", BEIJING_ACTIONS[j], "toward Seoul")
        self.beijing_move = j
        # Seoul's date: pact moves are made as late as the calendar allows in the month.
        seoul_day = first
        if s == S_NOTICE:
            notice = self.calendar.notice_in_month(month)
            seoul_day = notice[0] if notice else first
        elif (
            s in (S_SUSPEND, S_PACKAGE, S_RESCIND)
            and self.pact is Pact.NOTICE_PENDING
            and self.lapse_date
            and same_month(month, self.lapse_date)
        ):
            seoul_day = self.lapse_date - timedelta(days=1)
        elif s in (S_SIGN, S_POSTPONE, S_ABANDON) and self.scheduled_signing:
            seoul_day = self.scheduled_signing
        # Tokyo
        talks_taken = bool(prof.talks_next[0, ti, si]) and not self.talks
        if t != T_HOLD:
            tokyo_day = seoul_day if (t == T_TALKS and talks_taken) else first
            detail = "" if t != T_TALKS or talks_taken else "not taken up"
            self._emit(tokyo_day, "tokyo", TOKYO_ACTIONS[t], detail)
        self.curb = int(prof.curb_next[0, ti])
        if t == T_LIFT:
            self.talks = 0
        # Seoul
        if s == S_NOTICE:
            self.lapse_date = self.calendar.lapse_date_for_notice(seoul_day)
            self.commitment = 1.0
            self.tension = min(1.0, self.tension + NOTICE_TENSION)
            self._emit(
                max(seoul_day - timedelta(days=1), first),
                "seoul",
                "termination_decision",
                f"lapse at {self.lapse_date.isoformat()}",
            )
            self._emit(
                seoul_day, "seoul", "termination_notice", f"lapse at {self.lapse_date.isoformat()}"
            )
            self._emit(seoul_day, "tokyo", "protest", "answers the notice")
            if self.episode.notice_month is None:
                self.episode.notice_month = month
                self.episode.lapse_date = self.lapse_date
        elif s in (S_SUSPEND, S_PACKAGE):
            self._emit(
                seoul_day,
                "seoul",
                "conditional_suspension",
                "notice held in abeyance; can terminate at any moment",
            )
            self._note_reversal(month, "conditional_suspension")
        elif s == S_RESCIND:
            self._emit(seoul_day, "seoul", "rescind_notice", "notice withdrawn")
            self._note_reversal(month, "rescind_notice")
            self.lapse_date = None
        elif s == S_REVIVE:
            self._emit(first, "seoul", "notice_revived", "suspended notice revived")
            self._emit(first, "seoul", "pact_terminated", "terminated on revival")
            self.episode.terminated = True
        elif s == S_WTO:
            self._emit(first, "seoul", "wto_complaint", "against the export controls")
        elif s == S_SIGN:
            self._emit(seoul_day, "both", "pact_signed", "signed and effective")
            self.calendar = PactCalendar(seoul_day)
            self.episode.ever_active = True
            self.scheduled_signing = None
        elif s == S_POSTPONE:
            self._emit(
                seoul_day, "seoul", "signing_postponed", f"{int(self.p['postpone_months'])} months"
            )
            self.scheduled_signing = add_months(seoul_day, int(self.p["postpone_months"]))
        elif s == S_ABANDON:
            self._emit(seoul_day, "seoul", "signing_abandoned", "")
            self.episode.signing_abandoned = True
            self.scheduled_signing = None
        if s in (S_WTO_SUSPEND, S_PACKAGE):
            self._emit(seoul_day, "seoul", "wto_suspension", "while export-control talks go on")
        # the state after the moves; a lapse at the month's end is the calendar's business
        self.pact = Pact(int(prof.pact_after[0, ti, si]))
        self.wto = int(prof.wto_next[0, ti, si])
        self.talks = int(prof.talks_next[0, ti, si])
        self._moves = (ps, pt, j)

    def _note_reversal(self, month: date, action: str) -> None:
        if self.episode.reversal_month is None and self.episode.notice_month is not None:
            self.episode.reversal_month = month
            self.episode.reversal_action = action

    def _run_calendar(self, month: date) -> None:
        """Lapse of a standing notice at midnight at the start of its anniversary;
        renewal of an active pact; the deadline passes."""
        if (
            self.pact is Pact.NOTICE_PENDING
            and self.lapse_date
            and same_month(month, self.lapse_date)
        ):
            self.pact = Pact.TERMINATED
            self.episode.terminated = True
            self._emit(self.lapse_date, "both", "pact_terminated", "notice lapsed at midnight")
        if self.pact in (Pact.ACTIVE, Pact.SUSPENDED):
            anniversary = self.calendar.next_anniversary(month - timedelta(days=1))
            if same_month(anniversary, month) and anniversary > self.calendar.signing_date:
                if self.pact is Pact.ACTIVE:
                    self._emit(anniversary, "both", "pact_renewed", "automatic renewal")
                self.us_peak = 0
        if self.pact is Pact.TERMINATED:
            self.us_peak = 0

    def _public_reacts(self) -> None:
        ps, _, _ = self._moves
        self.public.react(
            OpinionPush(
                curbs=self.curb,
                firm=self.pact in (Pact.NOTICE_PENDING, Pact.TERMINATED),
                talks=bool(self.talks),
                launches=self.launch_stock,
                us_pressure=ps / (PRESSURE_LEVELS - 1),
            )
        )

    def _drift(self) -> None:
        """Slow variables: Tokyo's grievance, once a dispute has given it one, grows while
        the ruling is enforced and no talks run, and falls while they do; trade dependence
        falls under curbs; talks ease historical tension."""
        growth = self.p["grievance_growth"]
        if self.grievance > 0:  # a dispute to aggrieve Tokyo exists (the 2018 ruling)
            self.grievance = max(0.0, self.grievance + (-growth if self.talks else growth))
        if self.curb:
            self.trade_dependence *= 1.0 - SUPPLY_DIVERSIFICATION
        if self.talks:
            self.tension = max(0.0, self.tension - TALKS_RELIEF)

    def _update_relations(self) -> None:
        g = self.relations
        curb_share = self.curb / (N_CURB - 1)
        ps, pt = self.us_pressure
        g.edges[0, 1]["tension"] = min(1.0, self.tension + self.p["trust_loss"] * curb_share)
        g.edges[0, 1]["trade_dependence"] = self.trade_dependence
        g.edges[0, 2]["us_pressure"] = ps / (PRESSURE_LEVELS - 1)
        g.edges[0, 2]["tension"] = float(DEFIANCE[int(self.pact)])
        g.edges[1, 2]["us_pressure"] = float(pt)
        g.edges[0, 3]["inducement"] = BEIJING_STRENGTH[self.beijing_move]
        stance = {
            0: float(HARDNESS[int(self.pact)]) + 0.5 * (self.wto == WTO_ACTIVE),
            1: curb_share,
            2: ps / (PRESSURE_LEVELS - 1),
            3: BEIJING_STRENGTH[self.beijing_move],
        }
        for node, value in stance.items():
            g.nodes[node]["stance"] = value

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
        if actor is not None and actor not in ACTORS:
            raise ValueError(f"unknown actor {actor!r}; allowed: {', '.join(ACTORS)}")
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


def _pact_label(m: GSOMIAModel) -> str:
    return m.pact.label


_REPORTERS: dict[str, Any] = {
    "date": lambda m: month_end(add_months(m.date, -1)).isoformat(),
    "pact_state": _pact_label,
    "opinion_share": lambda m: m.public.poll,
    "opinion_mean": lambda m: m.public.mean_opinion,
    "boycott_share": lambda m: m.public.boycott_share if m.curb else 0.0,
    "curb_level": lambda m: m.curb,
    "us_pressure_seoul": lambda m: m.us_pressure[0] / (PRESSURE_LEVELS - 1),
    "us_pressure_tokyo": lambda m: float(m.us_pressure[1]),
    "beijing_stance": lambda m: BEIJING_STRENGTH[m.beijing_move],
    "threat": lambda m: m.threat,
    "tension": lambda m: m.relations.edges[0, 1]["tension"],
    "grievance": lambda m: m.grievance,
    "wto": lambda m: WTO_STATES[m.wto],
    "talks": lambda m: bool(m.talks),
    "payoff_seoul": lambda m: sum(m.seoul.last_payoff.values()),
    "payoff_tokyo": lambda m: sum(m.tokyo.last_payoff.values()),
    "payoff_washington": lambda m: sum(m.washington.last_payoff.values()),
    "payoff_beijing": lambda m: sum(m.beijing.last_payoff.values()),
    "outcome": lambda m: m.outcome,
    "reversal_months_before_expiry": lambda m: m.reversal_months_before_expiry,
}


def _signature() -> inspect.Signature:
    params = [
        inspect.Parameter("rng", inspect.Parameter.KEYWORD_ONLY, default=None),
        inspect.Parameter("exogenous", inspect.Parameter.KEYWORD_ONLY, default=None),
    ]
    params += [
        inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=p.default)
        for k, p in PARAMETERS.items()
    ]
    return inspect.Signature(params)


GSOMIAModel.__signature__ = _signature()  # type: ignore[attr-defined]

__all__ = ["GSOMIAModel"]
