"""The defects a new user hit (issue 20, 1-7), each driven in headless Chromium as that
user did. These tests reach the page only through the browser, the server's log, the
downloads, the docs and the model's Python API, so they run unchanged against the page
before the fixes (where each fails) and after them."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from browser_support import (
    REPO,
    csv_rows,
    download,
    fill_number,
    idle,
    needs_browser,
    open_tab,
    run_to_end,
    step,
    wait_months,
)

from experiments.runner import run_one
from model import OUTCOMES
from model.config import load_config

pytestmark = needs_browser()
pytest.importorskip("playwright.sync_api", reason="python playwright not installed")

ADVANCED_TOGGLE = re.compile(r"Advanced parameters \((\d+)\)")


def param_block(page, name: str):
    """The control block of parameter ``name`` (its value line reads "name: value")."""
    label = name.replace("_", " ")
    value = page.locator(".gsomia-param-value", has_text=re.compile(f"^{re.escape(label)}:"))
    return page.locator(".gsomia-param", has=value)


def open_advanced(page) -> int:
    """Open the advanced parameters; the count the button shows."""
    button = page.get_by_role("button", name=ADVANCED_TOGGLE)
    count = int(ADVANCED_TOGGLE.search(button.text_content()).group(1))
    button.click()
    page.locator(".gsomia-advanced").wait_for()
    return count


def run_ensemble(page, seeds: int) -> str:
    """Run an ensemble of ``seeds`` seeds from the Ensemble tab; its finished status."""
    open_tab(page, "Ensemble")
    fill_number(page, "Seeds (N)", seeds)
    page.get_by_role("button", name="Run ensemble").click()
    status = page.locator(".gsomia-ensemble-status", has_text=f"finished: {seeds} of {seeds}")
    status.wait_for(timeout=120_000)
    return status.inner_text()


# ---- 1: an invalid date --------------------------------------------------------------------------
def test_an_invalid_date_is_a_message_and_the_run_goes_on(ui):
    """Typing a bad date into "end" (Enter) says what is wrong and keeps the page: no
    traceback, the value in use stays, Reset and Run to end still work."""
    page, problems = ui
    step(page, 1)
    open_advanced(page)
    field = param_block(page, "end").locator("input")
    for typed in ("2019-13-01", "2019-6-30"):
        field.fill(typed)
        field.press("Enter")
        # this value's message: the previous one is still shown until the page answers
        said = rf"end: '{re.escape(typed)}' is not a date; allowed: YYYY-MM-DD"
        message = page.get_by_text(re.compile(said))
        message.wait_for(timeout=10_000)
        assert typed in message.inner_text()
    assert page.get_by_text(re.compile("Traceback|ValueError")).count() == 0
    page.get_by_role("button", name="Reset").click()
    wait_months(page, 0)
    idle(page)
    run_to_end(page, 15)
    page.locator(".gsomia-outcome").wait_for()
    problems.check()


# ---- 2: the ensemble runs the controls -----------------------------------------------------------
def test_the_ensemble_runs_the_settings_in_the_controls_and_says_which(ui):
    """audience cost moved to 0 without Reset: the ensemble runs 0 (its counts equal the
    Python API's at 0) and its label names the change."""
    page, problems = ui
    slider = param_block(page, "audience_cost").get_by_role("slider")
    slider.focus()
    slider.press("Home")
    param_block(page, "audience_cost").get_by_text("audience cost: 0 u").wait_for()
    status = run_ensemble(page, 4)
    assert "audience_cost" in status and "= 0" in status
    params = load_config("baseline_2019") | {"audience_cost": 0.0}
    expected = Counter(run_one(params, seed)["outcome"] for seed in range(4))
    table = page.locator(".gsomia-ensemble-table").inner_text()
    shown = {
        line.split("\t")[0].replace(" ", "_").replace("-", "_"): int(line.split("\t")[1])
        for line in table.splitlines()[1:]
    }
    assert {k: v for k, v in shown.items() if v} == dict(expected)
    problems.check()


# ---- 3: sliders have accessible names ------------------------------------------------------------
def test_every_slider_has_its_parameters_name(ui):
    page, problems = ui
    open_advanced(page)
    sliders = page.get_by_role("slider")
    names = [sliders.nth(i).get_attribute("aria-label") for i in range(sliders.count())]
    assert names and all(names), names
    assert len(set(names)) == len(names)
    assert page.get_by_role("slider", name="audience cost", exact=True).count() == 1
    assert page.get_by_role("slider", name="us pressure weight", exact=True).count() == 1
    problems.check()


# ---- 4: the ensemble figure ----------------------------------------------------------------------
def _png(data: bytes) -> np.ndarray:
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(data))[:, :, :3]


