"""End-to-end in real headless Chromium (Debian's /usr/bin/chromium, through Playwright;
never ``playwright install``): ``gsomia ui`` serves the page on 127.0.0.1 and the tests
drive it as a researcher would. Every test also checks that the page made no request
beyond the server and logged no error.

Skipped when /usr/bin/chromium, Playwright or the offline assets (``make ui-assets``)
are missing; ``.ci/run`` installs chromium and ``make test`` fetches the assets.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest
from browser_support import (
    REPO,
    assert_drawn,
    clock,
    csv_rows,
    download,
    free_port,
    idle,
    months_done,
    needs_browser,
    open_page,
    pick,
    seen,
    serve_until_ready,
    set_seed,
    step,
    stop,
    tab_switched,
    wait_months,
    wait_played,
    watch,
)

from experiments import serve
from gsomia_ui import inputs, scenarios, serving, view
from model import PARAMETERS
from model.calendar import add_months

RESULTS = REPO / "results"
SCREENSHOT = RESULTS / "ui_screenshot.png"

pytestmark = needs_browser()
pytest.importorskip("playwright.sync_api", reason="python playwright not installed")
pytest.importorskip("solara", reason="solara not installed (the ui extra)")


@pytest.fixture(scope="module")
def crisis():
    """The first baseline seed with a termination notice, run in-process to the end."""
    for seed in range(0, 21):
        model = scenarios.ScenarioModel(scenario=scenarios.SHIPPED_DEFAULT, rng=seed)
        model.run()
        snapshot = view.make_view(model)
        if view.first_notice(snapshot) is not None:
            return snapshot
    pytest.fail("no baseline run with a termination notice among seeds 0-20")


# ---- defects -------------------------------------------------------------------------------------
def test_each_browser_session_has_its_own_model(browser, server):
    """Two contexts at once: stepping one never moves the other; a reload starts afresh."""
    (ca, a, pa), (cb, b, pb) = open_page(browser, server.url), open_page(browser, server.url)
    try:
        step(a, 2)
        assert months_done(b) == 0
        b.get_by_text("nothing simulated yet").wait_for()
        step(b, 1)
        assert months_done(a) == 2
        a.reload()
        a.get_by_role("button", name="Step").wait_for(state="visible")
        wait_months(a, 0)
        assert months_done(b) == 1
        pa.check()
        pb.check()
    finally:
        ca.close()
        cb.close()


def test_title_dates_and_nothing_decided_at_start(ui):
    page, problems = ui
    assert page.title() == serving.TITLE
    assert page.get_by_text(re.compile("page 0", re.I)).count() == 0
    assert "Oct 2018" in clock(page) and "Time:" not in page.content()
    page.locator(".gsomia-open", has_text="no termination notice yet").wait_for()
    assert page.locator(".gsomia-outcome").count() == 0
    assert_drawn(page)
    problems.check()


def test_run_to_end_shows_outcome_and_every_month(ui, crisis):
    """Run to end: dates not step counts, the outcome banner, Step/Play disabled (never
    past the end), and the decision tables of any month equal to m.explain()."""
    page, problems = ui
    run = crisis
    set_seed(page, str(run.seed))
    page.get_by_role("button", name="Run to end").click()
    wait_months(page, run.total_months)
    idle(page)
    assert f"({run.total_months} of {run.total_months} months)" in clock(page)
    banner = page.locator(".gsomia-outcome")
    banner.wait_for(state="visible")
    assert view.outcome_text(run) in banner.inner_text()
    assert page.get_by_role("button", name="Step").is_disabled()
    assert page.get_by_role("button", name="Play").is_disabled()
    assert page.get_by_role("button", name="Pause").count() == 0
    page.locator(".gsomia-ended").wait_for()
    timeline = page.locator(".gsomia-timeline-body").inner_text()
    for event in run.timeline:
        assert event.event in timeline
    assert_drawn(page)

    page.get_by_role("tab", name="Decisions by month").click()
    reversal = next(
        e
        for e in run.timeline
        if e.event in ("conditional_suspension", "rescind_notice", "pact_terminated")
    )
    month = reversal.date.replace(day=1)
    pick(page, "Month", f"{month:%b %Y}")
    body = page.locator(".gsomia-month-body")
    for actor in view.ACTORS:
        table = body.locator(f"table[data-actor='{actor}'][data-month='{month:%Y-%m}']")
        table.wait_for()
        decision = view.decisions_in(run, month)[actor]
        rows = table.locator("tr")
        assert rows.count() == len(decision.options) + 1
        text = table.inner_text()
        for option in decision.options:
            assert inputs.num(option.probability) in text
            assert inputs.num(option.expected_utility) in text
    assert "-0.00" not in body.inner_text()
    assert reversal.event in body.inner_text()
    # the arrows walk the months
    page.get_by_role("button", name="◀").click()
    body.locator(f"table[data-month='{add_months(month, -1):%Y-%m}']").first.wait_for()
    problems.check()


def test_play_pauses_and_stops_at_the_end_as_a_play_button(ui):
    page, problems = ui
    pick(page, "Scenario", "no_trade_curbs")
    page.get_by_role("button", name="Reset").click()
    page.locator(".gsomia-clock", has_text="Scenario no_trade_curbs").wait_for()
    idle(page)
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    wait_played(page, 2)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    idle(page)
    paused = months_done(page)
    assert 2 <= paused < 15
    time.sleep(1.0)  # four play intervals: a paused run does not move
    assert months_done(page) == paused
    page.get_by_role("button", name="Play").click()
    wait_months(page, 15, timeout_ms=90_000)
    play = page.get_by_role("button", name="Play")
    play.wait_for()
    assert play.is_disabled()
    assert page.get_by_role("button", name="Pause").count() == 0
    assert "(15 of 15 months)" in clock(page)
    problems.check()


def test_reset_shows_a_busy_indicator_and_stops_play(ui):
    page, problems = ui
    step(page, 1)
    watch(page, "gsomia-busy")
    page.get_by_role("button", name="Reset").click()
    wait_months(page, 0)
    idle(page)
    assert seen(page, "gsomia-busy")
    # Reset while playing: the play stops, the fresh run stays at its start
    page.get_by_role("button", name="Play").click()
    wait_played(page, 1)
    page.get_by_role("button", name="Reset").click()
    wait_months(page, 0)
    idle(page)
    time.sleep(1.0)
    assert months_done(page) == 0
    assert page.get_by_role("button", name="Pause").count() == 0
    problems.check()


def test_decision_tables_are_readable_at_1366x768_light_and_dark(browser, server, crisis):
    """Each government's table gets a full-width row (not a cramped grid cell), no column
    is cut off, and the footer is in the flow below the content in both colour schemes."""
    for scheme in ("light", "dark"):
        context, page, problems = open_page(browser, server.url, 1366, 768)
        try:
            if scheme == "dark":
                page.locator(".gsomia-controls .v-btn--icon").first.click()  # theme toggle
            set_seed(page, str(crisis.seed))
            page.get_by_role("button", name="Run to end").click()
            wait_months(page, crisis.total_months)
            idle(page)
            page.get_by_role("tab", name="Decisions by month").click()
            tables = page.locator(".gsomia-decision")
            tables.first.wait_for()
            tab_switched(page)
            assert tables.count() == 4
            for i in range(4):
                box = tables.nth(i).bounding_box()
                assert box["width"] >= 500, box
                fits = tables.nth(i).evaluate(
                    "t => t.parentElement.scrollWidth <= t.parentElement.clientWidth + 1"
                )
                assert fits, "a decision table is cut off"
            assert page.get_by_text("This website runs on").count() == 0  # no overlay
            theme = page.locator(f".v-application.theme--{scheme}")
            assert theme.count() >= 1, f"the page does not follow the {scheme} scheme"
            footer = page.locator(".gsomia-footer")
            assert footer.evaluate("e => getComputedStyle(e).position") in ("static", "relative")
            last = tables.nth(3).bounding_box()
            footer_box = footer.bounding_box()
            assert footer_box["y"] >= last["y"] + last["height"]
            colour, background = footer.evaluate(
                """e => { let b = e; let bg = 'rgba(0, 0, 0, 0)';
                while (b && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
                  bg = getComputedStyle(b).backgroundColor; b = b.parentElement; }
                return [getComputedStyle(e).color, bg]; }"""
            )
            assert colour != background
            problems.check()
        finally:
            context.close()


# ---- features ------------------------------------------------------------------------------------
def test_controls_show_the_scenarios_values_units_and_help(ui):
    page, problems = ui
    value = page.locator(".gsomia-param-value", has_text="us pressure weight:")
    default = PARAMETERS["us_pressure_weight"].default
    shown = inputs.format_value("us_pressure_weight", default)
    assert shown.endswith(" u/month per pressure level") and shown[0].isdigit()
    assert value.inner_text() == f"us pressure weight: {shown}"
    help_text = page.locator(".gsomia-param-help").first.inner_text()
    assert PARAMETERS["us_pressure_weight"].meaning in help_text
    pick(page, "Scenario", "no_us_pressure")
    page.locator(".gsomia-param-value", has_text="us pressure weight: 0 u/month").wait_for()
    description = page.locator(".gsomia-scenario-description").inner_text()
    assert description.startswith("Counterfactual: Washington's pressure has no bite")
    page.locator(".gsomia-pending-changes").wait_for()
    page.get_by_role("button", name="Reset").click()
    page.locator(".gsomia-clock", has_text="Scenario no_us_pressure").wait_for()
    idle(page)
    assert page.locator(".gsomia-pending-changes").count() == 0
    page.get_by_role("button", name=f"Advanced parameters ({len(inputs.ADVANCED)})").click()
    advanced = page.locator(".gsomia-advanced .gsomia-param-value")
    advanced.first.wait_for()
    assert advanced.count() == len(inputs.ADVANCED)
    problems.check()


def test_ensemble_runs_in_the_background_and_cancels(ui):
    page, problems = ui
    page.get_by_role("tab", name="Ensemble").click()
    field = page.get_by_label("Seeds (N)")
    assert field.input_value() == "50"
    field.fill("4")
    field.press("Enter")
    page.get_by_role("button", name="Run ensemble").click()
    page.locator(".gsomia-ensemble-status", has_text="finished: 4 of 4 seeds").wait_for(
        timeout=60_000
    )
    table = page.locator(".gsomia-ensemble-table").inner_text()
    runs = sum(int(m) for m in re.findall(r"\t(\d+)\t", table))
    assert runs == 4
    assert_drawn(page, ("gsomia-ensemble-figure",))
    # the page stays usable meanwhile, and Cancel stops a long ensemble
    field.fill("50")
    field.press("Enter")
    page.get_by_role("button", name="Run ensemble").click()
    page.locator(".gsomia-ensemble-progress").wait_for()
    running = re.compile(r"running: [1-9]\d* of 50")
    page.locator(".gsomia-ensemble-status", has_text=running).wait_for(timeout=30_000)
    step(page, 1)
    page.get_by_role("button", name="Cancel ensemble").click()
    status = page.locator(".gsomia-ensemble-status", has_text="cancelled")
    status.wait_for(timeout=30_000)
    done = int(re.search(r"cancelled: (\d+) of 50", status.inner_text()).group(1))
    assert 1 <= done < 50
    problems.check()


def test_exports_download_the_run(ui):
    page, problems = ui
    step(page, 3)
    page.get_by_role("tab", name="Export").click()
    _name, data = download(page, "Monthly series (CSV)")
    rows = csv_rows(data)
    assert len(rows) == 4 and "pact_state" in rows[0]
    _name, data = download(page, "Decisions (CSV)")
    assert data.decode().startswith("month,actor,option,chosen,probability,expected_utility")
    name, data = download(page, "Network (PNG)")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert name.endswith("_network.png")
    problems.check()


def test_screenshot_of_the_page(ui, crisis):
    """A full-page screenshot after the deadline (results/ui_screenshot.png)."""
    page, problems = ui
    set_seed(page, str(crisis.seed))
    page.get_by_role("button", name="Run to end").click()
    wait_months(page, crisis.total_months)
    idle(page)
    assert_drawn(page)
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 50_000
    problems.check()


def test_bare_solara_run_renders_offline(browser, tmp_path):
    """``solara run app.py`` with no asset variable and no --production: app.py points
    Solara at .solara-assets and stops its calls home; the page renders from 127.0.0.1."""
    missing = serve.missing_assets(REPO / ".solara-assets")
    if missing:
        pytest.skip("offline UI assets missing: run `make ui-assets`")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLARA_")}
    env.pop("PYTEST_CURRENT_TEST", None)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    exe = Path(sys.executable).with_name("solara")
    cmd = [
        str(exe),
        "run",
        str(REPO / "app.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-open",
    ]
    proc = serve_until_ready(cmd, env, tmp_path / "solara.log", url)
    try:
        context, page, problems = open_page(browser, url)
        try:
            assert_drawn(page)
            step(page, 1)
            problems.check()
        finally:
            context.close()
    finally:
        stop(proc)
