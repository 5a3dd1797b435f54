"""Payoff identities and the lookahead's discounting, read through the public API.

Every check goes through ``GSOMIAModel(...)`` keywords, ``m.explain(actor)`` (each option's
``immediate`` and ``continuation`` components) and ``m.monthly()``, so it holds whatever
the payoff and decision code looks like inside. The identities are the payoff table of
docs/model/payoffs.md and the backward induction of docs/model/decisions.md.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from model import GSOMIAModel

TOL = 1e-9
SMALL = {"n_citizens": 300}
# A notice given 2019-08-23 lapses at the 2019-11-23 anniversary (docs/model/calendar.md).
NOTICE_STANDING = {
    "pact_state": "notice_pending",
    "notice_date": date(2019, 8, 23),
    "initial_curb_level": 2,
    "initial_wto": "active",
}


def run(seed: int, **kw) -> GSOMIAModel:
    m = GSOMIAModel(rng=seed, **(SMALL | kw))
    m.run()
    return m


# ---- Seoul's alliance cost -------------------------------------------------------------------
# Seoul's defiance of Washington by the pact state its move leads to (docs/model/payoffs.md,
# agents/seoul.py ``defiance``): notice pending or terminated 1, suspended
# ``suspended_defiance``, active 0.
SUSPENDED_DEFIANCE = 0.4
DEFIANCE_AFTER = {
    "termination_notice": 1.0,
    "conditional_suspension": SUSPENDED_DEFIANCE,
    "conditional_suspension+wto_suspension": SUSPENDED_DEFIANCE,
    "rescind_notice": 0.0,
    "revive_notice": 1.0,
}
DEFIANCE_HOLDING = {
    "active": 0.0,
    "notice_pending": 1.0,
    "suspended": SUSPENDED_DEFIANCE,
    "terminated": 1.0,
}
PRESSURE_MOVES = {"hold": 0, "raise_pressure": 1, "press_tokyo": 0, "raise_pressure+press_tokyo": 1}
"""Rungs each of Washington's moves adds to its declared pressure on Seoul."""


@pytest.mark.parametrize("pact_state", ["notice_pending", "suspended"])
@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.parametrize(
    "seed, weight, displeasure, cost",
    [(0, 0.35, 0.2, 1.8), (1, 0.8, 0.5, 0.0), (2, 1.5, 1.0, 0.3), (3, 0.6, 0.0, 0.0)],
)
def test_seouls_alliance_cost_is_weight_times_defiance_times_pressure_plus_displeasure(
    seed, weight, displeasure, cost, level, pact_state
):
    """alliance = -us_pressure_weight * defiance * (pressure + us_baseline_displeasure),
    for every option Seoul weighs, with pressure the share of all-out (rung / 3) that
    Washington has declared once it moved this month.

    October 2019, a defiant Seoul (a standing notice, or a suspended one) and Washington's
    declared pressure set to ``level`` rungs before the month: the pressure Seoul faces is
    ``level`` plus the rung Washington's own move adds (at most all-out), whichever move
    was drawn. E.g. weight 0.8, displeasure 0.5, rung 2: holding a standing notice costs
    0.8 * 1 * (2/3 + 0.5) = 0.9333; a suspension 0.8 * 0.4 * (2/3 + 0.5) = 0.3733."""
    kw = NOTICE_STANDING | {
        "pact_state": pact_state,
        "start": date(2019, 10, 1),
        "end": date(2019, 10, 31),
        "us_pressure_weight": weight,
        "us_baseline_displeasure": displeasure,
        "us_pressure_cost": cost,
        "suspended_defiance": SUSPENDED_DEFIANCE,
    }
    if pact_state == "suspended":
        kw["suspension_date"] = date(2019, 9, 20)
    m = GSOMIAModel(rng=seed, **(SMALL | kw))
    m.pressure = level  # Washington's declared pressure on Seoul, in rungs of 3
    m.step()
    (us,) = m.explain("washington")
    rungs = min(level + PRESSURE_MOVES[us.chosen], 3)
    assert m.monthly()["us_pressure_seoul"].iloc[-1] == pytest.approx(rungs / 3, abs=TOL)
    (d,) = m.explain("seoul")
    checked = 0
    for o in d.options:
        if o.action in DEFIANCE_AFTER:
            defiance = DEFIANCE_AFTER[o.action]
        else:  # holding the pact's state: hold, wto_suspension
            defiance = DEFIANCE_HOLDING[pact_state]
        expected = -weight * defiance * (rungs / 3 + displeasure)
        assert o.immediate["alliance"] == pytest.approx(expected, abs=TOL), o.action
        checked += defiance > 0
    assert checked >= 2  # a defiant option besides holding (a suspension or a revival)


