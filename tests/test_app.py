"""The browser UI in-process: app.py's helpers, snapshots, figures, exports and ensemble,
its page rendered with ``solara.render`` (no browser), and ``gsomia ui``'s launcher
(experiments/serve.py, which needs no Solara)."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import math
import time
from datetime import date
from pathlib import Path

import pytest

from model import HEADLINE, OUTCOMES, PARAMETERS, ConfigError, GSOMIAModel
from model.calendar import PactCalendar, months_between
from model.config import load_config

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "configs" / "baseline_2019.toml"
HAVE_SOLARA = all(importlib.util.find_spec(m) for m in ("solara", "ipyvuetify"))
needs_solara = pytest.mark.skipif(not HAVE_SOLARA, reason="solara not installed (the ui extra)")


if HAVE_SOLARA:
    from gsomia_ui import ensembles as ens
    from gsomia_ui import exports as exp
    from gsomia_ui import figures as figs
    from gsomia_ui import inputs as inp
    from gsomia_ui import page
    from gsomia_ui import scenarios as sc
    from gsomia_ui import state as st
    from gsomia_ui import tables as tab
    from gsomia_ui import view as vw


def _run_to(seed: int, until=lambda view: False) -> tuple:
    """A ScenarioModel of the baseline and its view, stepped until ``until(view)`` or the end."""
    model = sc.ScenarioModel(scenario=sc.SHIPPED_DEFAULT, rng=seed)
    view = vw.make_view(model)
    while model.running and not until(view):
        model.step()
        view = vw.make_view(model)
    return model, view


@pytest.fixture(scope="module")
def crisis():
    """The first baseline seed with a termination notice, run to the end, and its view."""
    if not HAVE_SOLARA:
        pytest.skip("solara not installed (the ui extra)")
    for seed in range(1, 21):
        model, view = _run_to(seed)
        if vw.first_notice(view) is not None:
            return model, view
    pytest.fail("no baseline run with a termination notice among seeds 1-20")


# ---- scenarios, seeds, controls ------------------------------------------------------------------
@needs_solara
def test_discover_scenarios_lists_configs_with_a_scenario_table(tmp_path):
    found = sc.discover_scenarios()
    assert next(iter(found)) == sc.SHIPPED_DEFAULT
    for path in found.values():
        assert "[scenario]" in path.read_text()
    (tmp_path / "zeta.toml").write_text('# Zeta: a test.\n[scenario]\nname = "zeta"\n')
    (tmp_path / "sweep.toml").write_text("[sweep]\nruns = 3\n")
    (tmp_path / "broken.toml").write_text("[scenario\n")
    assert list(sc.discover_scenarios(tmp_path)) == ["zeta"]
    assert sc.scenario_description(tmp_path / "zeta.toml") == "Zeta: a test."


@needs_solara
def test_every_scenario_has_a_description_from_its_config():
    for name, path in sc.discover_scenarios().items():
        text = sc.scenario_description(path)
        first = path.read_text().splitlines()[0].lstrip("# ").strip()
        assert text.startswith(first), name


@needs_solara
def test_scenario_values_are_the_configs_own():
    for name, path in sc.discover_scenarios().items():
        config = load_config(path)
        values = sc.scenario_values(name)
        assert set(values) == set(PARAMETERS)
        for key, p in PARAMETERS.items():
            assert values[key] == config.get(key, p.default), (name, key)


@pytest.mark.parametrize(("typed", "seed"), [("42", 42), (" 7 ", 7), (5, 5), (0, 0), ("0", 0)])
@needs_solara
def test_parse_seed_accepts_whole_numbers(typed, seed):
    assert inp.parse_seed(typed, 11) == (seed, None)


@pytest.mark.parametrize("typed", ["abc", "4.5", "-3", -3, True, None, "", "1e3", [1]])
@needs_solara
def test_parse_seed_falls_back_with_a_message(typed):
    seed, message = inp.parse_seed(typed, default=11)
    assert seed == 11
    assert message and "11" in message


@needs_solara
def test_controls_at_the_scenario_values_run_the_scenario():
    """The page passes every control; those equal to the scenario's own values change
    nothing, so no_us_pressure runs with its own us_pressure_weight."""
    name = "no_us_pressure"
    values = sc.scenario_values(name)
    assert values["us_pressure_weight"] != PARAMETERS["us_pressure_weight"].default
    model = sc.ScenarioModel(scenario=name, rng=3, **values)
    direct = GSOMIAModel.from_config(sc.discover_scenarios()[name], rng=3)
    assert model.changed_values == {}
    assert model.messages == []
    model.run()
    direct.run()
    assert [e.to_dict() for e in model.timeline] == [e.to_dict() for e in direct.timeline]
    assert model.monthly().equals(direct.monthly())


@needs_solara
def test_a_moved_control_is_applied_including_advanced_ones():
    values = sc.scenario_values("no_us_pressure")
    values["us_pressure_weight"] = PARAMETERS["us_pressure_weight"].default  # back to default
    values["discount"] = 0.9
    model = sc.ScenarioModel(scenario="no_us_pressure", rng=1, **values)
    assert model.parameters["us_pressure_weight"] == PARAMETERS["us_pressure_weight"].default
    assert model.parameters["discount"] == 0.9
    assert set(model.changed_values) == {"us_pressure_weight", "discount"}
    assert model.run_params["discount"] == 0.9


@needs_solara
def test_out_of_range_control_falls_back_with_a_message():
    key = HEADLINE[0]
    model = sc.ScenarioModel(rng=1, **{key: PARAMETERS[key].high + 100})
    assert model.parameters[key] == load_config(BASELINE).get(key, PARAMETERS[key].default)
    assert any(key in m for m in model.messages)


@needs_solara
def test_non_numeric_seed_never_raises_and_says_why():
    model = sc.ScenarioModel(rng="not a seed")
    assert model.seed == sc.DEFAULT_SEED
    assert len(model.messages) == 1 and "not a seed" in model.messages[0]
    model.step()
    assert model.steps == 1


@needs_solara
def test_every_parameter_has_a_control():
    """Nine headline parameters, then every other one in the advanced group; sliders hold
    the default on their grid."""
    assert set(HEADLINE) | set(inp.ADVANCED) | {"name"} == set(PARAMETERS)
    assert not set(HEADLINE) & set(inp.ADVANCED)
    for key in PARAMETERS:
        kind = inp.control_kind(key)
        if kind == "slider" and PARAMETERS[key].kind is float:
            p = PARAMETERS[key]
            steps = (p.default - p.low) / inp.slider_step(key)
            assert abs(steps - round(steps)) < 1e-6, key
    assert inp.control_kind("n_citizens") == "int"
    assert inp.control_kind("pact_state") == "select"
    assert inp.control_kind("start") == "date"
    assert inp.format_value("audience_cost", 4.0) == "4 u (one-off)"


# ---- numbers -------------------------------------------------------------------------------------
@needs_solara
def test_num_never_prints_negative_zero():
    assert inp.num(-0.001) == "0.00"
    assert inp.num(-0.004999) == "0.00"
    assert inp.num(-0.005001) == "-0.01"
    assert inp.num(-0.5) == "-0.50"
    assert inp.num(0.0) == "0.00"
    assert inp.num(-0.4, 0) == "0"


@needs_solara
def test_no_negative_zero_in_any_table(crisis):
    _model, view = crisis
    for month in view.months:
        assert "-0.00" not in tab.month_html(view, month), month
        assert ">-0<" not in tab.month_html(view, month)


# ---- snapshots and the calendar ------------------------------------------------------------------
@needs_solara
def test_view_counts_months_not_steps():
    """Stepping past the end changes nothing: a 15-month run shows 15 months, not 100."""
    session = st.Session()
    view = session.reset("baseline_2019", 1, {})
    assert view.months_done == 0 and view.total_months == 15
    for _ in range(20):
        view = session.step()
    assert view.months_done == 15 and not view.running
    assert view.months[-1].isoformat() == "2019-12-01"


@needs_solara
def test_nothing_is_decided_before_a_notice(crisis):
    model, _ = crisis
    fresh = vw.make_view(sc.ScenarioModel(rng=model.seed))
    assert vw.outcome_so_far(fresh) == "open: no termination notice yet"
    assert not vw.deadline_passed(fresh)
    _, before = _run_to(model.seed, lambda v: vw.first_notice(v) is not None)
    assert "notice given" in vw.outcome_so_far(before)


@needs_solara
def test_deadline_and_countdown_follow_the_calendar(crisis):
    model, view = crisis
    cal = PactCalendar(model.parameters["signing_date"])
    notice = vw.first_notice(view)
    assert vw.decisive_deadline(view) == cal.lapse_date_for_notice(notice)
    fresh = vw.make_view(sc.ScenarioModel(rng=1))
    lines = dict(vw.countdown(fresh))
    anniversary = cal.next_anniversary(fresh.start)
    assert anniversary.isoformat() in lines["Expiry"]
    assert cal.last_notice_day(anniversary).isoformat() in lines["Notice cut-off"]
    assert vw.deadline_passed(view)
    assert vw.outcome_text(view).startswith("Outcome: ")


@needs_solara
@pytest.mark.parametrize("name", ["baseline_2019", "signing_2016", "no_trade_curbs"])
def test_page_helpers_follow_a_scenario_to_its_end(name):
    model = sc.ScenarioModel(scenario=name, rng=4)
    passed = []
    while True:
        view = vw.make_view(model)
        lines = dict(vw.countdown(view))
        assert "As of" in lines and len(lines) >= 2
        passed.append(vw.deadline_passed(view))
        if not model.running:
            break
        model.step()
    assert passed == sorted(passed), "once passed, the deadline stays passed"
    assert passed[-1]
    assert model.outcome.split("_")[0] in vw.outcome_text(view)


# ---- month by month ------------------------------------------------------------------------------
@needs_solara
def test_every_month_shows_every_governments_decision(crisis):
    model, view = crisis
    for month in view.months:
        found = vw.decisions_in(view, month)
        assert sorted(found) == sorted(vw.ACTORS)
        page = tab.month_html(view, month)
        for actor, decision in found.items():
            assert decision == next(
                d for d in model.explain(actor) if d.date.strftime("%Y-%m") == f"{month:%Y-%m}"
            )
            assert f"data-actor='{actor}' data-month='{month:%Y-%m}'" in page
            for option in decision.options:
                assert f"<b>{inp.num(option.expected_utility)}</b>" in page
        row = vw.month_row(view, month)
        assert dict(tab.state_pairs(view, month))["Pact"] == row["pact_state"].replace("_", " ")


@needs_solara
def test_month_picker_entries_name_the_months_moves(crisis):
    _model, view = crisis
    labels = [vw.month_label(view, m) for m in view.months]
    assert len(set(labels)) == len(labels)
    for e in view.timeline:
        if view.start <= e.date and not e.extra.get("exogenous"):
            label = labels[months_between(view.start, e.date)]
            assert label.startswith(f"{e.date:%b %Y}") and e.event in label


@needs_solara
def test_decision_table_rows_match_the_options(crisis):
    _model, view = crisis
    for d in view.decisions:
        table = tab.decision_table(d)
        assert table.count("<tr") == len(d.options) + 1
        assert f"chose <b>{inp.action_label(d.chosen)}</b>" in table


# ---- figures -------------------------------------------------------------------------------------
def _label_boxes(fig):
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in fig.axes[0].texts if t.get_gid() == "edge-label"]


@needs_solara
def test_edge_labels_never_overlap(crisis):
    """The Seoul-Tokyo label used to sit under the Washington-Beijing one (same midpoint)."""
    model, _ = crisis
    fresh = sc.ScenarioModel(rng=model.seed)
    for _ in range(16):
        view = vw.make_view(fresh)
        fig = figs.network_figure(view)
        boxes = _label_boxes(fig)
        assert len(boxes) == len(view.network[1])
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not a.overlaps(b), (view.next_month, a, b)
        if not fresh.running:
            break
        fresh.step()


@needs_solara
def test_stance_stays_on_its_colour_scale():
    """Seoul's stance reaches 1.5 (notice plus WTO complaint): the colour bar covers it."""
    seen = 0.0
    for name in ("baseline_2019", "china_pull"):
        for seed in (1, 2):
            model = sc.ScenarioModel(scenario=name, rng=seed)
            while model.running:
                model.step()
                seen = max(seen, max(n[2] for n in vw.make_view(model).network[0]))
    assert seen > 1.0, "some run reaches a stance above 1"
    assert seen <= figs.STANCE_MAX
    model, view = _run_to(1)
    fig = figs.network_figure(view)
    colorbar_axes = fig.axes[1]
    assert colorbar_axes.get_ylim()[1] == pytest.approx(figs.STANCE_MAX)


