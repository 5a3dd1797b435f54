"""The browser UI in-process: app.py's model, helpers and SolaraViz page rendered with
``solara.render`` (no browser), and ``gsomia ui``'s launcher (experiments/serve.py)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")

from app_loader import load_app  # noqa: E402

from model import HEADLINE, PARAMETERS, GSOMIAModel  # noqa: E402
from model.config import load_config  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "configs" / "baseline_2019.toml"

app = load_app()


def _strip(html: str) -> str:
    return re.sub(r"<style>.*?</style>", "", html, flags=re.S)


def _html(rc, cls: str) -> str:
    """Inner HTML (without the style block) of the page's solara.HTML widgets that carry
    the CSS class ``cls``."""
    return "\n".join(
        _strip(w.unsafe_innerHTML)
        for w in rc.find(solara.widgets.HTML).widgets
        if cls in w.attributes.get("class", "").split()
    )


def _alerts(rc, cls: str) -> list[str]:
    return [
        " ".join(str(c) for c in w.children)
        for w in rc.find(v.Alert).widgets
        if cls in (w.class_ or "").split()
    ]


def _steps_to_pass_deadline(model: GSOMIAModel) -> int:
    """Steps until app.deadline_passed on a copy of the run (same scenario and seed)."""
    probe = app.ScenarioModel(scenario=model.scenario_name, rng=model.seed)
    while probe.running and not app.deadline_passed(probe):
        probe.step()
    if not app.deadline_passed(probe):
        pytest.fail("the deadline never passed, not even at the end of the run")
    return probe.steps


@pytest.fixture
def rendered():
    """A fresh default model, its page rendered inside an AppLayout (the sidebar only
    renders inside one); yields (model, render context)."""
    model = app.ScenarioModel(scenario=app.DEFAULT_SCENARIO, rng=app.DEFAULT_SEED)
    _box, rc = solara.render(solara.AppLayout(children=[app.make_page(model)]), handle_error=False)
    try:
        yield model, rc
    finally:
        rc.close()


def _click(rc, label: str) -> None:
    button = rc.find(v.Btn, children=[label])
    button.assert_single()
    button.widget.click()


def _time_text(rc) -> list[str]:
    return [
        c
        for w in rc.find(v.Html, tag="span").widgets
        for c in w.children
        if isinstance(c, str) and c.startswith("Time:")
    ]


# ---- scenarios, seeds, sliders ---------------------------------------------------------------
def test_discover_scenarios_lists_configs_with_a_scenario_table(tmp_path):
    found = app.discover_scenarios()
    assert next(iter(found)) == app.DEFAULT_SCENARIO
    on_disk = sorted(p.stem for p in (REPO / "configs").glob("*.toml"))
    assert set(found) <= set(on_disk)
    for path in found.values():
        assert "[scenario]" in path.read_text()

    (tmp_path / "zeta.toml").write_text('[scenario]\nname = "zeta"\n')
    (tmp_path / "sweep.toml").write_text("[sweep]\nruns = 3\n")
    (tmp_path / "broken.toml").write_text("[scenario\n")
    assert list(app.discover_scenarios(tmp_path)) == ["zeta"]


@pytest.mark.parametrize(
    ("typed", "seed"),
    [("42", 42), (" 7 ", 7), (5, 5), (0, 0), ("0", 0)],
)
def test_parse_seed_accepts_whole_numbers(typed, seed):
    assert app.parse_seed(typed) == (seed, None)


@pytest.mark.parametrize("typed", ["abc", "4.5", "-3", -3, True, None, "", "1e3", [1]])
def test_parse_seed_falls_back_with_a_message(typed):
    seed, message = app.parse_seed(typed, default=11)
    assert seed == 11
    assert message and "11" in message


def test_text_seed_runs_like_the_integer_seed():
    typed = app.ScenarioModel(rng=" 3 ")
    direct = GSOMIAModel.from_config(BASELINE, rng=3)
    assert typed.messages == []
    for _ in range(6):
        typed.step()
        direct.step()
    assert [e.to_dict() for e in typed.timeline] == [e.to_dict() for e in direct.timeline]
    assert typed.monthly().equals(direct.monthly())


def test_non_numeric_seed_never_raises_and_says_why():
    model = app.ScenarioModel(rng="not a seed")
    assert model.seed == app.DEFAULT_SEED
    assert len(model.messages) == 1
    assert "not a seed" in model.messages[0]
    model.step()  # the fallback model runs
    assert model.steps == 1


@pytest.mark.parametrize("name", list(app.discover_scenarios()))
def test_each_scenario_loads_its_config(name):
    config = load_config(app.discover_scenarios()[name])
    for given in (name, app.GSOMIAScenario(config=name)):
        model = app.ScenarioModel(scenario=given, rng=2)
        assert model.scenario_name == name
        assert model.scenario.config == name
        assert model.messages == []
        for key, value in config.items():
            if key != "exogenous":
                assert model.parameters[key] == value, key


def test_unknown_scenario_falls_back_to_the_baseline():
    model = app.ScenarioModel(scenario="no_such_scenario", rng=1)
    assert model.scenario_name == app.DEFAULT_SCENARIO
    assert any("no_such_scenario" in m for m in model.messages)


def test_sliders_at_their_default_keep_the_scenario_value():
    scenarios = app.discover_scenarios()
    cases = [
        (name, key, value)
        for name, path in scenarios.items()
        for key, value in load_config(path).items()
        if key in HEADLINE and value != PARAMETERS[key].default
    ]
    if not cases:
        pytest.skip("no scenario config sets a headline parameter away from its default")
    name, key, value = cases[0]
    defaults = {k: PARAMETERS[k].default for k in HEADLINE}
    kept = app.ScenarioModel(scenario=name, rng=1, **defaults)
    assert kept.parameters[key] == value
    moved = dict(defaults)
    p = PARAMETERS[key]
    moved[key] = p.high if value != p.high else p.low
    changed = app.ScenarioModel(scenario=name, rng=1, **moved)
    assert changed.parameters[key] == moved[key]
    assert key in changed.slider_values


def test_out_of_range_slider_value_falls_back_with_a_message():
    key = HEADLINE[0]
    bad = PARAMETERS[key].high + 100
    model = app.ScenarioModel(rng=1, **{key: bad})
    assert model.parameters[key] == load_config(BASELINE).get(key, PARAMETERS[key].default)
    assert any(key in m for m in model.messages)


def test_model_params_cover_the_controls():
    params = app.model_params()
    assert params["config"]["type"] == "Select"
    assert params["config"]["values"] == list(app.discover_scenarios())
    assert params["rng"]["type"] == "InputText"
    for key in HEADLINE:
        spec = params[key]
        p = PARAMETERS[key]
        assert (spec["min"], spec["max"], spec["value"]) == (p.low, p.high, p.default)
        steps = (spec["value"] - spec["min"]) / spec["step"]
        assert abs(steps - round(steps)) < 1e-6, "the default must sit on the slider grid"


# ---- page helpers ----------------------------------------------------------------------------
def test_countdown_and_deadline_follow_the_calendar():
    model = app.ScenarioModel(rng=1)
    cal = model.calendar
    lines = dict(app.countdown(model))
    anniversary = cal.next_anniversary(model.date)
    assert anniversary.isoformat() in lines["Expiry"]
    cutoff = cal.last_notice_day(anniversary)
    assert cutoff.isoformat() in lines["Notice cut-off"]
    deadline = app.decisive_deadline(model)
    assert deadline is not None and deadline.month == cal.signing_date.month
    assert model.start < deadline <= model.end
    assert not app.deadline_passed(model)


@pytest.mark.parametrize("name", list(app.discover_scenarios()))
def test_page_helpers_follow_every_scenario_to_its_end(name):
    model = app.ScenarioModel(scenario=name, rng=4)
    passed = []
    while model.running:
        lines = dict(app.countdown(model))
        assert "As of" in lines and len(lines) >= 2
        passed.append(app.deadline_passed(model))
        model.step()
    assert passed == sorted(passed), "once passed, the deadline stays passed"
    assert app.deadline_passed(model)
    text = app.outcome_text(model)
    assert text.startswith("Outcome: ") and model.outcome.split("_")[0] in text
    for actor in ("seoul", "tokyo", "washington", "beijing"):
        d = model.governments[actor].last_decision
        table = app.decision_table(model, actor)
        assert f"{d.date:%b %Y}: chose <b>{app._action_label(d.chosen)}</b>" in table
        assert table.count("<tr") == len(d.options) + 1
    assert b"<svg" in app.figure_svg(app.series_figure(model))[:1000]


def test_network_figure_names_the_four_actors():
    model = app.ScenarioModel(rng=1)
    model.step()
    fig = app.network_figure(model)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for name in ("Seoul", "Tokyo", "Washington", "Beijing"):
        assert name in texts
    assert b"<svg" in app.figure_svg(fig)[:1000]
    assert b"<svg" in app.figure_svg(app.series_figure(model))[:1000]


# ---- the rendered page -------------------------------------------------------------------------
def test_page_steps_and_shows_timeline_explanations_and_outcome(rendered):
    model, rc = rendered
    assert _time_text(rc) == ["Time: 0.0"]
    assert "No events yet" in _html(rc, "gsomia-timeline-body")
    assert _alerts(rc, "gsomia-outcome") == []

    _click(rc, "Step")
    assert model.steps == 1
    assert _time_text(rc) == ["Time: 1.0"]
    decisions = _html(rc, "gsomia-decisions-body")
    for actor in ("seoul", "tokyo", "washington", "beijing"):
        d = model.governments[actor].last_decision
        assert f"<b>{actor.title()}</b>, {d.date:%b %Y}: chose" in decisions
        for option in d.options:
            assert f"{option.expected_utility:.2f}" in decisions
    for component in ("security", "economic", "audience", "alliance"):
        assert f"<th>{component}</th>" in decisions

    # Run the model itself to the month before the deadline, then Step through it.
    n = _steps_to_pass_deadline(model)
    while model.steps < n - 1:
        model.step()
    _click(rc, "Step")
    assert model.steps == n
    assert app.deadline_passed(model)
    timeline = _html(rc, "gsomia-timeline-body")
    for event in model.timeline:
        assert event.event in timeline
        assert event.date.isoformat() in timeline
    assert "Notice cut-off" in timeline and "Expiry" in timeline
    banners = _alerts(rc, "gsomia-outcome")
    assert banners == [app.outcome_text(model)]
    assert model.outcome.replace("_", "-").split("-")[0] in banners[0].lower()


def test_page_text_seed_shows_a_message_and_keeps_working(rendered):
    _model, rc = rendered
    seed = rc.find(v.TextField, label="Random seed")
    seed.assert_single()
    seed.widget.v_model = "twelve"
    seed.widget.fire_event("focusout")
    _click(rc, "Reset")
    messages = _alerts(rc, "gsomia-input-error")
    assert len(messages) == 1
    assert "twelve" in messages[0] and "seed 1" in messages[0]
    _click(rc, "Step")
    assert _time_text(rc) == ["Time: 1.0"]
    assert "seed 1:" in _html(rc, "gsomia-status-body")

    seed.widget.v_model = "12"
    seed.widget.fire_event("focusout")
    _click(rc, "Reset")
    assert _alerts(rc, "gsomia-input-error") == []
    assert "seed 12:" in _html(rc, "gsomia-status-body")


def test_page_scenario_select_rebuilds_the_model_at_reset(rendered):
    _model, rc = rendered
    others = [n for n in app.discover_scenarios() if n != app.DEFAULT_SCENARIO]
    if not others:
        pytest.skip("only the baseline scenario exists")
    select = rc.find(v.Select, label="Scenario")
    select.assert_single()
    select.widget.v_model = others[-1]
    _click(rc, "Reset")
    status = _html(rc, "gsomia-status-body")
    assert f"scenario {others[-1]}," in status
    assert _alerts(rc, "gsomia-input-error") == []


# ---- gsomia ui (experiments/serve.py) ----------------------------------------------------------
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