def test_seouls_alliance_cost_by_hand():
    """A standing notice under all-out pressure (3 rungs: pressure 1 whatever Washington
    draws), weight 0.8, displeasure 0.5, suspended_defiance 0.4: holding costs
    0.8 * 1 * 1.5 = 1.2, suspending 0.8 * 0.4 * 1.5 = 0.48, rescinding nothing."""
    m = GSOMIAModel(
        rng=0,
        start=date(2019, 10, 1),
        end=date(2019, 10, 31),
        us_pressure_weight=0.8,
        us_baseline_displeasure=0.5,
        suspended_defiance=0.4,
        **(SMALL | NOTICE_STANDING),
    )
    m.pressure = 3
    m.step()
    (d,) = m.explain("seoul")
    assert d.option("hold").immediate["alliance"] == pytest.approx(-1.2, abs=TOL)
    assert d.option("conditional_suspension").immediate["alliance"] == pytest.approx(-0.48)
    assert d.option("rescind_notice").immediate["alliance"] == 0.0


def test_the_displeasure_floor_alone_costs_a_defiant_seoul_at_zero_pressure():
    """With Washington never pressing (pressing costs it the most), the notice option's
    alliance term is exactly -weight * displeasure, and it vanishes with no displeasure."""
    kw = {"us_pressure_cost": 5.0, "us_tokyo_pressure_cost": 10.0, "start": date(2019, 1, 1)}
    kw |= {"end": date(2019, 8, 31)}
    for displeasure in (0.0, 0.7, 2.0):
        m = run(4, us_pressure_weight=1.2, us_baseline_displeasure=displeasure, **kw)
        assert set(m.monthly()["us_pressure_seoul"]) == {0.0}
        notices = [
            d.option("termination_notice")
            for d in m.explain("seoul")
            if "termination_notice" in {o.action for o in d.options}
        ]
        assert notices
        for o in notices:
            assert o.immediate["alliance"] == pytest.approx(-1.2 * displeasure, abs=TOL)


# ---- Tokyo's cost of talks ------------------------------------------------------------------
@pytest.mark.parametrize(
    "seed, talks_cost, resolve, grievance",
    [(0, 0.3, 1.0, 1.5), (1, 0.8, 2.0, 1.0), (2, 0.1, 0.5, 3.0)],
)
def test_offering_talks_costs_tokyo_face(seed, talks_cost, resolve, grievance):
    """Offering talks costs Tokyo talks_cost * japan_resolve * grievance on offering, and
    as much again in each month they run (docs/model/payoffs.md, ``talks_cost``). Against holding,
    the offer's immediate audience term is therefore between -2 and -1 times that cost,
    depending on how likely Seoul is to take the offer up."""
    m = GSOMIAModel(
        rng=seed,
        start=date(2019, 10, 1),
        end=date(2019, 10, 31),
        talks_cost=talks_cost,
        japan_resolve=resolve,
        grievance_initial=grievance,
        **(SMALL | NOTICE_STANDING),
    )
    m.step()
    (d,) = m.explain("tokyo")
    diff = d.option("talks_offer").immediate["audience"] - d.option("hold").immediate["audience"]
    unit = talks_cost * resolve * grievance
    assert -2 * unit - TOL <= diff <= -unit + TOL