@needs_solara
def test_monthly_series_show_a_month_within_that_month(crisis):
    """A month's move is drawn from the start of its month: a notice, a suspension on
    2019-11-22 (before the deadline on Nov 23) or Washington's first public statement."""
    _model, view = crisis
    fig = figs.series_figure(view)
    deadline = vw.decisive_deadline(view)
    lines = {line.get_gid(): line for ax in fig.axes for line in ax.get_lines() if line.get_gid()}
    assert lines["pact"].get_drawstyle() == "steps-pre"
    x = list(lines["pact"].get_xdata())
    states = list(view.monthly["pact_state"])
    for event in view.timeline:
        if event.event in ("conditional_suspension", "termination_notice", "rescind_notice"):
            # the first row at or after the event's month end carries the new state
            i = next(k for k, d in enumerate(x) if d >= event.date)
            assert x[i - 1] < event.date <= x[i]
            assert states[i] != states[i - 1] or event.event == "rescind_notice"
    pressure = list(view.monthly["us_pressure_seoul"])
    if any(pressure):
        # Washington's first declared pressure is drawn over the month of its event
        i = next(k for k, p in enumerate(pressure) if p > 0)
        first = next(e for e in view.timeline if e.actor == "washington")
        assert first.event == "public_support"
        assert x[i - 1] < first.date <= x[i]
    deadline_x = [
        line.get_xdata()[0]
        for ax in fig.axes
        for line in ax.get_lines()
        if line.get_gid() == "deadline"
    ]
    assert deadline_x and all(d == deadline for d in deadline_x)


