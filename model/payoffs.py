"""Explicit, parameterised payoffs of the four governments, vectorised over action profiles.

One month of the crisis is an extensive-form game: Washington and Beijing move first
(simultaneously), then Tokyo, then Seoul (see ``model.decisions``). This module gives,
for a batch of states and every profile of moves, (1) the state the moves lead to and
(2) each government's utility for the month, broken into the components of
``model.actions.COMPONENTS``. The formulas are in the README's "Payoffs" section; each
term cites the stylised fact or paper it encodes.

Array axes: ``(B, U, J, T, S)`` = batch of states, Washington's, Beijing's, Tokyo's and
Seoul's moves; utilities add ``(..., 4 players, 6 components)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.actions import (
    ALLIANCE,
    AUDIENCE,
    BEIJING,
    BEIJING_COST,
    BEIJING_STRENGTH,
    CHINA,
    COMPONENTS,
    ECONOMIC,
    N_CURB,
    POSTPONE_COST,
    PRESSURE_COST,
    PRESSURE_LEVELS,
    S_ABANDON,
    S_HOLD,
    S_NOTICE,
    S_PACKAGE,
    S_POSTPONE,
    S_RESCIND,
    S_REVIVE,
    S_SIGN,
    S_SUSPEND,
    S_WTO,
    S_WTO_SUSPEND,
    SECURITY,
    SEOUL,
    SEOUL_ACTIONS,
    T_HOLD,
    T_LIFT,
    T_TALKS,
    T_TARGETED,
    T_WHITELIST,
    TOKYO,
    TOKYO_ACTIONS,
    US_ACTIONS,
    WASHINGTON,
    WTO_SUSPENSION_FACE,
    Pact,
)

N_PLAYERS = 4
N_COMP = len(COMPONENTS)
WTO_NONE, WTO_ACTIVE, WTO_SUSPENDED = 0, 1, 2
WTO_STATES = ("none", "active", "suspended")

# Seoul's stance per pact state: how much it defies Washington (alliance cost, Beijing's
# gain) and how hard it stands against Tokyo (approval when the public leans hard).
# A suspended notice is half a threat at home ("could be terminated at any moment") and
# mostly a climb-down abroad: Washington welcomed it.
DEFIANCE = np.array([0.0, 0.0, 1.0, 0.25, 1.0])
HARDNESS = np.array([0.0, 0.0, 1.0, 0.5, 1.0])
ALIVE = np.array([0.0, 1.0, 1.0, 1.0, 0.0])
WTO_HARDNESS = np.array([0.0, 0.3, 0.15])
"""Hardness added by Seoul's WTO complaint: none, standing, suspended (it can resume)."""
TALKS_PROSPECT = 0.15
"""Share of the curbs' damage to Seoul that ongoing talks are expected to recover."""

# Seoul's move -> pact state after it (-1: unchanged).
_PACT_AFTER = np.full(len(SEOUL_ACTIONS), -1)
_PACT_AFTER[[S_NOTICE, S_SUSPEND, S_PACKAGE, S_RESCIND, S_REVIVE, S_SIGN, S_ABANDON]] = [
    Pact.NOTICE_PENDING,
    Pact.SUSPENDED,
    Pact.SUSPENDED,
    Pact.ACTIVE,
    Pact.TERMINATED,
    Pact.ACTIVE,
    Pact.TERMINATED,
]
# Share of the full audience cost paid for backing down by each move.
_SUSPENDS = np.isin(np.arange(len(SEOUL_ACTIONS)), [S_SUSPEND, S_PACKAGE])
_PAUSES_WTO = np.isin(np.arange(len(SEOUL_ACTIONS)), [S_WTO_SUSPEND, S_PACKAGE])


@dataclass(frozen=True)
class Environment:
    """Slow variables, held fixed while the month's moves are chosen.

    They are the governments' beliefs for the lookahead too: each expects the public
    mood, the threat and the relations to stay as they are now.
    """

    threat: float
    poll: float
    boycott_share: float
    tension: float
    grievance: float
    trade_dependence: float
    commitment: float


@dataclass(frozen=True)
class MonthCalendar:
    """What the pact's calendar allows in one month."""

    notice_open: bool
    expiry: bool
    signing: bool


@dataclass(frozen=True)
class States:
    """A batch of discrete states (pact, curb level, WTO complaint, talks)."""

    pact: np.ndarray
    curb: np.ndarray
    wto: np.ndarray
    talks: np.ndarray

    @property
    def size(self) -> int:
        """Number of states in the batch."""
        return len(self.pact)


