"""What the browser tests share: ``gsomia ui`` served on 127.0.0.1 (the page, and Mesa's
SolaraViz page), headless Debian Chromium through Playwright (never ``playwright
install``), a fresh context per test that records console errors and any request beyond
the server, and the steps a researcher takes on the page.

The servers and Chromium are session fixtures (tests/conftest.py exposes them), so every
browser test file uses the same ones; tests/conftest.py keeps the browser tests on one
xdist worker.
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
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
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
ASSETS_ENV = "SOLARA_ASSETS_PROXY_CACHE_DIR"


def needs_browser() -> list:
    """The marks of a browser test module: the browser mark and a skip without Chromium."""
    return [
        pytest.mark.browser,
        pytest.mark.skipif(
            not CHROMIUM.exists(),
            reason="no Chromium at /usr/bin/chromium (install Debian's `chromium`; .ci/run does)",
        ),
    ]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
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


def serve_until_ready(
    cmd: list[str], env: dict[str, str], log_path: Path, url: str
) -> subprocess.Popen:
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
            stop(proc)
            pytest.fail(
                f"no answer from {url} in {SERVER_START_TIMEOUT} s:\n{log_path.read_text()}"
            )
        time.sleep(0.25)


@dataclass(frozen=True)
class Server:
    """A running ``gsomia ui``: its address and its log."""

    url: str
    log: Path


def start_ui(tmp: Path, *options: str) -> tuple[Server, subprocess.Popen]:
    """``gsomia ui --port P OPTIONS`` with the offline asset environment."""
    from experiments import serve

    env = serve.ui_env()
    missing = serve.missing_assets(Path(env[ASSETS_ENV]))
    if missing:
        pytest.skip(f"offline UI assets missing ({', '.join(missing)}): run `make ui-assets`")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp / "server.log"
    cmd = [sys.executable, "-m", "experiments.cli", "ui", "--port", str(port), *options]
    return Server(url, log), serve_until_ready(cmd, env, log, url)


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
        """No console error, no page error, no request beyond the server."""
        assert self.errors == []
        assert self.outside == []


def open_page(browser, url: str, width: int = 1600, height: int = 1200, ready: str = "Step"):
    """A new context (a new session) on ``url``; waits for the ``ready`` button."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems = PageProblems(page, url)
    page.goto(url)
    page.get_by_role("button", name=ready).wait_for(state="visible")
    return context, page, problems


# ---- a researcher's steps on the page ------------------------------------------------------------
def clock(page) -> str:
    """The status line ("Scenario ..., seed ...: ...")."""
    return page.locator(".gsomia-clock").first.inner_text()


def months_done(page) -> int:
    """Months simulated, as the status line says."""
    found = re.search(r"\((\d+) of (\d+) months\)", clock(page))
    return int(found.group(1)) if found else 0


def wait_months(page, n: int, timeout_ms: int = 60_000) -> None:
    """Wait until the status shows ``n`` months simulated (a lost click times out)."""
    if n == 0:
        page.get_by_text("nothing simulated yet").wait_for(timeout=timeout_ms)
    else:
        page.locator(".gsomia-clock", has_text=f"({n} of ").wait_for(timeout=timeout_ms)


PLAYED_JS = """n => {
    const clock = document.querySelector('.gsomia-clock');
    const found = clock && clock.innerText.match(/\\((\\d+) of \\d+ months\\)/);
    return found !== null && Number(found[1]) >= n;
}"""


def wait_played(page, n: int, timeout_ms: int = 60_000) -> None:
    """Wait until the status shows at least ``n`` months simulated, for a run that plays
    on. A playing run shows each month for a play interval and a step only (about half a
    second on a quick machine), while a locator's wait looks every 500 ms after its first
    tries: a wait for exactly ``n`` can miss that month and time out while the run plays
    to its end. "At least ``n``" stays true once reached (and is checked every frame)."""
    page.wait_for_function(PLAYED_JS, arg=n, timeout=timeout_ms)


WATCH_JS = """cls => {
    const seen = (window.gsomiaSeen = window.gsomiaSeen || {});
    const has = n => n.nodeType === 1
        && (n.classList.contains(cls) || n.getElementsByClassName(cls).length > 0);
    const had = r => (r.oldValue || "").split(/\\s+/).includes(cls);
    seen[cls] = has(document.body);
    new MutationObserver(records => {
        if (records.some(r => had(r) || has(r.target) || [...r.addedNodes].some(has))) {
            seen[cls] = true;
        }
    }).observe(document.body, {
        subtree: true, childList: true,
        attributes: true, attributeFilter: ["class"], attributeOldValue: true,
    });
}"""


