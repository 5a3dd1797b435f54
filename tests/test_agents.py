"""The agents: every government passes the shared contract (tests/agent_contract.py), plus
agent-specific forced situations, and the Korean public's vectorised opinion."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from agent_contract import (
    BELIEF,
    EXPIRY_MONTH,
    EXPLORE,
    INTELLIGENCE,
    NOTICE_MONTH,
    QUIET,
    SIGNING_MONTH,
    E,
    GovernmentContract,
    P,
    Sized,
    run,
)
from agent_contract import Case as C

from agents import (
    Beijing,
    KoreanPublic,
    Seoul,
    Tokyo,
    Washington,
    beijing,
    seoul,
    tokyo,
    washington,
)
from model import GSOMIAModel
from model.opinion import OpinionNetwork, OpinionPush
from model.pact import WTO_ACTIVE, WTO_SUSPENDED, Pact

NEGOTIATING, ACTIVE, NOTICE_PENDING, SUSPENDED, TERMINATED = (int(s) for s in Pact)


# Seoul's payoffs (agents/seoul.py, ``prepared`` and ``utility``), with the expected public
# (end, keep) = (poll, 1 - poll) = (0.6, 0.4) unless a case gives a belief.
SEOUL_END, SEOUL_KEEP = E.poll, 1.0 - E.poll
SUSPEND_TALKS = {"tokyo": "talks_offer", "seoul": "conditional_suspension+wto_suspension"}
CURBS_TALKS = {"pact": NOTICE_PENDING, "curb": 2, "wto": WTO_ACTIVE}
"""A standing notice against full curbs and a standing WTO complaint: Tokyo may offer
talks, Seoul may take them up with the symmetric pause."""


class TestSeoul(GovernmentContract):
    cls = Seoul
    expected_moves = seoul.MOVES
    quiet_move = "hold"
    terms = (
        # ---- security = intelligence * clip(1 - (tension + strain)) * alive
        Sized(
            "payoff",
            "security",
            C("targeted curbs", start={"curb": 1}),
            INTELLIGENCE * (1.0 - (E.tension + P.trust_loss * 1 / 2)),
            "strain (pact.py) = trust_loss * curb / 2 = 0.2; trust = 1 - (0.1 + 0.2) = 0.7; "
            "1.8 * 0.7 = 1.26",
        ),
        Sized(
            "payoff",
            "security",
            C("notice under full curbs, talks running", start={**CURBS_TALKS, "talks": 1}),
            INTELLIGENCE * (1.0 - (E.tension + P.notice_tension + P.trust_loss - P.talks_relief)),
            "strain = notice_tension + trust_loss * 2/2 - talks_relief = 0.35; trust = 0.55; "
            "1.8 * 0.55 = 0.99",
        ),
        Sized(
            "payoff",
            "security",
            C(
                "revived notice ends the pact",
                start={"pact": SUSPENDED},
                moves={"seoul": "revive_notice"},
            ),
            0.0,
            "a terminated pact is not alive (pact.py ALIVE): no intelligence",
        ),
        # ---- economic = trade_dependence * -korea_exposure * damage * (1 - talks_prospect
        #      * talks) - wto_cost * (move is the complaint)
        Sized(
            "payoff",
            "economic",
            C("complaint against full curbs", start={"curb": 2}, moves={"seoul": "wto_complaint"}),
            -E.trade_dependence * P.korea_exposure * P.trade_damage * (1 - P.supply_diversification)
            - P.wto_cost,
            "damage per dependence (pact.py) = 1.5 * (1 - 0.2) * 2/2 = 1.2; "
            "-0.8 * 0.8 * 1.2 - 0.35 = -1.118",
        ),
        Sized(
            "payoff",
            "economic",
            C("talks on targeted curbs", start={"curb": 1, "talks": 1, "wto": WTO_SUSPENDED}),
            -E.trade_dependence
            * P.korea_exposure
            * P.trade_damage
            * (1 - P.supply_diversification)
            * 0.5
            * (1 - P.talks_prospect),
            "damage = 1.5 * 0.8 * 1/2 = 0.6; talks hold out their removal: -0.8 * 0.8 * 0.6 * "
            "(1 - 0.25) = -0.288",
        ),
        # ---- audience = end * (opinion_weight * hardness - backdown - pause - signing)
        #      - keep * opinion_weight * hardness - postpone_cost * (move is postpone)
        Sized(
            "payoff",
            "audience",
            C("notice", moves={"seoul": "termination_notice"}, cal=NOTICE_MONTH),
            P.opinion_weight * 1.0 * (SEOUL_END - SEOUL_KEEP),
            "hardness of a standing notice 1 (seoul.py hardness), nothing to back down from: "
            "0.9 * 1 * (0.6 - 0.4) = 0.18",
        ),
        Sized(
            "payoff",
            "audience",
            C(
                "notice with a standing complaint, public by state",
                start={"curb": 2, "wto": WTO_ACTIVE, "pressure": 2},
                moves={"seoul": "termination_notice"},
                env={"public": BELIEF},
                cal=NOTICE_MONTH,
            ),
            P.opinion_weight * (1.0 + P.wto_hardness) * (0.62 - 0.19),
            "hardness = 1 + wto_hardness = 1.3; the public after the move (curb 2, firm, no "
            "talks, pressure level 2): end 0.2 + 0.2 + 0.2 + 0.02 = 0.62, keep 0.5 - 0.2 - "
            "0.15 + 0.04 = 0.19 (hand_belief); 0.9 * 1.3 * 0.43 = 0.5031",
        ),
        Sized(
            "payoff",
            "audience",
            C(
                "suspension",
                start={"pact": NOTICE_PENDING},
                moves={"seoul": "conditional_suspension"},
            ),
            SEOUL_END
            * (P.opinion_weight * P.suspended_hardness - P.audience_cost * P.suspension_face)
            - SEOUL_KEEP * P.opinion_weight * P.suspended_hardness,
            "hardness 0.5; backdown = audience_cost * committed 1 * suspension_face = 2: "
            "0.6 * (0.45 - 2) - 0.4 * 0.45 = -1.11",
        ),
        Sized(
            "payoff",
            "audience",
            C("package taking up talks", start=CURBS_TALKS, moves=SUSPEND_TALKS),
            SEOUL_END
            * (
                P.opinion_weight * (P.suspended_hardness + P.paused_wto_hardness)
                - P.audience_cost * P.suspension_face * (1 - P.face_saving)
                - P.wto_pause_face * P.audience_cost
            )
            - SEOUL_KEEP * P.opinion_weight * (P.suspended_hardness + P.paused_wto_hardness),
            "hardness = 0.5 + paused 0.1 = 0.6; fresh talks save face: backdown = 4 * 0.5 * "
            "(1 - 0.6) = 0.8; pause = 0.15 * 4 = 0.6; 0.6 * (0.54 - 1.4) - 0.4 * 0.54 = -0.732",
        ),
        Sized(
            "payoff",
            "audience",
            C(
                "rescinding a suspended notice",
                start={"pact": SUSPENDED},
                moves={"seoul": "rescind_notice"},
            ),
            -SEOUL_END * P.audience_cost,
            "an active pact is not hard; a suspended notice commits: backdown = 4 * 1 * 1; "
            "-0.6 * 4 = -2.4",
        ),
        Sized(
            "payoff",
            "audience",
            C(
                "signing",
                start={"pact": NEGOTIATING},
                moves={"seoul": "sign"},
                env={"poll": 0.7},
                cal=SIGNING_MONTH,
            ),
            -0.7 * P.audience_cost,
            "signing costs audience_cost by the share for ending: -0.7 * 4 = -2.8",
        ),
        Sized(
            "payoff",
            "audience",
            C(
                "postponing",
                start={"pact": NEGOTIATING},
                moves={"seoul": "postpone_signing"},
                cal=SIGNING_MONTH,
            ),
            -P.postpone_cost,
            "nothing hard, no climb-down: only postpone_cost = -0.45",
        ),
        # ---- alliance = -us_pressure_weight * defiance * (pressure_seoul + displeasure)
        Sized(
            "payoff",
            "alliance",
            C(
                "notice under raised pressure",
                start={"pact": NOTICE_PENDING, "pressure": 1},
                moves={"washington": "raise_pressure"},
            ),
            -P.us_pressure_weight * 1.0 * (2 / 3 + P.us_baseline_displeasure),
            "rung 2 of 3 = 2/3 of all-out; full defiance: -0.8 * (2/3 + 0.3) = -0.77333",
        ),
        Sized(
            "payoff",
            "alliance",
            C("suspended under all-out pressure", start={"pact": SUSPENDED, "pressure": 3}),
            -P.us_pressure_weight * P.suspended_defiance * (1.0 + P.us_baseline_displeasure),
            "-0.8 * 0.25 * (1 + 0.3) = -0.26",
        ),
        # ---- china = china_influence * inducement * defiance
        Sized(
            "payoff",
            "china",
            C(
                "rhetoric toward a standing notice",
                start={"pact": NOTICE_PENDING},
                moves={"beijing": "rhetoric"},
            ),
            P.china_influence * P.rhetoric_strength * 1.0,
            "inducement of rhetoric = rhetoric_strength (beijing.py strength): 1.1 * 0.4 = 0.44",
        ),
        Sized(
            "payoff",
            "china",
            C(
                "inducement toward a suspended notice",
                start={"pact": SUSPENDED},
                moves={"beijing": "inducement"},
            ),
            P.china_influence * 1.0 * P.suspended_defiance,
            "1.1 * 1 * 0.25 = 0.275",
        ),
        # ---- signals (signals, derived)
        Sized("signal", "alive", C("holding an active pact"), 1.0, "pact.py ALIVE[active] = 1"),
        Sized(
            "signal",
            "alive",
            C("revived notice", start={"pact": SUSPENDED}, moves={"seoul": "revive_notice"}),
            0.0,
            "revival terminates the pact: ALIVE[terminated] = 0",
        ),
        Sized(
            "signal",
            "defiance",
            C(
                "suspension",
                start={"pact": NOTICE_PENDING},
                moves={"seoul": "conditional_suspension"},
            ),
            P.suspended_defiance,
            "seoul.py defiance[suspended] = suspended_defiance = 0.25",
        ),
        Sized(
            "signal",
            "defiance",
            C("notice", moves={"seoul": "termination_notice"}, cal=NOTICE_MONTH),
            1.0,
            "defiance[notice_pending] = 1",
        ),
        Sized(
            "signal",
            "hardness",
            C(
                "package",
                start=CURBS_TALKS,
                moves={"seoul": "conditional_suspension+wto_suspension"},
            ),
            P.suspended_hardness + P.paused_wto_hardness,
            "hardness[suspended] + wto_hardness[paused] = 0.5 + 0.1 = 0.6",
        ),
        Sized(
            "signal",
            "hardness",
            C("complaint", start={"curb": 1}, moves={"seoul": "wto_complaint"}),
            P.wto_hardness,
            "hardness[active] 0 + wto_hardness[standing] = 0.3",
        ),
        # ---- transitions
        Sized(
            "state",
            "pact",
            C("notice", moves={"seoul": "termination_notice"}, cal=NOTICE_MONTH),
            NOTICE_PENDING,
            "a notice leaves it pending (PACT_AFTER)",
        ),
        Sized(
            "state",
            "pact",
            C("package", start=CURBS_TALKS, moves=SUSPEND_TALKS),
            SUSPENDED,
            "suspended",
        ),
        Sized(
            "state",
            "pact",
            C("rescinding", start={"pact": SUSPENDED}, moves={"seoul": "rescind_notice"}),
            ACTIVE,
            "rescission restores the active pact",
        ),
        Sized(
            "state",
            "pact",
            C("reviving", start={"pact": SUSPENDED}, moves={"seoul": "revive_notice"}),
            TERMINATED,
            "revival terminates",
        ),
        Sized(
            "state",
            "pact",
            C("signing", start={"pact": NEGOTIATING}, moves={"seoul": "sign"}, cal=SIGNING_MONTH),
            ACTIVE,
            "signing makes it active",
        ),
        Sized(
            "state",
            "pact",
            C(
                "abandoning",
                start={"pact": NEGOTIATING},
                moves={"seoul": "abandon_signing"},
                cal=SIGNING_MONTH,
            ),
            TERMINATED,
            "abandoning ends it",
        ),
        Sized(
            "state",
            "wto",
            C("complaint", start={"curb": 1}, moves={"seoul": "wto_complaint"}),
            WTO_ACTIVE,
            "filed",
        ),
        Sized(
            "state",
            "wto",
            C("package", start=CURBS_TALKS, moves=SUSPEND_TALKS),
            WTO_SUSPENDED,
            "paused",
        ),
        Sized(
            "state",
            "talks",
            C("package", start=CURBS_TALKS, moves=SUSPEND_TALKS),
            1,
            "talks taken up",
        ),
        Sized(
            "state",
            "talks",
            C(
                "offer against a notice left standing",
                start=CURBS_TALKS,
                moves={"tokyo": "talks_offer"},
            ),
            0,
            "a standing notice does not keep the pact: no talks",
        ),
        Sized(
            "state",
            "talks",
            C(
                "offer answered by pausing the complaint",
                start={"curb": 1, "wto": WTO_ACTIVE},
                moves={"tokyo": "talks_offer", "seoul": "wto_suspension"},
            ),
            1,
            "the pact kept and the complaint paused: talks start",
        ),
        Sized(
            "next",
            "pact",
            C(
                "notice standing through the expiry month",
                start={"pact": NOTICE_PENDING},
                cal=EXPIRY_MONTH,
            ),
            TERMINATED,
            "settle: a notice standing at the start of the expiry month lapses",
        ),
        Sized(
            "next",
            "pact",
            C(
                "notice given in the expiry month",
                moves={"seoul": "termination_notice"},
                cal=EXPIRY_MONTH,
            ),
            NOTICE_PENDING,
            "settle: a notice given this month is for a later anniversary",
        ),
        Sized(
            "horizon",
            "pact",
            C("notice standing at the horizon", start={"pact": NOTICE_PENDING}),
            TERMINATED,
            "at_horizon: a notice still standing is valued as its lapse",
        ),
        Sized(
            "horizon",
            "pact",
            C("suspended at the horizon", start={"pact": SUSPENDED}),
            SUSPENDED,
            "at_horizon: a suspended notice stays suspended",
        ),
    )

    def test_no_notice_while_the_window_is_closed(self, explored):
        for model in explored:
            for d in self.agent(model).decisions:
                if model.calendar.notice_in_month(d.date) is None:
                    assert d.chosen != "termination_notice"
                    assert "termination_notice" not in {o.action for o in d.options}

    def test_only_hold_when_nothing_is_open(self):
        # window closed, no notice, and Tokyo (no resolve) holds: nothing to answer
        model = run(3, **QUIET)
        assert {d.chosen for d in model.explain("tokyo")} == {"hold"}
        for d in model.explain("seoul"):
            assert model.calendar.notice_in_month(d.date) is None
            assert [o.action for o in d.options] == ["hold"]
            assert d.option("hold").probability == 1.0

    def test_terminated_pact_without_curbs_only_hold(self):
        model = run(
            0,
            **(QUIET | {"pact_state": "terminated", "end": date(2020, 2, 29)}),
        )
        assert [d.chosen for d in model.explain("seoul")] == ["hold"] * 6

    def test_backing_down_only_from_a_standing_notice(self, explored):
        for model in explored:
            states = list(model.monthly()["pact_state"])  # row k: state before month k
            for before, d in zip(states[:-1], model.explain("seoul"), strict=True):
                if d.chosen in ("conditional_suspension", "conditional_suspension+wto_suspension"):
                    assert before == "notice_pending"
                if d.chosen == "rescind_notice":
                    assert before in ("notice_pending", "suspended")


DAMAGE_FULL = P.trade_damage * (1 - P.supply_diversification)
"""pact.py curb_damage_per_dependence at full curbs: 1.5 * (1 - 0.2) * 2/2 = 1.2."""
TALKS_RESOLVE = P.japan_resolve * (1 - P.talks_grievance_relief)
"""tokyo.py: resolve while talks run = japan_resolve * (1 - talks_grievance_relief) = 0.78."""


class TestTokyo(GovernmentContract):
    cls = Tokyo
    expected_moves = tokyo.MOVES
    quiet_move = "hold"
    terms = (
        # ---- security = intelligence * tokyo_security_weight * alive
        Sized(
            "payoff",
            "security",
            C("active pact"),
            INTELLIGENCE * P.tokyo_security_weight,
            "1.8 * 0.5 = 0.9",
        ),
        Sized(
            "payoff",
            "security",
            C(
                "notice given (still in force)",
                moves={"seoul": "termination_notice"},
                cal=NOTICE_MONTH,
            ),
            INTELLIGENCE * P.tokyo_security_weight,
            "a notice keeps the pact in force until it lapses: 0.9",
        ),
        # ---- economic = trade_dependence * -japan_exposure * damage - boycott *
        #      boycott_damage * (curbs in force) - wto_pressure * (complaint standing)
        Sized(
            "payoff",
            "economic",
            C("targeted curbs imposed", moves={"tokyo": "targeted_export_controls"}),
            -E.trade_dependence * P.japan_exposure * DAMAGE_FULL / 2
            - E.boycott_share * P.boycott_damage,
            "damage at curb 1 = 0.6: -0.8 * 0.6 * 0.6 - 0.3 * 0.9 = -0.558",
        ),
        Sized(
            "payoff",
            "economic",
            C("full curbs against a complaint", start={"curb": 2, "wto": WTO_ACTIVE}),
            -E.trade_dependence * P.japan_exposure * DAMAGE_FULL
            - E.boycott_share * P.boycott_damage
            - P.wto_pressure,
            "-0.8 * 0.6 * 1.2 - 0.27 - 0.12 = -0.966",
        ),
        Sized(
            "payoff",
            "economic",
            C(
                "full curbs, boycott by state",
                start={"curb": 2, "pact": NOTICE_PENDING, "pressure": 1},
                env={"public": BELIEF},
            ),
            -E.trade_dependence * P.japan_exposure * DAMAGE_FULL - 0.455 * P.boycott_damage,
            "the boycott in the state after the moves (curb 2, firm, no talks, level 1): "
            "0.05 + 0.3 + 0.1 + 0.005 = 0.455 (hand_belief); -0.576 - 0.455 * 0.9 = -0.9855",
        ),
        # ---- audience = grievance * resolve * (curb_share - lifting - talking)
        Sized(
            "payoff",
            "audience",
            C("white-list removal", start={"curb": 1}, moves={"tokyo": "whitelist_removal"}),
            E.grievance * P.japan_resolve * 1.0,
            "full curbs, share 1: 1.5 * 1.3 * 1 = 1.95",
        ),
        Sized(
            "payoff",
            "audience",
            C("lifting full curbs", start={"curb": 2}, moves={"tokyo": "lift_controls"}),
            E.grievance * P.japan_resolve * (0.0 - P.lift_face * 2 / 2),
            "lifting = lift_face * start curb / 2 = 5; no curbs left: 1.5 * 1.3 * -5 = -9.75",
        ),
        Sized(
            "payoff",
            "audience",
            C("lifting targeted curbs", start={"curb": 1}, moves={"tokyo": "lift_controls"}),
            E.grievance * P.japan_resolve * (0.0 - P.lift_face * 1 / 2),
            "lifting one rung of two: 1.5 * 1.3 * -2.5 = -4.875",
        ),
        Sized(
            "payoff",
            "audience",
            C("talks offered, not taken up", start=CURBS_TALKS, moves={"tokyo": "talks_offer"}),
            E.grievance * P.japan_resolve * (1.0 - P.talks_cost * 1),
            "talking = talks_cost * (no talks running + the offer) = 0.2: 1.5 * 1.3 * 0.8 = 1.56",
        ),
        Sized(
            "payoff",
            "audience",
            C("talks offered and taken up", start=CURBS_TALKS, moves=SUSPEND_TALKS),
            E.grievance * TALKS_RESOLVE * (1.0 - P.talks_cost * 2),
            "talks running relieve the grievance (0.78) and cost twice this month (running "
            "and offered): 1.5 * 0.78 * (1 - 0.4) = 0.702",
        ),
        Sized(
            "payoff",
            "audience",
            C(
                "talks running on targeted curbs",
                start={"curb": 1, "talks": 1, "wto": WTO_SUSPENDED},
            ),
            E.grievance * TALKS_RESOLVE * (0.5 - P.talks_cost),
            "1.5 * 0.78 * (1/2 - 0.2) = 0.351",
        ),
        # ---- alliance = -us_pressure_weight * tokyo_pressure_sensitivity * pressure_tokyo
        #      * curb_share
        Sized(
            "payoff",
            "alliance",
            C("pressed on targeted curbs", start={"curb": 1}, moves={"washington": "press_tokyo"}),
            -P.us_pressure_weight * P.tokyo_pressure_sensitivity * 1.0 * 0.5,
            "-0.8 * 1.5 * 1 * 1/2 = -0.6",
        ),
        # ---- signals and transitions
        Sized(
            "signal",
            "talks_offered",
            C("offer", start={"curb": 1, "wto": WTO_ACTIVE}, moves={"tokyo": "talks_offer"}),
            1.0,
            "a fresh offer",
        ),
        Sized(
            "state", "curb", C("targeted", moves={"tokyo": "targeted_export_controls"}), 1, "rung 1"
        ),
        Sized(
            "state",
            "curb",
            C("white list", start={"curb": 1}, moves={"tokyo": "whitelist_removal"}),
            2,
            "rung 2",
        ),
        Sized(
            "state",
            "curb",
            C("lifting", start={"curb": 2}, moves={"tokyo": "lift_controls"}),
            0,
            "all lifted",
        ),
        Sized(
            "state",
            "talks",
            C(
                "lifting ends talks",
                start={"curb": 1, "talks": 1, "wto": WTO_SUSPENDED},
                moves={"tokyo": "lift_controls"},
            ),
            0,
            "running talks end with the curbs",
        ),
    )

    def test_curbs_climb_one_rung_at_a_time(self, explored):
        for model in explored:
            levels = list(model.monthly()["curb_level"])
            for before, d in zip(levels[:-1], model.explain("tokyo"), strict=True):
                if d.chosen == "targeted_export_controls":
                    assert before == 0
                if d.chosen == "whitelist_removal":
                    assert before == 1
                if d.chosen == "lift_controls":
                    assert before > 0


class TestWashington(GovernmentContract):
    cls = Washington
    expected_moves = washington.MOVES
    quiet_move = "hold"
    lookahead = (({}, ("hold", "raise_pressure")), ({"pressure": 2}, ("hold", "raise_pressure")))
    terms = (
        # ---- security = intelligence * us_security_weight * alive
        Sized(
            "payoff",
            "security",
            C("active pact"),
            INTELLIGENCE * P.us_security_weight,
            "1.8 * 1.5 = 2.7",
        ),
        Sized(
            "payoff",
            "security",
            C("terminated pact", start={"pact": TERMINATED}),
            0.0,
            "a terminated pact is not alive",
        ),
        # ---- pressure_cost = -us_pressure_cost * pressing - us_tokyo_pressure_cost * on Tokyo;
        #      pressing = declared level / 3 (all-out = 1), times defiance once lasting
        Sized(
            "payoff",
            "pressure_cost",
            C("first rung", moves={"washington": "raise_pressure"}),
            -P.us_pressure_cost * 1 / 3,
            "rung 1 of 3: -1.2 / 3 = -0.4",
        ),
        Sized(
            "payoff",
            "pressure_cost",
            C("all-out held", start={"pressure": 3}),
            -P.us_pressure_cost,
            "all-out costs us_pressure_cost: -1.2",
        ),
        Sized(
            "payoff",
            "pressure_cost",
            C(
                "all-out reached while pressing Tokyo",
                start={"pressure": 2},
                moves={"washington": "raise_pressure+press_tokyo"},
            ),
            -P.us_pressure_cost - P.us_tokyo_pressure_cost,
            "-1.2 - 0.9 = -2.1",
        ),
        Sized(
            "payoff",
            "pressure_cost",
            C("lasting, Seoul suspended", start={"pressure": 2, "pact": SUSPENDED}, lasting=True),
            -P.us_pressure_cost * 2 / 3 * P.suspended_defiance,
            "after the deadline it pays while Seoul defies: -1.2 * 2/3 * 0.25 = -0.2",
        ),
        Sized(
            "payoff",
            "pressure_cost",
            C("lasting, pact kept", start={"pressure": 3}, lasting=True),
            0.0,
            "no defiance, nothing to pay after the deadline",
        ),
        # ---- signals and transitions
        Sized(
            "signal",
            "pressure_seoul",
            C("second rung", start={"pressure": 1}, moves={"washington": "raise_pressure"}),
            2 / 3,
            "level / (PRESSURE_LEVELS - 1) = 2/3",
        ),
        Sized(
            "signal",
            "pressure_tokyo",
            C("pressing Tokyo", moves={"washington": "press_tokyo"}),
            1.0,
            "pressing Tokyo",
        ),
        Sized(
            "state",
            "pressure",
            C("second rung", start={"pressure": 1}, moves={"washington": "raise_pressure"}),
            2,
            "one rung up",
        ),
    )


class TestBeijing(GovernmentContract):
    cls = Beijing
    expected_moves = beijing.MOVES
    quiet_move = "none"
    lookahead = (
        ({}, ("none",)),
        ({"beijing_move": 1}, ("rhetoric",)),
        ({"beijing_move": 2}, ("inducement",)),
    )
    """It is expected to keep its current stance."""
    terms = (
        # ---- china = china_influence * defiance
        Sized(
            "payoff",
            "china",
            C("notice standing", start={"pact": NOTICE_PENDING}),
            P.china_influence * 1.0,
            "beijing.py _utility; defiance of a standing notice 1 (seoul.py): 1.1",
        ),
        Sized(
            "payoff",
            "china",
            C("notice suspended", start={"pact": SUSPENDED}),
            P.china_influence * P.suspended_defiance,
            "1.1 * 0.25 = 0.275",
        ),
        # ---- pressure_cost = -inducement_cost * cost[move], cost = (0, rhetoric_cost, 1)
        Sized(
            "payoff",
            "pressure_cost",
            C("rhetoric", moves={"beijing": "rhetoric"}),
            -P.inducement_cost * P.rhetoric_cost,
            "beijing.py cost: rhetoric costs rhetoric_cost of inducement_cost: -0.7 * 0.3 = -0.21",
        ),
        Sized(
            "payoff",
            "pressure_cost",
            C("inducement", moves={"beijing": "inducement"}),
            -P.inducement_cost,
            "an inducement costs inducement_cost: -0.7",
        ),
        # ---- derived signal: inducement = strength[move], strength = (0, rhetoric_strength, 1)
        Sized(
            "signal",
            "inducement",
            C("rhetoric", moves={"beijing": "rhetoric"}),
            P.rhetoric_strength,
            "beijing.py strength: 0.4",
        ),
        Sized("signal", "inducement", C("inducement", moves={"beijing": "inducement"}), 1.0, "1"),
    )


def test_every_government_has_a_contract_test():
    tested = {TestSeoul.cls, TestTokyo.cls, TestWashington.cls, TestBeijing.cls}
    model = GSOMIAModel(rng=0, n_citizens=50, **QUIET)
    assert {type(g) for g in model.governments.values()} == tested


def test_import_agents_first():
    done = subprocess.run(
        [sys.executable, "-c", "from agents import Seoul"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr


# ---- the Korean public -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def public_runs() -> list[GSOMIAModel]:
    kw = EXPLORE | {"n_citizens": 400}
    return [run(5, **kw), run(5, **kw), run(6, **kw)]


def test_public_is_one_agent_whatever_its_size():
    for n in (50, 5000):
        model = GSOMIAModel(rng=0, n_citizens=n, **QUIET)
        assert isinstance(model.public, KoreanPublic)
        assert model.public in model.agents
        assert len(model.agents) == 5
        assert model.public.network.opinion.shape == (n,)
        assert model.public.network.n == n


def test_poll_and_shares_in_unit_interval(public_runs):
    for model in public_runs:
        df = model.monthly()
        assert df["opinion_share"].between(0.0, 1.0).all()
        assert df["opinion_mean"].between(0.0, 1.0).all()
        assert df["boycott_share"].between(0.0, 1.0).all()
        public = model.public
        assert 0.0 <= public.poll <= 1.0
        band = public.network.undecided_band
        assert np.isclose(public.poll, np.mean(public.network.opinion > 0.5 + band))
        assert ((public.network.opinion >= 0.0) & (public.network.opinion <= 1.0)).all()


def test_same_seed_same_opinions(public_runs):
    a, b, c = (m.public.network.opinion for m in public_runs)
    assert a.shape == (400,)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_opinion_update_is_sparse_and_vectorised():
    n, degree = 1000, 8
    model = GSOMIAModel(rng=0, n_citizens=n, citizen_degree=degree, **QUIET)
    net = model.public.network
    assert sp.issparse(net.weights)
    assert net.weights.shape == (n, n)
    assert net.weights.nnz <= n * (degree + 1)  # linear in citizens, not quadratic
    assert np.allclose(np.asarray(net.weights.sum(axis=1)).ravel(), 1.0)  # row-stochastic
    assert isinstance(net.graph, nx.Graph)
    assert net.graph.number_of_nodes() == n


def _twin_networks(**kw: float) -> tuple[OpinionNetwork, OpinionNetwork]:
    args = {
        "n": 500,
        "degree": 6,
        "initial_opinion": 0.4,
        "conformity": 0.2,
        "noise": 0.0,
        "sensitivity": 1.0,
    } | kw
    return tuple(
        OpinionNetwork(**args, rng=np.random.default_rng(1), graph_seed=2) for _ in range(2)
    )


QUIET_PUSH = OpinionPush(curbs=0, firm=False, talks=False, launches=0.0, us_pressure=0.0)


def _unclipped(*nets: OpinionNetwork) -> np.ndarray:
    keep = np.ones(nets[0].n, dtype=bool)
    for net in nets:
        keep &= (net.opinion > 0.0) & (net.opinion < 1.0)
    return keep


def test_curbs_harden_opinion_and_talks_calm_it():
    """A month's events shift every citizen's opinion by the same amount (a state-driven
    push, docs/model/opinion.md), up under curbs, down while talks run, in proportion to
    ``opinion_sensitivity``."""
    a, b = _twin_networks()
    assert np.array_equal(a.opinion, b.opinion)
    a.step(QUIET_PUSH)
    b.step(OpinionPush(curbs=2, firm=False, talks=False, launches=0.0, us_pressure=0.0))
    shift = (b.opinion - a.opinion)[_unclipped(a, b)]
    assert shift.size > 400 and np.ptp(shift) < 1e-12 and shift[0] > 0.05
    c, d = _twin_networks()
    c.step(QUIET_PUSH)
    d.step(OpinionPush(curbs=0, firm=False, talks=True, launches=0.0, us_pressure=0.0))
    calm = (d.opinion - c.opinion)[_unclipped(c, d)]
    assert np.ptp(calm) < 1e-12 and calm[0] < 0
    e, f = _twin_networks(sensitivity=0.5)
    e.step(QUIET_PUSH)
    f.step(OpinionPush(curbs=2, firm=False, talks=False, launches=0.0, us_pressure=0.0))
    half = (f.opinion - e.opinion)[_unclipped(e, f)]
    assert half[0] == pytest.approx(shift[0] / 2, rel=1e-9)


def test_no_sensitivity_events_do_not_move_opinion():
    a, b = _twin_networks(sensitivity=0.0)
    a.step(QUIET_PUSH)
    b.step(OpinionPush(curbs=2, firm=True, talks=False, launches=3.0, us_pressure=1.0))
    assert np.array_equal(a.opinion, b.opinion)


def test_us_pressure_polarises():
    """US pressure moves each citizen by a common factor times (2 * predisposition - 1):
    alliance-minded citizens toward keeping the pact, nationalists away from it."""
    a, b = _twin_networks()
    a.step(QUIET_PUSH)
    b.step(OpinionPush(curbs=0, firm=False, talks=False, launches=0.0, us_pressure=1.0))
    keep = _unclipped(a, b) & (np.abs(2 * a.predisposition - 1) > 0.05)
    factor = (b.opinion - a.opinion)[keep] / (2 * a.predisposition[keep] - 1)
    assert factor.min() > 0 and np.ptp(factor) < 1e-9


def _neighbour_mean(net: OpinionNetwork, x: np.ndarray) -> np.ndarray:
    """Each citizen's neighbours' mean opinion, from the networkx graph (an isolated
    citizen listens to themself)."""
    g = net.graph
    return np.array([np.mean([x[j] for j in g.neighbors(i)] or [x[i]]) for i in range(net.n)])


@pytest.mark.parametrize("conformity", [0.0, 0.3, 0.8, 1.0])
def test_opinion_update_mixes_predisposition_and_neighbours_by_conformity(conformity):
    """Friedkin-Johnsen without events or noise: new opinion = (1 - conformity) *
    predisposition + conformity * neighbours' mean; conformity 0 is the predisposition
    alone, conformity 1 the neighbours alone."""
    a, _ = _twin_networks(conformity=conformity, n=300)
    before = a.opinion.copy()
    a.step(QUIET_PUSH)
    expected = (1 - conformity) * a.predisposition + conformity * _neighbour_mean(a, before)
    np.testing.assert_allclose(a.opinion, expected, rtol=0, atol=1e-12)
    if conformity == 0.0:
        np.testing.assert_array_equal(a.opinion, a.predisposition)


def test_a_public_starts_at_rest():
    """The initial public is settled: without events or noise a month changes nothing."""
    a, _ = _twin_networks(conformity=0.2)
    before = a.opinion.copy()
    a.step(QUIET_PUSH)
    np.testing.assert_allclose(a.opinion, before, atol=1e-12)


def test_noise_is_independent_gaussian_shocks_of_the_given_size():
    a, _ = _twin_networks(noise=0.0, n=20000)
    c, _ = _twin_networks(noise=0.05, n=20000)
    a.step(QUIET_PUSH)
    c.step(QUIET_PUSH)
    shocks = (c.opinion - a.opinion)[_unclipped(a, c)]
    assert shocks.std() == pytest.approx(0.05, rel=0.05)
    assert abs(shocks.mean()) < 0.002


@pytest.mark.parametrize("seed", [0, 2])
def test_the_public_is_driven_by_the_months_state(seed):
    """The public in a run is exactly a network drawn from the run's opinion and graph
    streams, stepped each month with the state the month ended in: curbs, a standing
    notice, talks, recent launches and US pressure (docs/model/opinion.md;
    docs/getting-started.md, "From Python")."""
    m = GSOMIAModel(
        rng=seed,
        n_citizens=400,
        start=date(2019, 5, 1),
        end=date(2019, 12, 31),
        grievance_initial=1.0,  # a dispute: curbs, a notice, talks
    )
    m.run()
    p = m.parameters
    streams = np.random.SeedSequence(seed).spawn(4)
    net = OpinionNetwork(
        n=400,
        degree=p["citizen_degree"],
        initial_opinion=p["initial_opinion"],
        conformity=p["opinion_conformity"],
        noise=p["opinion_noise"],
        sensitivity=p["opinion_sensitivity"],
        rng=np.random.default_rng(streams[1]),
        graph_seed=int(streams[3].generate_state(1)[0]),
    )
    df = m.monthly()
    assert net.mean() == pytest.approx(df["opinion_mean"].iloc[0], abs=1e-12)
    # the run has something for the public to react to
    assert df["curb_level"].max() > 0 and (df["pact_state"] == "notice_pending").any()
    for k in range(1, len(df)):
        row = df.iloc[k]
        stock = (row["threat"] / p["nk_threat"] - 1.0) / p["nk_launch_effect"]
        net.step(
            OpinionPush(
                curbs=int(row["curb_level"]),
                firm=row["pact_state"] in ("notice_pending", "terminated"),
                talks=bool(row["talks"]),
                launches=float(stock),
                us_pressure=float(row["us_pressure_seoul"]),
            )
        )
        assert net.mean() == pytest.approx(row["opinion_mean"], abs=1e-9), row.name
        assert net.poll() == pytest.approx(row["opinion_share"], abs=1.5 / 400), row.name


def test_launches_make_the_pact_dearer_to_the_public():
    """Recent North Korean launches lower support for scrapping the pact, alike for all."""
    a, b = _twin_networks()
    a.step(QUIET_PUSH)
    b.step(OpinionPush(curbs=0, firm=False, talks=False, launches=3.0, us_pressure=0.0))
    fear = (b.opinion - a.opinion)[_unclipped(a, b)]
    assert np.ptp(fear) < 1e-12 and fear[0] < 0
    c, d = _twin_networks()
    c.step(OpinionPush(curbs=2, firm=True, talks=True, launches=0.0, us_pressure=0.0))
    d.step(OpinionPush(curbs=2, firm=True, talks=True, launches=3.0, us_pressure=0.0))
    both = (d.opinion - c.opinion)[_unclipped(c, d)]
    assert both[0] == pytest.approx(fear[0], rel=1e-9)  # launches add to the other events


def test_poll_and_boycott_count_opinions_strictly_above_the_threshold():
    """A citizen at exactly the threshold (e.g. clipped at 1) is not counted above it."""
    a, _ = _twin_networks()
    a.opinion[:] = np.where(np.arange(a.n) % 2 == 0, 1.0, 0.5)
    assert a.share_above(1.0) == 0.0
    assert a.poll() == pytest.approx(0.5)  # the 0.5s do not favour termination
    assert a.share_above(0.5) == pytest.approx(0.5)
    a.opinion[:] = 0.0
    assert a.share_above(0.0) == 0.0


def _shift(push: OpinionPush) -> float:
    """The common shift a push gives every unclipped citizen, against a quiet month."""
    a, b = _twin_networks()
    a.step(QUIET_PUSH)
    b.step(push)
    d = (b.opinion - a.opinion)[_unclipped(a, b)]
    assert np.ptp(d) < 1e-12
    return float(d[0])


def test_a_firm_stance_rallies_and_the_white_list_removal_angers_more():
    """A standing notice rallies the public round the flag; the white-list removal (curb
    level 2) angers it more than targeted controls alone (level 1) (docs/model/opinion.md)."""
    firm = _shift(OpinionPush(curbs=0, firm=True, talks=False, launches=0.0, us_pressure=0.0))
    assert firm > 0
    one = _shift(OpinionPush(curbs=1, firm=False, talks=False, launches=0.0, us_pressure=0.0))
    two = _shift(OpinionPush(curbs=2, firm=False, talks=False, launches=0.0, us_pressure=0.0))
    assert two > one > 0
    both = _shift(OpinionPush(curbs=2, firm=True, talks=False, launches=0.0, us_pressure=0.0))
    assert both == pytest.approx(two + firm, rel=1e-9)


@pytest.mark.parametrize("curbs", [0, 1, 2])
def test_curb_anger_is_a_step_plus_escalation_per_share_of_the_full_curbs(curbs):
    """Any curbs give curb_anger; each share of the full curbs adds curb_escalation."""
    from model.opinion import OpinionEffects

    e = OpinionEffects.from_params()  # the registry's defaults, as _twin_networks uses
    got = _shift(OpinionPush(curbs=curbs, firm=False, talks=False, launches=0.0, us_pressure=0.0))
    expected = e.curb_anger * (curbs > 0) + e.curb_escalation * curbs / 2  # sensitivity 1
    assert got == pytest.approx(expected, abs=1e-12)


def test_noise_is_the_opinion_streams_next_normal_draws():
    a, _ = _twin_networks(noise=0.0)
    c, _ = _twin_networks(noise=0.05)
    stream = np.random.default_rng()
    stream.bit_generator.state = c.rng.bit_generator.state
    a.step(QUIET_PUSH)
    c.step(QUIET_PUSH)
    keep = _unclipped(a, c)
    expected = 0.05 * stream.standard_normal(c.n)
    np.testing.assert_allclose((c.opinion - a.opinion)[keep], expected[keep], atol=1e-12)


@pytest.mark.parametrize("launches, curbs", [(200.0, 0), (0.0, 2)])
def test_opinions_stay_in_the_unit_interval_under_any_push(launches, curbs):
    a, _ = _twin_networks(sensitivity=20.0)
    a.step(OpinionPush(curbs=curbs, firm=False, talks=False, launches=launches, us_pressure=0.0))
    assert a.opinion.min() >= 0.0 and a.opinion.max() <= 1.0
    assert (a.opinion == (0.0 if launches else 1.0)).all()  # everybody at the bound


@pytest.mark.parametrize(
    "n, degree", [(1000, 8), (1000, 7), (300, 2), (300, 3), (11, 10), (10, 20)]
)
def test_small_world_is_a_ring_of_the_requested_degree_before_rewiring(n, degree):
    """Without rewiring every citizen knows the degree // 2 next ones on each side (at most
    n - 1 citizens); with rewiring the ties move to random citizens, without hubs."""
    from model.opinion import small_world

    ring = small_world(n, degree, 0.0, np.random.default_rng(0))
    half = min(degree, n - 1) // 2
    assert (np.asarray(ring.sum(axis=1)).ravel() == 2 * half).all()
    assert ring[0, 1] == 1 and ring[0, n - 1] == 1 and ring[0, 0] == 0


@pytest.mark.parametrize("n, degree", [(1000, 8), (1000, 7), (300, 2)])
def test_small_world_rewiring_moves_ties_without_making_hubs(n, degree):
    from model.opinion import small_world

    ring = small_world(n, degree, 0.0, np.random.default_rng(0))
    rewired = small_world(n, degree, 0.1, np.random.default_rng(0))
    half = degree // 2
    deg = np.asarray(rewired.sum(axis=1)).ravel()
    assert abs(deg.mean() - 2 * half) <= 0.05 * 2 * half  # few ties lost to duplicates
    assert deg.max() <= 4 * half
    assert 0.05 * n * half < (rewired != ring).nnz / 2 < 0.3 * n * half  # ~10% of ties moved


def test_the_relations_network_carries_each_governments_view_of_its_ties():
    """Every month the network's edges hold what the governments' moves did: Beijing's
    inducement and Washington's pressure on the Seoul edges, Seoul's strain on the
    alliance, the Seoul-Tokyo tension and trade dependence (read by the UI's network)."""
    from agents.seoul import defiance

    configs = Path(__file__).resolve().parents[1] / "configs"
    m = GSOMIAModel.from_config(configs / "china_pull.toml", rng=0)
    node = {n: i for i, n in enumerate(m.cast.names)}

    def edge(a: str, b: str) -> dict:
        return m.relations.edges[node[a], node[b]]

    from model.model import RELATIONS

    # the attributes the network declares for each tie (the UI reads these names)
    declared = {frozenset((node[a], node[b])): {"alliance", *attrs} for a, b, attrs in RELATIONS}
    seen_inducement = seen_pressure = False
    while m.running:
        m.step()
        assert {frozenset(e): set(m.relations.edges[e]) for e in m.relations.edges} == declared
        assert edge("seoul", "beijing")["inducement"] == m.beijing_stance
        assert edge("seoul", "washington")["us_pressure"] == m.pressure_on_seoul
        assert edge("tokyo", "washington")["us_pressure"] == m.pressure_on_tokyo
        tension = float(defiance(m.params)[int(m.pact)])
        assert edge("seoul", "washington")["tension"] == tension
        assert edge("seoul", "tokyo")["trade_dependence"] == m.trade_dependence
        assert 0 <= edge("seoul", "tokyo")["tension"] <= 1
        seen_inducement |= m.beijing_stance > 0
        seen_pressure |= m.pressure_on_seoul > 0
    assert seen_inducement and seen_pressure  # the run tested values other than the start
    for gov in m.governments.values():  # every tie a government reports is on the network
        for (a, b), attrs in gov.relations().items():
            assert {a, b} <= set(node) and attrs.items() <= edge(a, b).items()
    # Washington never pressed Tokyo in this run; its view of that tie, with pressure on
    m.pressure_on_tokyo, m.pressure_on_seoul = 2 / 3, 1 / 3
    views = m.governments["washington"].relations()
    assert views[("tokyo", "washington")] == {"us_pressure": 2 / 3}
    assert views[("seoul", "washington")] == {"us_pressure": 1 / 3}
    # talks running, no curbs, no history: the strain is negative, the tension 0 (not below)
    m.tension, m.curb, m.talks = 0.0, 0, 1
    tie = m.governments["tokyo"].relations()[("seoul", "tokyo")]
    assert tie["tension"] == 0.0 and m.params.talks_relief > 0


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("threshold", [-0.1, 0.0, 0.3, 0.5, 1.0, 1.1])
def test_share_above_matches_counting_the_clipped_opinions(strict, threshold):
    """The expected poll's shares (``_share_above``) equal a direct count of the shifted,
    clipped opinions above (or at least, ``strict=False``) the threshold, at the edges 0
    and 1 too, where clipping piles opinions up."""
    from model.opinion import _share_above

    rng = np.random.default_rng(7)
    x = np.sort(np.concatenate([rng.random(200), [0.0, 0.0, 1.0, 1.0, 0.3, 0.5]]))
    shift = np.array([-1.5, -0.3, 0.0, 0.2, 0.45, 1.5])
    moved = np.clip(x[None, :] + shift[:, None], 0.0, 1.0)
    counted = (moved > threshold) if strict else (moved >= threshold)
    got = _share_above(x, threshold, shift, len(x), strict=strict)
    np.testing.assert_allclose(got, counted.mean(axis=1), atol=1e-12)


@pytest.mark.parametrize(("n", "degree", "rewiring"), [(2000, 8, 0.1), (50, 4, 0.5), (12, 2, 1.0)])
def test_listening_weights_are_the_normalising_product_entry_for_entry(n, degree, rewiring):
    """The weights built directly equal diag(1 / degree) @ (A + self-ties of the isolated)
    computed by scipy, in the same order of entries, so each citizen's neighbours' mean
    sums in the same order: the same opinions to the last bit."""
    import scipy.sparse as sp

    from model.opinion import listening_weights, small_world

    isolated_seen = False
    for seed in range(40):
        a = small_world(n, degree, rewiring, np.random.default_rng(seed))
        counts = np.diff(a.indptr)
        isolated_seen |= not counts.all()
        looped = a + sp.diags_array((counts == 0).astype(float))
        plain = sp.csr_array(sp.diags_array(1.0 / np.maximum(counts, 1)) @ looped)
        got = listening_weights(a)
        for attr in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(got, attr), getattr(plain, attr))
        x = np.random.default_rng(seed).random(n)
        assert (got @ x).tobytes() == (plain @ x).tobytes()
    assert isolated_seen == (rewiring == 1.0)  # small, fully rewired graphs isolate some


def test_poll_shares_are_the_means_of_the_citizens_counted():
    """The poll's shares and the share above a threshold are np.mean of the citizens'
    flags, to the last bit (counted, not averaged), citizens at the thresholds included."""
    from model.opinion import OpinionNetwork

    net = OpinionNetwork(
        n=1999,
        degree=6,
        initial_opinion=0.5,
        conformity=0.3,
        noise=0.0,
        sensitivity=1.0,
        rng=np.random.default_rng(2),
        graph_seed=3,
        undecided_band=0.07,
    )
    net.opinion[:9] = [0.57, 0.43, 0.65] * 3
    band = net.undecided_band
    end = float(np.mean(net.opinion > 0.5 + band))
    keep = float(np.mean(net.opinion < 0.5 - band))
    assert net.shares() == (end, keep, 1.0 - end - keep)
    for threshold in (0.0, 0.43, 0.65, 1.0):
        assert net.share_above(threshold) == float(np.mean(net.opinion > threshold))