@dataclass(frozen=True)
class Menus:
    """The moves each government may consider (codes into the action tuples)."""

    us: np.ndarray  # (U,)
    beijing: np.ndarray  # (J,)
    tokyo: np.ndarray  # (B, T): per state; padding entries are marked invalid
    seoul: np.ndarray  # (B, S)
    tokyo_valid: np.ndarray | None = None  # (B, T) False on padding
    seoul_valid: np.ndarray | None = None  # (B, S)


@dataclass(frozen=True)
class Profiles:
    """Every profile of moves from a batch of states: the month's utilities, the state
    each profile leads to, and which moves are feasible."""

    flow: np.ndarray  # (B, U, J, T, S, 4, C)
    flow_total: np.ndarray  # (B, U, J, T, S, 4): summed over components
    pact_after: np.ndarray  # (B, T, S) state right after the moves
    pact_next: np.ndarray  # (B, T, S) state at the end of the month, after any lapse
    curb_next: np.ndarray  # (B, T)
    wto_next: np.ndarray  # (B, T, S)
    talks_next: np.ndarray  # (B, T, S)
    tokyo_ok: np.ndarray  # (B, T)
    seoul_ok: np.ndarray  # (B, T, S)


def tokyo_moves(states: States, tokyo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Curb level after each of Tokyo's moves, and which moves are feasible, (B, T).

    Curbs climb one rung a month (targeted controls 2019-07-04, then the white-list
    removal 2019-08-02); lifting drops them all. Talks on the curbs are offered in
    exchange for a pause of Seoul's WTO complaint against them (2019-11-22), so they need
    both curbs and a standing complaint.
    """
    curb = states.curb[:, None]
    t = tokyo
    ok = np.ones(tokyo.shape, dtype=bool)
    ok &= (t != T_TARGETED) | (curb == 0)
    ok &= (t != T_WHITELIST) | (curb == 1)
    ok &= (t != T_LIFT) | (curb > 0)
    ok &= (t != T_TALKS) | (
        (curb > 0) & (states.talks[:, None] == 0) & (states.wto[:, None] == WTO_ACTIVE)
    )
    curb_next = np.where(t == T_TARGETED, 1, np.where(t == T_WHITELIST, 2, curb))
    curb_next = np.where(t == T_LIFT, 0, curb_next)
    return np.broadcast_to(curb_next, ok.shape).copy(), ok


def seoul_moves(
    states: States, cal: MonthCalendar, tokyo: np.ndarray, curb_next: np.ndarray, seoul: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seoul's feasible moves and their effects, given Tokyo's move this month.

    Returns ``(ok, pact_after, wto_after, talks_after)``, each (B, T, S). A notice only
    inside the notice window; suspension and rescission only of a standing notice
    (rescission also of a suspended one, which normalises the pact); a WTO complaint only
    against curbs in force. Talks start when Tokyo offers them and Seoul pauses its WTO
    complaint and keeps the pact (no standing notice): the symmetric pause of 2019-11-22.
    """
    b, nt, ns = states.size, tokyo.shape[1], seoul.shape[1]
    pact = states.pact[:, None, None]
    wto = states.wto[:, None, None]
    s = seoul[:, None, :]
    ok = np.ones((b, nt, ns), dtype=bool)
    negotiating = pact == Pact.NEGOTIATING
    signing_moves = (s == S_SIGN) | (s == S_POSTPONE) | (s == S_ABANDON)
    ok &= ~signing_moves | (negotiating & cal.signing)
    # a scheduled signing month must settle the signing: sign, postpone or abandon
    ok &= signing_moves | ~(negotiating & cal.signing)
    ok &= (s != S_NOTICE) | ((pact == Pact.ACTIVE) & cal.notice_open)
    ok &= ~_SUSPENDS[s] | (pact == Pact.NOTICE_PENDING)
    ok &= (s != S_RESCIND) | (pact == Pact.NOTICE_PENDING) | (pact == Pact.SUSPENDED)
    ok &= (s != S_REVIVE) | (pact == Pact.SUSPENDED)
    ok &= (s != S_WTO) | ((wto == WTO_NONE) & (curb_next[:, :, None] > 0))
    ok &= ~_PAUSES_WTO[s] | (wto == WTO_ACTIVE)
    after = _PACT_AFTER[s]
    pact_after = np.where(after >= 0, after, pact)
    wto_after = np.where(s == S_WTO, WTO_ACTIVE, np.where(_PAUSES_WTO[s], WTO_SUSPENDED, wto))
    offered = (tokyo == T_TALKS)[:, :, None]
    # Tokyo talks with a Seoul that keeps the pact and pauses its WTO case
    kept = (pact_after != Pact.NOTICE_PENDING) & (pact_after != Pact.TERMINATED)
    reciprocated = (_PAUSES_WTO[s] | (wto != WTO_ACTIVE)) & kept
    talks_after = (offered & reciprocated) | (states.talks[:, None, None] == 1)
    talks_after &= curb_next[:, :, None] > 0
    shape = (b, nt, ns)
    return (
        ok,
        np.broadcast_to(pact_after, shape),
        np.broadcast_to(wto_after, shape),
        np.broadcast_to(talks_after, shape).astype(np.int8),
    )


def month_profiles(
    p: dict[str, float],
    env: Environment,
    cal: MonthCalendar,
    states: States,
    menus: Menus,
    lasting: bool = False,
) -> Profiles:
    """Every government's utility for the month under every profile of moves.

    ``p`` holds the model parameters by name (see ``model.parameters``). With
    ``lasting``, the month stands for the months after a deadline: Washington keeps
    pressing only as long as Seoul defies, so its cost scales with Seoul's defiance.
    """
    curb_next, tokyo_ok = tokyo_moves(states, menus.tokyo)
    seoul_ok, pact_after, wto_after, talks_after = seoul_moves(
        states, cal, menus.tokyo, curb_next, menus.seoul
    )
    if menus.tokyo_valid is not None:
        tokyo_ok &= menus.tokyo_valid
    if menus.seoul_valid is not None:
        seoul_ok &= menus.seoul_valid[:, None, :]
    bsz, nu, nj = states.size, len(menus.us), len(menus.beijing)
    nt, ns = menus.tokyo.shape[1], menus.seoul.shape[1]
    us = np.asarray(US_ACTIONS)[menus.us]
    ps = (us[:, 0] / (PRESSURE_LEVELS - 1))[None, :, None, None, None]
    pt = us[:, 1].astype(float)[None, :, None, None, None]
    strength = np.asarray(BEIJING_STRENGTH)[menus.beijing][None, None, :, None, None]
    bj_cost = np.asarray(BEIJING_COST)[menus.beijing][None, None, :, None, None]

    # (B, 1, 1, T, S) views of the state after the moves
    pa = pact_after[:, None, None, :, :]
    alive, defiance, hardness = ALIVE[pa], DEFIANCE[pa], HARDNESS[pa]
    hardness = hardness + WTO_HARDNESS[wto_after][:, None, None, :, :]
    cn = curb_next[:, None, None, :, None]
    curb_share = cn / (N_CURB - 1)
    curbed = (cn > 0).astype(float)
    talks = talks_after[:, None, None, :, :].astype(float)
    tokyo = menus.tokyo[:, None, None, :, None]
    seoul = menus.seoul[:, None, None, None, :]
    # a symmetric pause: Tokyo's fresh offer taken up this month (2019-11-22)
    fresh_talks = talks * (states.talks == 0)[:, None, None, None, None] * (tokyo == T_TALKS)
    wto_standing = (wto_after == WTO_ACTIVE)[:, None, None, :, :].astype(float)

    poll, threat, grievance = env.poll, env.threat, env.grievance
    intel = p["security_value"] * threat * (1.0 - p["tisa_fallback"])
    trust = np.clip(1.0 - env.tension - p["trust_loss"] * curb_share, 0.0, 1.0)
    curb_damage = p["trade_damage"] * env.trade_dependence * curb_share

    shape = (bsz, nu, nj, nt, ns)
    u = np.zeros((*shape, N_PLAYERS, N_COMP))

    # --- Seoul -------------------------------------------------------------------------
    # Security: the pact's intelligence over the TISA fallback, scaled by threat and by
    # trust, which Tokyo's curbs erode ("grave change", 2019-08-22).
    u[..., SEOUL, SECURITY] = intel * trust * alive
    # Talks on the curbs hold out a prospect of their removal ("Seoul would reconsider
    # only if Tokyo retracted the export curbs").
    u[..., SEOUL, ECONOMIC] = -p["korea_exposure"] * curb_damage * (
        1.0 - TALKS_PROSPECT * talks
    ) - p["wto_cost"] * (seoul == S_WTO)
    # Two-level game (Putnam 1988): approval for a hard stance when the public leans to
    # termination; audience costs for backing down from a public commitment (Fearon 1994).
    approval = p["opinion_weight"] * (2.0 * poll - 1.0) * hardness
    backdown = p["audience_cost"] * poll * env.commitment
    face = np.where(_SUSPENDS[seoul], p["suspension_face"], 0.0)
    face = np.where(seoul == S_RESCIND, 1.0, face) * (1.0 - p["face_saving"] * fresh_talks)
    pause = _PAUSES_WTO[seoul] * WTO_SUSPENSION_FACE * p["audience_cost"] * poll
    signing_cost = (seoul == S_SIGN) * p["audience_cost"] * poll + (seoul == S_POSTPONE) * (
        POSTPONE_COST
    )
    u[..., SEOUL, AUDIENCE] = approval - backdown * face - pause - signing_cost
    # Alliance cost of defying Washington, with a floor that outlasts active pressure.
    u[..., SEOUL, ALLIANCE] = (
        -p["us_pressure_weight"] * defiance * (ps + p["us_baseline_displeasure"])
    )
    u[..., SEOUL, CHINA] = p["china_influence"] * strength * defiance

    # --- Tokyo -------------------------------------------------------------------------
    u[..., TOKYO, SECURITY] = p["tokyo_security_weight"] * intel * alive
    u[..., TOKYO, ECONOMIC] = (
        -p["japan_exposure"] * curb_damage
        - p["boycott_damage"] * env.boycott_share * curbed
        - p["wto_pressure"] * wto_standing
    )
    hardline = p["japan_resolve"] * grievance
    lifting = (
        (tokyo == T_LIFT)
        * p["lift_face"]
        * hardline
        * states.curb[:, None, None, None, None]
        / (N_CURB - 1)
    )
    talking = p["talks_cost"] * hardline * (talks + (tokyo == T_TALKS))
    u[..., TOKYO, AUDIENCE] = hardline * curb_share - lifting - talking
    u[..., TOKYO, ALLIANCE] = (
        -p["us_pressure_weight"] * p["tokyo_pressure_sensitivity"] * pt * curb_share
    )

    # --- Washington: the pact is "foundational"; pressure has a price ------------------
    u[..., WASHINGTON, SECURITY] = p["us_security_weight"] * intel * alive
    pressing = ps * defiance if lasting else ps
    u[..., WASHINGTON, PRESSURE_COST] = (
        -p["us_pressure_cost"] * pressing - p["us_tokyo_pressure_cost"] * pt
    )

    # --- Beijing: gains from a weakened triangle, pays for inducements ------------------
    u[..., BEIJING, CHINA] = p["china_influence"] * defiance
    u[..., BEIJING, PRESSURE_COST] = -p["inducement_cost"] * bj_cost

    # Lapse at the end of the expiry month if the notice that stood at its start still
    # stands (a notice given this month is for a later anniversary).
    pact_next = pact_after.copy()
    if cal.expiry:
        standing = (states.pact == Pact.NOTICE_PENDING)[:, None, None]
        pact_next[standing & (pact_after == Pact.NOTICE_PENDING)] = Pact.TERMINATED
    return Profiles(
        flow=u,
        flow_total=u.sum(axis=-1),
        pact_after=pact_after,
        pact_next=pact_next,
        curb_next=curb_next,
        wto_next=wto_after,
        talks_next=talks_after,
        tokyo_ok=tokyo_ok,
        seoul_ok=seoul_ok,
    )


def terminal_values(
    p: dict[str, float],
    env: Environment,
    states: States,
    us: np.ndarray,
    beijing: np.ndarray,
) -> np.ndarray:
    """Value of ending the lookahead in each state, (B, U, J, 4, C).

    ``terminal_months`` of the state's monthly utility with Tokyo and Seoul holding and
    the third parties keeping the stance they took in the deadline month (codes ``us`` and
    ``beijing``): pressure applied at the deadline is the pressure Seoul expects to live
    with if the pact lapses, and Washington pays for it as long.
    """
    cal = MonthCalendar(notice_open=False, expiry=False, signing=False)
    # A notice still standing after the horizon is valued as the lapse it will cause: its
    # fate is not decided within the horizon, and a notice is a promise to terminate.
    lapsing = states.pact == Pact.NOTICE_PENDING
    states = States(
        pact=np.where(lapsing, int(Pact.TERMINATED), states.pact),
        curb=states.curb,
        wto=states.wto,
        talks=states.talks,
    )
    hold = Menus(
        us=us,
        beijing=beijing,
        tokyo=np.full((states.size, 1), T_HOLD),
        seoul=np.full((states.size, 1), S_HOLD),
    )
    flow = month_profiles(p, env, cal, states, hold, lasting=True).flow[:, :, :, 0, 0]
    return p["terminal_months"] * flow


def full_menus(batch: int) -> Menus:
    """Every move of every government, for each of ``batch`` states (feasibility is
    decided per state by ``tokyo_moves``/``seoul_moves``)."""
    return Menus(
        us=np.arange(len(US_ACTIONS)),
        beijing=np.arange(len(BEIJING_STRENGTH)),
        tokyo=np.tile(np.arange(len(TOKYO_ACTIONS)), (batch, 1)),
        seoul=np.tile(np.arange(len(SEOUL_ACTIONS)), (batch, 1)),
    )
