"""End-to-end in real headless Chromium (Debian's /usr/bin/chromium, through Playwright;
never ``playwright install``): ``gsomia ui`` serves the page on 127.0.0.1 and the tests
drive it as a researcher would. Every test also checks that the page made no request
beyond the server and logged no error.

Skipped when /usr/bin/chromium, Playwright or the offline assets (``make ui-assets``)
are missing; ``.ci/run`` installs chromium and ``make test`` fetches the assets.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
RESULTS = REPO / "results"
SCREENSHOT = RESULTS / "ui_screenshot.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 45.0
TIMEOUT_MS = 20_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="no Chromium at /usr/bin/chromium (install Debian's `chromium`; .ci/run does)",
    ),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="python playwright not installed")
serve = pytest.importorskip("experiments.serve")
pytest.importorskip("solara", reason="solara not installed (the ui extra)")

from app_loader import load_app  # noqa: E402


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's whole process group (gsomia ui and its solara child)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _serve(cmd: list[str], env: dict[str, str], log_path: Path, url: str) -> subprocess.Popen:
    """Start ``cmd`` and wait until ``url`` answers 200."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{cmd[:3]} exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return proc
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            _stop(proc)
            pytest.fail(
                f"no answer from {url} in {SERVER_START_TIMEOUT} s:\n{log_path.read_text()}"
            )
        time.sleep(0.25)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``gsomia ui`` on a free port with the offline asset env; yields the base URL."""
    env = serve.ui_env()
    missing = serve.missing_assets(Path(env["SOLARA_ASSETS_PROXY_CACHE_DIR"]))
    if missing:
        pytest.skip(f"offline UI assets missing ({', '.join(missing)}): run `make ui-assets`")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = tmp_path_factory.mktemp("ui") / "server.log"
    cmd = [sys.executable, "-m", "experiments.cli", "ui", "--port", str(port)]
    proc = _serve(cmd, env, log_path, url)
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


class PageProblems:
    """Console errors, page errors and requests that leave the server, as they happen."""

    def __init__(self, page, base_url: str) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

        def request(req) -> None:
            if req.url.startswith(("http:", "https:", "ws:", "wss:")):
                local = req.url.split("://", 1)[1].startswith(base_url.split("://", 1)[1])
                if not local:
                    self.outside.append(req.url)

        page.on("request", request)

    def check(self) -> None:
        assert self.errors == []
        assert self.outside == []


def _open(browser, url: str, width: int = 1600, height: int = 1200, **kwargs):
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True, **kwargs
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems = PageProblems(page, url)
    page.goto(url)
    page.get_by_role("button", name="Step").wait_for(state="visible")
    return context, page, problems


@pytest.fixture
def ui(browser, server):
    """A fresh browser context (a new session) on the server; yields (page, problems)."""
    context, page, problems = _open(browser, server)
    try:
        yield page, problems
    finally:
        context.close()


def _clock(page) -> str:
    return page.locator(".gsomia-clock").inner_text()


def _months_done(page) -> int:
    text = _clock(page)
    found = re.search(r"\((\d+) of (\d+) months\)", text)
    return int(found.group(1)) if found else 0


def _wait_months(page, n: int, timeout_ms: int = 60_000) -> None:
    """Wait until the status shows ``n`` months simulated (a lost click times out)."""
    if n == 0:
        page.get_by_text("nothing simulated yet").wait_for(timeout=timeout_ms)
    else:
        page.locator(".gsomia-clock", has_text=f"({n} of ").wait_for(timeout=timeout_ms)


def _idle(page) -> None:
    page.locator(".gsomia-idle").wait_for(state="attached")


def _step(page, times: int) -> None:
    button = page.get_by_role("button", name="Step")
    for _ in range(times):
        now = _months_done(page)
        button.click()
        _wait_months(page, now + 1)
        _idle(page)


def _set_seed(page, seed: str) -> None:
    """Type ``seed`` and Reset; wait until the page shows a fresh run of that seed (a page
    already at the start of that seed needs no Reset)."""
    page.get_by_label("Random seed").fill(seed)
    fresh = f"seed {seed}: nothing simulated yet"
    if fresh in _clock(page):
        return
    page.get_by_role("button", name="Reset").click()
    page.locator(".gsomia-clock", has_text=fresh).wait_for()
    _idle(page)


def _pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the vuetify select labelled ``label``."""
    page.get_by_label(label).first.click(force=True)
    name = re.compile(f"^{re.escape(option)}(:|$)")  # scenarios carry a description
    page.get_by_role("option", name=name).click()


DRAWN_JS = """cls => {
    const img = document.querySelector(`.${cls} img`);
    if (!img) return false;
    const box = img.getBoundingClientRect();
    return img.complete && img.naturalWidth > 100 && box.width > 100 && box.height > 100;
}"""


