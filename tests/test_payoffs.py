"""Monotonicity properties of the payoffs (the actor modules in agents/), on small states.

Each property says which way a payoff component must move when one parameter or one
feature of the state moves, everything else held fixed; hypothesis draws the rest of the
parameters within their declared bounds and the slow variables within their ranges. No
property depends on a calibrated default.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents import beijing, seoul, tokyo, washington
from agents.beijing import Beijing
from agents.seoul import Seoul
from agents.tokyo import Tokyo
from model.calendar import MonthCalendar
from model.environment import Environment
from model.game import build, components, utilities
from model.model import make_cast
from model.pact import N_CURB, WTO_ACTIVE, WTO_NONE, WTO_STATES, Pact
from model.parameters import PARAMETERS, defaults
from model.params import make_params

# The payoffs of every actor, read through the composed game (``model.game``): one
# profile of moves from one state gives each player's utility by component.
CAST = make_cast(None, None)
SEOUL, TOKYO, WASHINGTON, BEIJING = (
    CAST.player("seoul"),
    CAST.player("tokyo"),
    CAST.player("washington"),
    CAST.player("beijing"),
)
COMPONENTS = CAST.components
SECURITY, ECONOMIC, AUDIENCE, ALLIANCE, CHINA, PRESSURE_COST = (
    COMPONENTS.index(c)
    for c in ("security", "economic", "audience", "alliance", "china", "pressure_cost")
)
S_HOLD, S_NOTICE, S_SUSPEND, S_RESCIND = seoul.HOLD, seoul.NOTICE, seoul.SUSPEND, seoul.RESCIND
S_PACKAGE, S_SIGN, S_POSTPONE, S_ABANDON = seoul.PACKAGE, seoul.SIGN, seoul.POSTPONE, seoul.ABANDON
SEOUL_ACTIONS, TOKYO_ACTIONS = Seoul.moves, Tokyo.moves
T_HOLD, T_TARGETED, T_TALKS = tokyo.HOLD, tokyo.TARGETED, tokyo.TALKS
B_NONE, B_RHETORIC, B_INDUCEMENT = range(len(Beijing.moves))
US_ACTIONS = washington.MOVES
PRESSURE_LEVELS = washington.PRESSURE_LEVELS
ORDER = CAST.order.movers  # washington, beijing, tokyo, seoul


@dataclass
class States:
    pact: np.ndarray
    curb: np.ndarray
    wto: np.ndarray
    talks: np.ndarray
    pressure: np.ndarray | None = None  # Washington's declared pressure (0 when None)

    @property
    def size(self) -> int:
        return len(self.pact)


@dataclass
class Menus:
    us: np.ndarray
    beijing: np.ndarray
    tokyo: np.ndarray
    seoul: np.ndarray


@dataclass
class Prof:
    flow: np.ndarray  # (B, U, J, T, S, 4, C), players in the order above
    pact_after: np.ndarray  # (B, T, S)
    pact_next: np.ndarray
    tokyo_ok: np.ndarray  # (B, T)
    seoul_ok: np.ndarray  # (B, T, S)


def _params(p: dict[str, float]):
    return make_params(defaults() | p)


def _state(states: States) -> dict[str, np.ndarray]:
    pressure = np.zeros_like(states.pact) if states.pressure is None else states.pressure
    return {
        "pact": states.pact,
        "wto": states.wto,
        "curb": states.curb,
        "talks": states.talks,
        "pressure": pressure,
    }


def _build(cal: MonthCalendar, states: States, menus: Menus, lasting: bool):
    start = _state(states)
    m = {
        "washington": menus.us,
        "beijing": menus.beijing,
        "tokyo": menus.tokyo,
        "seoul": menus.seoul,
    }
    return build(CAST, cal, start, m, lasting=lasting)


def month_profiles(p, env, cal, states, menus, lasting=False) -> Prof:
    g = _build(cal, states, menus, lasting)
    _, comps = utilities(g, _params(p), env)
    flow = components(g, comps)
    b, nt, ns = g.shape[0], g.shape[3], g.shape[4]

    def bts(a):  # (B, 1, 1, T, S) -> (B, T, S)
        return np.broadcast_to(a, g.shape)[:, 0, 0]

    return Prof(
        flow=flow,
        pact_after=bts(g.state["pact"]),
        pact_next=bts(g.next["pact"]),
        tokyo_ok=np.broadcast_to(g.ok["tokyo"], g.shape)[:, 0, 0, :, 0].reshape(b, nt),
        seoul_ok=bts(g.ok["seoul"]).reshape(b, nt, ns),
    )


def terminal_values(p, env, states, us, bj) -> np.ndarray:
    """(B, U, J, 4, C): ``terminal_months`` of a lasting month after the horizon."""
    state = _state(states)
    state.update(Seoul.at_horizon(state))
    hold = Menus(us, bj, np.zeros((states.size, 1), int), np.zeros((states.size, 1), int))
    quiet = MonthCalendar(notice_open=False, expiry=False, signing=False)
    flow = month_profiles(p, env, quiet, States(**state), hold, lasting=True).flow
    return _params(p).terminal_months * flow[:, :, :, 0, 0]


def full_menus(batch: int) -> Menus:
    return Menus(
        us=np.arange(len(US_ACTIONS)),
        beijing=np.arange(len(Beijing.moves)),
        tokyo=np.tile(np.arange(len(TOKYO_ACTIONS)), (batch, 1)),
        seoul=np.tile(np.arange(len(SEOUL_ACTIONS)), (batch, 1)),
    )


QUIET = MonthCalendar(notice_open=False, expiry=False, signing=False)
TOL = 1e-9
ALIVE_STATES = (Pact.ACTIVE, Pact.NOTICE_PENDING, Pact.SUSPENDED)
NUMERIC = [
    k for k, v in defaults().items() if isinstance(v, int | float) and not isinstance(v, bool)
]


def base_params(**over: float) -> dict[str, float]:
    return {k: float(defaults()[k]) for k in NUMERIC} | over


def bounded(name: str) -> st.SearchStrategy[float]:
    p = PARAMETERS[name]
    return st.floats(p.low, p.high, allow_nan=False)


def pair(name: str) -> st.SearchStrategy[tuple[float, float]]:
    """Two values of ``name``, low first."""
    return st.tuples(bounded(name), bounded(name)).map(sorted)


def unit() -> st.SearchStrategy[float]:
    return st.floats(0.0, 1.0)


def unit_pair() -> st.SearchStrategy[tuple[float, float]]:
    return st.tuples(unit(), unit()).map(sorted)


envs = st.builds(
    Environment,
    threat=st.floats(0.0, 5.0),
    poll=unit(),
    boycott_share=unit(),
    tension=unit(),
    grievance=st.floats(0.0, 5.0),
    trade_dependence=unit(),
)
# every parameter the payoffs read, drawn within its declared bounds (the rest at defaults)
_SOURCE = "".join(inspect.getsource(m) for m in (seoul, tokyo, washington, beijing))
PAYOFF_KEYS = [k for k in NUMERIC if f"p.{k}" in _SOURCE]
param_sets = st.fixed_dictionaries({k: bounded(k) for k in PAYOFF_KEYS}).map(
    lambda drawn: base_params(**drawn)
)
PROPS = settings(max_examples=60)


def env_with(env: Environment, **over: float) -> Environment:
    fields = {k: getattr(env, k) for k in Environment.__dataclass_fields__}
    return Environment(**(fields | over))


def one(
    p: dict[str, float],
    env: Environment,
    *,
    pact: int,
    curb: int = 0,
    wto: int = WTO_NONE,
    talks: int = 0,
    us: tuple[int, int] = (0, 0),
    bj: int = B_NONE,
    tokyo: int = T_HOLD,
    seoul: int = S_HOLD,
    cal: MonthCalendar = QUIET,
    lasting: bool = False,
    feasible: bool = True,
) -> np.ndarray:
    """(4 players, components) utilities of one profile from one state."""
    states = States(
        pact=np.array([int(pact)]),
        curb=np.array([curb]),
        wto=np.array([wto]),
        talks=np.array([talks]),
        pressure=np.array([us[0]]),
    )
    menus = Menus(
        us=np.array([washington.PRESS_TOKYO if us[1] else washington.HOLD]),
        beijing=np.array([bj]),
        tokyo=np.array([[tokyo]]),
        seoul=np.array([[seoul]]),
    )
    prof = month_profiles(p, env, cal, states, menus, lasting)
    if feasible:
        assert prof.tokyo_ok[0, 0], TOKYO_ACTIONS[tokyo]
        assert prof.seoul_ok[0, 0, 0], SEOUL_ACTIONS[seoul]
    return prof.flow[0, 0, 0, 0, 0]


def non_increasing(values: list[float]) -> bool:
    return all(b <= a + TOL for a, b in itertools.pairwise(values))


def non_decreasing(values: list[float]) -> bool:
    return all(b >= a - TOL for a, b in itertools.pairwise(values))


# ---- Washington's pressure on a defiant Seoul --------------------------------------------
@PROPS
@given(p=param_sets, env=envs)
def test_defiance_worth_less_under_more_us_pressure(p, env):
    defy = [one(p, env, pact=Pact.NOTICE_PENDING, us=(ps, 0))[SEOUL] for ps in range(4)]
    keep = [one(p, env, pact=Pact.ACTIVE, us=(ps, 0))[SEOUL] for ps in range(4)]
    assert non_increasing([u.sum() for u in defy])
    assert non_increasing([u[ALLIANCE] for u in defy])
    # pressure only bites on defiance: the relative value of the notice falls
    assert non_increasing([d.sum() - k.sum() for d, k in zip(defy, keep, strict=True)])
    assert np.allclose([k.sum() for k in keep], keep[0].sum())


@PROPS
@given(p=param_sets, env=envs, w=pair("us_pressure_weight"), ps=st.integers(0, 3))
def test_defiance_worth_less_with_heavier_us_pressure_weight(p, env, w, ps):
    lo, hi = (
        one(p | {"us_pressure_weight": x}, env, pact=Pact.NOTICE_PENDING, us=(ps, 0))[SEOUL]
        for x in w
    )
    assert hi.sum() <= lo.sum() + TOL


def test_us_pressure_strictly_hurts_a_standing_notice():
    p, env = base_params(us_pressure_weight=1.0), Environment(1.0, 0.5, 0.0, 0.0, 0.0, 1.0)
    u = [one(p, env, pact=Pact.NOTICE_PENDING, us=(ps, 0))[SEOUL, ALLIANCE] for ps in range(4)]
    assert all(b < a for a, b in itertools.pairwise(u))


@PROPS
@given(p=param_sets, env=envs)
def test_lasting_pressure_on_a_terminated_pact_lowers_seouls_terminal_value(p, env):
    n = PRESSURE_LEVELS
    terminated = np.full(n, int(Pact.TERMINATED))
    states = States(terminated, np.zeros(n, int), np.zeros(n, int), np.zeros(n, int), np.arange(n))
    hold = np.array([washington.HOLD])
    v = terminal_values(p, env, states, hold, np.array([B_NONE]))  # (B, 1, 1, 4, C)
    assert np.isfinite(v).all()
    assert non_increasing(list(v[:, 0, 0, SEOUL].sum(-1)))


# ---- audience costs of backing down ------------------------------------------------------
def backdown_cost(p: dict[str, float], env: Environment, move: int, tokyo: int = T_HOLD) -> float:
    """Seoul's audience utility of holding its notice minus that of ``move``."""
    kw = {"pact": Pact.NOTICE_PENDING, "tokyo": tokyo}
    return float(
        one(p, env, **kw)[SEOUL, AUDIENCE] - one(p, env, seoul=move, **kw)[SEOUL, AUDIENCE]
    )