def watch(page, cls: str) -> None:
    """Note from now on whether an element of class ``cls`` is ever on the page
    (``seen``): a state shown briefly (the busy bar of a quick Reset) can come and go
    between two looks of a locator's wait, which looks every 500 ms after its first tries."""
    page.evaluate(WATCH_JS, cls)


def seen(page, cls: str) -> bool:
    """Whether an element of class ``cls`` was on the page since ``watch(page, cls)``."""
    return page.evaluate("cls => window.gsomiaSeen[cls]", cls)


def idle(page) -> None:
    """Wait until no model operation runs."""
    page.locator(".gsomia-idle").wait_for(state="attached")


def step(page, times: int) -> None:
    """Press Step ``times`` times, each after the last has drawn."""
    button = page.get_by_role("button", name="Step")
    for _ in range(times):
        now = months_done(page)
        button.click()
        wait_months(page, now + 1)
        idle(page)


def set_seed(page, seed: str) -> None:
    """Type ``seed`` and Reset; wait until the page shows a fresh run of that seed (a page
    already at the start of that seed needs no Reset)."""
    page.get_by_label("Random seed").fill(seed)
    fresh = f"seed {seed}: nothing simulated yet"
    if fresh in clock(page):
        return
    page.get_by_role("button", name="Reset").click()
    page.locator(".gsomia-clock", has_text=fresh).wait_for()
    idle(page)


def run_to_end(page, months: int) -> None:
    """Run to end and wait for the last month."""
    page.get_by_role("button", name="Run to end").click()
    wait_months(page, months)
    idle(page)


def pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the vuetify select labelled ``label``."""
    page.get_by_label(label).first.click(force=True)
    name = re.compile(f"^{re.escape(option)}(:|$)")  # scenarios carry a description
    page.get_by_role("option", name=name).click()


def open_tab(page, name: str) -> None:
    """Open a tab of the main area."""
    page.get_by_role("tab", name=name).click()


def tab_switched(page) -> None:
    """Wait until the main area's switch to a tab has finished (call it once the new tab's
    content is visible). For its 0.3 s transition Vuetify's tab window (overflow hidden)
    animates its height from the old tab's to the new tab's as it was when the switch
    began; only then does it take the height of the content that arrived meanwhile. Until
    it ends, what follows the tabs (the footer) can be drawn over the new tab's content."""
    page.locator(".v-window__container--is-active").wait_for(state="detached")


def fill_number(page, label: str, value: int | str) -> None:
    """Type into a number field and press Enter (the field applies on Enter)."""
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")


def download(page, button: str) -> tuple[str, bytes]:
    """Click a download button: (suggested file name, content)."""
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    """A downloaded CSV as rows (a file with one header and one table)."""
    return list(csv.DictReader(io.StringIO(data.decode())))


DRAWN_JS = """cls => {
    const img = document.querySelector(`.${cls} img`);
    if (!img) return false;
    const box = img.getBoundingClientRect();
    return img.complete && img.naturalWidth > 100 && box.width > 100 && box.height > 100;
}"""


def assert_drawn(page, classes=("gsomia-network", "gsomia-series")) -> None:
    """The main area is drawn, not just the sidebar (the ipyvue-3 failure mode)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for cls in classes:
        try:
            page.wait_for_function(DRAWN_JS, arg=cls, timeout=TIMEOUT_MS)
        except PlaywrightTimeout:
            pytest.fail(f"the {cls} figure was not drawn in the main area")


# ---- session fixtures (exposed by tests/conftest.py) ---------------------------------------------
@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """``gsomia ui`` on a free port with the offline asset env: a ``Server``."""
    running, proc = start_ui(tmp_path_factory.mktemp("ui"))
    try:
        yield running
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def mesa_server(tmp_path_factory):
    """``gsomia ui --mesa``: Mesa's SolaraViz page with the gsomia panels."""
    running, proc = start_ui(tmp_path_factory.mktemp("ui-mesa"), "--mesa")
    try:
        yield running
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def ui(browser, server):
    """A fresh browser context (a new session) on the page; yields (page, problems)."""
    context, page, problems = open_page(browser, server.url)
    try:
        yield page, problems
    finally:
        context.close()