# ---- exports -------------------------------------------------------------------------------------
@needs_solara
def test_csv_exports_hold_the_run(crisis):
    model, view = crisis
    monthly = list(csv.DictReader(io.StringIO(exp.monthly_csv(view))))
    assert len(monthly) == view.months_done + 1
    assert [r["pact_state"] for r in monthly] == list(model.monthly()["pact_state"])
    timeline = list(csv.DictReader(io.StringIO(exp.timeline_csv(view))))
    assert [(r["date"], r["event"]) for r in timeline] == [
        (e.date.isoformat(), e.event) for e in model.timeline
    ]
    decisions = list(csv.DictReader(io.StringIO(exp.decisions_csv(view))))
    assert len(decisions) == sum(len(d.options) for d in model.explain())
    first = model.explain()[0]
    row = decisions[0]
    option = first.options[0]
    assert (row["actor"], row["option"]) == (first.actor, option.action)
    assert float(row["expected_utility"]) == option.expected_utility
    assert sum(r["chosen"] == "True" for r in decisions) == len(model.explain())


@needs_solara
def test_png_exports_are_pngs(crisis):
    _model, view = crisis
    for fig in (figs.network_figure(view), figs.series_figure(view)):
        assert figs.figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


# ---- the ensembles -------------------------------------------------------------------------------
@pytest.fixture
def warm_pool_closed():
    """Tests that run on the shared worker pool stop it afterwards."""
    yield
    from experiments.backends import close_warm_pools

    close_warm_pools()


