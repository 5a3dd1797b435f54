"""Figure ``ui``: what the browser page costs on the server, where its time goes.

- ``first_render_s``: a new session's page (``gsomia_ui.page.Page``) rendered in-process
  with ``solara.render``: the session's model built from the baseline config, its
  snapshot, both figures drawn to SVG and the widget tree built. The browser's own paint
  is not included.
- ``step_s``: what one Step costs the page: one model month, the snapshot and the Run
  tab's two figures (network and monthly series) drawn to SVG.
- ``ensemble_s``: the Ensemble tab's N seeds (default 50) of the baseline on
  ``gsomia_ui.ensembles.WORKERS`` (2) processes of the shared pool, warm as the page
  keeps it (the tab starts it when opened); ``ensemble_cold_s`` is the first ensemble
  of a process, which starts the pool's workers too.

Targets of issue 20 (reported, never enforced): first render <= 2 s, one step <= 0.3 s,
a 50-seed ensemble <= 5 s on 2 workers. Measure at load average <= 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks.common import summary

TARGETS_S = {"first_render_s": 2.0, "step_s": 0.3, "ensemble_s": 5.0}


def first_render() -> float:
    """Seconds to render a new session's page in-process."""
    import solara

    from gsomia_ui.page import Page

    t0 = time.perf_counter()
    _box, rc = solara.render(Page(), handle_error=False)
    elapsed = time.perf_counter() - t0
    rc.close()
    return elapsed


def steps(months: int) -> list[float]:
    """Seconds per Step (model month + snapshot + both figures) over ``months`` months."""
    from gsomia_ui.figures import figure_svg, network_figure, series_figure
    from gsomia_ui.scenarios import DEFAULT_SEED, SHIPPED_DEFAULT
    from gsomia_ui.state import Session

    session = Session()
    session.reset(SHIPPED_DEFAULT, DEFAULT_SEED, {})
    out = []
    for _ in range(months):
        t0 = time.perf_counter()
        view = session.step()
        figure_svg(network_figure(view))
        figure_svg(series_figure(view))
        out.append(time.perf_counter() - t0)
    return out


def ensemble(seeds: int) -> tuple[float, dict[str, int]]:
    """Seconds for the Ensemble tab's ``seeds`` runs of the baseline, and its outcomes."""
    from gsomia_ui import ensembles
    from gsomia_ui.scenarios import SHIPPED_DEFAULT, settings_from

    params = settings_from(SHIPPED_DEFAULT, {}).params  # what the tab runs at the start
    t0 = time.perf_counter()
    views = list(
        ensembles.run_ensemble(params, range(seeds), SHIPPED_DEFAULT, workers=ensembles.workers())
    )
    elapsed = time.perf_counter() - t0
    table = ensembles.ensemble_table(views[-1])
    return elapsed, {r.outcome: int(r.runs) for r in table.itertuples() if r.runs}


def figure(repeats: int, seeds: int, log: Callable[[str], None]) -> dict[str, Any]:
    """The ``ui`` figure: first render, one step, an ensemble of ``seeds`` seeds."""
    from experiments.backends import close_warm_pools
    from gsomia_ui import ensembles

    first_render()  # warm-up: imports, matplotlib fonts
    renders = []
    for i in range(repeats):
        renders.append(first_render())
        log(f"ui: first render {i + 1}/{repeats}: {renders[-1]:.2f} s")
    step_times = steps(15)
    log(f"ui: 15 steps, median {sorted(step_times)[7]:.3f} s")
    try:
        cold, outcomes = ensemble(seeds)
        log(f"ui: {seeds}-seed ensemble, pool started: {cold:.1f} s")
        runs = []
        for i in range(max(1, repeats // 3)):
            elapsed, outcomes = ensemble(seeds)
            runs.append(elapsed)
            log(f"ui: {seeds}-seed ensemble {i + 1} (warm pool): {elapsed:.1f} s")
    finally:
        close_warm_pools()
    workers = ensembles.workers()
    fig = {
        "description": __doc__.split("\n\n")[0],
        "measurements": {
            "first_render_s": summary(renders, "s"),
            "step_s": summary(step_times, "s"),
            "ensemble_s": summary(runs, "s", seeds=seeds, outcomes=outcomes, workers=workers),
            "ensemble_cold_s": summary([cold], "s", seeds=seeds, workers=workers),
        },
    }
    fig["targets_issue_20"] = {
        name: {
            "value": round(fig["measurements"][name]["median"], 3),
            "target": f"<= {limit} s"
            + (f" ({seeds} seeds, {workers} workers)" if name == "ensemble_s" else ""),
            "met": fig["measurements"][name]["median"] <= limit,
        }
        for name, limit in TARGETS_S.items()
    }
    return fig
