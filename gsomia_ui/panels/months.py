"""Decisions by month: pick any simulated month (the picker lists each month with the
governments' moves in it, so it reads as a timeline) or step with ◀ ▶; the state at its
end, its events and every government's decision table."""

from __future__ import annotations

from datetime import date

import solara

from gsomia_ui.figures import series_figure
from gsomia_ui.tables import month_html
from gsomia_ui.view import RunView, month_label
from gsomia_ui.widgets import FigureImage, html


@solara.component
def MonthPanel(view: RunView, picked: solara.Reactive[date | None]) -> None:
    """Pick any simulated month: the state, its events and every government's decision."""
    months = view.months
    if not months:
        solara.Text("No month simulated yet: press Step.", classes=["gsomia-month-empty"])
        return
    month = picked.value if picked.value in months else months[-1]
    labels = {month_label(view, m): m for m in months}
    i = months.index(month)
    with solara.Row(style={"align-items": "center"}):
        solara.Button("◀", on_click=lambda: picked.set(months[i - 1]), disabled=i == 0)
        solara.Select(
            "Month",
            values=list(labels),
            value=month_label(view, month),
            on_value=lambda text: picked.set(labels[text]),
            classes=["gsomia-month-picker"],
        )
        solara.Button(
            "▶", on_click=lambda: picked.set(months[i + 1]), disabled=i == len(months) - 1
        )
    html(month_html(view, month), "gsomia-month-body")
    FigureImage(lambda: series_figure(view, month), (view.token, month), "gsomia-month-series")