def test_the_ensemble_figure_uses_its_height_and_cuts_nothing(ui):
    """The downloaded figure (the one on screen, as PNG): no blank band of rows (30% of
    the height was empty), nothing drawn on its outermost pixels (a title was cut at the
    right edge); tick labels apart is checked on the figure itself in test_app.py."""
    page, problems = ui
    run_ensemble(page, 8)
    open_tab(page, "Export")
    _name, data = download(page, "Ensemble figure (PNG)")
    pixels = _png(data)
    white = (pixels > 0.97).all(axis=2)
    blank_rows = white.all(axis=1)
    assert blank_rows.mean() < 0.08, f"{blank_rows.mean():.0%} of the rows are blank"
    edge = 2
    for side in (white[:, :edge], white[:, -edge:], white[:edge, :], white[-edge:, :]):
        assert side.all(), "something is drawn on the figure's edge (cut off)"
    problems.check()


# ---- 5: the ensemble CSVs ------------------------------------------------------------------------
def test_each_ensemble_table_downloads_as_its_own_csv_with_exact_bounds(ui):
    page, problems = ui
    run_ensemble(page, 3)
    open_tab(page, "Export")
    page.locator(".gsomia-export-ensemble").wait_for()
    buttons = page.locator(".gsomia-export-ensemble").get_by_role("button")
    names = [buttons.nth(i).inner_text() for i in range(buttons.count())]
    csvs = [n for n in names if "CSV" in n]
    assert len(csvs) >= 2, names
    tables = {}
    for label in csvs:
        _file, data = download(page, label)
        text = data.decode()
        assert not any(line.startswith("#") for line in text.splitlines()), label
        rows = csv_rows(data)
        widths = {len(r) for r in rows}
        assert len(widths) == 1 and None not in rows[0], label
        tables[label] = rows
    shares = next(rows for rows in tables.values() if rows and "lo95" in rows[0])
    runs = next(rows for rows in tables.values() if rows and "seed" in rows[0])
    assert [int(r["seed"]) for r in runs] == [0, 1, 2]
    for row in shares:
        for key in ("lo95", "hi95"):
            value = float(row[key])
            assert value in (0.0, 1.0) or 1e-9 < value < 1 - 1e-9, (row, key)
        if row["runs"] == "0":
            assert float(row["lo95"]) == 0.0
    problems.check()


# ---- 6: help text, node labels, the server log ---------------------------------------------------
def test_help_text_writes_ranges_as_readers_do(ui):
    page, problems = ui
    open_advanced(page)
    help_text = param_block(page, "n_citizens").locator(".gsomia-param-help").inner_text()
    assert "Range 10–1,000,000." in help_text
    every = page.locator(".gsomia-param-help").all_inner_texts()
    assert not any(re.search(r"\de[+-]\d", t) for t in every)
    problems.check()