@PROPS
@given(
    p=param_sets, env=envs, a=pair("audience_cost"), move=st.sampled_from([S_SUSPEND, S_RESCIND])
)
def test_backdown_cost_rises_with_audience_cost(p, env, a, move):
    lo, hi = (backdown_cost(p | {"audience_cost": x}, env, move) for x in a)
    assert hi >= lo - TOL


@PROPS
@given(p=param_sets, env=envs, q=unit_pair(), move=st.sampled_from([S_SUSPEND, S_RESCIND]))
def test_backdown_cost_rises_with_the_poll(p, env, q, move):
    lo, hi = (backdown_cost(p, env_with(env, poll=x), move) for x in q)
    assert hi >= lo - TOL


@PROPS
@given(p=param_sets, env=envs, poll=st.floats(0.5, 1.0))
def test_rescinding_costs_at_least_as_much_as_suspending(p, env, poll):
    # when the public leans to termination, withdrawing the notice is the bigger climb-down
    env = env_with(env, poll=poll)
    assert backdown_cost(p, env, S_RESCIND) >= backdown_cost(p, env, S_SUSPEND) - TOL


def _package_audience(p: dict[str, float], env: Environment, tokyo: int) -> float:
    u = one(p, env, pact=Pact.NOTICE_PENDING, curb=1, wto=WTO_ACTIVE, tokyo=tokyo, seoul=S_PACKAGE)
    return float(u[SEOUL, AUDIENCE])


