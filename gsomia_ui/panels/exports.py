"""Downloads: the run's CSVs (the columns of ``gsomia run --out``'s files), each figure as
PNG, and each ensemble's tables, one table per file."""

from __future__ import annotations

import solara

from gsomia_ui.ensembles import ComparisonView, EnsembleView, PosteriorView
from gsomia_ui.exports import (
    compare_csv,
    decisions_csv,
    ensemble_runs_csv,
    ensemble_shares_csv,
    monthly_csv,
    posterior_csv,
    timeline_csv,
)
from gsomia_ui.figures import (
    compare_figure,
    ensemble_figure,
    network_figure,
    posterior_figure,
    series_figure,
)
from gsomia_ui.view import RunView
from gsomia_ui.widgets import downloads, png_of

CSV = "text/csv"
PNG = "image/png"


@solara.component
def ExportPanel(
    view: RunView,
    ens: EnsembleView | None,
    post: PosteriorView | None = None,
    comp: ComparisonView | None = None,
) -> None:
    """Downloads of the current run and of the ensembles run so far."""
    stem = f"gsomia_{view.scenario}_seed{view.seed}"
    solara.Text(
        f"Current run: scenario {view.scenario}, seed {view.seed}, "
        f"{view.months_done} of {view.total_months} months simulated."
    )
    downloads(
        [
            (lambda: monthly_csv(view), f"{stem}_monthly.csv", "Monthly series (CSV)", CSV),
            (lambda: timeline_csv(view), f"{stem}_timeline.csv", "Timeline (CSV)", CSV),
            (lambda: decisions_csv(view), f"{stem}_decisions.csv", "Decisions (CSV)", CSV),
            (png_of(lambda: network_figure(view)), f"{stem}_network.png", "Network (PNG)", PNG),
            (
                png_of(lambda: series_figure(view)),
                f"{stem}_series.png",
                "Monthly series (PNG)",
                PNG,
            ),
        ],
        "gsomia-export",
    )
    if ens is not None and ens.rows:
        base = f"gsomia_ensemble_{ens.done}_seeds"
        downloads(
            [
                (
                    lambda: ensemble_shares_csv(ens),
                    f"{base}_shares.csv",
                    "Ensemble outcome shares (CSV)",
                    CSV,
                ),
                (lambda: ensemble_runs_csv(ens), f"{base}_runs.csv", "Ensemble runs (CSV)", CSV),
                (png_of(lambda: ensemble_figure(ens)), f"{base}.png", "Ensemble figure (PNG)", PNG),
            ],
            "gsomia-export-ensemble",
        )
    else:
        solara.Text("Run an ensemble (Ensemble tab) to export its tables.")
    if post is not None and post.result is not None:
        base = f"gsomia_posterior_{post.draws}x{post.seeds}"
        downloads(
            [
                (lambda: posterior_csv(post), f"{base}.csv", "Posterior ensemble (CSV)", CSV),
                (
                    png_of(lambda: posterior_figure(post)),
                    f"{base}.png",
                    "Posterior ensemble (PNG)",
                    PNG,
                ),
            ],
            "gsomia-export-posterior",
        )
    if comp is not None and comp.done:
        base = f"gsomia_compare_{comp.done}_seeds"
        downloads(
            [
                (lambda: compare_csv(comp), f"{base}.csv", "Comparison (CSV)", CSV),
                (png_of(lambda: compare_figure(comp)), f"{base}.png", "Comparison (PNG)", PNG),
            ],
            "gsomia-export-compare",
        )