def assert_shares_over_the_finished_seeds(view, outcome_of: dict) -> None:
    """The seeds ensemble's table, HTML table, CSV and figure give each outcome's share of
    the seeds finished so far (``outcome_of``: seed -> outcome, run independently), with
    Wilson's interval over them, whatever number of seeds was asked for."""
    from experiments.analysis import wilson

    seeds = [r["seed"] for r in view.rows]
    n = view.done
    assert n == len(set(seeds)) >= 1 and n <= view.requested
    table = ens.ensemble_table(view).set_index("outcome")
    assert list(table.index) == list(OUTCOMES)
    page_table = tab.ensemble_html(view)
    shares_csv = {
        r["outcome"]: r for r in csv.DictReader(io.StringIO(exp.ensemble_shares_csv(view)))
    }
    for outcome in OUTCOMES:
        k = sum(outcome_of[s] == outcome for s in seeds)
        lo, hi = wilson(k, n)
        row = table.loc[outcome]
        assert (row["runs"], row["share"]) == (k, pytest.approx(k / n)), outcome
        assert (row["lo95"], row["hi95"]) == pytest.approx((lo, hi), abs=1e-12), outcome
        assert float(shares_csv[outcome]["share"]) == pytest.approx(k / n)
        label, share, ci = figs.outcome_label(outcome), inp.pct(k / n), tab.interval(lo, hi)
        row_html = f"<tr><td>{label}</td><td class='num'>{k}</td><td class='num'>{share}</td>"
        assert row_html + f"<td class='num'>{ci}</td></tr>" in page_table, outcome
    title = figs.ensemble_figure(view).axes[0].get_title()
    assert title == f"Outcomes ({n} seeds)"


@needs_solara
def test_ensemble_reuses_the_sweep_run_and_summarises_it():
    from experiments.ensemble import BAND_SERIES, reversal_histogram
    from experiments.runner import run_one

    params = load_config(BASELINE)
    seeds = [0, 1, 2, 3, 4]
    done = []
    views = list(ens.run_ensemble(params, seeds, "baseline", progress=lambda d, t: done.append(d)))
    assert [v.done for v in views] == [4, 5]  # batches of four seeds
    assert done == [4, 5]
    final = views[-1]
    outcome_of = {}
    for row, seed in zip(final.rows, seeds, strict=True):
        expected = run_one(params, seed)
        assert {k: row[k] for k in expected} == expected
        outcome_of[seed] = expected["outcome"]
        model = GSOMIAModel(rng=seed, **params)
        model.run()
        assert list(row["series"]["opinion_share"]) == list(model.monthly()["opinion_share"])
        assert set(row["series"]) == set(BAND_SERIES)
    # mid-run (4 of 5 seeds) and at the end: shares of the seeds finished
    assert [r["seed"] for r in views[0].rows] == [0, 1, 2, 3] and views[0].requested == 5
    for view in views:
        assert_shares_over_the_finished_seeds(view, outcome_of)
    assert len(set(outcome_of.values())) > 1  # shares other than 0 and 1 (4 and 5 differ)
    bands = ens.ensemble_bands(final, "opinion_share")
    assert len(bands) == len(final.rows[0]["dates"])
    assert (bands["p5"] <= bands["median"]).all() and (bands["median"] <= bands["p95"]).all()
    hist = reversal_histogram(final.rows)
    noticed = sum(r["reversal_months_before_expiry"] is not None for r in final.rows)
    assert sum(hist.values()) - hist["lapsed"] == noticed
    assert figs.figure_png(figs.ensemble_figure(final))[:4] == b"\x89PNG"