@PROPS
@given(p=param_sets, env=envs)
def test_fresh_talks_offer_saves_face(p, env):
    with_talks = _package_audience(p, env, T_TALKS)
    without = _package_audience(p, env, T_HOLD)
    assert with_talks >= without - TOL
    strict = p["face_saving"] * p["audience_cost"] * p["suspension_face"] * env.poll
    if strict > 1e-6:
        assert with_talks > without


@PROPS
@given(p=param_sets, env=envs, f=pair("face_saving"))
def test_more_face_saving_cheaper_package(p, env, f):
    lo, hi = (_package_audience(p | {"face_saving": x}, env, T_TALKS) for x in f)
    assert hi >= lo - TOL


def test_audience_cost_strictly_matters():
    env = Environment(1.0, 0.6, 0.0, 0.0, 0.0, 1.0)
    costs = [backdown_cost(base_params(audience_cost=a), env, S_SUSPEND) for a in (0.0, 2.0, 5.0)]
    assert all(b > a for a, b in itertools.pairwise(costs))


# ---- security --------------------------------------------------------------------------------
SECURITY_HOLDERS = (SEOUL, TOKYO, WASHINGTON)


def _security(p: dict[str, float], env: Environment, pact: int, curb: int = 0) -> np.ndarray:
    return one(p, env, pact=pact, curb=curb)[list(SECURITY_HOLDERS), SECURITY]