def _assert_drawn(page, classes=("gsomia-network", "gsomia-series")) -> None:
    """The main area is drawn, not just the sidebar (the ipyvue-3 failure mode)."""
    for cls in classes:
        try:
            page.wait_for_function(DRAWN_JS, arg=cls, timeout=TIMEOUT_MS)
        except sync_api.TimeoutError:
            pytest.fail(f"the {cls} figure was not drawn in the main area")


@pytest.fixture(scope="module")
def app():
    return load_app()


@pytest.fixture(scope="module")
def crisis(app):
    """The first baseline seed with a termination notice, run in-process to the end."""
    for seed in range(1, 21):
        model = app.ScenarioModel(scenario=app.DEFAULT_SCENARIO, rng=seed)
        model.run()
        view = app.make_view(model)
        if app.first_notice(view) is not None:
            return view
    pytest.fail("no baseline run with a termination notice among seeds 1-20")


# ---- defects -------------------------------------------------------------------------------------
def test_each_browser_session_has_its_own_model(browser, server):
    """Two contexts at once: stepping one never moves the other; a reload starts afresh."""
    (ca, a, pa), (cb, b, pb) = _open(browser, server), _open(browser, server)
    try:
        _step(a, 2)
        assert _months_done(b) == 0
        b.get_by_text("nothing simulated yet").wait_for()
        _step(b, 1)
        assert _months_done(a) == 2
        a.reload()
        a.get_by_role("button", name="Step").wait_for(state="visible")
        _wait_months(a, 0)
        assert _months_done(b) == 1
        pa.check()
        pb.check()
    finally:
        ca.close()
        cb.close()


def test_title_dates_and_nothing_decided_at_start(ui, app):
    page, problems = ui
    assert page.title() == app.TITLE
    assert page.get_by_text(re.compile("page 0", re.I)).count() == 0
    assert "Oct 2018" in _clock(page) and "Time:" not in page.content()
    page.locator(".gsomia-open", has_text="no termination notice yet").wait_for()
    assert page.locator(".gsomia-outcome").count() == 0
    _assert_drawn(page)
    problems.check()


def test_run_to_end_shows_outcome_and_every_month(ui, app, crisis):
    """Run to end: dates not step counts, the outcome banner, Step/Play disabled (never
    past the end), and the decision tables of any month equal to m.explain()."""
    page, problems = ui
    view = crisis
    _set_seed(page, str(view.seed))
    page.get_by_role("button", name="Run to end").click()
    _wait_months(page, view.total_months)
    _idle(page)
    assert f"({view.total_months} of {view.total_months} months)" in _clock(page)
    banner = page.locator(".gsomia-outcome")
    banner.wait_for(state="visible")
    assert app.outcome_text(view) in banner.inner_text()
    assert page.get_by_role("button", name="Step").is_disabled()
    assert page.get_by_role("button", name="Play").is_disabled()
    assert page.get_by_role("button", name="Pause").count() == 0
    page.locator(".gsomia-ended").wait_for()
    timeline = page.locator(".gsomia-timeline-body").inner_text()
    for event in view.timeline:
        assert event.event in timeline
    _assert_drawn(page)

    page.get_by_role("tab", name="Decisions by month").click()
    reversal = next(
        e
        for e in view.timeline
        if e.event in ("conditional_suspension", "rescind_notice", "pact_terminated")
    )
    month = reversal.date.replace(day=1)
    _pick(page, "Month", f"{month:%b %Y}")
    body = page.locator(".gsomia-month-body")
    for actor in app.ACTORS:
        table = body.locator(f"table[data-actor='{actor}'][data-month='{month:%Y-%m}']")
        table.wait_for()
        decision = app.decisions_in(view, month)[actor]
        rows = table.locator("tr")
        assert rows.count() == len(decision.options) + 1
        text = table.inner_text()
        for option in decision.options:
            assert app.num(option.probability) in text
            assert app.num(option.expected_utility) in text
    assert "-0.00" not in body.inner_text()
    assert reversal.event in body.inner_text()
    # the arrows walk the months
    page.get_by_role("button", name="◀").click()
    body.locator(f"table[data-month='{app.add_months(month, -1):%Y-%m}']").first.wait_for()
    problems.check()


def test_play_pauses_and_stops_at_the_end_as_a_play_button(ui):
    page, problems = ui
    _pick(page, "Scenario", "no_trade_curbs")
    page.get_by_role("button", name="Reset").click()
    page.locator(".gsomia-clock", has_text="Scenario no_trade_curbs").wait_for()
    _idle(page)
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    _wait_months(page, 2)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    _idle(page)
    paused = _months_done(page)
    assert 2 <= paused < 15
    time.sleep(1.0)  # four play intervals: a paused run does not move
    assert _months_done(page) == paused
    page.get_by_role("button", name="Play").click()
    _wait_months(page, 15, timeout_ms=90_000)
    play = page.get_by_role("button", name="Play")
    play.wait_for()
    assert play.is_disabled()
    assert page.get_by_role("button", name="Pause").count() == 0
    assert "(15 of 15 months)" in _clock(page)
    problems.check()


