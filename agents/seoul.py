"""Seoul: the pact's notice, suspension, rescission and revival; the WTO complaint; the
signing of a pact still being negotiated.

Seoul moves last in the month: in 2019 it answered Tokyo (the notice of 2019-08-22
followed the white-list removal of 2019-08-02). Its payoffs are a two-level game
(Putnam 1988): the pact's intelligence, eroded by Tokyo's curbs; the curbs' damage;
approval for a hard line and audience costs for backing down (Fearon 1994); the
alliance cost of defying Washington; Beijing's inducements.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from agents.government import Government
from agents.public import expected_public
from model.calendar import add_months, same_month
from model.pact import (
    ALIVE,
    COMMITTED,
    N_PACT,
    WTO_ACTIVE,
    WTO_NONE,
    WTO_STATES,
    WTO_SUSPENDED,
    Pact,
    curb_damage_per_dependence,
    intelligence,
    strain,
)

if TYPE_CHECKING:
    from model.game import Profiles
    from model.month import Realised

MOVES = (
    "hold",
    "termination_notice",
    "conditional_suspension",
    "rescind_notice",
    "revive_notice",
    "wto_complaint",
    "wto_suspension",
    "conditional_suspension+wto_suspension",
    "sign",
    "postpone_signing",
    "abandon_signing",
)
(
    HOLD,
    NOTICE,
    SUSPEND,
    RESCIND,
    REVIVE,
    WTO,
    WTO_SUSPEND,
    PACKAGE,
    SIGN,
    POSTPONE,
    ABANDON,
) = range(len(MOVES))


def defiance(p: Any) -> np.ndarray:
    """Seoul's defiance of Washington per pact state (alliance cost, Beijing's gain): full
    with a standing notice or a terminated pact; a suspended notice is mostly a
    climb-down abroad (Washington welcomed it)."""
    return np.array([0.0, 0.0, 1.0, p.suspended_defiance, 1.0])


def hardness(p: Any) -> np.ndarray:
    """Seoul's hardness toward Tokyo per pact state (approval when the public leans
    hard): a suspended notice is half a threat at home ("could terminate at any
    moment")."""
    return np.array([0.0, 0.0, 1.0, p.suspended_hardness, 1.0])


def wto_hardness(p: Any) -> np.ndarray:
    """Hardness added by the WTO complaint: none, standing, paused (it can resume)."""
    return np.array([0.0, p.wto_hardness, p.paused_wto_hardness])


# move -> pact state after it (-1: unchanged)
PACT_AFTER = np.full(len(MOVES), -1)
PACT_AFTER[[NOTICE, SUSPEND, PACKAGE, RESCIND, REVIVE, SIGN, ABANDON]] = [
    Pact.NOTICE_PENDING,
    Pact.SUSPENDED,
    Pact.SUSPENDED,
    Pact.ACTIVE,
    Pact.TERMINATED,
    Pact.ACTIVE,
    Pact.TERMINATED,
]
SUSPENDS = np.isin(np.arange(len(MOVES)), [SUSPEND, PACKAGE])
PAUSES_WTO = np.isin(np.arange(len(MOVES)), [WTO_SUSPEND, PACKAGE])
SIGNING_MOVES = np.isin(np.arange(len(MOVES)), [SIGN, POSTPONE, ABANDON])


class Seoul(Government):
    """South Korea: the pact's notice, suspension and revival, the WTO complaint."""

    actor = "seoul"
    moves = MOVES
    events: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "seoul": (
            "termination_decision",
            "termination_notice",
            "conditional_suspension",
            "rescind_notice",
            "notice_revived",
            "pact_terminated",
            "wto_complaint",
            "wto_suspension",
            "signing_postponed",
            "signing_abandoned",
        ),
        "tokyo": ("protest",),
        "both": ("pact_signed",),
    }
    state_vars: ClassVar[Mapping[str, int]] = {"pact": N_PACT, "wto": len(WTO_STATES)}
    components = ("security", "economic", "audience", "alliance", "china")

    @classmethod
    def initial_state(cls, values: Mapping[str, Any]) -> dict[str, int]:
        """The scenario's pact state and WTO complaint."""
        return {
            "pact": int(Pact.from_label(values["pact_state"])),
            "wto": WTO_STATES.index(values["initial_wto"]),
        }

    @classmethod
    def feasible(cls, g: Profiles, move: np.ndarray) -> np.ndarray:
        """A notice only inside the notice window; suspension only of a standing notice,
        rescission also of a suspended one, revival only of a suspended one; a WTO
        complaint only against curbs in force (after Tokyo's move); a scheduled signing
        month must settle the signing (sign, postpone or abandon)."""
        pact, wto, cal, s = g.start["pact"], g.start["wto"], g.cal, move
        negotiating = pact == Pact.NEGOTIATING
        signing = SIGNING_MOVES[s]
        ok = ~signing | (negotiating & cal.signing)
        ok = ok & (signing | ~(negotiating & cal.signing))
        ok = ok & ((s != NOTICE) | ((pact == Pact.ACTIVE) & cal.notice_open))
        ok = ok & (~SUSPENDS[s] | (pact == Pact.NOTICE_PENDING))
        ok = ok & ((s != RESCIND) | (pact == Pact.NOTICE_PENDING) | (pact == Pact.SUSPENDED))
        ok = ok & ((s != REVIVE) | (pact == Pact.SUSPENDED))
        ok = ok & ((s != WTO) | ((wto == WTO_NONE) & (g.state["curb"] > 0)))
        ok = ok & (~PAUSES_WTO[s] | (wto == WTO_ACTIVE))
        return ok

    @classmethod
    def transition(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]:
        """The pact state and WTO complaint after the move; talks start when Tokyo offers
        them and Seoul keeps the pact (no standing notice) and pauses or never filed its
        complaint: the symmetric pause of 2019-11-22."""
        pact, wto, s = g.start["pact"], g.start["wto"], move
        after = PACT_AFTER[s]
        pact_after = np.where(after >= 0, after, pact)
        wto_after = np.where(s == WTO, WTO_ACTIVE, np.where(PAUSES_WTO[s], WTO_SUSPENDED, wto))
        kept = (pact_after != Pact.NOTICE_PENDING) & (pact_after != Pact.TERMINATED)
        reciprocated = (PAUSES_WTO[s] | (wto != WTO_ACTIVE)) & kept
        talks = (g.signal("talks_offered", False) & reciprocated) | (g.state["talks"] == 1)
        talks = talks & (g.state["curb"] > 0)
        return {"pact": pact_after, "wto": wto_after, "talks": talks.astype(np.int8)}

    @classmethod
    def signals(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]:
        """Whether the pact is still in force after the move."""
        return {"alive": ALIVE[g.state["pact"]]}

    @classmethod
    def derived(cls, g: Profiles, p: Any) -> dict[str, np.ndarray]:
        """Its stance after the move: defiance of Washington, hardness toward Tokyo."""
        pa = g.state["pact"]
        return {
            "defiance": defiance(p)[pa],
            "hardness": hardness(p)[pa] + wto_hardness(p)[g.state["wto"]],
        }

    @classmethod
    def settle(cls, g: Profiles) -> dict[str, np.ndarray]:
        """A notice standing at the start of the expiry month and not withdrawn lapses at
        its end (a notice given this month is for a later anniversary)."""
        if not g.cal.expiry:
            return {}
        pa = g.state["pact"]
        lapse = (g.start["pact"] == Pact.NOTICE_PENDING) & (pa == Pact.NOTICE_PENDING)
        return {"pact": np.where(lapse, int(Pact.TERMINATED), pa)}

    @classmethod
    def at_horizon(cls, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """A notice still standing after the lookahead is valued as the lapse it causes:
        its fate is not decided within the horizon, and a notice promises termination."""
        pact = state["pact"]
        return {"pact": np.where(pact == Pact.NOTICE_PENDING, int(Pact.TERMINATED), pact)}

    @classmethod
    def prepared(cls, g: Profiles, p: Any) -> dict[str, Any]:
        """The parts of its month that the profiles and parameters fix (``utility``
        adds the slow variables): the strain on trust from the state, the curbs' damage
        per unit of trade dependence, the weights of the expected public in its
        approval and audience costs, the alliance and Beijing's pull."""
        s, pact = g.move("seoul"), g.state["pact"]
        talks = g.state["talks"].astype(float)
        fresh_talks = talks * (g.start["talks"] == 0) * g.signal("talks_offered", False)
        defiance, hardness = g.signal("defiance"), g.signal("hardness")
        # Talks on the curbs hold out a prospect of their removal ("Seoul would
        # reconsider only if Tokyo retracted the export curbs").
        damage = curb_damage_per_dependence(p, g.state["curb"])
        # Two-level game (Putnam 1988): approval for a hard stance by the public's net lean
        # to termination (the undecided count for neither side); audience costs, by the
        # share for ending the pact, for backing down from the commitment a standing or
        # suspended notice made (Fearon 1994), for pausing the WTO case and for signing.
        face = np.where(SUSPENDS[s], p.suspension_face, 0.0)
        face = np.where(s == RESCIND, 1.0, face) * (1.0 - p.face_saving * fresh_talks)
        backdown = p.audience_cost * COMMITTED[g.start["pact"]] * face
        pause = PAUSES_WTO[s] * p.wto_pause_face * p.audience_cost
        signing = (s == SIGN) * p.audience_cost
        return {
            "strain": strain(p, 0.0, pact, g.state["curb"], talks),
            "alive": g.signal("alive"),
            "economic_per_dependence": -p.korea_exposure
            * damage
            * (1.0 - p.talks_prospect * talks),
            "economic_fixed": -(p.wto_cost * (s == WTO)),
            "audience_per_end": p.opinion_weight * hardness - backdown - pause - signing,
            "audience_per_keep": -p.opinion_weight * hardness,
            "audience_fixed": -((s == POSTPONE) * p.postpone_cost),
            # alliance cost of defying Washington, with a floor that outlasts pressure
            "alliance": -p.us_pressure_weight
            * defiance
            * (g.signal("pressure_seoul") + p.us_baseline_displeasure),
            "china": p.china_influence * g.signal("inducement") * defiance,
        }

    @classmethod
    def utility(cls, g: Profiles, p: Any, env: Any) -> dict[str, Any]:
        """Seoul's month (docs/model/payoffs.md)."""
        fixed = g.memo_params("seoul.prepared", p, cls.prepared)
        end, keep, _ = expected_public(g, env)
        trust = np.clip(1.0 - (env.tension + fixed["strain"]), 0.0, 1.0)
        return {
            # the pact's intelligence, scaled by trust, which Tokyo's curbs erode ("grave
            # change", 2019-08-22)
            "security": intelligence(p, env) * trust * fixed["alive"],
            "economic": env.trade_dependence * fixed["economic_per_dependence"]
            + fixed["economic_fixed"],
            "audience": end * fixed["audience_per_end"]
            + keep * fixed["audience_per_keep"]
            + fixed["audience_fixed"],
            "alliance": fixed["alliance"],
            "china": fixed["china"],
        }

    # ---- acting --------------------------------------------------------------------------
    def move_day(self, month: Any, code: int) -> Any:
        """Pact moves are made as late as the calendar allows: a notice on the last day
        of the window, a climb-down on the eve of the lapse (2019-11-22), a signing on
        its scheduled day."""
        m = self.model
        if code == NOTICE:
            notice = m.calendar.notice_in_month(month)
            return notice[0] if notice else month
        if (
            code in (SUSPEND, PACKAGE, RESCIND)
            and m.pact is Pact.NOTICE_PENDING
            and m.lapse_date
            and same_month(month, m.lapse_date)
        ):
            return m.lapse_date - timedelta(days=1)
        if code in (SIGN, POSTPONE, ABANDON) and m.scheduled_signing:
            return m.scheduled_signing
        return month

    def apply(self, r: Realised) -> None:
        """Events of the move; a notice sets the lapse date; a signing starts the pact's
        calendar."""
        m, s, first, day = self.model, r.codes["seoul"], r.month, r.day("seoul")
        if s == NOTICE:
            m.lapse_date = m.calendar.lapse_date_for_notice(day)
            lapse = f"lapse at {m.lapse_date.isoformat()}"
            m.emit(max(day - timedelta(days=1), first), "seoul", "termination_decision", lapse)
            m.emit(day, "seoul", "termination_notice", lapse)
            m.emit(day, "tokyo", "protest", "answers the notice")
            if m.episode.notice_month is None:
                m.episode.notice_month = r.month
                m.episode.lapse_date = m.lapse_date
        elif s in (SUSPEND, PACKAGE):
            m.emit(
                day,
                "seoul",
                "conditional_suspension",
                "notice held in abeyance; can terminate at any moment",
            )
            m.note_reversal(r.month, "conditional_suspension")
        elif s == RESCIND:
            m.emit(day, "seoul", "rescind_notice", "notice withdrawn")
            m.note_reversal(r.month, "rescind_notice")
            m.lapse_date = None
        elif s == REVIVE:
            m.emit(first, "seoul", "notice_revived", "suspended notice revived")
            m.emit(first, "seoul", "pact_terminated", "terminated on revival")
            m.episode.terminated = True
        elif s == WTO:
            m.emit(first, "seoul", "wto_complaint", "against the export controls")
        elif s == SIGN:
            m.emit(day, "both", "pact_signed", "signed and effective")
            m.calendar = m.calendar.signed(day)
            m.episode.ever_active = True
            m.scheduled_signing = None
        elif s == POSTPONE:
            months = int(m.params.postpone_months)
            m.emit(day, "seoul", "signing_postponed", f"{months} months")
            m.scheduled_signing = add_months(day, months)
        elif s == ABANDON:
            m.emit(day, "seoul", "signing_abandoned", "")
            m.episode.signing_abandoned = True
            m.scheduled_signing = None
        if s in (WTO_SUSPEND, PACKAGE):
            m.emit(day, "seoul", "wto_suspension", "while export-control talks go on")

    def stance(self) -> float:
        """Hardness toward Tokyo, plus half a point for a standing WTO complaint."""
        m = self.model
        return float(hardness(m.params)[int(m.pact)]) + 0.5 * (m.wto == WTO_ACTIVE)

    def relations(self) -> dict[tuple[str, str], dict[str, float]]:
        """Its defiance strains the alliance."""
        tension = float(defiance(self.model.params)[int(self.model.pact)])
        return {("seoul", "washington"): {"tension": tension}}
