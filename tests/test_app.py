"""The browser UI in-process: app.py's helpers, snapshots, figures, exports and ensemble,
its page rendered with ``solara.render`` (no browser), and ``gsomia ui``'s launcher
(experiments/serve.py, which needs no Solara)."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import time
from pathlib import Path

import pytest

from model import HEADLINE, OUTCOMES, PARAMETERS, GSOMIAModel
from model.calendar import PactCalendar
from model.config import load_config

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "configs" / "baseline_2019.toml"
HAVE_SOLARA = all(importlib.util.find_spec(m) for m in ("solara", "ipyvuetify"))
needs_solara = pytest.mark.skipif(not HAVE_SOLARA, reason="solara not installed (the ui extra)")


@pytest.fixture(scope="module")
def app():
    if not HAVE_SOLARA:
        pytest.skip("solara not installed (the ui extra)")
    from app_loader import load_app

    return load_app()


def _run_to(app, seed: int, until=lambda view: False) -> tuple:
    """A ScenarioModel of the baseline and its view, stepped until ``until(view)`` or the end."""
    model = app.ScenarioModel(scenario=app.DEFAULT_SCENARIO, rng=seed)
    view = app.make_view(model)
    while model.running and not until(view):
        model.step()
        view = app.make_view(model)
    return model, view


@pytest.fixture(scope="module")
def crisis(app):
    """The first baseline seed with a termination notice, run to the end, and its view."""
    for seed in range(1, 21):
        model, view = _run_to(app, seed)
        if app.first_notice(view) is not None:
            return model, view
    pytest.fail("no baseline run with a termination notice among seeds 1-20")


# ---- scenarios, seeds, controls ----------------------------------------------------------------
@needs_solara
def test_discover_scenarios_lists_configs_with_a_scenario_table(app, tmp_path):
    found = app.discover_scenarios()
    assert next(iter(found)) == app.DEFAULT_SCENARIO
    for path in found.values():
        assert "[scenario]" in path.read_text()
    (tmp_path / "zeta.toml").write_text('# Zeta: a test.\n[scenario]\nname = "zeta"\n')
    (tmp_path / "sweep.toml").write_text("[sweep]\nruns = 3\n")
    (tmp_path / "broken.toml").write_text("[scenario\n")
    assert list(app.discover_scenarios(tmp_path)) == ["zeta"]
    assert app.scenario_description(tmp_path / "zeta.toml") == "Zeta: a test."


@needs_solara
def test_every_scenario_has_a_description_from_its_config(app):
    for name, path in app.discover_scenarios().items():
        text = app.scenario_description(path)
        first = path.read_text().splitlines()[0].lstrip("# ").strip()
        assert text.startswith(first), name


@needs_solara
def test_scenario_values_are_the_configs_own(app):
    for name, path in app.discover_scenarios().items():
        config = load_config(path)
        values = app.scenario_values(name)
        assert set(values) == set(PARAMETERS)
        for key, p in PARAMETERS.items():
            assert values[key] == config.get(key, p.default), (name, key)


@pytest.mark.parametrize(("typed", "seed"), [("42", 42), (" 7 ", 7), (5, 5), (0, 0), ("0", 0)])
@needs_solara
def test_parse_seed_accepts_whole_numbers(app, typed, seed):
    assert app.parse_seed(typed) == (seed, None)


@pytest.mark.parametrize("typed", ["abc", "4.5", "-3", -3, True, None, "", "1e3", [1]])
@needs_solara
def test_parse_seed_falls_back_with_a_message(app, typed):
    seed, message = app.parse_seed(typed, default=11)
    assert seed == 11
    assert message and "11" in message


@needs_solara
def test_controls_at_the_scenario_values_run_the_scenario(app):
    """The page passes every control; those equal to the scenario's own values change
    nothing, so no_us_pressure runs with its own us_pressure_weight."""
    name = "no_us_pressure"
    values = app.scenario_values(name)
    assert values["us_pressure_weight"] != PARAMETERS["us_pressure_weight"].default
    model = app.ScenarioModel(scenario=name, rng=3, **values)
    direct = GSOMIAModel.from_config(app.discover_scenarios()[name], rng=3)
    assert model.changed_values == {}
    assert model.messages == []
    model.run()
    direct.run()
    assert [e.to_dict() for e in model.timeline] == [e.to_dict() for e in direct.timeline]
    assert model.monthly().equals(direct.monthly())


@needs_solara
def test_a_moved_control_is_applied_including_advanced_ones(app):
    values = app.scenario_values("no_us_pressure")
    values["us_pressure_weight"] = PARAMETERS["us_pressure_weight"].default  # back to default
    values["discount"] = 0.9
    model = app.ScenarioModel(scenario="no_us_pressure", rng=1, **values)
    assert model.parameters["us_pressure_weight"] == PARAMETERS["us_pressure_weight"].default
    assert model.parameters["discount"] == 0.9
    assert set(model.changed_values) == {"us_pressure_weight", "discount"}
    assert model.run_params["discount"] == 0.9


@needs_solara
def test_out_of_range_control_falls_back_with_a_message(app):
    key = HEADLINE[0]
    model = app.ScenarioModel(rng=1, **{key: PARAMETERS[key].high + 100})
    assert model.parameters[key] == load_config(BASELINE).get(key, PARAMETERS[key].default)
    assert any(key in m for m in model.messages)


@needs_solara
def test_non_numeric_seed_never_raises_and_says_why(app):
    model = app.ScenarioModel(rng="not a seed")
    assert model.seed == app.DEFAULT_SEED
    assert len(model.messages) == 1 and "not a seed" in model.messages[0]
    model.step()
    assert model.steps == 1


@needs_solara
def test_every_parameter_has_a_control(app):
    """Nine headline parameters, then every other one in the advanced group; sliders hold
    the default on their grid."""
    assert set(HEADLINE) | set(app.ADVANCED) | {"name"} == set(PARAMETERS)
    assert not set(HEADLINE) & set(app.ADVANCED)
    for key in PARAMETERS:
        kind = app.control_kind(key)
        if kind == "slider" and PARAMETERS[key].kind is float:
            p = PARAMETERS[key]
            steps = (p.default - p.low) / app.slider_step(key)
            assert abs(steps - round(steps)) < 1e-6, key
    assert app.control_kind("n_citizens") == "int"
    assert app.control_kind("pact_state") == "select"
    assert app.control_kind("start") == "date"
    assert app.format_value("audience_cost", 4.0) == "4 u (one-off)"


# ---- numbers -------------------------------------------------------------------------------------
@needs_solara
def test_num_never_prints_negative_zero(app):
    assert app.num(-0.001) == "0.00"
    assert app.num(-0.004999) == "0.00"
    assert app.num(-0.005001) == "-0.01"
    assert app.num(-0.5) == "-0.50"
    assert app.num(0.0) == "0.00"
    assert app.num(-0.4, 0) == "0"


@needs_solara
def test_no_negative_zero_in_any_table(app, crisis):
    _model, view = crisis
    for month in view.months:
        assert "-0.00" not in app.month_html(view, month), month
        assert ">-0<" not in app.month_html(view, month)


# ---- snapshots and the calendar -----------------------------------------------------------------
@needs_solara
def test_view_counts_months_not_steps(app):
    """Stepping past the end changes nothing: a 15-month run shows 15 months, not 100."""
    session = app.Session()
    view = session.reset("baseline_2019", 1, {})
    assert view.months_done == 0 and view.total_months == 15
    for _ in range(20):
        view = session.step()
    assert view.months_done == 15 and not view.running
    assert view.months[-1].isoformat() == "2019-12-01"


@needs_solara
def test_nothing_is_decided_before_a_notice(app, crisis):
    model, _ = crisis
    fresh = app.make_view(app.ScenarioModel(rng=model.seed))
    assert app.outcome_so_far(fresh) == "open: no termination notice yet"
    assert not app.deadline_passed(fresh)
    _, before = _run_to(app, model.seed, lambda v: app.first_notice(v) is not None)
    assert "notice given" in app.outcome_so_far(before)


@needs_solara
def test_deadline_and_countdown_follow_the_calendar(app, crisis):
    model, view = crisis
    cal = PactCalendar(model.parameters["signing_date"])
    notice = app.first_notice(view)
    assert app.decisive_deadline(view) == cal.lapse_date_for_notice(notice)
    fresh = app.make_view(app.ScenarioModel(rng=1))
    lines = dict(app.countdown(fresh))
    anniversary = cal.next_anniversary(fresh.start)
    assert anniversary.isoformat() in lines["Expiry"]
    assert cal.last_notice_day(anniversary).isoformat() in lines["Notice cut-off"]
    assert app.deadline_passed(view)
    assert app.outcome_text(view).startswith("Outcome: ")


@needs_solara
@pytest.mark.parametrize("name", ["baseline_2019", "signing_2016", "no_trade_curbs"])
def test_page_helpers_follow_a_scenario_to_its_end(app, name):
    model = app.ScenarioModel(scenario=name, rng=4)
    passed = []
    while True:
        view = app.make_view(model)
        lines = dict(app.countdown(view))
        assert "As of" in lines and len(lines) >= 2
        passed.append(app.deadline_passed(view))
        if not model.running:
            break
        model.step()
    assert passed == sorted(passed), "once passed, the deadline stays passed"
    assert passed[-1]
    assert model.outcome.split("_")[0] in app.outcome_text(view)


# ---- month by month ------------------------------------------------------------------------------
@needs_solara
def test_every_month_shows_every_governments_decision(app, crisis):
    model, view = crisis
    for month in view.months:
        found = app.decisions_in(view, month)
        assert sorted(found) == sorted(app.ACTORS)
        page = app.month_html(view, month)
        for actor, decision in found.items():
            assert decision == next(
                d for d in model.explain(actor) if d.date.strftime("%Y-%m") == f"{month:%Y-%m}"
            )
            assert f"data-actor='{actor}' data-month='{month:%Y-%m}'" in page
            for option in decision.options:
                assert f"<b>{app.num(option.expected_utility)}</b>" in page
        row = app.month_row(view, month)
        assert dict(app.state_pairs(view, month))["Pact"] == row["pact_state"].replace("_", " ")


@needs_solara
def test_month_picker_entries_name_the_months_moves(app, crisis):
    _model, view = crisis
    labels = [app.month_label(view, m) for m in view.months]
    assert len(set(labels)) == len(labels)
    for e in view.timeline:
        if view.start <= e.date and not e.extra.get("exogenous"):
            label = labels[app.months_between(view.start, e.date)]
            assert label.startswith(f"{e.date:%b %Y}") and e.event in label


@needs_solara
def test_decision_table_rows_match_the_options(app, crisis):
    _model, view = crisis
    for d in view.decisions:
        table = app.decision_table(d)
        assert table.count("<tr") == len(d.options) + 1
        assert f"chose <b>{app.action_label(d.chosen)}</b>" in table


# ---- figures -------------------------------------------------------------------------------------
def _label_boxes(app, fig):
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in fig.axes[0].texts if t.get_gid() == "edge-label"]


@needs_solara
def test_edge_labels_never_overlap(app, crisis):
    """The Seoul-Tokyo label used to sit under the Washington-Beijing one (same midpoint)."""
    model, _ = crisis
    fresh = app.ScenarioModel(rng=model.seed)
    for _ in range(16):
        view = app.make_view(fresh)
        fig = app.network_figure(view)
        boxes = _label_boxes(app, fig)
        assert len(boxes) == len(view.network[1])
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not a.overlaps(b), (view.next_month, a, b)
        if not fresh.running:
            break
        fresh.step()


@needs_solara
def test_stance_stays_on_its_colour_scale(app):
    """Seoul's stance reaches 1.5 (notice plus WTO complaint): the colour bar covers it."""
    seen = 0.0
    for name in ("baseline_2019", "china_pull"):
        for seed in (1, 2):
            model = app.ScenarioModel(scenario=name, rng=seed)
            while model.running:
                model.step()
                seen = max(seen, max(n[2] for n in app.make_view(model).network[0]))
    assert seen > 1.0, "some run reaches a stance above 1"
    assert seen <= app.STANCE_MAX
    model, view = _run_to(app, 1)
    fig = app.network_figure(view)
    colorbar_axes = fig.axes[1]
    assert colorbar_axes.get_ylim()[1] == pytest.approx(app.STANCE_MAX)


