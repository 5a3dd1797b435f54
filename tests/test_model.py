"""GSOMIAModel: determinism, outcome classification, starting states, invariants that hold
by construction, explanations, data collection, batch runs and event dating.

Nothing here depends on calibrated defaults: scenarios are short, outcomes are checked
against each run's own timeline, and expected dates are derived from the pact's calendar.
Many runs use ``rationality=0`` (uniform choice among feasible moves), which exercises the
rules on states a calibrated run rarely visits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pytest

from model import OUTCOMES, ConfigError, GSOMIAModel
from model.calendar import PactCalendar, add_months, month_end, months_between, same_month
from model.parameters import PACT_STATES

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "configs" / "baseline_2019.toml"
ACTOR_NAMES = ("seoul", "tokyo", "washington", "beijing")
SIGNING = date(2016, 11, 23)
# Jul 2019 - Jan 2020: the notice window, its cut-off and the anniversary
WINDOW = {"start": date(2019, 7, 1), "end": date(2020, 1, 31)}
SEOUL_EVENTS = {
    "termination_decision",
    "termination_notice",
    "conditional_suspension",
    "rescind_notice",
    "notice_revived",
    "wto_complaint",
    "wto_suspension",
    "signing_postponed",
    "signing_abandoned",
}
REVERSALS = ("conditional_suspension", "rescind_notice")


# ---- running with a record of which month decided which event ---------------------------
@dataclass
class Step:
    month: date
    pact_before: str
    lapse_before: date | None
    calendar: PactCalendar
    scheduled: date | None
    events: list


@dataclass
class Run:
    model: GSOMIAModel
    steps: list[Step]
    kwargs: dict[str, Any]


def run_recorded(**kwargs: Any) -> Run:
    return record(GSOMIAModel(**kwargs), kwargs)


def record(model: GSOMIAModel, kwargs: dict[str, Any]) -> Run:
    seen = {id(e) for e in model.timeline}
    steps = []
    while model.running:
        before = Step(
            model.date,
            model.pact.label,
            model.lapse_date,
            model.calendar,
            model.scheduled_signing,
            [],
        )
        model.step()
        before.events = [e for e in model.timeline if id(e) not in seen]
        seen |= {id(e) for e in before.events}
        steps.append(before)
    return Run(model, steps, kwargs)


def n_months(start: date, end: date) -> int:
    return months_between(start, end) + 1


def first_notice_lapse(run: Run) -> date | None:
    """The lapse date of the run's first notice, from the calendar (or the config's
    standing notice)."""
    kw = run.kwargs
    signing = kw.get("signing_date", SIGNING)
    if kw.get("pact_state") in ("notice_pending", "suspended"):
        return PactCalendar(signing).lapse_date_for_notice(kw.get("notice_date", date(2019, 8, 23)))
    for step in run.steps:
        for e in step.events:
            if e.event == "termination_notice":
                return step.calendar.lapse_date_for_notice(e.date)
    return None


@pytest.fixture(scope="module")
def random_runs() -> list[Run]:
    """Runs through the 2019 notice window and anniversary with uniform choices, and a
    few at moderate precision starting under full curbs."""
    runs = [run_recorded(rng=seed, rationality=0.0, **WINDOW) for seed in range(10)]
    runs += [
        run_recorded(rng=seed, rationality=4.0, initial_curb_level=2, **WINDOW) for seed in range(4)
    ]
    return runs


def negotiating_run(seed: int, end: date, **kw: Any) -> Run:
    """A run from January 2019 of a pact still being negotiated, its signing scheduled for
    2019-03-15, with uniform choices (rationality 0)."""
    return run_recorded(
        rng=seed,
        rationality=0.0,
        pact_state="negotiating",
        signing_date=date(2019, 3, 15),
        start=date(2019, 1, 1),
        end=end,
        **kw,
    )


@pytest.fixture(scope="module")
def state_runs() -> list[Run]:
    """Runs starting in each pact state."""
    runs = []
    for seed in range(4):
        runs.append(negotiating_run(seed, end=date(2019, 6, 30)))
        for rationality in (0.0, 60.0):
            runs.append(
                run_recorded(
                    rng=seed,
                    rationality=rationality,
                    pact_state="notice_pending",
                    notice_date=date(2019, 8, 23),
                    initial_curb_level=2,
                    start=date(2019, 10, 1),
                    end=date(2019, 12, 31),
                )
            )
        runs.append(
            run_recorded(
                rng=seed,
                rationality=0.0,
                pact_state="suspended",
                notice_date=date(2019, 8, 23),
                start=date(2019, 12, 1),
                end=date(2020, 3, 31),
            )
        )
        runs.append(
            run_recorded(
                rng=seed,
                rationality=0.0,
                pact_state="terminated",
                start=date(2019, 10, 1),
                end=date(2020, 1, 31),
            )
        )
    return runs


def all_runs(random_runs: list[Run], state_runs: list[Run]) -> list[Run]:
    return random_runs + state_runs


# ---- determinism -------------------------------------------------------------------------
def _short(**kw: Any) -> GSOMIAModel:
    model = GSOMIAModel(**({"rationality": 2.0} | WINDOW | kw))
    model.run()
    return model


def assert_same_run(a: GSOMIAModel, b: GSOMIAModel) -> None:
    assert a.timeline == b.timeline
    assert a.decisions == b.decisions
    assert a.monthly().equals(b.monthly())
    assert a.outcome == b.outcome
    assert np.array_equal(a.public.network.opinion, b.public.network.opinion)


def test_same_seed_same_run():
    assert_same_run(_short(rng=3), _short(rng=3))


def test_same_seed_same_run_from_config():
    a = GSOMIAModel.from_config(BASELINE, rng=2, start=date(2019, 6, 1))
    b = GSOMIAModel.from_config(BASELINE, rng=2, start=date(2019, 6, 1))
    a.run()
    b.run()
    assert_same_run(a, b)


def test_seed_zero_is_a_seed():
    a, b = _short(rng=0), _short(rng=0)
    assert a.seed == 0
    assert_same_run(a, b)
    others = [_short(rng=s) for s in (1, 2, 3)]
    assert any(not a.monthly().equals(o.monthly()) for o in others)
    assert any(a.timeline != o.timeline for o in others)


@pytest.mark.parametrize(
    ("given", "same_as"),
    [("7", 7), (" 7 ", 7)],
    ids=["digits", "padded_digits"],
)
def test_seed_forms_equivalent_to_int(given, same_as):
    assert_same_run(_short(rng=given), _short(rng=same_as))


def test_numpy_integer_seed():
    assert_same_run(_short(rng=np.int64(7)), _short(rng=7))


@pytest.mark.parametrize(
    ("given", "allowed"),
    [
        ("seven", "an integer seed (digits), a numpy Generator or SeedSequence, or None"),
        (True, "an integer seed, a numpy Generator or SeedSequence, or None"),
        (-1, "a non-negative integer"),
    ],
    ids=["text", "bool", "negative"],
)
def test_a_bad_seed_is_refused_naming_rng_and_the_allowed_values(given, allowed):
    with pytest.raises(ConfigError) as raised:
        GSOMIAModel(rng=given)
    assert str(raised.value) == (
        f"constructor: invalid value {given!r} for 'rng'; allowed: {allowed}"
    )


def test_seed_sequence_and_generator_are_reproducible():
    assert_same_run(_short(rng=np.random.SeedSequence(42)), _short(rng=np.random.SeedSequence(42)))
    assert_same_run(_short(rng=np.random.default_rng(42)), _short(rng=np.random.default_rng(42)))


def test_unseeded_run_records_a_reproducible_seed():
    a = _short(rng=None)
    assert isinstance(a.seed, int)
    assert_same_run(a, _short(rng=a.seed))


# ---- outcomes agree with the timeline ----------------------------------------------------
def check_outcome(run: Run) -> None:
    m = run.model
    events = [e for step in run.steps for e in step.events]
    names = [e.event for e in events]
    start_state = run.kwargs.get("pact_state", "active")
    assert m.outcome in OUTCOMES
    months = m.reversal_months_before_expiry
    if start_state == "terminated":
        assert m.outcome == "terminated"
        return
    lapse = first_notice_lapse(run)
    terminated = "pact_terminated" in names
    assert (m.outcome == "terminated") == terminated, names
    if start_state == "active":
        assert (m.outcome == "renewed") == ("termination_notice" not in names), names
    reversals = [e for e in events if e.event in REVERSALS]
    if start_state == "suspended":
        return  # the suspension predates the run
    if reversals and lapse is not None:
        expected = months_between(reversals[0].date, lapse)
        assert months == expected
        assert months >= 0
        if not terminated:
            if expected == 0:
                assert m.outcome == "last_minute_suspension"
                assert reversals[0].date == lapse - timedelta(days=1)
            else:
                assert m.outcome == "early_reversal"
    elif not terminated:
        assert months is None
        if lapse is not None:
            assert m.outcome == "pending"
            # a standing notice lapses in its month, so the run must end before it
            assert months_between(m.end, lapse) > 0
    if m.outcome == "last_minute_suspension":
        assert reversals and same_month(reversals[0].date, lapse)
    if m.outcome == "early_reversal":
        assert reversals and months_between(reversals[0].date, lapse) >= 1


def test_outcome_consistent_with_timeline(random_runs, state_runs):
    for run in all_runs(random_runs, state_runs):
        check_outcome(run)


def test_random_runs_cover_several_outcomes(random_runs):
    # the consistency checks above are not vacuous
    outcomes = {run.model.outcome for run in random_runs}
    assert len(outcomes) >= 3, outcomes


def test_lapse_is_on_the_anniversary(random_runs, state_runs):
    for run in all_runs(random_runs, state_runs):
        for step in run.steps:
            for e in step.events:
                if e.event == "pact_terminated" and "lapsed" in e.detail:
                    assert step.pact_before == "notice_pending"
                    assert e.date == step.lapse_before
                    assert e.date == step.calendar.next_anniversary(e.date - timedelta(days=1))


# ---- starting states -----------------------------------------------------------------------
def test_every_start_state_runs(state_runs):
    started = {run.kwargs["pact_state"] for run in state_runs}
    assert started == set(PACT_STATES) - {"active"}
    for run in state_runs:
        m = run.model
        assert len(run.steps) == n_months(m.start, m.end)
        assert m.outcome in OUTCOMES


def test_negotiating_start(state_runs):
    for run in state_runs:
        if run.kwargs["pact_state"] != "negotiating":
            continue
        m = run.model
        signing = {"pact_signed", "signing_postponed", "signing_abandoned"}
        names = {e.event for s in run.steps for e in s.events if e.event in signing}
        if "pact_signed" in names:
            assert m.outcome != "not_signed"
        if "signing_abandoned" in names and "pact_signed" not in names:
            assert m.outcome == "not_signed"
            assert m.pact.label == "terminated"
        # nothing happens to a pact that does not exist yet
        before = [s for s in run.steps if s.pact_before == "negotiating"]
        bad = {"termination_notice", "conditional_suspension", "pact_renewed", "pact_terminated"}
        for s in before:
            assert not bad & {e.event for e in s.events}


def test_scheduled_signing_is_resolved_in_its_month(state_runs):
    for run in state_runs:
        if run.kwargs["pact_state"] != "negotiating":
            continue
        month = [s for s in run.steps if same_month(s.month, run.kwargs["signing_date"])]
        assert len(month) == 1
        names = {e.event for e in month[0].events}
        assert names & {"pact_signed", "signing_postponed", "signing_abandoned"}, (
            run.kwargs["rng"],
            names,
        )


def test_standing_notice_lapses_or_is_reversed_at_its_anniversary(state_runs):
    for run in state_runs:
        if run.kwargs["pact_state"] != "notice_pending":
            continue
        m = run.model
        assert m.outcome in ("terminated", "early_reversal", "last_minute_suspension")
        lapse = first_notice_lapse(run)
        assert lapse == date(2019, 11, 23)
        after = [s for s in run.steps if s.month > lapse]
        assert all(s.pact_before != "notice_pending" for s in after)


def test_suspended_start_never_lapses_by_itself(state_runs):
    for run in state_runs:
        if run.kwargs["pact_state"] != "suspended":
            continue
        for step in run.steps:
            names = [e.event for e in step.events]
            if "pact_terminated" in names and step.pact_before == "suspended":
                assert "notice_revived" in names


def test_terminated_start_stays_terminated(state_runs):
    for run in state_runs:
        if run.kwargs["pact_state"] != "terminated":
            continue
        names = {e.event for s in run.steps for e in s.events}
        assert not names & {"pact_renewed", "termination_notice", "conditional_suspension"}
        assert set(run.model.monthly()["pact_state"]) == {"terminated"}


# ---- invariants that hold by construction ------------------------------------------------
def test_pact_never_returns_from_terminated(random_runs, state_runs):
    for run in all_runs(random_runs, state_runs):
        states = list(run.model.monthly()["pact_state"])
        if "terminated" in states:
            first = states.index("terminated")
            assert set(states[first:]) == {"terminated"}


def test_feasibility_rules_hold_in_every_month(random_runs, state_runs):
    for run in all_runs(random_runs, state_runs):
        for step in run.steps:
            names = {e.event for e in step.events}
            if "termination_notice" in names:
                assert step.pact_before == "active"
                assert step.calendar.notice_in_month(step.month) is not None
            if names & {"conditional_suspension"}:
                assert step.pact_before == "notice_pending"
            if "rescind_notice" in names:
                assert step.pact_before in ("notice_pending", "suspended")
            if "notice_revived" in names:
                assert step.pact_before == "suspended"


def _best(decision: Any) -> str:
    return max(decision.options, key=lambda o: o.expected_utility).action


def test_no_resolve_no_curbs():
    m = GSOMIAModel.from_config(BASELINE, rng=1, japan_resolve=0.0, start=date(2019, 3, 1))
    m.run()
    assert not {e.event for e in m.timeline} & {"targeted_export_controls", "whitelist_removal"}
    for d in m.explain("tokyo"):
        hold = d.option("hold").expected_utility
        for o in d.options:
            if o.action in ("targeted_export_controls", "whitelist_removal"):
                assert o.expected_utility < hold


def test_no_china_influence_beijing_stays_out():
    m = _short(rng=1, china_influence=0.0, initial_curb_level=2)
    for d in m.explain("beijing"):
        assert _best(d) == "none"


def test_no_us_pressure_weight_washington_does_not_press():
    m = _short(rng=1, us_pressure_weight=0.0, initial_curb_level=2)
    for d in m.explain("washington"):
        assert _best(d) == "hold"


def test_no_launches_constant_threat():
    m = _short(rng=1, nk_launch_rate=0.0, nk_threat=1.7)
    assert np.allclose(m.monthly()["threat"].iloc[1:], 1.7)


def test_no_renewal_events_when_terminated():
    m = _short(rng=2, pact_state="terminated", rationality=0.0)
    assert "pact_renewed" not in {e.event for e in m.timeline}


# ---- explanations --------------------------------------------------------------------------
def test_explanations(random_runs):
    for run in random_runs[:4] + random_runs[-2:]:
        m = run.model
        assert len(m.decisions) == len(ACTOR_NAMES) * len(run.steps)
        for step in run.steps:
            month = [d for d in m.decisions if d.date == step.month]
            assert sorted(d.actor for d in month) == sorted(ACTOR_NAMES)
            for d in month:
                assert d.options
                assert math.isclose(sum(o.probability for o in d.options), 1.0, abs_tol=1e-9)
                assert all(0.0 <= o.probability <= 1.0 for o in d.options)
                assert d.chosen in [o.action for o in d.options]
                assert d.option(d.chosen).probability > 0.0
                for o in d.options:
                    parts = sum(o.immediate.values()) + sum(o.continuation.values())
                    assert math.isclose(o.expected_utility, parts, rel_tol=1e-12, abs_tol=1e-12)
                    assert math.isclose(
                        sum(o.components().values()), parts, rel_tol=1e-12, abs_tol=1e-12
                    )
                    assert all(math.isfinite(v) for v in o.components().values())
        for actor in ACTOR_NAMES:
            assert [d.actor for d in m.explain(actor)] == [actor] * len(run.steps)
    with pytest.raises(ValueError):
        random_runs[0].model.explain("pyongyang")


def test_notice_option_only_when_window_open(random_runs):
    for run in random_runs:
        decisions = run.model.explain("seoul")
        for step, d in zip(run.steps, decisions, strict=True):
            offered = "termination_notice" in [o.action for o in d.options]
            window = run.model.calendar.notice_in_month(step.month) is not None
            assert offered == (window and step.pact_before == "active")


def test_seoul_choice_matches_emitted_events(random_runs):
    for run in random_runs:
        for step, d in zip(run.steps, run.model.explain("seoul"), strict=True):
            seoul = {e.event for e in step.events if e.actor == "seoul"}
            expected = {
                "hold": set(),
                "termination_notice": {"termination_decision", "termination_notice"},
                "conditional_suspension": {"conditional_suspension"},
                "rescind_notice": {"rescind_notice"},
                "revive_notice": {"notice_revived", "pact_terminated"},
                "wto_complaint": {"wto_complaint"},
                "wto_suspension": {"wto_suspension"},
                "conditional_suspension+wto_suspension": {
                    "conditional_suspension",
                    "wto_suspension",
                },
            }[d.chosen]
            assert seoul == expected, (step.month, d.chosen, seoul)


def test_choice_probabilities_are_logit_in_expected_utility():
    lam = 2.0
    m = _short(rng=4, rationality=lam, initial_curb_level=1)
    for d in m.decisions:
        ref = d.options[0]
        for o in d.options[1:]:
            lhs = math.log(o.probability) - math.log(ref.probability)
            rhs = lam * (o.expected_utility - ref.expected_utility)
            assert math.isclose(lhs, rhs, abs_tol=1e-6), (d.date, d.actor, o.action)


def test_seoul_payoff_column_is_the_chosen_options_immediate_utility(random_runs):
    for run in random_runs[:3]:
        m = run.model
        df = m.monthly()
        for row, d in zip(df["payoff_seoul"].iloc[1:], m.explain("seoul"), strict=True):
            assert math.isclose(row, sum(d.option(d.chosen).immediate.values()), abs_tol=1e-12)


# ---- data collection -----------------------------------------------------------------------
REQUIRED_COLUMNS = {
    "pact_state",
    "opinion_share",
    "curb_level",
    "us_pressure_seoul",
    "us_pressure_tokyo",
    "threat",
    "payoff_seoul",
    "payoff_tokyo",
    "payoff_washington",
    "payoff_beijing",
    "outcome",
}


def test_data_collector(random_runs):
    run = random_runs[0]
    m = run.model
    raw = m.datacollector.get_model_vars_dataframe()
    assert REQUIRED_COLUMNS | {"date"} <= set(raw.columns)
    assert len(raw) == len(run.steps) + 1 == n_months(m.start, m.end) + 1
    assert m.steps == len(run.steps)
    df = m.monthly()
    # rows are labelled by the last day of the month they end (the first row: the state
    # before the first simulated month)
    assert list(df.index[1:]) == [month_end(s.month).isoformat() for s in run.steps]
    assert df.index[0] == (m.start - timedelta(days=1)).isoformat()
    assert set(df["pact_state"]) <= set(PACT_STATES)
    assert set(df["curb_level"]) <= {0, 1, 2}
    assert df["opinion_share"].between(0.0, 1.0).all()
    assert df["us_pressure_seoul"].between(0.0, 1.0).all()
    assert df["outcome"].iloc[-1] == m.outcome
    assert list(df["pact_state"].iloc[1:]) == [s.pact_before for s in run.steps[1:]] + [
        m.pact.label
    ]


def test_one_month_scenario():
    m = GSOMIAModel(rng=0, start=date(2019, 8, 10), end=date(2019, 8, 10))
    assert m.start == date(2019, 8, 1)
    m.run()
    assert m.steps == 1
    assert len(m.monthly()) == 2
    events, rows = list(m.timeline), len(m.monthly())
    m.step()  # past the end: nothing happens
    assert m.timeline == events
    assert len(m.monthly()) == rows
    assert not m.running


def test_batch_run():
    params = {"start": date(2019, 7, 1), "end": date(2019, 9, 30), "audience_cost": 2.0}
    rows = mesa.batch_run(
        GSOMIAModel,
        parameters=params,
        rng=[0, 1],
        max_steps=100,
        data_collection_period=-1,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 2
    for row, seed in zip(rows, (0, 1), strict=True):
        assert row["outcome"] in OUTCOMES
        direct = GSOMIAModel(rng=seed, **params)
        direct.run()
        assert row["outcome"] == direct.outcome
        assert row["Step"] == direct.steps == 3


def test_model_is_a_mesa_model_with_its_agents():
    m = GSOMIAModel(rng=0, n_citizens=50, **WINDOW)
    assert isinstance(m, mesa.Model)
    assert len(m.agents) == 5  # four governments and one public, whatever its size
    assert {g.node_id for g in m.governments.values()} == {0, 1, 2, 3}


def test_bad_rng_rejected():
    with pytest.raises(ConfigError):
        GSOMIAModel(rng="seven")


# ---- event dates ---------------------------------------------------------------------------
def allowed_dates(e: Any, step: Step, seoul_dates: set[date]) -> set[date]:
    """Where an event decided in ``step.month`` may be dated, from the calendar."""
    first = step.month
    lapse = step.lapse_before
    in_lapse_month = lapse is not None and same_month(lapse, first)
    notice = step.calendar.notice_in_month(first)
    if e.extra.get("exogenous"):
        return {e.date}  # its configured date; same-month is checked separately
    match e.event:
        case "termination_notice" | "protest":
            return {notice[0]} if notice else set()
        case "termination_decision":
            return {max(notice[0] - timedelta(days=1), first)} if notice else set()
        case "conditional_suspension" | "rescind_notice" | "wto_suspension":
            return {first} | ({lapse - timedelta(days=1)} if in_lapse_month else set())
        case "talks_offer":
            return {first} | seoul_dates
        case "pact_terminated":
            return {first} | ({lapse} if in_lapse_month else set())
        case "pact_renewed":
            return {step.calendar.next_anniversary(first - timedelta(days=1))}
        case "pact_signed" | "signing_postponed" | "signing_abandoned":
            return {step.scheduled}
        case _:
            return {first}


def check_event_dates(run: Run) -> None:
    for step in run.steps:
        seoul_dates = {e.date for e in step.events if e.event in SEOUL_EVENTS}
        for e in step.events:
            assert same_month(e.date, step.month), (step.month, e)
            assert e.date in allowed_dates(e, step, seoul_dates), (step.month, e)


def test_events_dated_in_their_month(random_runs, state_runs):
    for run in all_runs(random_runs, state_runs):
        check_event_dates(run)


def test_baseline_events_dated_in_their_month():
    run = run_recorded(rng=1, **{"start": date(2019, 5, 1), "end": date(2019, 12, 31)})
    check_event_dates(run)
    check_event_dates(record(GSOMIAModel.from_config(BASELINE, rng=1), {}))


def test_leap_year_signing_renews_on_feb_28():
    run = run_recorded(
        rng=1, signing_date=date(2016, 2, 29), start=date(2019, 1, 1), end=date(2020, 3, 31)
    )
    renewals = [e.date for e in run.model.timeline if e.event == "pact_renewed"]
    assert date(2019, 2, 28) in renewals
    assert date(2020, 2, 29) in renewals
    check_event_dates(run)


def test_notice_on_first_of_month_keeps_decision_in_month():
    # signing on Dec 1: the last notice day for Dec 1 is Sep 1
    pact = PactCalendar(date(2016, 12, 1))
    assert pact.last_notice_day(date(2019, 12, 1)) == date(2019, 9, 1)
    runs = [
        run_recorded(
            rng=seed,
            rationality=0.0,
            signing_date=date(2016, 12, 1),
            start=date(2019, 9, 1),
            end=date(2019, 9, 30),
        )
        for seed in range(6)
    ]
    noticed = [r for r in runs if "termination_notice" in {e.event for e in r.model.timeline}]
    assert noticed  # the scenario does exercise the rule
    for run in noticed:
        check_event_dates(run)


def test_months_run_in_order(random_runs):
    for run in random_runs:
        months = [s.month for s in run.steps]
        assert months == [add_months(run.model.start, k) for k in range(len(months))]


def test_a_pact_never_signed_is_not_signed_only_when_the_signing_was_abandoned():
    from model.outcome import Episode

    assert Episode(ever_active=False, signing_abandoned=True).classify() == ("not_signed", None)
    assert Episode(ever_active=False).classify() == ("pending", None)  # signing still ahead
    assert Episode(ever_active=True).classify() == ("renewed", None)


def test_a_months_transitions_position_each_profile_among_the_successors():
    """``transitions`` maps every feasible profile to the index of the state it leads to,
    among the month's successors or among given targets, which must hold them all."""
    from model.game import StateCodec, feasible_profiles, transitions
    from model.lookahead import _first

    m = GSOMIAModel.from_config(BASELINE, rng=0)
    codec = StateCodec.of(m.cast)
    code = int(codec.encode(m.reduced_state()))
    tr = _first(m.cast, code, m.month_calendar(m.date), None)
    ok = feasible_profiles(tr.g)
    nxt = np.broadcast_to(codec.encode(tr.g.next), tr.g.shape)
    assert len(tr.successors) > 1 and (tr.successors[tr.index][ok] == nxt[ok]).all()
    wider = np.union1d(tr.successors, [tr.successors.max() + 1])
    among = transitions(tr.g, codec, wider)
    assert (wider[among.index][ok] == nxt[ok]).all()
    assert (tr.index[~ok] == 0).all() and (among.index[~ok] == 0).all()  # 0 where infeasible
    with pytest.raises(ValueError, match=r"^targets must hold every successor state$"):
        transitions(tr.g, codec, tr.successors[1:])