def test_talks_cost_lowers_the_offer_and_leaves_holding_alone():
    def audience(talks_cost: float) -> tuple[float, float]:
        m = GSOMIAModel(
            rng=0,
            start=date(2019, 10, 1),
            end=date(2019, 10, 31),
            talks_cost=talks_cost,
            grievance_initial=1.5,
            **(SMALL | NOTICE_STANDING),
        )
        m.step()
        (d,) = m.explain("tokyo")
        return d.option("talks_offer").immediate["audience"], d.option("hold").immediate["audience"]

    (free_offer, free_hold), (dear_offer, dear_hold) = audience(0.0), audience(1.0)
    assert dear_hold == pytest.approx(free_hold, abs=TOL)
    assert dear_offer < free_offer - 1.0  # at least one month of 1.0 * 1.0 * 1.5 lost


# ---- discounting ----------------------------------------------------------------------------
def first_month(seed: int, discount: float, start: date, **kw) -> GSOMIAModel:
    m = GSOMIAModel(
        rng=seed,
        start=start,
        end=start,
        discount=discount,
        **(SMALL | NOTICE_STANDING | kw),
    )
    m.step()
    return m


def chosen(m: GSOMIAModel) -> dict[str, str]:
    return {d.actor: d.chosen for d in m.explain()}


def seoul_continuations(m: GSOMIAModel) -> np.ndarray:
    (d,) = m.explain("seoul")
    return np.array([list(o.continuation.values()) for o in d.options])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deadline_month_continuation_is_the_discounted_terminal_value(seed):
    """In the month of the deadline the continuation of each of Seoul's options is the
    discount times the value of the state it leads to, which the discount does not change:
    so it scales exactly with the discount."""
    lo, hi = (first_month(seed, d, date(2019, 11, 1)) for d in (0.6, 0.9))
    others = {k: v for k, v in chosen(lo).items() if k != "seoul"}
    assert others == {k: v for k, v in chosen(hi).items() if k != "seoul"}
    c_lo, c_hi = seoul_continuations(lo), seoul_continuations(hi)
    assert np.abs(c_hi).max() > 1.0
    np.testing.assert_allclose(c_lo, c_hi * (0.6 / 0.9), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_continuation_one_month_ahead_scales_with_the_discount(seed):
    """A month before the deadline, with no value after it (``terminal_months`` 0), the
    deadline month is played the same whatever the discount, so the continuation of each
    of Seoul's options is the discount times a value the discount does not change."""
    lo, hi = (first_month(seed, d, date(2019, 10, 1), terminal_months=0.0) for d in (0.6, 0.9))
    assert chosen(lo)["tokyo"] == chosen(hi)["tokyo"]
    c_lo, c_hi = seoul_continuations(lo), seoul_continuations(hi)
    assert np.abs(c_hi).max() > 0.5
    np.testing.assert_allclose(c_lo, c_hi * (0.6 / 0.9), rtol=1e-9, atol=1e-12)


def test_every_month_of_a_longer_lookahead_is_discounted():
    """Five months before the deadline, with no value after it and everybody choosing
    uniformly (rationality 0, so no choice depends on the discount), the continuation is
    sum over the months ahead of discount^k times that month's expected utility: a
    polynomial of degree 5 in the discount without a constant term."""
    kw = {"terminal_months": 0.0, "rationality": 0.0, "notice_date": date(2018, 12, 3)}
    discounts = np.linspace(0.5, 1.0, 8)
    runs = [first_month(0, d, date(2019, 6, 1), **kw) for d in discounts]
    assert len({tuple(chosen(m).items()) for m in runs}) == 1  # the same moves drawn
    totals = np.array([seoul_continuations(m).sum(axis=1) for m in runs])  # (8, options)
    assert np.abs(totals).max() > 1.0
    coef, (residuals, *_) = np.polynomial.polynomial.polyfit(discounts, totals, 5, full=True)
    assert np.all(residuals < 1e-16 * len(discounts))
    np.testing.assert_allclose(coef[0], 0.0, atol=1e-6 * np.abs(totals).max())