@needs_solara
def test_ensemble_csvs_are_one_table_each_with_exact_bounds():
    params = load_config(BASELINE)
    final = list(ens.run_ensemble(params, [0, 1, 2], "baseline"))[-1]
    shares = list(csv.DictReader(io.StringIO(exp.ensemble_shares_csv(final))))
    assert [r["outcome"] for r in shares] == list(OUTCOMES)
    for r in shares:
        if r["runs"] == "0":
            assert float(r["lo95"]) == 0.0
    runs = list(csv.DictReader(io.StringIO(exp.ensemble_runs_csv(final))))
    assert [int(r["seed"]) for r in runs] == [0, 1, 2]
    assert "#" not in exp.ensemble_shares_csv(final) + exp.ensemble_runs_csv(final)


@needs_solara
def test_ensemble_on_two_workers_runs_on_the_runners_shared_pool(warm_pool_closed):
    """One process pool: the page's ensemble runs on the sweep backends' warm pool (the
    same rows as in one process), and a second ensemble reuses its processes."""
    import multiprocessing

    from experiments import backends
    from experiments.ensemble import BAND_SERIES

    params = load_config(BASELINE)
    seeds = [3, 0, 2, 1, 5, 4, 7, 6, 8]
    one = list(ens.run_ensemble(params, seeds, "baseline"))[-1]
    done = []
    views = list(
        ens.run_ensemble(params, seeds, "baseline", progress=lambda d, t: done.append(d), workers=2)
    )
    two = views[-1]
    assert sorted(done) == done and done[-1] == 9 and not two.cancelled
    assert [r["seed"] for r in two.rows] == list(range(9))
    for a, b in zip(one.rows, two.rows, strict=True):
        assert {k: v for k, v in a.items() if k != "series"} == {
            k: v for k, v in b.items() if k != "series"
        }
        for name in BAND_SERIES:
            assert list(a["series"][name]) == list(b["series"][name])
    pool = backends.warm_pool(2)
    workers = {p.pid for p in pool._processes.values()}
    assert workers <= {p.pid for p in multiprocessing.active_children()}
    list(ens.run_ensemble(params, [0, 1, 2, 3, 4], "again", workers=2))
    assert {p.pid for p in backends.warm_pool(2)._processes.values()} == workers


@needs_solara
def test_ensemble_stops_when_cancelled(warm_pool_closed):
    from experiments.runner import run_one

    params = load_config(BASELINE)
    for workers in (1, 2):
        views = []

        def keep_going(views=views) -> bool:
            return not views

        for v in ens.run_ensemble(params, range(40), "baseline", keep_going, workers=workers):
            views.append(v)
        assert views[-1].cancelled and 1 <= views[-1].done < 40
        assert views[-1].requested == 40
        # the shares of the cancelled ensemble are those of the seeds it finished
        outcome_of = {r["seed"]: run_one(params, r["seed"])["outcome"] for r in views[-1].rows}
        assert_shares_over_the_finished_seeds(views[-1], outcome_of)


@needs_solara
def test_comparison_pairs_the_seeds_of_two_settings():
    from experiments.runner import run_one

    a = load_config(BASELINE)
    b = sc.settings_from("no_us_pressure", sc.scenario_values("no_us_pressure")).params
    views = list(ens.run_comparison(a, b, [0, 1, 2, 3, 4], ("A", "B")))
    final = views[-1]
    assert final.done == 5 and not final.cancelled
    for ra, rb in zip(final.rows_a, final.rows_b, strict=True):
        assert ra["seed"] == rb["seed"]
        assert ra["outcome"] == run_one(a, ra["seed"])["outcome"]
        assert rb["outcome"] == run_one(b, rb["seed"])["outcome"]
    table = final.table().set_index("outcome")
    for outcome in OUTCOMES:
        share_a = sum(r["outcome"] == outcome for r in final.rows_a) / 5
        assert table.loc[outcome, "share_a"] == share_a
        assert table.loc[outcome, "lo95"] <= table.loc[outcome, "difference"]
        assert table.loc[outcome, "difference"] <= table.loc[outcome, "hi95"]


@needs_solara
def test_a_cancelled_comparison_gives_the_shares_of_the_seeds_both_settings_finished():
    """Stopped after two batches of 10 seeds (A's seeds 0-3, then B's): each share, the
    difference and the page's table are over the 4 seeds both ran; before B's first batch,
    over none (no share yet)."""
    from experiments.runner import run_one

    a = load_config(BASELINE) | {"n_citizens": 200}
    b = a | {"us_pressure_weight": 0.0, "audience_cost": 2.0}
    views = []
    for v in ens.run_comparison(a, b, range(10), ("A", "B"), keep_going=lambda: len(views) < 2):
        views.append(v)
    assert [(v.done, v.cancelled) for v in views] == [(0, False), (4, False), (4, True)]
    assert views[0].table()["share_a"].isna().all()
    final = views[-1]
    assert final.requested == 10
    assert [r["seed"] for r in final.rows_a] == [r["seed"] for r in final.rows_b] == [0, 1, 2, 3]
    outcome_a = {s: run_one(a, s)["outcome"] for s in range(4)}
    outcome_b = {s: run_one(b, s)["outcome"] for s in range(4)}
    table = final.table().set_index("outcome")
    page_table = tab.compare_html(final)
    for outcome in OUTCOMES:
        k_a = sum(o == outcome for o in outcome_a.values())
        k_b = sum(o == outcome for o in outcome_b.values())
        row = table.loc[outcome]
        assert (row["share_a"], row["share_b"]) == (k_a / 4, k_b / 4), outcome
        assert row["difference"] == (k_a - k_b) / 4
        label = figs.outcome_label(outcome)
        assert f"<tr><td>{label}</td><td class='num'>{inp.pct(k_a / 4)}</td>" in page_table
    assert final.histograms()[0] == ens.reversal_histogram(final.rows_a)


