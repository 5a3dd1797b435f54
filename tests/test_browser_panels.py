"""The new panels in headless Chromium, each against the CLI or the Python API: the
ensemble over the fitted posterior, two settings compared, a sweep's report, the page
opened on any scenario file (``gsomia ui --config``), and Mesa's SolaraViz page built
from the panels (``gsomia ui --mesa``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from browser_support import (
    REPO,
    assert_drawn,
    clock,
    csv_rows,
    download,
    fill_number,
    needs_browser,
    open_page,
    open_tab,
    start_ui,
    stop,
)

from experiments.ensemble import posterior_ensemble, share_differences
from experiments.runner import run_one
from gsomia_ui.figures import outcome_label
from gsomia_ui.inputs import num, pct
from gsomia_ui.scenarios import scenario_values, settings_from
from gsomia_ui.tables import interval
from model import OUTCOMES
from model.config import load_config

pytestmark = needs_browser()
sync_api = pytest.importorskip("playwright.sync_api", reason="python playwright not installed")
PlaywrightTimeout = sync_api.TimeoutError

FIT = REPO / "results" / "fit"


def table_rows(page, cls: str) -> list[list[str]]:
    """A table of the page as rows of cells (header left out)."""
    text = page.locator(f".{cls}").inner_text()
    return [line.split("\t") for line in text.splitlines()[1:]]


def test_the_posterior_ensemble_equals_the_python_api(ui):
    page, problems = ui
    open_tab(page, "Ensemble")
    fill_number(page, "Parameter draws", 2)
    fill_number(page, "Seeds per draw", 2)
    page.get_by_role("button", name="Run posterior ensemble").click()
    page.locator(".gsomia-posterior-status", has_text="finished: 8 of 8 runs").wait_for(
        timeout=120_000
    )
    expected = posterior_ensemble(load_config("baseline_2019"), FIT, 2, 2, seed=0).table()
    rows = table_rows(page, "gsomia-posterior-table")
    assert [r[0] for r in rows] == [outcome_label(o) for o in OUTCOMES]
    for cells, r in zip(rows, expected.itertuples(), strict=True):
        assert cells[1:] == [
            pct(r.posterior_share),
            interval(r.posterior_lo95, r.posterior_hi95),
            num(r.deff, 1),
            pct(r.point_share),
            interval(r.point_lo95, r.point_hi95),
        ]
    assert_drawn(page, ("gsomia-posterior-figure",))
    open_tab(page, "Export")
    _name, data = download(page, "Posterior ensemble (CSV)")
    assert [row["outcome"] for row in csv_rows(data)] == list(OUTCOMES)
    problems.check()


def test_two_settings_compared_over_the_same_seeds(ui):
    """A (the controls: the baseline) against B (no_us_pressure with audience cost 2):
    shares, differences and intervals equal the Python API's over seeds 0-5."""
    page, problems = ui
    open_tab(page, "Compare")
    changes = page.get_by_label("B: changes (KEY=VALUE, ...)")
    changes.fill("audience_cots=2")
    changes.press("Enter")
    page.locator(".gsomia-compare-error", has_text="audience_cots").wait_for()
    assert page.get_by_role("button", name="Run comparison").is_disabled()
    changes.fill("audience_cost=2")
    changes.press("Enter")
    page.locator(
        ".gsomia-compare-b-label", has_text="no_us_pressure + audience_cost = 2"
    ).wait_for()
    fill_number(page, "Seeds (N)", 6)
    page.get_by_role("button", name="Run comparison").click()
    page.locator(".gsomia-compare-status", has_text="finished: 6 of 6 seeds").wait_for(
        timeout=120_000
    )
    a = load_config("baseline_2019")
    b = settings_from(
        "no_us_pressure", scenario_values("no_us_pressure") | {"audience_cost": 2.0}
    ).params
    expected = share_differences(
        {s: run_one(a, s)["outcome"] for s in range(6)},
        {s: run_one(b, s)["outcome"] for s in range(6)},
    )
    rows = table_rows(page, "gsomia-compare-table")
    for cells, r in zip(rows, expected.itertuples(), strict=True):
        assert cells[0] == outcome_label(r.outcome)
        assert cells[1:3] == [pct(r.share_a), pct(r.share_b)]
        assert cells[3].lstrip("+") == pct(r.difference)
        low, high = cells[4].split(" to ")
        assert (low.lstrip("+"), high.lstrip("+")) == (pct(r.lo95), pct(r.hi95))
    assert_drawn(page, ("gsomia-compare-figure",))
    problems.check()


RUNNING_DONE_JS = """([cls, than]) => {
    const status = document.querySelector(`.${cls}`);
    const found = status && status.innerText.match(/running: (\\d+) of/);
    return found !== null && Number(found[1]) > than;
}"""


