"""Small building blocks the panels share: a figure drawn once per change, an HTML block,
an accessible slider, a text field applied on Enter, a slot for what comes and goes, a
row of downloads and a task's progress line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import reacton.ipywidgets as rw
import solara
from matplotlib.figure import Figure

from gsomia_ui.figures import figure_png, figure_svg
from gsomia_ui.inputs import parse_text


def image(data: bytes, cls: str, fmt: str = "svg+xml") -> None:
    """An image (SVG by default) that shrinks to the width it is given."""
    with solara.Column(classes=[cls], style={"min-width": "0"}):
        rw.Image(value=data, format=fmt, layout={"max_width": "100%"})


@solara.component
def FigureImage(build: Callable[[], Figure], key: Any, cls: str) -> None:
    """A figure drawn as SVG, redrawn only when ``key`` changes."""
    svg = solara.use_memo(lambda: figure_svg(build()), [key])
    image(svg, cls)


@solara.component
def EnterField(
    label: str,
    value: Any,
    on_value: Callable[[Any], None],
    parse: Callable[[str], tuple[Any, str | None]] = parse_text,
    disabled: bool = False,
    classes: Sequence[str] = (),
    style: str = "",
) -> None:
    """A text field applied on Enter or when it loses focus: ``parse(text)`` gives
    ``(value, None)``, passed to ``on_value``, or ``(None, message)``, shown under the
    field while the value in use stays and the text stays as typed.

    The server holds the text as it is typed. Solara's own fields hold only the value last
    applied, and put it back into the browser's field whenever their panel is drawn again
    (a download ending, a task's progress): text typed but not yet applied was replaced
    by the old value, and the Enter that followed applied the old value."""
    shown = str(value)
    text, set_text = solara.use_state(shown)
    problem, set_problem = solara.use_state(cast(str | None, None))

    def follow_value() -> None:  # a value applied, or set elsewhere (a scenario picked)
        set_text(shown)
        set_problem(None)

    solara.use_effect(follow_value, [shown])

    def apply(widget: Any, _event: str, _data: Any) -> None:
        new, message = parse(widget.v_model or "")
        set_problem(message)
        if message is None:
            on_value(new)

    field = solara.v.TextField(
        label=label,
        v_model=text,
        on_v_model=set_text,
        disabled=disabled,
        error=problem is not None,
        messages=[problem] if problem else [],
        hide_details="auto",
        class_=" ".join(classes),
        style_=style,
    )
    solara.v.use_event(field, "keyup.enter", apply)
    solara.v.use_event(field, "focusout", apply)


def slot(cls: str) -> Any:
    """A place in a panel for what comes and goes (messages, a progress line), used as
    ``with slot(cls):``. Reacton matches a panel's children by their position: an
    element that appeared or went before others moved them all, and they were built
    anew as new widgets, so a field lost what was typed into it and a click on a button
    being replaced was lost. The slot keeps its place; being ``display: contents`` it
    takes no room when empty and lays its children out as the panel's own."""
    return solara.Div(classes=[cls], style={"display": "contents"})


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
    with slot(f"{cls}-task"):
        if task.pending:
            solara.ProgressLinear(
                value=task.progress if task.progress is not None else True,
                classes=[f"{cls}-progress"],
            )
            solara.Text(f"running: {done} of {total} {what} done", classes=[f"{cls}-status"])
        if task.error:
            solara.Error(f"Failed: {task.exception}", classes=[f"{cls}-error"])