@needs_solara
def test_a_cancelled_posterior_ensemble_gives_the_shares_of_the_runs_it_finished(
    warm_pool_closed,
):
    """Stopped after its first batch (draw 0's two seeds of 3 draws x 2 seeds, and as many
    at the point estimate): the posterior shares are over those 2 runs, the point
    estimate's over none; the page says 2 of 12 runs."""
    from experiments.ensemble import load_posterior
    from experiments.runner import run_one, run_seed

    base = load_config(BASELINE) | {"n_citizens": 200}
    fit = REPO / "results" / "fit"
    views = list(ens.run_posterior(base, str(fit), 3, 2, 5, "base", keep_going=lambda: False))
    final = views[-1]
    assert final.cancelled and (final.done, final.requested) == (2, 12)
    rows = final.result.posterior_rows
    assert [(r["draw"], r["seed"]) for r in rows] == sorted((0, run_seed(5, 0, r)) for r in (0, 1))
    assert final.result.point_rows == ()
    post = load_posterior(fit)
    drawn = post.draw(3, 5).iloc[0]
    params = base | {n: float(drawn[n]) for n in post.names}
    outcomes = [run_one(params, run_seed(5, 0, r))["outcome"] for r in range(2)]
    table = final.result.table().set_index("outcome")
    page_table = tab.posterior_html(final)
    for outcome in OUTCOMES:
        k = outcomes.count(outcome)
        row = table.loc[outcome]
        assert (row["posterior_runs"], row["posterior_share"]) == (k, k / 2), outcome
        assert math.isnan(row["point_share"]) and row["point_runs"] == 0
        label = figs.outcome_label(outcome)
        assert f"<tr><td>{label}</td><td class='num'>{inp.pct(k / 2)}</td>" in page_table


@needs_solara
def test_settings_name_every_changed_value_and_refuse_bad_ones():
    values = sc.scenario_values("baseline_2019") | {"audience_cost": 0.0}
    settings = sc.settings_from("baseline_2019", values)
    assert settings.changed == {"audience_cost": 0.0}
    assert settings.params["audience_cost"] == 0.0
    assert settings.label == "baseline_2019 + audience_cost = 0 u (one-off)"
    assert sc.settings_from("baseline_2019", sc.scenario_values("baseline_2019")).label == (
        "baseline_2019"
    )
    with pytest.raises(ConfigError, match="audience_cost"):
        sc.settings_from("baseline_2019", values | {"audience_cost": 1e9})


