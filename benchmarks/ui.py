"""Figure ``ui``: what the browser page costs on the server, where its time goes.

- ``first_render_s``: a new session's page (``app.Page``) rendered in-process with
  ``solara.render``: the session's model built from the baseline config, its snapshot, both
  figures drawn to SVG and the widget tree built. The browser's own paint is not included.
- ``step_s``: what one Step costs the page: one model month, the snapshot and both figures.
- ``ensemble_s``: the ensemble panel's work for N seeds (default 50) of the baseline: per
  seed the sweep runner's ``run_one`` plus the GSOMIAModel run whose monthly series make
  the bands (on ``app.ENSEMBLE_WORKERS`` forked worker processes, as on the page).

Targets of issue 10 (reported, never enforced): first render <= 3 s, one step <= 0.3 s, a
50-seed ensemble <= 10 s.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from benchmarks.common import summary

TARGETS_S = {"first_render_s": 3.0, "step_s": 0.3, "ensemble_s": 10.0}


def load_app() -> ModuleType:
    """The repo-root ``app.py`` as module ``app`` (the page is a script, not a package)."""
    from experiments.serve import load_app as load

    return load()


def first_render(app: ModuleType) -> float:
    """Seconds to render a new session's page in-process."""
    import solara

    t0 = time.perf_counter()
    _box, rc = solara.render(app.Page(), handle_error=False)
    elapsed = time.perf_counter() - t0
    rc.close()
    return elapsed


def steps(app: ModuleType, months: int) -> list[float]:
    """Seconds per Step (model month + snapshot + both figures) over ``months`` months."""
    session = app.Session()
    session.reset(app.DEFAULT_SCENARIO, 1, {})
    out = []
    for _ in range(months):
        t0 = time.perf_counter()
        view = session.step()
        app.figure_svg(app.network_figure(view))
        app.figure_svg(app.series_figure(view))
        out.append(time.perf_counter() - t0)
    return out


def ensemble(app: ModuleType, seeds: int) -> tuple[float, dict[str, int]]:
    """Seconds for the ensemble panel's ``seeds`` runs of the baseline, and its outcomes."""
    from model.config import load_config

    params = load_config(app.CONFIG_DIR / f"{app.DEFAULT_SCENARIO}.toml")
    t0 = time.perf_counter()
    workers = min(app.ENSEMBLE_WORKERS, os.cpu_count() or 1)  # as the page runs it
    views = list(app.run_ensemble(params, range(seeds), app.DEFAULT_SCENARIO, workers=workers))
    elapsed = time.perf_counter() - t0
    table = app.ensemble_table(views[-1])
    return elapsed, {r.outcome: int(r.runs) for r in table.itertuples() if r.runs}


def figure(repeats: int, seeds: int, log: Callable[[str], None]) -> dict[str, Any]:
    """The ``ui`` figure: first render, one step, an ensemble of ``seeds`` seeds."""
    app = load_app()
    first_render(app)  # warm-up: imports, matplotlib fonts
    renders = []
    for i in range(repeats):
        renders.append(first_render(app))
        log(f"ui: first render {i + 1}/{repeats}: {renders[-1]:.2f} s")
    step_times = steps(app, 15)
    log(f"ui: 15 steps, median {sorted(step_times)[7]:.3f} s")
    runs = []
    outcomes: dict[str, int] = {}
    for i in range(max(1, repeats // 3)):
        elapsed, outcomes = ensemble(app, seeds)
        runs.append(elapsed)
        log(f"ui: {seeds}-seed ensemble {i + 1}: {elapsed:.1f} s")
    fig = {
        "description": __doc__.split("\n\n")[0],
        "measurements": {
            "first_render_s": summary(renders, "s"),
            "step_s": summary(step_times, "s"),
            "ensemble_s": summary(runs, "s", seeds=seeds, outcomes=outcomes),
        },
    }
    fig["targets_issue_10"] = {
        name: {
            "value": round(fig["measurements"][name]["median"], 3),
            "target": f"<= {limit} s" + (f" ({seeds} seeds)" if name == "ensemble_s" else ""),
            "met": fig["measurements"][name]["median"] <= limit,
        }
        for name, limit in TARGETS_S.items()
    }
    return fig