@needs_solara
def test_monthly_series_show_a_month_within_that_month(app, crisis):
    """A month's move is drawn from the start of its month: a notice, a suspension on
    2019-11-22 (before the deadline on Nov 23) or Washington's first public statement."""
    _model, view = crisis
    fig = app.series_figure(view)
    deadline = app.decisive_deadline(view)
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
def test_csv_exports_hold_the_run(app, crisis):
    model, view = crisis
    monthly = list(csv.DictReader(io.StringIO(app.monthly_csv(view))))
    assert len(monthly) == view.months_done + 1
    assert [r["pact_state"] for r in monthly] == list(model.monthly()["pact_state"])
    timeline = list(csv.DictReader(io.StringIO(app.timeline_csv(view))))
    assert [(r["date"], r["event"]) for r in timeline] == [
        (e.date.isoformat(), e.event) for e in model.timeline
    ]
    decisions = list(csv.DictReader(io.StringIO(app.decisions_csv(view))))
    assert len(decisions) == sum(len(d.options) for d in model.explain())
    first = model.explain()[0]
    row = decisions[0]
    option = first.options[0]
    assert (row["actor"], row["option"]) == (first.actor, option.action)
    assert float(row["expected_utility"]) == option.expected_utility
    assert sum(r["chosen"] == "True" for r in decisions) == len(model.explain())