# ---- the rendered page ---------------------------------------------------------------------------
def _wait(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the page")
        time.sleep(0.05)


@needs_solara
def test_page_renders_steps_and_keeps_one_model_per_render():
    import ipyvuetify as v
    import solara

    def render():
        return solara.render(page.Page(), handle_error=False)

    (_, rc1), (_, rc2) = render(), render()
    try:

        def clock(rc) -> str:
            texts = [
                w.children[0]
                for w in rc.find(v.Html, tag="span").widgets
                if "gsomia-clock" in (w.class_ or "") and w.children
            ]
            return " ".join(map(str, texts))

        assert "nothing simulated yet" in clock(rc1)
        step = rc1.find(v.Btn, children=["Step"])
        step.assert_single()
        step.widget.click()
        _wait(lambda: "1 of 15 months" in clock(rc1))
        assert "nothing simulated yet" in clock(rc2), "the second session has its own model"
    finally:
        rc1.close()
        rc2.close()


@needs_solara
def test_a_message_that_comes_and_goes_leaves_the_fields_and_buttons_after_it_in_place():
    """B's changes typed wrong, then right: the error comes and goes above the seeds field
    and the buttons, which stay the same widgets and keep the N typed meanwhile (they
    were built anew, losing what was typed and a click landing meanwhile: a comparison
    ran the 50 seeds shown again after 6 had been typed)."""
    import ipyvuetify as v
    import solara

    _box, rc = solara.render(page.Page(), handle_error=False)
    try:
        rc.find(v.Tabs).widget.v_model = 3  # Compare

        def field(label: str):
            found = rc.find(v.TextField, label=label)
            found.assert_single()
            return found.widget

        def errors() -> list[str]:
            alerts = rc.find(v.Alert).widgets
            return [str(a.children) for a in alerts if "gsomia-compare-error" in a.class_]

        seeds = field("Seeds (N)")
        run = rc.find(v.Btn, children=["Run comparison"]).widget
        seeds.v_model = "6"  # typed, not applied yet
        changes = field("B: changes (KEY=VALUE, ...)")
        for typed, wrong in (("audience_cots=2", True), ("audience_cost=2", False)):
            changes.v_model = typed
            changes.fire_event("keyup.enter", {})
            assert any("audience_cots" in e for e in errors()) is wrong
            assert field("Seeds (N)") is seeds and seeds.v_model == "6"
            assert rc.find(v.Btn, children=["Run comparison"]).widget is run
    finally:
        rc.close()


# ---- gsomia ui (experiments/serve.py): no Solara needed ------------------------------------------
def test_ui_without_assets_exits_2_pointing_at_make(tmp_path, monkeypatch, capsys):
    from experiments import serve

    monkeypatch.setenv("SOLARA_ASSETS_PROXY_CACHE_DIR", str(tmp_path / "nothing-here"))

    def no_server(*args, **kwargs):
        raise AssertionError("the server must not start without its assets")

    monkeypatch.setattr(serve.subprocess, "Popen", no_server)
    status = serve.cli_ui(argparse.Namespace(host="127.0.0.1", port=8765))
    assert status == 2
    err = capsys.readouterr().err
    assert "make ui-assets" in err and "nothing-here" in err


def test_ui_env_and_command(tmp_path, monkeypatch):
    from experiments import serve

    monkeypatch.delenv("SOLARA_ASSETS_PROXY_CACHE_DIR", raising=False)
    env = serve.ui_env()
    assert env["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str((REPO / ".solara-assets").resolve())
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    env = serve.ui_env({"SOLARA_ASSETS_PROXY_CACHE_DIR": "rel/assets"})
    assert Path(env["SOLARA_ASSETS_PROXY_CACHE_DIR"]).is_absolute()
    cmd = serve.solara_command("127.0.0.1", 8123)
    assert cmd[cmd.index("run") + 1] == str(REPO / "app.py")
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "8123"
    assert "--production" in cmd and "--no-open" in cmd
    assert serve.missing_assets(tmp_path) == list(serve.REQUIRED_ASSETS)


def test_gsomia_ui_binds_localhost_by_default():
    from experiments.cli import build_parser

    args = build_parser().parse_args(["ui"])
    assert args.host == "127.0.0.1"


def test_ui_mesa_serves_the_solaraviz_page_by_module_name():
    from experiments import serve

    cmd = serve.solara_command("127.0.0.1", 8123, mesa=True)
    assert cmd[cmd.index("run") + 1] == "gsomia_ui.viz"


def test_ui_config_is_checked_and_handed_to_the_page(tmp_path, monkeypatch):
    from experiments import serve

    started = {}

    class FakeServer:
        def __init__(self, cmd, cwd, env):
            started.update(cmd=cmd, env=env)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(serve.subprocess, "Popen", FakeServer)
    monkeypatch.setenv("SOLARA_ASSETS_PROXY_CACHE_DIR", str(REPO / ".solara-assets"))
    if serve.missing_assets(REPO / ".solara-assets"):
        pytest.skip("offline UI assets missing: run `make ui-assets`")
    mine = tmp_path / "mine.toml"
    mine.write_text(BASELINE.read_text().replace('name = "baseline_2019"', 'name = "mine"'))
    args = argparse.Namespace(host="127.0.0.1", port=8123, config=str(mine), mesa=False)
    assert serve.cli_ui(args) == 0
    assert started["env"][serve.CONFIG_ENV] == str(mine.resolve())
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario]\naudience_cots = 3\n")
    args.config = str(bad)
    with pytest.raises(ConfigError, match="audience_cots"):
        serve.cli_ui(args)


def test_gsomia_ui_with_a_bad_config_exits_2_naming_it(tmp_path, capsys):
    from experiments.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario]\nend = 2019-13-01\n")
    assert main(["ui", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "Traceback" not in err
    assert main(["ui", "--config", str(tmp_path / "missing.toml")]) == 2


@needs_solara
def test_the_page_lists_the_config_file_first(tmp_path, monkeypatch):
    mine = tmp_path / "baseline_2019.toml"  # a shipped name: listed under its path
    mine.write_text(BASELINE.read_text().replace("grievance_initial", "grievance_initial"))
    monkeypatch.setenv(sc.CONFIG_ENV, str(mine))
    found = sc.discover_scenarios()
    assert next(iter(found)) == str(mine.resolve()) and "baseline_2019" in found
    assert sc.default_scenario() == str(mine.resolve())
    model = sc.ScenarioModel(rng=2)
    assert model.scenario_name == str(mine.resolve()) and model.messages == []


# ---- inputs that used to break the page ----------------------------------------------------------
@needs_solara
@pytest.mark.parametrize("text", ["2019-13-01", "2019-6-30", "", "soon"])
def test_a_bad_date_is_a_message_never_an_exception(text):
    parsed, message = inp.parse_date("end", text)
    assert parsed is None
    assert message.startswith("end: ") and "YYYY-MM-DD" in message and repr(text) in message
    assert inp.format_value("end", text) == text  # printing what was typed never raises
    assert inp.parse_date("end", " 2019-12-31 ") == (date(2019, 12, 31), None)


@needs_solara
def test_help_text_writes_ranges_as_readers_do():
    assert "Range 10–1,000,000." in inp.help_text("n_citizens")
    assert "e+" not in "".join(inp.help_text(k) for k in PARAMETERS)
    assert inp.number(0.025) == "0.025" and inp.number(3.0) == "3"


@needs_solara
def test_every_node_label_fits_inside_its_node(crisis):
    """The node is sized to its widest label ("Washington" overflowed a fixed size)."""
    _model, view = crisis
    figure = figs.network_figure(view)
    renderer = figure.canvas.get_renderer()
    ax = figure.axes[0]
    nodes = [c for c in ax.collections if c.get_gid() == "node"]
    labels = [t for t in ax.texts if t.get_gid() == "node-label"]
    assert len(nodes) == len(labels) == 4
    for node, label in zip(nodes, labels, strict=True):
        cx, cy = ax.transData.transform(node.get_offsets()[0])
        radius = (node.get_sizes()[0] ** 0.5) / 2 * figure.dpi / 72
        box = label.get_window_extent(renderer)
        for x, y in ((box.x0, box.y0), (box.x0, box.y1), (box.x1, box.y0), (box.x1, box.y1)):
            assert (x - cx) ** 2 + (y - cy) ** 2 <= radius**2, label.get_text()


def _texts_inside_and_apart(figure) -> None:
    """Everything drawn lies inside the figure (no title cut at an edge); no two tick
    labels of an axis overlap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()
    renderer = figure.canvas.get_renderer()
    drawn = figure.get_tightbbox(renderer)  # inches, drawn artists only
    width, height = figure.get_size_inches()
    assert drawn.x0 >= -0.01 and drawn.y0 >= -0.01, drawn
    assert drawn.x1 <= width + 0.01 and drawn.y1 <= height + 0.01, drawn
    for ax in figure.axes:
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = sorted(limits)
            boxes = [
                label.get_window_extent(renderer)
                for loc, label in zip(
                    axis.get_majorticklocs(), axis.get_majorticklabels(), strict=True
                )
                if lo <= loc <= hi and label.get_text()
            ]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    assert not a.overlaps(b), (a, b)


@needs_solara
def test_ensemble_figure_labels_stay_apart_and_inside():
    params = load_config(BASELINE)
    final = list(ens.run_ensemble(params, range(8), "baseline"))[-1]
    figure = figs.ensemble_figure(final)
    _texts_inside_and_apart(figure)


@needs_solara
def test_comparison_figure_labels_stay_apart_and_inside():
    a = load_config(BASELINE)
    b = a | {"us_pressure_weight": 0.0}
    final = list(ens.run_comparison(a, b, range(4), ("A", "B")))[-1]
    figure = figs.compare_figure(final)
    _texts_inside_and_apart(figure)


# ---- the package ---------------------------------------------------------------------------------
def test_the_model_never_imports_the_ui():
    import subprocess
    import sys

    code = (
        "import sys, model, agents, experiments.runner, experiments.ensemble\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gsomia_ui', 'solara', 'app')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_app_py_is_the_entry_point_only():
    """app.py configures the server and imports the page from the package."""
    import ast

    tree = ast.parse((REPO / "app.py").read_text())
    defined = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    assert defined == []
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {"gsomia_ui.page", "gsomia_ui.serving"} <= imported


@needs_solara
def test_the_docs_solaraviz_example_renders_and_steps():
    """The UI page's SolaraViz example, run as written: the page renders, and after a step
    of the model (what SolaraViz's Step does: step, then Mesa's update counter) the panels
    show the month."""
    import ipyvuetify as v
    import solara

    text = (REPO / "docs" / "ui.md").read_text()
    code = text.split("from mesa.visualization import SolaraViz", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec("from mesa.visualization import SolaraViz" + code, scope)
    _box, rc = solara.render(scope["page"], handle_error=False)
    try:

        def clock() -> str:
            spans = rc.find(v.Html, tag="span").widgets
            return " ".join(str(w.children[0]) for w in spans if "gsomia-clock" in (w.class_ or ""))

        assert "seed 0: nothing simulated yet" in clock()
        from mesa.visualization.utils import force_update

        scope["model"].step()
        force_update()
        _wait(lambda: "(1 of 15 months)" in clock())
    finally:
        rc.close()