@PROPS
@given(p=param_sets, env=envs, v=pair("security_value"), pact=st.sampled_from(ALIVE_STATES))
def test_security_rises_with_security_value(p, env, v, pact):
    lo, hi = (_security(p | {"security_value": x}, env, pact) for x in v)
    assert (hi >= lo - TOL).all()


@PROPS
@given(p=param_sets, env=envs, t=st.tuples(st.floats(0, 5), st.floats(0, 5)).map(sorted))
def test_security_rises_with_threat(p, env, t):
    for pact in ALIVE_STATES:
        lo, hi = (_security(p, env_with(env, threat=x), pact) for x in t)
        assert (hi >= lo - TOL).all()


@PROPS
@given(p=param_sets, env=envs, f=pair("tisa_fallback"), pact=st.sampled_from(ALIVE_STATES))
def test_security_falls_with_tisa_fallback(p, env, f, pact):
    lo, hi = (_security(p | {"tisa_fallback": x}, env, pact) for x in f)
    assert (hi <= lo + TOL).all()


@PROPS
@given(p=param_sets, env=envs)
def test_security_nonnegative_and_zero_without_the_pact(p, env):
    for pact in ALIVE_STATES:
        assert (_security(p, env, pact) >= -TOL).all()
    assert np.allclose(_security(p, env, Pact.TERMINATED), 0.0)


def test_security_strictly_rises_with_threat():
    p = base_params(security_value=1.0, tisa_fallback=0.4)
    env = Environment(1.0, 0.5, 0.0, 0.0, 0.0, 1.0)
    lo = _security(p, env, Pact.ACTIVE)
    hi = _security(p, env_with(env, threat=2.0), Pact.ACTIVE)
    assert (hi > lo).all()


@PROPS
@given(p=param_sets, env=envs, pact=st.sampled_from(ALIVE_STATES))
def test_seouls_security_falls_as_curbs_rise(p, env, pact):
    values = [float(one(p, env, pact=pact, curb=c)[SEOUL, SECURITY]) for c in range(N_CURB)]
    assert non_increasing(values)
    # imposing curbs this month already counts
    now = float(one(p, env, pact=pact, tokyo=T_TARGETED)[SEOUL, SECURITY])
    assert now <= values[0] + TOL


@PROPS
@given(p=param_sets, env=envs, loss=pair("trust_loss"), curb=st.integers(1, 2))
def test_seouls_security_falls_with_trust_loss(p, env, loss, curb):
    lo, hi = (
        float(one(p | {"trust_loss": x}, env, pact=Pact.ACTIVE, curb=curb)[SEOUL, SECURITY])
        for x in loss
    )
    assert hi <= lo + TOL