@needs_solara
def test_png_exports_are_pngs(app, crisis):
    _model, view = crisis
    for fig in (app.network_figure(view), app.series_figure(view)):
        assert app.figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


# ---- the ensemble --------------------------------------------------------------------------------
@needs_solara
def test_ensemble_reuses_the_sweep_run_and_summarises_it(app):
    from experiments.analysis import wilson
    from experiments.runner import run_one

    params = load_config(BASELINE)
    seeds = [0, 1, 2]
    done = []
    views = list(app.run_ensemble(params, seeds, "baseline", progress=lambda d, t: done.append(d)))
    assert [v.done for v in views] == [1, 2, 3]
    assert done == [1, 2, 3]
    final = views[-1]
    for row, seed in zip(final.rows, seeds, strict=True):
        expected = run_one(params, seed)
        assert {k: row[k] for k in expected} == expected
        model = GSOMIAModel(rng=seed, **params)
        model.run()
        assert list(row["series"]["opinion_share"]) == list(model.monthly()["opinion_share"])
    table = app.ensemble_table(final)
    assert list(table["outcome"]) == list(OUTCOMES)
    assert table["runs"].sum() == 3
    for r in table.itertuples():
        assert (r.lo95, r.hi95) == wilson(r.runs, 3)
    bands = app.ensemble_bands(final, "opinion_share")
    assert len(bands) == len(final.rows[0]["dates"])
    assert (bands["p5"] <= bands["median"]).all() and (bands["median"] <= bands["p95"]).all()
    hist = app.reversal_histogram(final)
    noticed = sum(r["reversal_months_before_expiry"] is not None for r in final.rows)
    assert sum(hist.values()) - hist["lapsed, no reversal"] == noticed
    text = app.ensemble_csv(final)
    assert "outcome,runs,share,lo95,hi95" in text and text.count("\n") > 10
    assert app.figure_png(app.ensemble_figure(final))[:4] == b"\x89PNG"