def test_text_typed_while_the_panel_redraws_is_kept(ui):
    """B's changes typed while a comparison runs, whose progress redraws the panel before
    the Enter: the text stays in the field and the Enter applies it (the field showed the
    value applied before again, and the Enter applied that)."""
    page, problems = ui
    open_tab(page, "Compare")
    fill_number(page, "Seeds (N)", 200)
    page.get_by_role("button", name="Run comparison").click()
    status = page.locator(".gsomia-compare-status", has_text=re.compile(r"running: \d+ of 200"))
    status.wait_for(timeout=60_000)
    changes = page.get_by_label("B: changes (KEY=VALUE, ...)")
    changes.fill("audience_cost=2")  # typed, not applied yet
    done = int(re.search(r"running: (\d+)", status.inner_text()).group(1))
    # two redraws of the panel after the text was typed
    page.wait_for_function(RUNNING_DONE_JS, arg=["gsomia-compare-status", done + 1], timeout=60_000)
    assert changes.input_value() == "audience_cost=2"
    changes.press("Enter")
    page.locator(".gsomia-compare-b-label", has_text="audience_cost = 2").wait_for()
    page.get_by_role("button", name="Cancel comparison").click()
    page.locator(".gsomia-compare-status", has_text="cancelled").wait_for(timeout=60_000)
    problems.check()


@pytest.fixture(scope="module")
def smoke_sweep(tmp_path_factory) -> Path:
    """A finished smoke sweep with no report yet."""
    from experiments.runner import run_sweep

    out = tmp_path_factory.mktemp("sweeps") / "smoke"
    run_sweep(REPO / "configs" / "sweeps" / "smoke.toml", out=out, workers=1, progress=False)
    return out


def test_a_sweeps_report_opens_in_the_page_deadline_effect_first(ui, smoke_sweep):
    """A finished sweep with no report: the page writes it (gsomia analyze's own
    function), then shows its sections, the deadline effect first, with its figures and
    tables as the files on disk."""
    page, problems = ui
    open_tab(page, "Sweep results")
    path = page.get_by_label("Sweep folder (any path)")
    path.fill(str(smoke_sweep))
    path.press("Enter")
    page.get_by_role("button", name="Write its report (gsomia analyze)").click()
    report = page.locator(".gsomia-sweep-report")
    report.wait_for(timeout=120_000)
    assert (smoke_sweep / "report.md").is_file()
    headings = report.locator("h3").all_inner_texts()
    assert headings[0] == "The deadline effect"
    assert "Outcomes" in headings
    assert_drawn(page, ("gsomia-sweep-figure",))
    _name, data = download(page, "outcomes_overall.csv")
    assert data == (smoke_sweep / "outcomes_overall.csv").read_bytes()
    path.fill(str(smoke_sweep / "nowhere"))
    path.press("Enter")
    page.locator(".gsomia-sweep-error", has_text="no such folder").wait_for()
    problems.check()


def test_the_page_opens_any_scenario_file(browser, tmp_path):
    """``gsomia ui --config PATH``: the page lists the file first and opens it."""
    mine = tmp_path / "short_2019.toml"
    text = (REPO / "configs" / "baseline_2019.toml").read_text()
    mine.write_text(re.sub(r"(?m)^end = .*$", "end = 2019-06-30", text))
    running, proc = start_ui(tmp_path, "--config", str(mine))
    try:
        context, page, problems = open_page(browser, running.url)
        try:
            page.locator(".gsomia-clock", has_text="Scenario short_2019, seed 0").wait_for()
            assert "(9 months to Jun 2019)" in clock(page)
            problems.check()
        finally:
            context.close()
    finally:
        stop(proc)


# ---- Mesa's SolaraViz page -----------------------------------------------------------------------
def _cli_run(seed: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "run", "--seed", str(seed), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_the_solaraviz_page_equals_the_cli(browser, mesa_server):
    """Mesa's SolaraViz with the gsomia panels: the seed set in its controls, Reset and
    fifteen Steps give `gsomia run --seed 3`'s outcome and decisions; a second session
    keeps its own model."""
    expected = _cli_run(3)
    context, page, problems = open_page(browser, mesa_server.url)
    other, page2, problems2 = open_page(browser, mesa_server.url)
    try:
        fresh = page.locator(".gsomia-clock", has_text="seed 3: nothing simulated yet")
        for _attempt in range(3):  # the seed field applies on Enter, once the page is live
            seed = page.get_by_label("Random seed")
            seed.fill("3")
            seed.press("Enter")
            page.get_by_role("button", name="Reset").click()
            try:
                fresh.wait_for(timeout=5_000)
                break
            except PlaywrightTimeout:
                continue
        fresh.wait_for()
        for k in range(1, 16):
            page.get_by_role("button", name="Step").click()
            page.locator(".gsomia-clock", has_text=f"({k} of 15 months)").wait_for()
        outcome = page.locator(".gsomia-outcome").inner_text()
        assert outcome.startswith(
            f"Outcome: {expected['outcome'].replace('_', ' ')}".replace(
                "last minute", "last-minute"
            )
        )
        assert "nothing simulated yet" in clock(page2)
        page.get_by_role("tab", name="Page 1").click()
        month = date(2019, 12, 1)  # the panel shows the latest month
        page.locator(".gsomia-month-picker", has_text=f"{month:%b %Y}").wait_for()
        body = page.locator(".gsomia-month-body")
        for decision in expected["decisions"]:
            if not decision["date"].startswith(f"{month:%Y-%m}"):
                continue
            table = body.locator(
                f"table[data-actor='{decision['actor']}'][data-month='{month:%Y-%m}']"
            )
            text = table.inner_text()
            for option in decision["options"]:
                assert num(option["probability"]) in text
                assert num(option["expected_utility"]) in text
        problems.check()
        problems2.check()
    finally:
        context.close()
        other.close()