def test_reset_shows_a_busy_indicator_and_stops_play(ui):
    page, problems = ui
    _step(page, 1)
    page.get_by_role("button", name="Reset").click()
    page.locator(".gsomia-busy").wait_for(state="attached", timeout=5_000)
    _idle(page)
    _wait_months(page, 0)
    # Reset while playing: the play stops, the fresh run stays at its start
    page.get_by_role("button", name="Play").click()
    _wait_months(page, 1)
    page.get_by_role("button", name="Reset").click()
    _wait_months(page, 0)
    _idle(page)
    time.sleep(1.0)
    assert _months_done(page) == 0
    assert page.get_by_role("button", name="Pause").count() == 0
    problems.check()


def test_decision_tables_are_readable_at_1366x768_light_and_dark(browser, server, crisis):
    """Each government's table gets a full-width row (not a cramped grid cell), no column
    is cut off, and the footer is in the flow below the content in both colour schemes."""
    for scheme in ("light", "dark"):
        context, page, problems = _open(browser, server, 1366, 768)
        try:
            if scheme == "dark":
                page.locator(".gsomia-controls .v-btn--icon").first.click()  # theme toggle
            _set_seed(page, str(crisis.seed))
            page.get_by_role("button", name="Run to end").click()
            _wait_months(page, crisis.total_months)
            _idle(page)
            page.get_by_role("tab", name="Decisions by month").click()
            tables = page.locator(".gsomia-decision")
            tables.first.wait_for()
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


# ---- features ------------------------------------------------------------------------------
def test_controls_show_the_scenarios_values_units_and_help(ui, app):
    page, problems = ui
    value = page.locator(".gsomia-param-value", has_text="us pressure weight:")
    default = app.PARAMETERS["us_pressure_weight"].default
    shown = app.format_value("us_pressure_weight", default)
    assert shown.endswith(" u/month per pressure level") and shown[0].isdigit()
    assert value.inner_text() == f"us pressure weight: {shown}"
    help_text = page.locator(".gsomia-param-help").first.inner_text()
    assert app.PARAMETERS["us_pressure_weight"].meaning in help_text
    _pick(page, "Scenario", "no_us_pressure")
    page.locator(".gsomia-param-value", has_text="us pressure weight: 0 u/month").wait_for()
    description = page.locator(".gsomia-scenario-description").inner_text()
    assert description.startswith("Counterfactual: Washington's pressure has no bite")
    page.locator(".gsomia-pending-changes").wait_for()
    page.get_by_role("button", name="Reset").click()
    page.locator(".gsomia-clock", has_text="Scenario no_us_pressure").wait_for()
    _idle(page)
    assert page.locator(".gsomia-pending-changes").count() == 0
    page.get_by_role("button", name=f"Advanced parameters ({len(app.ADVANCED)})").click()
    advanced = page.locator(".gsomia-advanced .gsomia-param-value")
    advanced.first.wait_for()
    assert advanced.count() == len(app.ADVANCED)
    problems.check()


def test_ensemble_runs_in_the_background_and_cancels(ui, app):
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
    _assert_drawn(page, ("gsomia-ensemble-figure",))
    # the page stays usable meanwhile, and Cancel stops a long ensemble
    field.fill("50")
    field.press("Enter")
    page.get_by_role("button", name="Run ensemble").click()
    page.locator(".gsomia-ensemble-progress").wait_for()
    page.locator(".gsomia-ensemble-status", has_text="running: 1 of 50").wait_for(timeout=30_000)
    _step(page, 1)
    page.get_by_role("button", name="Cancel").click()
    status = page.locator(".gsomia-ensemble-status", has_text="cancelled")
    status.wait_for(timeout=30_000)
    done = int(re.search(r"cancelled: (\d+) of 50", status.inner_text()).group(1))
    assert 1 <= done < 50
    problems.check()


def test_exports_download_the_run(ui, app):
    page, problems = ui
    _step(page, 3)
    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Monthly series (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert len(rows) == 4 and "pact_state" in rows[0]
    with page.expect_download() as info:
        page.get_by_role("button", name="Decisions (CSV)").click()
    text = Path(info.value.path()).read_text()
    assert text.startswith("month,actor,option,chosen,probability,expected_utility")
    with page.expect_download() as info:
        page.get_by_role("button", name="Network (PNG)").click()
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert info.value.suggested_filename.endswith("_network.png")
    problems.check()


def test_screenshot_of_the_page(ui, crisis):
    """A full-page screenshot after the deadline (results/ui_screenshot.png)."""
    page, problems = ui
    _set_seed(page, str(crisis.seed))
    page.get_by_role("button", name="Run to end").click()
    _wait_months(page, crisis.total_months)
    _idle(page)
    _assert_drawn(page)
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
    port = _free_port()
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
    proc = _serve(cmd, env, tmp_path / "solara.log", url)
    try:
        context, page, problems = _open(browser, url)
        try:
            _assert_drawn(page)
            _step(page, 1)
            problems.check()
        finally:
            context.close()
    finally:
        _stop(proc)