def test_curbs_strictly_erode_seouls_security():
    p = base_params(trust_loss=0.5, security_value=1.0, tisa_fallback=0.4)
    env = Environment(1.0, 0.5, 0.0, 0.0, 0.0, 1.0)
    values = [float(one(p, env, pact=Pact.ACTIVE, curb=c)[SEOUL, SECURITY]) for c in range(3)]
    assert values[0] > values[1] > values[2] > 0.0


# ---- Tokyo's hard line -------------------------------------------------------------------
def _curb_gain(p: dict[str, float], env: Environment) -> float:
    """Tokyo's audience gain of imposing targeted controls over holding, from no curbs."""
    curb = one(p, env, pact=Pact.ACTIVE, tokyo=T_TARGETED)[TOKYO, AUDIENCE]
    hold = one(p, env, pact=Pact.ACTIVE)[TOKYO, AUDIENCE]
    return float(curb - hold)


@PROPS
@given(p=param_sets, env=envs, r=pair("japan_resolve"))
def test_tokyos_gain_from_curbs_rises_with_resolve(p, env, r):
    lo, hi = (_curb_gain(p | {"japan_resolve": x}, env) for x in r)
    assert 0.0 - TOL <= lo <= hi + TOL


@PROPS
@given(p=param_sets, env=envs, g=st.tuples(st.floats(0, 5), st.floats(0, 5)).map(sorted))
def test_tokyos_gain_from_curbs_rises_with_grievance(p, env, g):
    lo, hi = (_curb_gain(p, env_with(env, grievance=x)) for x in g)
    assert 0.0 - TOL <= lo <= hi + TOL


@PROPS
@given(p=param_sets, env=envs)
def test_no_resolve_or_no_grievance_no_gain_from_curbs(p, env):
    assert abs(_curb_gain(p | {"japan_resolve": 0.0}, env)) < TOL
    assert abs(_curb_gain(p, env_with(env, grievance=0.0))) < TOL


def test_curb_gain_is_resolve_times_grievance():
    env = Environment(1.0, 0.5, 0.0, 0.0, 2.0, 1.0)
    g1 = _curb_gain(base_params(japan_resolve=1.0), env)
    g2 = _curb_gain(base_params(japan_resolve=2.0), env)
    g3 = _curb_gain(base_params(japan_resolve=1.0), env_with(env, grievance=4.0))
    assert g1 > 0.0
    assert np.isclose(g2, 2 * g1)
    assert np.isclose(g3, 2 * g1)


# ---- trade damage ---------------------------------------------------------------------------
def _economic(p: dict[str, float], env: Environment, curb: int) -> np.ndarray:
    return one(p, env, pact=Pact.ACTIVE, curb=curb)[[SEOUL, TOKYO], ECONOMIC]


@PROPS
@given(p=param_sets, env=envs, d=pair("trade_damage"), curb=st.integers(1, 2))
def test_trade_damage_hurts_both_and_rises_with_trade_damage(p, env, d, curb):
    lo, hi = (_economic(p | {"trade_damage": x}, env, curb) for x in d)
    assert (lo <= TOL).all()
    assert (hi <= lo + TOL).all()


@PROPS
@given(p=param_sets, env=envs)
def test_trade_damage_rises_with_curbs(p, env):
    values = [_economic(p, env, c) for c in range(N_CURB)]
    assert np.allclose(values[0], 0.0)  # no curbs, no complaint: no damage
    for a, b in itertools.pairwise(values):
        assert (b <= a + TOL).all()


def test_trade_damage_strictly_hurts_both():
    env = Environment(1.0, 0.5, 0.3, 0.0, 0.0, 1.0)
    lo = _economic(base_params(trade_damage=0.5), env, 2)
    hi = _economic(base_params(trade_damage=2.0), env, 2)
    assert (hi < lo).all() and (lo < 0).all()


# ---- Beijing and Washington ----------------------------------------------------------------
@PROPS
@given(p=param_sets, env=envs, bj=st.sampled_from([B_NONE, B_RHETORIC, B_INDUCEMENT]))
def test_beijing_gains_with_seouls_defiance(p, env, bj):
    # active < suspended (notice held in abeyance) < notice standing
    order = (Pact.ACTIVE, Pact.SUSPENDED, Pact.NOTICE_PENDING)
    gains = [float(one(p, env, pact=s, bj=bj)[BEIJING, CHINA]) for s in order]
    assert non_decreasing(gains)
    if p["china_influence"] > 1e-6 and 1e-6 < p["suspended_defiance"] < 1 - 1e-6:
        assert gains[0] < gains[1] < gains[2]