NODE_FIT_JS = """async () => {
    const img = document.querySelector('.gsomia-network img');
    const svgText = await (await fetch(img.src)).text();
    const host = document.createElement('div');
    host.style.position = 'absolute'; host.style.left = '0'; host.style.top = '0';
    host.innerHTML = svgText;
    document.body.appendChild(host);
    const svg = host.querySelector('svg');
    const walker = document.createTreeWalker(svg, NodeFilter.SHOW_COMMENT);
    const labels = [];
    while (walker.nextNode()) {
        const c = walker.currentNode;
        const name = c.nodeValue.trim();
        if (!/^(Seoul|Tokyo|Washington|Beijing)$/.test(name)) continue;
        const line = c.nextElementSibling;
        let box = line.getBoundingClientRect();
        // the stance on the next line belongs to the same label
        let next = line.nextSibling;
        while (next && next.nodeType !== Node.ELEMENT_NODE) next = next.nextSibling;
        if (next) {
            const b = next.getBoundingClientRect();
            const x0 = Math.min(box.x, b.x), y0 = Math.min(box.y, b.y);
            const x1 = Math.max(box.x + box.width, b.x + b.width);
            const y1 = Math.max(box.y + box.height, b.y + b.height);
            box = {x: x0, y: y0, width: x1 - x0, height: y1 - y0};
        }
        labels.push({name, box: {x: box.x, y: box.y, width: box.width, height: box.height}});
    }
    const circles = [...svg.querySelectorAll('g[id^="PathCollection"], g[id="node"]')]
        .map(g => g.getBoundingClientRect())
        .map(b => ({x: b.x, y: b.y, width: b.width, height: b.height}));
    host.remove();
    return {labels, circles};
}"""


def test_every_actor_name_fits_inside_its_node(ui):
    """In the network figure the page shows (its SVG, laid out by Chromium), each actor's
    label lies inside its node's circle ("Washington" ran over its rim)."""
    page, problems = ui
    page.locator(".gsomia-network img").wait_for()
    found = page.evaluate(NODE_FIT_JS)
    assert {label["name"] for label in found["labels"]} == {
        "Seoul",
        "Tokyo",
        "Washington",
        "Beijing",
    }
    for label in found["labels"]:
        box = label["box"]
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        circle = next(
            c
            for c in found["circles"]
            if c["x"] <= cx <= c["x"] + c["width"] and c["y"] <= cy <= c["y"] + c["height"]
        )
        r = circle["width"] / 2
        ox, oy = circle["x"] + r, circle["y"] + circle["height"] / 2
        for x in (box["x"], box["x"] + box["width"]):
            for y in (box["y"], box["y"] + box["height"]):
                assert (x - ox) ** 2 + (y - oy) ** 2 <= r**2, label["name"]
    problems.check()


def test_sessions_leave_no_warning_in_the_server_log(ui, server):
    """Solara's samesite UserWarning was printed for every session."""
    page, problems = ui
    page.reload()
    page.get_by_role("button", name="Step").wait_for()
    log = Path(server.log).read_text()
    assert "samesite" not in log.lower()
    assert "UserWarning" not in log
    problems.check()


# ---- 7: the docs say what the page shows --------------------------------------------------------
def ui_section() -> str:
    """The UI's page of the docs (docs/ui.md), up to its SolaraViz section."""
    text = (REPO / "docs" / "ui.md").read_text()
    return text.split("\n## ", 1)[0]


def test_the_docs_count_the_parameters_the_page_shows(ui):
    page, problems = ui
    toggle = page.get_by_role("button", name=ADVANCED_TOGGLE).text_content()
    shown = int(ADVANCED_TOGGLE.search(toggle).group(1))
    stated = re.search(r"the other (\d+)", " ".join(ui_section().split()))
    assert stated is not None and int(stated.group(1)) == shown
    problems.check()


def test_the_docs_say_what_the_default_seed_shows(ui):
    """The seed a newcomer sees, and the outcome the docs give for it, are what the
    page shows after Run to end."""
    page, problems = ui
    names = "|".join(o.replace("last_minute", "last-minute").replace("_", " ") for o in OUTCOMES)
    stated = re.search(
        rf"opens on seed (\d+) of the 2019 baseline, which ends in an? ({names})\b",
        " ".join(ui_section().split()),
    )
    assert stated is not None, "docs/ui.md does not say what the default seed shows"
    assert page.get_by_label("Random seed").input_value() == stated.group(1)
    run_to_end(page, 15)
    banner = page.locator(".gsomia-outcome").inner_text()
    assert banner.startswith(f"Outcome: {stated.group(2)}:")
    problems.check()


def test_the_docs_give_the_ui_timings_with_their_command():
    section = ui_section()
    assert "python -m benchmarks --figures ui" in section
    for figure in ("first render", "one step", "50-seed ensemble"):
        assert figure in section