@needs_solara
def test_ensemble_on_two_worker_processes_gives_the_same_rows(app):
    params = load_config(BASELINE)
    seeds = [3, 0, 2, 1]
    one = list(app.run_ensemble(params, seeds, "baseline"))[-1]
    done = []
    views = list(
        app.run_ensemble(params, seeds, "baseline", progress=lambda d, t: done.append(d), workers=2)
    )
    two = views[-1]
    assert done == [1, 2, 3, 4] and not two.cancelled
    assert [r["seed"] for r in two.rows] == [0, 1, 2, 3]
    for a, b in zip(one.rows, two.rows, strict=True):
        assert {k: v for k, v in a.items() if k != "series"} == {
            k: v for k, v in b.items() if k != "series"
        }
        for name in app.BAND_SERIES:
            assert list(a["series"][name]) == list(b["series"][name])


@needs_solara
def test_ensemble_on_workers_stops_when_cancelled(app):
    params = load_config(BASELINE)
    seen = []

    def keep_going() -> bool:
        return len(seen) < 1

    views = []
    for v in app.run_ensemble(params, range(20), "baseline", keep_going, workers=2):
        views.append(v)
        seen.append(v.done)
    assert views[-1].cancelled and 1 <= views[-1].done < 20
    import multiprocessing

    assert multiprocessing.active_children() == [], "cancelled workers are stopped"


@needs_solara
def test_ensemble_worker_stops_on_sigterm_even_under_a_server_handler(app):
    """Forked from uvicorn, a worker inherits a SIGTERM handler that only sets a flag;
    the worker restores the default so that Cancel's terminate() stops it."""
    import multiprocessing
    import signal

    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        ctx = multiprocessing.get_context("fork")
        out = ctx.Queue()
        proc = ctx.Process(
            target=app._member_worker, args=(load_config(BASELINE), list(range(50)), out)
        )
        proc.start()
        out.get(timeout=60)  # the first row: the worker is computing
        proc.terminate()
        proc.join(timeout=10)
        assert proc.exitcode == -signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)


@needs_solara
def test_ensemble_stops_when_cancelled(app):
    params = load_config(BASELINE)
    calls = []

    def keep_going() -> bool:
        calls.append(1)
        return len(calls) <= 2

    views = list(app.run_ensemble(params, range(10), "baseline", keep_going))
    assert views[-1].cancelled and views[-1].done == 2
    assert views[-1].requested == 10


# ---- the rendered page ---------------------------------------------------------------------------
def _wait(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the page")
        time.sleep(0.05)


@needs_solara
def test_page_renders_steps_and_keeps_one_model_per_render(app):
    import ipyvuetify as v
    import solara

    def render():
        return solara.render(app.Page(), handle_error=False)

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


# ---- gsomia ui (experiments/serve.py): no Solara needed ----------------------------------------
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
    assert env["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(REPO / ".solara-assets")
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