@PROPS
@given(p=param_sets, env=envs, pact=st.sampled_from(list(Pact)))
def test_inducements_cost_beijing(p, env, pact):
    """Beijing's cost of its move (agents/beijing.py ``cost``): nothing for none,
    ``rhetoric_cost`` of ``inducement_cost`` for rhetoric, all of it for an inducement,
    whatever the state."""
    costs = [
        float(one(p, env, pact=pact, bj=b)[BEIJING, PRESSURE_COST])
        for b in (B_NONE, B_RHETORIC, B_INDUCEMENT)
    ]
    expected = [0.0, -p["inducement_cost"] * p["rhetoric_cost"], -p["inducement_cost"]]
    np.testing.assert_allclose(costs, expected, rtol=1e-12, atol=1e-12)
    assert non_increasing(costs)


def test_rhetoric_costs_its_share_of_an_inducement():
    """rhetoric_cost 0.25 of inducement_cost 0.8 is 0.2; rhetoric_strength (0.6 here) has
    nothing to do with it."""
    env = Environment(1.0, 0.5, 0.0, 0.0, 0.0, 1.0)
    p = base_params(inducement_cost=0.8, rhetoric_cost=0.25, rhetoric_strength=0.6)
    cost = float(one(p, env, pact=Pact.ACTIVE, bj=B_RHETORIC)[BEIJING, PRESSURE_COST])
    assert cost == pytest.approx(-0.2, abs=1e-12)


def _us_defiance(p: dict[str, float], pact: int) -> float:
    """Seoul's defiance by pact state (docs/model/payoffs.md): a standing notice or a
    terminated pact 1, a suspended notice ``suspended_defiance``, else 0."""
    if pact in (Pact.NOTICE_PENDING, Pact.TERMINATED):
        return 1.0
    return p["suspended_defiance"] if pact == Pact.SUSPENDED else 0.0


@PROPS
@given(
    p=param_sets,
    env=envs,
    pact=st.sampled_from([s for s in Pact if s != Pact.NEGOTIATING]),
    lasting=st.booleans(),
)
def test_washingtons_cost_rises_with_its_pressure(p, env, pact, lasting):
    """Washington's cost (agents/washington.py ``prepared``): ``us_pressure_cost`` at
    all-out pressure on Seoul, in proportion to the rung (level / 3), times Seoul's
    defiance once the deadline has passed (``lasting``), plus ``us_tokyo_pressure_cost``
    for pressing Tokyo."""
    for pt in (0, 1):
        costs = [
            float(one(p, env, pact=pact, us=(ps, pt), lasting=lasting)[WASHINGTON, PRESSURE_COST])
            for ps in range(PRESSURE_LEVELS)
        ]
        pressing = np.arange(PRESSURE_LEVELS) / (PRESSURE_LEVELS - 1)
        if lasting:
            pressing = pressing * _us_defiance(p, pact)
        expected = -p["us_pressure_cost"] * pressing - p["us_tokyo_pressure_cost"] * pt
        np.testing.assert_allclose(costs, expected, rtol=1e-12, atol=1e-12)
        assert non_increasing(costs)


def test_pressing_seoul_strictly_costs_washington():
    """us_pressure_cost 1.5 at all-out: 0.5 a rung (rungs 0..3), and 0.4 more for
    pressing Tokyo."""
    env = Environment(1.0, 0.5, 0.0, 0.0, 0.0, 1.0)
    p = base_params(us_pressure_cost=1.5, us_tokyo_pressure_cost=0.4)
    costs = [
        float(one(p, env, pact=Pact.ACTIVE, us=(ps, 0))[WASHINGTON, PRESSURE_COST])
        for ps in range(4)
    ]
    assert costs == pytest.approx([0.0, -0.5, -1.0, -1.5], abs=1e-12)
    both = float(one(p, env, pact=Pact.ACTIVE, us=(3, 1))[WASHINGTON, PRESSURE_COST])
    assert both == pytest.approx(-1.9, abs=1e-12)


# ---- feasibility -----------------------------------------------------------------------------
def _grid() -> States:
    grid = np.array(
        list(itertools.product(range(len(Pact)), range(N_CURB), range(len(WTO_STATES)), (0, 1)))
    )
    return States(grid[:, 0], grid[:, 1], grid[:, 2], grid[:, 3])


