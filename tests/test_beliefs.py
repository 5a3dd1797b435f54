"""Consistent beliefs: every government's lookahead counts what its own move does to the
state its payoffs read (issue: validity, item 1).

Each test compares the expected utility a government gives one of its moves under two
values of a parameter that acts only through a consequence of that move: the
commitment behind audience costs that a notice creates, the strain a notice puts on
trust, the trust talks restore, the grievance talks relieve, the boycott and the poll
that curbs and a firm stance move, Korea's substitutes for curbed materials, the pressure
Washington must hold once declared. A lookahead that forgot the consequence would give
the move exactly the same value under both (the parameter would not enter any utility it
reads). Which way the value moves depends on how the others answer, so where the
consequence is felt only after the month the tests assert that it moves, and size it by
hand in a small set-up: one month ahead played uniformly (rationality 0) then the
terminal months, or the deadline month, whose continuation is the discounted terminal
value. Where it is felt in the month itself they size the month's part by hand. Every
test reads the options at a node of the month's game it sets (``decisions_at``: the
month solved from a state set by hand), whatever was drawn, so no test depends on the
path of a run.
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import date

import numpy as np
import pytest

from agents.public import PRESSURE_LEVELS
from model import GSOMIAModel
from model.opinion import OpinionEffects, OpinionNetwork, OpinionPush, PublicBelief
from model.pact import N_CURB

AUGUST = dict(start=date(2019, 8, 1), end=date(2019, 12, 31), grievance_initial=1.0)
"""The last month of the notice window of 2019, curbs not yet in force: an active pact,
no WTO complaint, no declared US pressure."""


def decisions_at(scenario: dict, moves: dict[str, str], **params: float) -> tuple:
    """Every mover's decision in the scenario's first month, valued at the node of the
    month's game where the movers made ``moves`` (by name; a mover not named, its first
    move), whatever the draws: the month's game solved from the scenario's state, read at
    a node the test sets. Also the slow variables the governments saw."""
    m = GSOMIAModel(rng=0, **scenario, **params)
    game = m.solve_month(m.date)
    positions = []
    for mover in m.cast.order.movers:
        names = m.cast.actor(mover).moves
        code = names.index(moves.get(mover, names[0]))
        positions.append(list(game.g.menus[mover][0]).index(code))
    decisions = dataclasses.replace(game, positions=positions).decisions()
    for mover, move in moves.items():
        decisions[mover].option(move)  # feasible at its node (KeyError if not)
    return decisions, m.environment(), m.params


def moves(a, b) -> bool:
    return abs(a.expected_utility - b.expected_utility) > 1e-3


UNIFORM_NEXT_MONTH = {"rationality": 0.0, "lookahead_months": 1}
"""A lookahead of one month in which everybody picks uniformly among its feasible moves
(so nobody's choice depends on the parameter under test), then the terminal months: the
continuation can be summed by hand."""


def uniform_september() -> list[tuple[float, int, int, int]]:
    """The profiles of September 2019 after a notice given in August with nobody else
    moving, each with its probability under uniform play, as (probability, pressure rung
    after Washington, curb level after Tokyo, number of Seoul's moves): Washington's
    lookahead menu is hold or raise (1/2 each), Beijing keeps its move, Tokyo holds or
    starts targeted curbs (1/2 each; nothing else without curbs), and Seoul, with its
    notice standing, holds, suspends or rescinds it, and files a WTO complaint only
    against curbs in force (3 moves, or 4)."""
    return [(0.25, rung, curb, 3 + curb) for rung in (0, 1) for curb in (0, 1)]


def test_notice_counts_the_commitment_it_creates():
    """Audience costs are paid only on backing down from a standing or suspended notice:
    a notice's value moves with them because the notice creates the commitment, while
    its month's own audience payoff (a notice is no climb-down) does not."""
    (lo, _, _), (hi, _, _) = (decisions_at(AUGUST, {}, audience_cost=x) for x in (2.0, 8.0))
    notice = [d["seoul"].option("termination_notice") for d in (lo, hi)]
    assert moves(*notice)
    assert notice[0].immediate["audience"] == pytest.approx(notice[1].immediate["audience"])


def test_notice_commitment_sized_one_month_ahead():
    """The commitment's price in the continuation, summed by hand. With a notice given in
    August and September played uniformly (``uniform_september``), audience_cost enters
    only Seoul's September climb-downs: backing down costs audience_cost * face * end,
    face ``suspension_face`` for a suspension and 1 for a rescission (no talks run, so no
    face is saved), end the share for ending the pact in the state after the climb-down
    (curbs as Tokyo left them, no firm stance, no talks, Washington's rung). The terminal
    months (Seoul holding) pay no climb-down. So the notice's audience continuation falls
    by discount * (8 - 2) * sum_profiles prob / n_seoul * (suspension_face + 1) * end when
    audience_cost goes from 2 to 8."""
    runs = [decisions_at(AUGUST, {}, audience_cost=x, **UNIFORM_NEXT_MONTH) for x in (2.0, 8.0)]
    (lo, env, p), (hi, _, _) = runs
    cost = sum(
        prob / n * (p.suspension_face + 1.0) * float(env.public.at(curb, 0, 0, rung)[0])
        for prob, rung, curb, n in uniform_september()
    )
    assert cost > 0.1  # the public has hawks to lose face with
    got = [d["seoul"].option("termination_notice").continuation["audience"] for d in (lo, hi)]
    assert got[1] - got[0] == pytest.approx(-p.discount * 6.0 * cost, rel=1e-9)


def test_hold_does_not_pay_for_a_commitment_it_never_makes():
    """Without a notice there is nothing to back down from: holding through the window
    is worth the same whatever audience costs are (no climb-down is possible in any later
    month: the window stays closed until the anniversary, and a notice given then lapses
    only after the horizon)."""
    (lo, _, _), (hi, _, _) = (decisions_at(AUGUST, {}, audience_cost=x) for x in (0.0, 8.0))
    hold = [d["seoul"].option("hold") for d in (lo, hi)]
    assert hold[1].expected_utility == pytest.approx(hold[0].expected_utility, abs=1e-9)
    notice = [d["seoul"].option("termination_notice") for d in (lo, hi)]
    assert moves(*notice)  # while the notice's value does move


def test_notice_counts_the_strain_it_puts_on_trust():
    """A standing notice strains trust by ``notice_tension`` (model/pact.py ``strain``):
    the notice's security this month is intelligence * (1 - notice_tension) with no
    curbs and no historical tension, so it is lower by intelligence * 0.5 at
    notice_tension 0.5 than at 0; holding starts no strain. The notice's value after the
    month moves too."""
    (lo, env, p), (hi, _, _) = (decisions_at(AUGUST, {}, notice_tension=x) for x in (0.0, 0.5))
    assert env.tension == 0.0
    intelligence = p.security_value * env.threat * (1.0 - p.tisa_fallback)
    notice = [d["seoul"].option("termination_notice") for d in (lo, hi)]
    assert notice[0].immediate["security"] == pytest.approx(intelligence, rel=1e-12)
    assert notice[1].immediate["security"] == pytest.approx(intelligence * 0.5, rel=1e-12)
    hold = [d["seoul"].option("hold").immediate["security"] for d in (lo, hi)]
    assert hold[1] == pytest.approx(hold[0], abs=1e-12)
    assert moves(*notice)


def test_notice_strain_sized_one_month_ahead():
    """The strain in the continuation, summed by hand. With September played uniformly
    (``uniform_september``), a strained pact in force costs Seoul intelligence *
    notice_tension a month: in September after holding, suspending or filing a complaint
    (all but a rescission; trust is 1 - notice_tension - trust_loss * curb / 2 > 0, never
    clipped), and in the terminal months only a suspended notice (a notice still standing
    counts as lapsed, so no pact to be strained; a rescinded one strains nothing). A
    rescission and a suspension are each 1/n of Seoul's moves, n = 3 without curbs and 4
    with, so P = (1/3 + 1/4) / 2 = 7/24 each. The notice's security continuation
    therefore falls by discount * intelligence * 0.5 * (17/24 + discount * terminal_months
    * 7/24) when notice_tension goes from 0 to 0.5."""
    runs = [decisions_at(AUGUST, {}, notice_tension=x, **UNIFORM_NEXT_MONTH) for x in (0.0, 0.5)]
    (lo, env, p), (hi, _, _) = runs
    assert env.tension == 0.0 and 0.5 + p.trust_loss / 2 < 1.0
    p_each = sum(prob / n for prob, _, _, n in uniform_september())
    assert p_each == pytest.approx(7 / 24)
    intelligence = p.security_value * env.threat * (1.0 - p.tisa_fallback)
    months = (1.0 - p_each) + p.discount * p.terminal_months * p_each
    got = [d["seoul"].option("termination_notice").continuation["security"] for d in (lo, hi)]
    assert got[1] - got[0] == pytest.approx(-p.discount * intelligence * 0.5 * months, rel=1e-9)


def test_notice_counts_the_rally_it_causes():
    """A firm stance rallies the public: the notice's audience this month is
    opinion_weight * (end - keep) read in the state it creates (no curbs, a firm stance,
    no talks, no pressure; hardness 1, no complaint, no climb-down), and a stronger rally
    raises end and lowers keep there, so the notice's approval is larger."""
    runs = [decisions_at(AUGUST, {}, rally=x) for x in (0.0, 0.3)]
    audience, firm_public = [], []
    for d, env, p in runs:
        end, keep, _ = (float(v) for v in env.public.at(0, 1, 0, 0))
        got = d["seoul"].option("termination_notice").immediate["audience"]
        assert got == pytest.approx(p.opinion_weight * (end - keep), rel=1e-9, abs=1e-12)
        audience.append(got)
        firm_public.append((end, keep))
    (end_lo, keep_lo), (end_hi, keep_hi) = firm_public
    assert end_hi > end_lo and keep_hi <= keep_lo  # the rally is felt in the belief
    assert audience[1] > audience[0]
    assert moves(*(d["seoul"].option("termination_notice") for d, _, _ in runs))


CURBED = dict(
    start=date(2019, 9, 1),
    end=date(2019, 12, 31),
    pact_state="notice_pending",
    notice_date=date(2019, 8, 23),
    initial_curb_level=2,
    grievance_initial=1.0,
)
"""September 2019: full curbs, a standing notice, no WTO complaint yet."""


TALKS_NOVEMBER = dict(CURBED, start=date(2019, 11, 1), initial_wto="active")
"""November 2019: full curbs, a standing notice, a standing WTO complaint, no talks yet:
Tokyo may offer talks, Seoul may take them up by suspending the notice and pausing the
complaint (the package of 2019-11-22)."""
PACKAGE = "conditional_suspension+wto_suspension"


@pytest.mark.parametrize("relief", [(0.1, 0.3), (0.0, 0.2)])
def test_taking_up_talks_counts_the_trust_they_restore(relief):
    """Tokyo has offered talks; Seoul's package starts them, and running talks restore
    ``talks_relief`` of trust (model/pact.py ``strain``), so the package's security this
    month is larger by intelligence * (difference of talks_relief), and it is worth more
    after the month too. Holding the notice starts no talks: its security this month does
    not move. Trust stays inside [0, 1]: tension + notice_tension 0.05 + trust_loss 0.4
    (full curbs) - talks_relief is below 1 and above 0."""
    lo_relief, hi_relief = relief
    kw = {"notice_tension": 0.05, "trust_loss": 0.4}
    at = {"tokyo": "talks_offer"}
    (lo, env, p), (hi, _, _) = (
        decisions_at(TALKS_NOVEMBER, at, talks_relief=x, **kw) for x in (lo_relief, hi_relief)
    )
    assert env.tension + 0.05 + 0.4 - hi_relief > 0.0 and env.tension + 0.45 < 1.0
    intelligence = p.security_value * env.threat * (1.0 - p.tisa_fallback)
    gain = hi["seoul"].option(PACKAGE).immediate["security"]
    gain -= lo["seoul"].option(PACKAGE).immediate["security"]
    assert gain == pytest.approx(intelligence * (hi_relief - lo_relief), rel=1e-9)
    hold = [d["seoul"].option("hold").immediate["security"] for d in (lo, hi)]
    assert hold[1] == pytest.approx(hold[0], abs=1e-12)
    later = hi["seoul"].option(PACKAGE).continuation["security"]
    assert later > lo["seoul"].option(PACKAGE).continuation["security"] + 1e-3


@pytest.mark.parametrize("relief", [(0.0, 1.0), (0.2, 0.6)])
def test_talks_offer_counts_the_grievance_talks_relieve(relief):
    """Tokyo's offer of talks, valued as Seoul may answer it (Washington and Beijing
    holding): only Seoul's package starts talks (a notice left standing, or a complaint
    not paused, does not), and running talks relieve ``talks_grievance_relief`` of the
    grievance that rewards the curbs. So the offer's audience this month is
    grievance * japan_resolve * (P(package) * (1 - relief) * (1 - 2 talks_cost)
    + (1 - P(package)) * (1 - talks_cost)): curbs at full share 1, talks costing once for
    the offer and once more while they run; P(package) is Seoul's probability of the
    package at that node."""
    kw = {"japan_resolve": 1.2, "talks_cost": 0.3}
    for x in relief:
        d, env, _ = decisions_at(
            CURBED | {"initial_wto": "active"},
            {"tokyo": "talks_offer"},
            talks_grievance_relief=x,
            **kw,
        )
        taken = d["seoul"].option(PACKAGE).probability
        assert taken > 0.0  # the relief is felt
        expected = env.grievance * 1.2 * (taken * (1 - x) * (1 - 0.6) + (1 - taken) * (1 - 0.3))
        got = d["tokyo"].option("talks_offer").immediate["audience"]
        assert got == pytest.approx(expected, rel=1e-9), x
    # the relief counts after the month too: the offer's value moves with it
    (lo, _, _), (hi, _, _) = (
        decisions_at(
            CURBED | {"initial_wto": "active"},
            {"tokyo": "talks_offer"},
            talks_grievance_relief=x,
            **kw,
        )
        for x in relief
    )
    assert moves(lo["tokyo"].option("talks_offer"), hi["tokyo"].option("talks_offer"))


JULY = dict(start=date(2019, 7, 1), end=date(2019, 12, 31), grievance_initial=1.0)
"""July 2019, before any curb: an active pact, the notice window open, no WTO complaint."""
CURBS = {"tokyo": "targeted_export_controls"}
"""Tokyo starts the targeted curbs (Washington and Beijing holding)."""


def curbs_economic(d: dict, env, p) -> float:
    """Tokyo's economic payoff this month from starting targeted curbs in July, by hand:
    its exporters lose japan_exposure * trade_damage * (1 - supply_diversification) / 2
    per unit of trade dependence (curb level 1 of 2; Korea replaces part of what is cut
    off), the boycott costs boycott_damage times the share boycotting in the state after
    Seoul's answer (curbs 1, no talks, no pressure; firm only after a notice), and a WTO
    complaint filed in answer costs wto_pressure; Seoul's answer in expectation over its
    probabilities at that node."""
    seoul = d["seoul"]
    assert {o.action for o in seoul.options} == {"hold", "termination_notice", "wto_complaint"}
    firm = seoul.option("termination_notice").probability
    filed = seoul.option("wto_complaint").probability
    boycott = [float(env.public.at(1, f, 0, 0)[2]) for f in (0, 1)]
    own = -p.japan_exposure * env.trade_dependence * p.trade_damage
    own *= (1.0 - p.supply_diversification) / 2
    expected_boycott = (1.0 - firm) * boycott[0] + firm * boycott[1]
    return own - p.boycott_damage * expected_boycott - p.wto_pressure * filed


def test_curbs_count_the_boycott_they_provoke():
    """Nobody boycotts before the curbs; the anger curbs cause is what makes them pay
    the boycott: the boycott Tokyo expects is read in the state its curbs create, so the
    curbs' economic payoff this month is ``curbs_economic`` (sized by hand at each value
    of curb_anger), falls as the anger raises the boycott there, and holding (no curbs:
    no damage, no boycott, no complaint possible) is worth exactly nothing."""
    runs = [decisions_at(JULY, CURBS, curb_anger=x) for x in (0.0, 0.5)]
    economic = []
    for d, env, p in runs:
        got = d["tokyo"].option("targeted_export_controls").immediate["economic"]
        assert got == pytest.approx(curbs_economic(d, env, p), rel=1e-9)
        assert d["tokyo"].option("hold").immediate["economic"] == 0.0
        economic.append(got)
    (_, lo_env, _), (_, hi_env, _) = runs
    for firm in (0, 1):  # the anger is felt in the boycott expected under curbs
        assert float(hi_env.public.at(1, firm, 0, 0)[2]) > float(lo_env.public.at(1, firm, 0, 0)[2])
    assert economic[1] < economic[0]
    (lo, _, _), (hi, _, _) = runs
    assert moves(
        lo["tokyo"].option("targeted_export_controls"),
        hi["tokyo"].option("targeted_export_controls"),
    )


def test_curbs_count_the_substitutes_korea_finds():
    """Korean firms replace ``supply_diversification`` of what the curbs cut off, which
    spares Tokyo's exporters too: the curbs' economic payoff this month is
    ``curbs_economic`` at each value, and Seoul's holding under targeted curbs costs it
    korea_exposure * trade_damage * (1 - supply_diversification) / 2 per unit of trade
    dependence (no talks to hold out a prospect)."""
    runs = [decisions_at(JULY, CURBS, supply_diversification=x) for x in (0.0, 0.5)]
    for d, env, p in runs:
        got = d["tokyo"].option("targeted_export_controls").immediate["economic"]
        assert got == pytest.approx(curbs_economic(d, env, p), rel=1e-9)
        korea = -p.korea_exposure * env.trade_dependence * p.trade_damage
        korea *= (1.0 - p.supply_diversification) / 2
        assert d["seoul"].option("hold").immediate["economic"] == pytest.approx(korea, rel=1e-12)
    (lo, _, _), (hi, _, _) = runs
    assert moves(
        lo["tokyo"].option("targeted_export_controls"),
        hi["tokyo"].option("targeted_export_controls"),
    )


# ---- the public the governments expect ----------------------------------------------------


def network(**kw: float) -> OpinionNetwork:
    args = dict(
        n=3000,
        degree=8,
        initial_opinion=0.45,
        conformity=0.3,
        noise=0.0,
        sensitivity=1.0,
        rng=np.random.default_rng(5),
        graph_seed=6,
        undecided_band=0.05,
    )
    return OpinionNetwork(**(args | kw))


@pytest.mark.parametrize(
    "push",
    [
        OpinionPush(2, firm=True, talks=False, launches=0.0, us_pressure=0.0),
        OpinionPush(1, firm=False, talks=True, launches=0.0, us_pressure=2 / 3),
        OpinionPush(0, firm=False, talks=False, launches=0.0, us_pressure=1.0),
    ],
)
def test_belief_is_where_the_public_settles_under_the_state(push):
    """The expected public of a state is where the opinion update settles when that
    state's push goes on (without noise): beliefs and the world agree."""
    net = network()
    belief = PublicBelief.expect(net, 0.65, N_CURB, PRESSURE_LEVELS, launches=0.0)
    level = round(push.us_pressure * (PRESSURE_LEVELS - 1))
    end, keep, boycott = belief.at(push.curbs, int(push.firm), int(push.talks), level)
    for _ in range(40):
        net.step(push)
    world_end, world_keep, _ = net.shares()
    # the rest-point response is linear in the push; opinions clipped to [0, 1] settle a
    # little short of it under the strongest push (full curbs and a firm stance: 2.1
    # points at the fitted curb anger)
    assert world_end == pytest.approx(float(end), abs=0.03)
    assert world_keep == pytest.approx(float(keep), abs=0.03)
    assert net.share_above(0.65) == pytest.approx(float(boycott), abs=0.03)


def test_belief_of_todays_state_is_todays_public():
    net = network()
    belief = PublicBelief.expect(net, 0.65, N_CURB, PRESSURE_LEVELS, launches=0.0)
    end, keep, boycott = belief.at(0, 0, 0, 0)
    assert (float(end), float(keep)) == pytest.approx(net.shares()[:2])
    assert float(boycott) == pytest.approx(net.share_above(0.65))


UNCLIPPED_EFFECTS = OpinionEffects(
    curb_anger=0.06,
    curb_escalation=0.04,
    rally=0.05,
    talks_calm=0.07,
    launch_fear=0.02,
    pressure_polarisation=0.3,
)
"""Pushes small enough, on a public with narrow predispositions (``concentration`` 60:
opinions from about 0.3 to 0.9 under any state), that no opinion is ever clipped: the
update is then linear and its rest point exactly today's opinions moved by the change of
push."""


@pytest.mark.parametrize(
    "today",
    [
        OpinionPush(2, firm=True, talks=False, launches=0.5, us_pressure=2 / 3),
        OpinionPush(1, firm=False, talks=True, launches=0.0, us_pressure=1.0),
        OpinionPush(0, firm=True, talks=False, launches=1.0, us_pressure=1 / 3),
    ],
)
def test_belief_from_a_pushed_public_is_where_it_settles(today):
    """From a public at rest under a month with curbs, a stance, launches and US pressure
    (not the quiet month every other belief test starts from), each state's expected poll
    and boycott are where the public settles once that state's push replaces today's: the
    belief must subtract today's push (the uniform part and today's US pressure), not add
    the state's on top of it. Without clipping the rest point is exact (to a citizen)."""
    net = network(concentration=60.0, effects=UNCLIPPED_EFFECTS)
    for _ in range(40):
        net.step(today)
    belief = PublicBelief.expect(net, 0.65, N_CURB, PRESSURE_LEVELS, launches=today.launches)
    for c, f, t, level in np.ndindex(N_CURB, 2, 2, PRESSURE_LEVELS):
        world = copy.deepcopy(net)
        push = OpinionPush(c, bool(f), bool(t), today.launches, level / (PRESSURE_LEVELS - 1))
        for _ in range(40):
            world.step(push)
        assert world.opinion.min() > 0.0 and world.opinion.max() < 1.0  # never clipped
        end, keep, boycott = (float(v) for v in belief.at(c, f, t, level))
        state = (c, f, t, level)
        assert world.shares()[0] == pytest.approx(end, abs=1 / net.n), state
        assert world.shares()[1] == pytest.approx(keep, abs=1 / net.n), state
        assert world.share_above(0.65) == pytest.approx(boycott, abs=1 / net.n), state


@pytest.mark.parametrize(
    "today",
    [
        OpinionPush(2, firm=True, talks=False, launches=0.5, us_pressure=2 / 3),
        OpinionPush(1, firm=False, talks=True, launches=0.0, us_pressure=1.0),
        OpinionPush(0, firm=False, talks=False, launches=0.0, us_pressure=1 / 3),
    ],
)
def test_belief_of_todays_state_is_todays_public_after_pushed_months(today):
    """Today's state, whatever today's push (US pressure included), keeps today's public
    ("today's mood lasts"), at the calibrated effects too."""
    net = network()
    for _ in range(3):
        net.step(today)
    belief = PublicBelief.expect(net, 0.65, N_CURB, PRESSURE_LEVELS, launches=today.launches)
    level = round(today.us_pressure * (PRESSURE_LEVELS - 1))
    end, keep, boycott = belief.at(today.curbs, int(today.firm), int(today.talks), level)
    assert (float(end), float(keep)) == pytest.approx(net.shares()[:2], abs=1e-12)
    assert float(boycott) == pytest.approx(net.share_above(0.65), abs=1e-12)
    # and another level of pressure moves it: the state is read, not ignored
    other = (level + 1) % PRESSURE_LEVELS
    moved = belief.at(today.curbs, int(today.firm), int(today.talks), other)
    assert (float(moved[0]), float(moved[1])) != (float(end), float(keep))


def test_us_pressure_moves_the_expected_poll_toward_keeping():
    """US pressure polarises (alliance-minded citizens move to keep the pact); with a
    public predisposed to keep it, pressure raises the expected share for keeping more
    than any hardening of nationalists raises the share for ending."""
    net = network(initial_opinion=0.35)
    belief = PublicBelief.expect(net, 0.65, N_CURB, PRESSURE_LEVELS, launches=0.0)
    end, keep, _ = belief.at(0, 0, 0, np.arange(PRESSURE_LEVELS))
    assert np.all(np.diff(keep) > 0)
    assert end[-1] - keep[-1] < end[0] - keep[0]


def _expect_state_by_state(net, threshold, curb_levels, pressure_levels, launches):
    """PublicBelief.expect's definition, one state at a time: each state's push as an
    OpinionPush, each share by its own binary search (the plain path)."""
    from model.opinion import _share_above

    shape = (curb_levels, 2, 2, pressure_levels)
    end, keep, boycott = np.empty(shape), np.empty(shape), np.empty(shape)
    gain = net.sensitivity * net.rest_gain
    base = net.uniform_push(net.last_push)
    band = net.undecided_band
    for c, f, t, level in np.ndindex(shape):
        push = OpinionPush(c, bool(f), bool(t), launches, 0.0)
        shift = np.array(gain * (net.uniform_push(push) - base))
        polar = (
            net.sensitivity
            * net.effects.pressure_polarisation
            * (level / (pressure_levels - 1) - net.last_push.us_pressure)
        )
        x = np.sort(net.opinion + polar * net.polar_rest if polar else net.opinion)
        end[c, f, t, level] = _share_above(x, 0.5 + band, shift, net.n)
        keep[c, f, t, level] = 1.0 - _share_above(x, 0.5 - band, shift, net.n, strict=False)
        boycott[c, f, t, level] = _share_above(x, threshold, shift, net.n)
    return end, keep, boycott


@pytest.mark.parametrize("threshold", [0.65, 1.0, -0.1])
@pytest.mark.parametrize(
    "today",
    [
        OpinionPush(0, firm=False, talks=False, launches=0.0, us_pressure=0.0),
        OpinionPush(2, firm=True, talks=False, launches=1.5, us_pressure=1 / 3),
        OpinionPush(1, firm=False, talks=True, launches=0.4, us_pressure=1.0),
    ],
)
def test_vectorised_belief_equals_state_by_state(today, threshold):
    """expect (every state's push at once) gives exactly the state-by-state values, with
    citizens exactly at the poll's thresholds (read unshifted in today's state)."""
    net = network(undecided_band=0.07)
    for _ in range(3):
        net.step(today)
    band = net.undecided_band
    net.opinion[:30] = [0.5 - band, 0.5 + band, threshold] * 10
    launches = today.launches
    belief = PublicBelief.expect(net, threshold, N_CURB, PRESSURE_LEVELS, launches)
    plain = _expect_state_by_state(net, threshold, N_CURB, PRESSURE_LEVELS, launches)
    for got, want in zip((belief.end, belief.keep, belief.boycott), plain, strict=True):
        np.testing.assert_array_equal(got, want)


def test_flat_index_gathers_what_fancy_indexing_does():
    """at / take(flat_index) equal indexing each share array with the broadcast index
    arrays (the shapes a month's profiles use), and refuse a state outside the shape."""
    belief = PublicBelief.expect(network(), 0.65, N_CURB, PRESSURE_LEVELS, launches=0.0)
    rng = np.random.default_rng(3)
    curb = rng.integers(0, N_CURB, (6, 1, 4, 1))
    firm = rng.integers(0, 2, (6, 1, 1, 5))
    talks = rng.integers(0, 2, (6, 1, 4, 5)).astype(np.int8)
    pressure = rng.integers(0, PRESSURE_LEVELS, (6, 2, 1, 1))
    flat = belief.flat_index(curb, firm, talks, pressure)
    for gathered in (belief.take(flat), belief.at(curb, firm, talks, pressure)):
        for got, table in zip(gathered, (belief.end, belief.keep, belief.boycott), strict=True):
            np.testing.assert_array_equal(got, table[curb, firm, talks, pressure])
    assert [float(v) for v in belief.at(2, 1, 0, 3)] == [
        belief.end[2, 1, 0, 3],
        belief.keep[2, 1, 0, 3],
        belief.boycott[2, 1, 0, 3],
    ]
    with pytest.raises(ValueError, match="invalid entry"):
        belief.at(0, 0, 0, PRESSURE_LEVELS)  # would wrap into the next talks state


def test_poll_shares_sum_to_one_and_undecided_grow_with_the_band():
    narrow, wide = network(undecided_band=0.0), network(undecided_band=0.1)
    for net in (narrow, wide):
        assert sum(net.shares()) == pytest.approx(1.0)
    assert wide.shares()[2] > narrow.shares()[2]
    assert narrow.shares()[2] == pytest.approx(float(np.mean(narrow.opinion == 0.5)))


def test_monthly_poll_columns_are_the_publics_shares():
    m = GSOMIAModel(rng=3, end=date(2019, 1, 31), undecided_band=0.08)
    m.run()
    row = m.monthly().iloc[-1]
    end, keep, undecided = m.public.shares
    assert row["opinion_share"] == end
    assert row["opinion_keep_share"] == keep
    assert row["opinion_undecided_share"] == pytest.approx(undecided)
    assert end + keep + undecided == pytest.approx(1.0)
    assert undecided > 0


def test_opinion_effects_are_registry_parameters():
    p = GSOMIAModel(rng=0, curb_anger=0.33, rally=0.07).params
    e = OpinionEffects.from_params(p)
    assert (e.curb_anger, e.rally) == (0.33, 0.07)


# ---- Washington's declared pressure -----------------------------------------------------------


def test_declared_pressure_rises_one_rung_a_month_and_holds_until_the_deadline():
    """A public position is not withdrawn before the crisis is decided: month to month,
    the pressure on Seoul rises by at most one rung, and falls only in a month whose
    deadline passed (the pact's anniversary, renewed or held suspended, or a lapse)."""
    peaks = []
    for seed in range(6):
        m = GSOMIAModel.from_config("baseline_2019", rng=seed, us_pressure_cost=0.01)
        m.run()
        df = m.monthly()
        rungs = np.rint(df["us_pressure_seoul"].to_numpy() * 3).astype(int)
        decided = {e.date.strftime("%Y-%m") for e in m.timeline if e.event in DEADLINE_EVENTS}
        months = [d[:7] for d in df.index]
        anniversary = m.calendar.signing_date.month  # a suspended pact's deadline passes too
        decided |= {ym for ym in months if int(ym[5:]) == anniversary}
        for k in range(1, len(rungs)):
            assert rungs[k] - rungs[k - 1] <= 1
            if rungs[k] < rungs[k - 1]:
                assert months[k - 1] in decided or months[k] in decided, months[k]
        peaks.append(rungs.max())
    assert max(peaks) >= 2  # the runs did climb


DEADLINE_EVENTS = ("pact_renewed", "pact_terminated", "conditional_suspension")


def test_washington_can_raise_only_below_all_out_and_can_always_hold():
    """Below all-out every move is open; at all-out (the top rung) a raise is not a
    move at all, so the menu does not hold holding twice under two names (which would
    double its weight in the logit choice), and holding stays open."""
    from types import SimpleNamespace

    from agents.washington import MOVES, PRESSURE_LEVELS, Washington

    moves = np.arange(len(MOVES))
    raises = np.array(["raise_pressure" in m for m in MOVES])
    for level in range(PRESSURE_LEVELS):
        g = SimpleNamespace(start={"pressure": np.full(len(MOVES), level)})
        ok = np.asarray(Washington.feasible(g, moves))
        top = level == PRESSURE_LEVELS - 1
        assert ok.tolist() == (~raises if top else np.ones(len(MOVES), bool)).tolist(), level


NOVEMBER = dict(CURBED, start=date(2019, 11, 1), china_influence=0.0, rationality=1.0)
"""November 2019, the deadline month of the notice of 2019-08-23: full curbs, no WTO
complaint, no declared US pressure. The continuation of every option is the discounted
terminal value (discount * terminal_months * the monthly payoff of the state the month
leads to, a notice still standing counted as lapsed). Beijing has no pull on Seoul, so
nobody's choice after Washington's depends on Beijing's move; a low rationality (1)
spreads the answers, so the expected defiance is neither 0 nor 1."""
DEFIANCE_AFTER_DEADLINE = {
    "hold": 1.0,  # the notice lapses: the pact is terminated
    "wto_complaint": 1.0,  # the same
    "conditional_suspension": "suspended_defiance",
    "rescind_notice": 0.0,
}
"""Seoul's defiance of Washington after the deadline, by its move in the deadline month
(agents/seoul.py ``defiance``)."""


@pytest.mark.parametrize("cost", [0.5, 2.0])
def test_raising_pressure_counts_the_months_it_must_be_held(cost):
    """The declared pressure is state: a raise costs us_pressure_cost * rung / 3 this
    month, and after the deadline it is held as long as Seoul defies (``lasting``), so
    the raise's continuation is discount * terminal_months * -us_pressure_cost / 3 * E[defiance],
    E over Tokyo's and Seoul's answers at the node after the raise (their probabilities;
    neither reads Washington's cost)."""
    kw = {"us_pressure_cost": cost}
    raised = {"washington": "raise_pressure"}
    d, _, p = decisions_at(NOVEMBER, raised, **kw)
    defiance = 0.0
    for tokyo in d["tokyo"].options:
        at_t, _, _ = decisions_at(NOVEMBER, raised | {"tokyo": tokyo.action}, **kw)
        for o in at_t["seoul"].options:
            after = DEFIANCE_AFTER_DEADLINE[o.action]
            after = getattr(p, after) if isinstance(after, str) else after
            defiance += tokyo.probability * o.probability * after
    assert 0.0 < defiance < 1.0
    option = d["washington"].option("raise_pressure")
    assert option.immediate["pressure_cost"] == pytest.approx(-cost / 3, rel=1e-12)
    later = p.discount * p.terminal_months * -cost / 3 * defiance
    assert option.continuation["pressure_cost"] == pytest.approx(later, rel=1e-9)
    hold = d["washington"].option("hold")
    assert hold.immediate["pressure_cost"] == hold.continuation["pressure_cost"] == 0.0
