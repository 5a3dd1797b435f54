"""Small building blocks the panels share: a figure drawn once per change, an HTML block,
an accessible slider, a row of downloads and a task's progress line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reacton.ipywidgets as rw
import solara
from matplotlib.figure import Figure

from gsomia_ui.figures import figure_png, figure_svg


def image(data: bytes, cls: str, fmt: str = "svg+xml") -> None:
    """An image (SVG by default) that shrinks to the width it is given."""
    with solara.Column(classes=[cls], style={"min-width": "0"}):
        rw.Image(value=data, format=fmt, layout={"max_width": "100%"})


@solara.component
def FigureImage(build: Callable[[], Figure], key: Any, cls: str) -> None:
    """A figure drawn as SVG, redrawn only when ``key`` changes."""
    svg = solara.use_memo(lambda: figure_svg(build()), [key])
    image(svg, cls)


def html(body: str, cls: str) -> None:
    """A block of the page's own HTML (tables)."""
    solara.HTML(tag="div", unsafe_innerHTML=body, classes=[cls])


@solara.component
def Slider(
    label: str,
    value: float,
    low: float,
    high: float,
    step: float,
    on_value: Callable[[float], None],
    integer: bool = False,
    disabled: bool = False,
) -> None:
    """A slider whose thumb has ``label`` as its accessible name (``aria-label``), so
    screen readers and ``get_by_role("slider", name=...)`` find it; the visible label is
    the text above it."""

    def cast(new: Any) -> None:
        on_value(int(new) if integer else float(new))

    solara.v.Slider(
        v_model=value,
        on_v_model=cast,
        min=low,
        max=high,
        step=step,
        thumb_label=True,
        hide_details=True,
        dense=True,
        disabled=disabled,
        attributes={"aria-label": label},
    )


def downloads(items: Sequence[tuple[Callable[[], Any], str, str, str]], cls: str) -> None:
    """A row of download buttons: ``(make content, file name, label, mime type)``."""
    with solara.Row(style={"flex-wrap": "wrap"}, classes=[cls]):
        for make, filename, label, mime in items:
            solara.FileDownload(make, filename, label, mime_type=mime)


def png_of(build: Callable[[], Figure]) -> Callable[[], bytes]:
    """A download's content: the figure ``build`` makes, as PNG."""
    return lambda: figure_png(build())


def task_status(task: Any, done: int, total: int, cls: str, what: str = "runs") -> None:
    """While ``task`` runs: a progress bar and "running: k of n ..."; after an error: it."""
    if task.pending:
        solara.ProgressLinear(
            value=task.progress if task.progress is not None else True,
            classes=[f"{cls}-progress"],
        )
        solara.Text(f"running: {done} of {total} {what} done", classes=[f"{cls}-status"])
    if task.error:
        solara.Error(f"Failed: {task.exception}", classes=[f"{cls}-error"])