GRID = _grid()
ALL_CALENDARS = [MonthCalendar(*flags) for flags in itertools.product((False, True), repeat=3)]


def _profiles(p: dict[str, float], env: Environment, cal: MonthCalendar):
    return month_profiles(p, env, cal, GRID, full_menus(GRID.size))


def test_notice_only_inside_the_window_and_from_an_active_pact():
    p, env = base_params(), Environment(1.0, 0.5, 0.0, 0.0, 1.0, 1.0)
    for cal in ALL_CALENDARS:
        prof = _profiles(p, env, cal)
        notice_ok = prof.seoul_ok[:, :, S_NOTICE]  # (B, T)
        expected = cal.notice_open & (GRID.pact == Pact.ACTIVE)
        for row, allowed in zip(notice_ok, expected, strict=True):
            assert (row == allowed).all()


def test_backing_down_only_from_a_standing_notice():
    p, env = base_params(), Environment(1.0, 0.5, 0.0, 0.0, 1.0, 1.0)
    prof = _profiles(p, env, QUIET)
    standing = GRID.pact == Pact.NOTICE_PENDING
    for move in (S_SUSPEND, S_PACKAGE):
        assert (prof.seoul_ok[:, :, move].any(axis=1) <= standing).all()
    may_rescind = standing | (GRID.pact == Pact.SUSPENDED)
    assert (prof.seoul_ok[:, :, S_RESCIND].any(axis=1) == may_rescind).all()


def test_talks_need_a_standing_wto_complaint_and_curbs():
    p, env = base_params(), Environment(1.0, 0.5, 0.0, 0.0, 1.0, 1.0)
    prof = _profiles(p, env, QUIET)
    talks_ok = prof.tokyo_ok[:, T_TALKS]
    assert not talks_ok[GRID.wto != WTO_ACTIVE].any()
    assert not talks_ok[GRID.curb == 0].any()
    assert not talks_ok[GRID.talks == 1].any()
    assert talks_ok.any()  # not vacuous


def test_hold_feasible_except_in_a_scheduled_signing_month():
    p, env = base_params(), Environment(1.0, 0.5, 0.0, 0.0, 1.0, 1.0)
    for cal in ALL_CALENDARS:
        prof = _profiles(p, env, cal)
        assert prof.tokyo_ok[:, T_HOLD].all()
        settle = (GRID.pact == Pact.NEGOTIATING) & cal.signing
        held = prof.seoul_ok[:, :, S_HOLD]
        assert held[~settle].all()
        # the signing month settles the signing: only sign, postpone or abandon
        assert not held[settle].any()
        assert prof.seoul_ok[settle][:, :, [S_SIGN, S_POSTPONE, S_ABANDON]].all()


def test_lapse_only_of_a_notice_standing_at_the_start_of_the_expiry_month():
    p, env = base_params(), Environment(1.0, 0.5, 0.0, 0.0, 1.0, 1.0)
    expiry = MonthCalendar(notice_open=True, expiry=True, signing=False)
    prof = _profiles(p, env, expiry)
    for b in range(GRID.size):
        pact = GRID.pact[b]
        hold = prof.pact_next[b, T_HOLD, S_HOLD]
        if pact == Pact.NOTICE_PENDING:
            assert hold == Pact.TERMINATED
            assert prof.pact_next[b, T_HOLD, S_SUSPEND] == Pact.SUSPENDED
            assert prof.pact_next[b, T_HOLD, S_RESCIND] == Pact.ACTIVE
        else:
            assert hold == pact
        if pact == Pact.ACTIVE:  # a notice given this month is for a later anniversary
            assert prof.pact_next[b, T_HOLD, S_NOTICE] == Pact.NOTICE_PENDING
    quiet = _profiles(p, env, QUIET)  # no expiry: nothing lapses
    assert (quiet.pact_next == quiet.pact_after).all()


# ---- finiteness -----------------------------------------------------------------------------
@settings(max_examples=30)
@given(p=param_sets, env=envs, cal=st.sampled_from(ALL_CALENDARS), lasting=st.booleans())
def test_flows_and_terminal_values_finite(p, env, cal, lasting):
    menus = full_menus(GRID.size)
    prof = month_profiles(p, env, cal, GRID, menus, lasting)
    assert prof.flow.shape[-2:] == (4, 6)
    assert np.isfinite(prof.flow).all()
    v = terminal_values(p, env, GRID, menus.us, menus.beijing)
    assert np.isfinite(v).all()