@pytest.mark.parametrize("postpone_months", [2, 3])
def test_a_postponed_signing_is_settled_postpone_months_later(postpone_months):
    """Seoul's postponement moves the scheduled signing ``postpone_months`` ahead, and
    that month must settle it again (sign, postpone or abandon)."""
    settling = {"pact_signed", "signing_postponed", "signing_abandoned"}
    for seed in range(40):  # choices at rationality 0 are uniform: some seed postpones
        run = negotiating_run(seed, end=date(2019, 12, 31), postpone_months=postpone_months)
        first = next(s for s in run.steps if settling & {e.event for e in s.events})
        if "signing_postponed" in {e.event for e in first.events}:
            break
    else:
        pytest.fail("no seed of 40 postponed the signing")
    assert same_month(first.month, date(2019, 3, 1))
    later = [s for s in run.steps if s.month > first.month]
    assert later[0].scheduled == add_months(date(2019, 3, 15), postpone_months)
    settled = [s.month for s in later if settling & {e.event for e in s.events}]
    assert settled and same_month(settled[0], add_months(first.month, postpone_months))


def test_a_run_started_in_suspension_records_the_suspension_as_its_reversal():
    """A run from the state of 2019-11-22 (notice suspended the day before it would have
    lapsed) classifies that suspension as the episode's reversal, with its action, so a
    sweep's reversal columns say what happened before the run began."""
    m = GSOMIAModel(
        rng=0,
        pact_state="suspended",
        notice_date=date(2019, 8, 23),
        suspension_date=date(2019, 11, 22),
        start=date(2019, 12, 1),
        end=date(2019, 12, 31),
    )
    assert m.episode.reversal_action == "conditional_suspension"
    assert m.episode.reversal_month == date(2019, 11, 1)
    assert m.episode.notice_month == date(2019, 8, 1)
