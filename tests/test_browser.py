"""End-to-end: ``gsomia ui`` serves the page, headless Chromium (Debian's, through
Playwright; never ``playwright install``) drives it past the November 2019 deadline.

Skipped when /usr/bin/chromium, Playwright or the offline assets (``make ui-assets``)
are missing; ``.ci/run`` installs chromium and ``make test`` fetches the assets.
"""

from __future__ import annotations

import os
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
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"gsomia ui exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                log = log_path.read_text()
                pytest.fail(f"no answer from {url} in {SERVER_START_TIMEOUT} s:\n{log}")
            time.sleep(0.25)
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


@pytest.fixture
def ui(browser, server):
    """A fresh page on the server, after Reset; yields (page, PageProblems)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1420})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems = PageProblems(page, server)
    try:
        page.goto(server)
        page.get_by_role("button", name="Step").wait_for(state="visible")
        # The module-level model is shared by sessions: start from a fresh one.
        page.get_by_role("button", name="Reset").click()
        page.get_by_text("Time: 0.0", exact=True).wait_for()
        yield page, problems
    finally:
        context.close()


def _set_seed(page, seed: str) -> None:
    field = page.get_by_label("Random seed")
    field.fill(seed)
    field.press("Enter")
    page.get_by_role("button", name="Reset").click()


def _step(page, times: int) -> None:
    """Click Step ``times`` times, then wait for Mesa's "Time:" to show them all (the
    server handles the clicks in order; a lost click times out)."""
    now = float(page.get_by_text("Time:").inner_text().split(":", 1)[1])
    button = page.get_by_role("button", name="Step")
    for _ in range(times):
        button.click()
    page.get_by_text(f"Time: {now + times:.1f}", exact=True).wait_for(timeout=60_000)


def _crisis_run(app, seeds=range(1, 21)):
    """The first seed whose baseline run gives a termination notice (the 2019 crisis),
    run in-process to just past its deadline: what the page must show for that seed."""
    for seed in seeds:
        model = app.ScenarioModel(scenario=app.DEFAULT_SCENARIO, rng=seed)
        while model.running and not app.deadline_passed(model):
            model.step()
        if not app.deadline_passed(model):
            pytest.fail("the deadline never passed, not even at the end of the run")
        if model.episode.notice_month is not None:
            return model
    pytest.fail(f"no baseline run with a termination notice among seeds {seeds}")


DRAWN_JS = """cls => {
    const img = document.querySelector(`.${cls} img`);
    if (!img) return false;
    const box = img.getBoundingClientRect();
    return img.complete && img.naturalWidth > 100 && box.width > 100 && box.height > 100;
}"""


def _assert_rendered(page) -> None:
    """The main area is drawn, not just the sidebar (the ipyvue-3 failure mode): both
    figures are loaded images of real size (waits for them across re-renders)."""
    for cls in ("gsomia-network", "gsomia-series"):
        try:
            page.wait_for_function(DRAWN_JS, arg=cls, timeout=TIMEOUT_MS)
        except sync_api.TimeoutError:
            pytest.fail(f"the {cls} figure was not drawn in the main area")
    assert page.locator(".gsomia-timeline-body").is_visible()
    assert page.locator(".gsomia-decisions-body").count() == 2


def test_step_past_the_deadline_shows_events_and_outcome(ui):
    page, problems = ui
    app = load_app()
    expected = _crisis_run(app)
    _set_seed(page, str(expected.seed))
    page.get_by_text(f"seed {expected.seed}:").wait_for()
    _assert_rendered(page)
    assert page.locator(".gsomia-outcome").count() == 0

    _step(page, expected.steps)
    page.get_by_text(f"Time: {expected.steps}.0", exact=True).wait_for()

    banner = page.locator(".gsomia-outcome")
    banner.wait_for(state="visible")
    assert app.outcome_text(expected) in banner.inner_text()
    timeline = page.locator(".gsomia-timeline-body").inner_text()
    for event in expected.timeline:
        assert event.event in timeline, event
    # The notice's fate at the deadline: suspended (2019) or lapsed (or withdrawn).
    fate = {"conditional_suspension", "rescind_notice", "pact_terminated"}
    shown = fate & {e.event for e in expected.timeline}
    assert shown, "a run with a notice ends it by suspension, withdrawal or lapse"
    assert all(name in timeline for name in shown)
    assert "Expiry" in timeline and "Notice cut-off" in timeline
    decisions = page.locator(".gsomia-decisions-body").first.inner_text()
    assert "Seoul" in decisions and "EU" in decisions
    _assert_rendered(page)

    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 50_000
    assert problems.errors == []
    assert problems.outside == []


def test_text_seed_shows_a_message_not_a_crash(ui):
    page, problems = ui
    _set_seed(page, "GSOMIA!")
    message = page.locator(".gsomia-input-error")
    message.wait_for(state="visible")
    assert "GSOMIA!" in message.inner_text()
    _step(page, 1)
    page.get_by_text("Time: 1.0", exact=True).wait_for()
    _assert_rendered(page)
    assert problems.errors == []
    assert problems.outside == []
