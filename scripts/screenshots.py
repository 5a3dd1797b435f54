"""Regenerate the browser UI's screenshots in docs/screenshots/ (``make screenshots``).

Serves ``gsomia ui`` on 127.0.0.1 and drives headless Debian Chromium (as the browser tests
do, with their helpers): seed 0 of the 2019 baseline run to its end (``run.png``), its
decisions of November 2019 (``decisions.png``) and a 20-seed ensemble of the same
settings (``ensemble.png``). Needs the offline UI assets (``make ui-assets``) and
/usr/bin/chromium; about a minute.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from browser_support import (  # noqa: E402  (the browser tests' own steps)
    CHROMIUM,
    CHROMIUM_ARGS,
    assert_drawn,
    fill_number,
    idle,
    open_page,
    open_tab,
    pick,
    run_to_end,
    start_ui,
    stop,
)

OUT = REPO / "docs" / "screenshots"
MONTHS = 15  # October 2018 to December 2019
ENSEMBLE_SEEDS = 20
WIDTH, HEIGHT = 1366, 900


def main() -> int:
    """Write the screenshots; print their paths."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        print(f"error: no Chromium at {CHROMIUM} (install Debian's chromium)", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server, proc = start_ui(Path(tmp))
        try:
            with sync_playwright() as pw:
                chromium = pw.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
                )
                try:
                    context, page, problems = open_page(chromium, server.url, WIDTH, HEIGHT)
                    run_to_end(page, MONTHS)
                    assert_drawn(page)
                    page.screenshot(path=str(OUT / "run.png"), full_page=True)
                    open_tab(page, "Decisions by month")
                    pick(page, "Month", "Nov 2019")
                    page.get_by_text("Nov 2019: chose").first.wait_for()
                    idle(page)
                    page.screenshot(path=str(OUT / "decisions.png"), full_page=True)
                    open_tab(page, "Ensemble")
                    fill_number(page, "Seeds (N)", ENSEMBLE_SEEDS)
                    page.get_by_role("button", name="Run ensemble").click()
                    page.locator(
                        ".gsomia-ensemble-status",
                        has_text=f"finished: {ENSEMBLE_SEEDS} of {ENSEMBLE_SEEDS}",
                    ).wait_for(timeout=180_000)
                    idle(page)
                    page.screenshot(path=str(OUT / "ensemble.png"), full_page=True)
                    problems.check()
                    context.close()
                finally:
                    chromium.close()
        finally:
            stop(proc)
    for name in ("run.png", "decisions.png", "ensemble.png"):
        print(OUT / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
