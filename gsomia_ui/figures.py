"""The page's figures (matplotlib, drawn on the server): the actor network, the monthly
series, an ensemble's outcomes, reversal timing and bands, a posterior ensemble against
its point estimate, and two settings compared. Each is drawn once per change of what it
shows (the panels memoise them) and sent as SVG; the exports send PNG."""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.ensemble import reversal_histogram
from gsomia_ui.ensembles import (
    ComparisonView,
    EnsembleView,
    PosteriorView,
    band_dates,
    ensemble_bands,
    ensemble_table,
)
from gsomia_ui.inputs import action_label, num
from gsomia_ui.view import PACT_STATES, RunView, decisive_deadline
from model.calendar import month_end

STANCE_CMAP = "RdYlGn_r"  # 0 cooperative (green) .. hard line (red)
STANCE_MAX = 1.5
"""Top of the stance colour scale: Seoul's stance is its hardness toward Tokyo (1 with a
standing notice or after a lapse) plus 0.5 for a standing WTO complaint; the others stay
in 0..1. Display only: the model's behaviour does not read it."""
TENSION_CMAP = "Reds"
PRESSURE_COLOUR = "#1f5fbf"
OUTCOME_COLOURS = ("#4daf4a", "#377eb8", "#ff7f00", "#e41a1c", "#999999", "#984ea3")
NODE_FONT = 8
NODE_PAD_PX = 4.0
"""Space between a node's label and its rim."""
COMPARE_COLOURS = ("#1f5fbf", "#d6604d")


def figure_svg(fig: Figure) -> bytes:
    """A matplotlib figure as SVG bytes (the browser draws it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    return buffer.getvalue()


def figure_png(fig: Figure, dpi: int = 150) -> bytes:
    """A matplotlib figure as PNG bytes (for download)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def outcome_label(outcome: str) -> str:
    """An outcome as a reader writes it ("last-minute suspension")."""
    return outcome.replace("last_minute", "last-minute").replace("_", " ")


# ---- the actor network -----------------------------------------------------------------------
def _edge_label(data: Mapping[str, Any], pair: str = "") -> str:
    tension = num(float(data.get("tension", 0.0)))
    label = f"{pair}\n" if pair else ""
    label += f"{data.get('kind', '')}, tension {tension}"
    if "us_pressure" in data:
        label += f"\nUS pressure {num(float(data['us_pressure']))}"
    if data.get("inducement"):
        label += f"\ninducement {num(float(data['inducement']))}"
    return label


LABEL_SPOTS = tuple(0.5 + sign * k / 40 for k in range(15) for sign in (-1, 1))[1:]
"""Where along an edge its label may sit (share of the way), in order of preference."""


def _overlap_area(box: Any, others: Sequence[Any], pad: float = 4.0) -> float:
    """Display area (px²) shared by ``box``, grown by ``pad``, with ``others``."""
    total = 0.0
    for o in others:
        w = min(box.x1 + pad, o.x1) - max(box.x0 - pad, o.x0)
        h = min(box.y1 + pad, o.y1) - max(box.y0 - pad, o.y0)
        total += max(0.0, w) * max(0.0, h)
    return total


def _node_labels(ax: Any, nodes: Sequence[tuple], renderer: Any) -> tuple[list[Any], float]:
    """Each node's name and stance as a text at its centre, and the node radius (px) that
    holds the widest of them: half the label's diagonal plus a margin."""
    texts, radius = [], 0.0
    for name, (x, y), stance, _move in nodes:
        text = ax.text(
            x,
            y,
            f"{name.title()}\n{num(stance)}",
            fontsize=NODE_FONT,
            ha="center",
            va="center",
            weight="bold",
            zorder=6,
            gid="node-label",
        )
        box = text.get_window_extent(renderer)
        radius = max(radius, math.hypot(box.width, box.height) / 2 + NODE_PAD_PX)
        texts.append(text)
    return texts, radius


def network_figure(view: RunView) -> Figure:
    """The actor network: nodes by stance, edges by tension, US pressure as a blue band.
    Nodes are sized to hold their labels; edge labels are placed where they overlap
    neither another label nor a node."""
    nodes, pairs = view.network
    edges = [(a, b, dict(items)) for a, b, items in pairs]
    stance_map = mpl.colormaps[STANCE_CMAP]
    tension_map = mpl.colormaps[TENSION_CMAP]
    norm = mpl.colors.Normalize(0.0, STANCE_MAX)
    fig = Figure(figsize=(5.8, 3.9), dpi=90)
    FigureCanvasAgg(fig)  # a renderer to measure the labels with
    ax = fig.add_axes((0.0, 0.0, 0.8, 1.0))
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-1.3, 1.3)
    ax.set_axis_off()
    renderer = fig.canvas.get_renderer()
    _labels, radius = _node_labels(ax, nodes, renderer)
    node_size = (2 * radius * 72 / fig.dpi) ** 2  # scatter sizes are points²
    taken = []
    for _name, (x, y), _stance, _move in nodes:
        cx, cy = ax.transData.transform((x, y))
        taken.append(mpl.transforms.Bbox([[cx - radius, cy - radius], [cx + radius, cy + radius]]))
    for (x0, y0), (x1, y1), data in edges:
        pressure = float(data.get("us_pressure", 0.0))
        if pressure > 0:
            ax.plot(
                [x0, x1],
                [y0, y1],
                color=PRESSURE_COLOUR,
                lw=4 + 14 * pressure,
                alpha=0.35,
                solid_capstyle="round",
                zorder=1,
            )
        tension = float(data.get("tension", 0.0))
        ax.plot(
            [x0, x1],
            [y0, y1],
            color=tension_map(0.25 + 0.75 * min(tension, 1.0)),
            lw=2 + 4 * tension,
            zorder=2,
        )
    at = {position: name.title() for name, position, _stance, _move in nodes}
    names = {(a, b): f"{at.get(a, '')}–{at.get(b, '')}" for a, b, _data in edges}
    for (x0, y0), (x1, y1), data in edges:
        text = ax.text(
            0,
            0,
            _edge_label(data, pair=names.get(((x0, y0), (x1, y1)), "")),
            fontsize=7,
            ha="center",
            va="center",
            color="#333",
            zorder=4,
            gid="edge-label",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        )
        spots = []
        for t in LABEL_SPOTS:
            text.set_position((x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
            box = text.get_window_extent(renderer)
            spots.append((_overlap_area(box, taken), t, box))
            if not spots[-1][0]:
                break
        _area, t, box = min(spots, key=lambda s: s[0])  # the first free spot, or the least bad
        text.set_position((x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
        taken.append(box)
    to_data = ax.transData.inverted()
    for _name, (x, y), stance, move in nodes:
        ax.scatter(
            [x],
            [y],
            s=node_size,
            color=stance_map(norm(min(max(stance, 0.0), STANCE_MAX))),
            edgecolors="black",
            linewidths=1.2,
            zorder=5,
            gid="node",
        )
        if move:
            cx, cy = ax.transData.transform((x, y))
            below = y <= 0
            _, gap = to_data.transform((cx, cy - radius - 3 if below else cy + radius + 3))
            ax.text(
                x,
                gap,
                textwrap.fill(action_label(move), 20),
                fontsize=7,
                ha="center",
                va="top" if below else "bottom",
                style="italic",
                zorder=6,
            )
    cax = fig.add_axes((0.84, 0.12, 0.03, 0.76))
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=stance_map)
    bar = fig.colorbar(sm, cax=cax, extend="max" if any(n[2] > STANCE_MAX for n in nodes) else None)
    bar.set_label("stance (0 cooperative, 1 hard line,\n+0.5 Seoul's WTO complaint)", fontsize=7)
    cax.tick_params(labelsize=7)
    return fig


# ---- the monthly series ----------------------------------------------------------------------
def _month_ends(view: RunView) -> list[date]:
    """The date of each row of the monthly series: the end of the month it closes (row 0:
    the day before the start)."""
    return [date.fromisoformat(str(d)) for d in view.monthly["date"]]


def series_figure(view: RunView, highlight: date | None = None) -> Figure:
    """Monthly series on a calendar axis: row ``k`` is the state at the end of month
    ``start + k - 1``, drawn over that month (a step that holds from the month's start),
    so a move made in November shows in November, before a deadline on Nov 23."""
    df = view.monthly
    x = _month_ends(view)
    fig = Figure(figsize=(6.2, 4.1), dpi=90)
    axes = fig.subplots(4, 1, sharex=True)
    fig.subplots_adjust(left=0.2, right=0.97, top=0.98, bottom=0.1, hspace=0.25)
    axes[0].plot(x, df["opinion_share"], color="#b2182b", marker=".", gid="opinion")
    axes[0].set_ylim(0, 1)
    axes[0].set_ylabel("opinion\n(for ending)", fontsize=8)
    axes[1].step(x, df["curb_level"], where="pre", color="#8c510a", gid="curbs")
    axes[1].set_ylim(-0.2, 2.2)
    axes[1].set_yticks([0, 1, 2], ["none", "targeted", "white list"], fontsize=7)
    axes[1].set_ylabel("curbs", fontsize=8)
    axes[2].step(x, df["us_pressure_seoul"], where="pre", color=PRESSURE_COLOUR, gid="pressure")
    axes[2].step(x, df["us_pressure_tokyo"], where="pre", color="#7fbf7f", ls="--")
    axes[2].legend(["on Seoul", "on Tokyo"], fontsize=6, loc="upper left", frameon=False)
    axes[2].set_ylim(-0.05, 1.05)
    axes[2].set_ylabel("US\npressure", fontsize=8)
    codes = [PACT_STATES.index(s) if s in PACT_STATES else -1 for s in df["pact_state"]]
    axes[3].step(x, codes, where="pre", color="black", gid="pact")
    axes[3].set_yticks(range(len(PACT_STATES)), [s.replace("_", " ") for s in PACT_STATES])
    axes[3].set_ylim(-0.5, len(PACT_STATES) - 0.5)
    axes[3].set_ylabel("pact", fontsize=8)
    axes[3].xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    axes[3].xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    deadline = decisive_deadline(view)
    for ax in axes:
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.set_xlim(view.start - timedelta(days=1), month_end(view.end))
        if deadline is not None:
            ax.axvline(deadline, color="grey", ls=":", lw=1, gid="deadline")
        if highlight is not None:
            ax.axvspan(highlight, month_end(highlight), color="#f0c000", alpha=0.2, lw=0)
    return fig


# ---- ensembles -------------------------------------------------------------------------------
def timing_labels(hist: Mapping[str, int]) -> list[str]:
    """Short x labels of a reversal-timing histogram: "lapsed", "3", "2", ... "0"."""
    return ["lapsed" if k == "lapsed" else k for k in hist]


def _outcome_bars(
    ax: Any,
    series: Sequence[tuple[str, Sequence[float], Sequence[float], Sequence[float], str]],
    outcomes: Sequence[str],
) -> None:
    """Horizontal bars of outcome shares with their 95% intervals, one group per outcome
    (top to bottom), one bar per ``(label, share, lo, hi, colour)`` series."""
    n = len(series)
    height = 0.8 / n
    y = np.arange(len(outcomes))[::-1].astype(float)
    for i, (label, share, lo, hi, colour) in enumerate(series):
        s = np.nan_to_num(np.asarray(share, float))
        err = np.clip(
            np.vstack([s - np.nan_to_num(np.asarray(lo, float)), np.nan_to_num(hi) - s]), 0, None
        )
        offset = (n - 1) / 2 * height - i * height
        ax.barh(y + offset, s, height=height, xerr=err, color=colour, capsize=2, label=label)
    ax.set_yticks(y, [outcome_label(o) for o in outcomes])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of runs (bars: 95% interval)")


def ensemble_figure(ens: EnsembleView) -> Figure:
    """Outcome shares with 95% Wilson intervals, reversal timing, and the opinion and
    US-pressure bands (median, 5–95%) over months: two rows of two panels, laid out so
    that no label overlaps another or leaves the figure."""
    fig = Figure(figsize=(9.0, 5.4), dpi=90, layout="constrained")
    (ax_out, ax_time), (ax_op, ax_pr) = fig.subplots(2, 2)
    table = ensemble_table(ens)
    _outcome_bars(
        ax_out,
        [("", table["share"], table["lo95"], table["hi95"], "#6a8fc7")],
        list(table["outcome"]),
    )
    ax_out.set_title(f"Outcomes ({ens.done} seeds)", fontsize=9)
    hist = reversal_histogram(ens.rows)
    ax_time.bar(range(len(hist)), list(hist.values()), color="#b2182b")
    ax_time.set_xticks(range(len(hist)), timing_labels(hist))
    ax_time.set_xlabel("reversal, months before expiry (0: the expiry month)")
    ax_time.set_ylabel("runs")
    ax_time.set_title("Reversal timing", fontsize=9)
    for ax, name, title, colour in (
        (ax_op, "opinion_share", "Opinion for ending the pact", "#b2182b"),
        (ax_pr, "us_pressure_seoul", "US pressure on Seoul", PRESSURE_COLOUR),
    ):
        bands = ensemble_bands(ens, name)
        if len(bands):
            x = band_dates(bands)
            ax.fill_between(x, bands["p5"], bands["p95"], color=colour, alpha=0.25, step="pre")
            ax.step(x, bands["median"], where="pre", color=colour)
            ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %y"))
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{title} (median, 5–95%)", fontsize=9)
    for ax in (ax_out, ax_time, ax_op, ax_pr):
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_size(7)
        ax.yaxis.label.set_size(7)
        ax.grid(alpha=0.3)
    return fig


def posterior_figure(post: PosteriorView) -> Figure:
    """Each outcome's share over the fitted posterior (draws x seeds; the interval counts
    the spread between draws) next to the seeds-only share at the point estimate."""
    fig = Figure(figsize=(7.0, 3.4), dpi=90, layout="constrained")
    ax = fig.subplots()
    if post.result is not None:
        t = post.result.table()
        _outcome_bars(
            ax,
            [
                (
                    "posterior (parameters + seeds)",
                    t["posterior_share"],
                    t["posterior_lo95"],
                    t["posterior_hi95"],
                    "#6a8fc7",
                ),
                (
                    "posterior mean (seeds)",
                    t["point_share"],
                    t["point_lo95"],
                    t["point_hi95"],
                    "#c7a46a",
                ),
            ],
            list(t["outcome"]),
        )
        ax.legend(fontsize=7, loc="lower right")
    ax.set_title(
        f"Outcomes over the fitted posterior ({post.draws} draws x {post.seeds} seeds)", fontsize=9
    )
    ax.tick_params(labelsize=7)
    ax.xaxis.label.set_size(7)
    ax.grid(alpha=0.3)
    return fig


def compare_figure(comp: ComparisonView) -> Figure:
    """A - B in each outcome's share with its 95% Newcombe interval, and the two
    reversal-timing histograms overlaid."""
    fig = Figure(figsize=(9.0, 3.4), dpi=90, layout="constrained")
    ax_diff, ax_time = fig.subplots(1, 2)
    table = comp.table()
    y = np.arange(len(table))[::-1]
    diff = np.nan_to_num(table["difference"].to_numpy(float))
    err = np.clip(
        np.vstack(
            [
                diff - np.nan_to_num(table["lo95"].to_numpy(float)),
                np.nan_to_num(table["hi95"].to_numpy(float)) - diff,
            ]
        ),
        0,
        None,
    )
    ax_diff.errorbar(diff, y, xerr=err, fmt="o", color="black", capsize=3)
    ax_diff.axvline(0, color="grey", lw=1)
    ax_diff.set_yticks(y, [outcome_label(o) for o in table["outcome"]])
    ax_diff.set_xlim(-1, 1)
    ax_diff.set_xlabel("share under A minus share under B (95% Newcombe interval)")
    ax_diff.set_title(f"A - B over {comp.done} seeds", fontsize=9)
    hist_a, hist_b = comp.histograms()
    keys = list(dict.fromkeys([*hist_a, *hist_b]))
    keys = ["lapsed", *sorted((k for k in keys if k != "lapsed"), key=int, reverse=True)]
    x = np.arange(len(keys))
    for hist, colour, label in (
        (hist_a, COMPARE_COLOURS[0], f"A: {comp.label_a}"),
        (hist_b, COMPARE_COLOURS[1], f"B: {comp.label_b}"),
    ):
        ax_time.bar(
            x,
            [hist.get(k, 0) for k in keys],
            width=0.8,
            color=colour,
            alpha=0.45,
            edgecolor=colour,
            linewidth=1.5,
            label=textwrap.shorten(label, 60),
        )
    ax_time.set_xticks(x, timing_labels(dict.fromkeys(keys, 0)))
    ax_time.set_xlabel("reversal, months before expiry (0: the expiry month)")
    ax_time.set_ylabel("runs")
    ax_time.set_title("Reversal timing, overlaid", fontsize=9)
    ax_time.legend(fontsize=6, loc="upper left")
    for ax in (ax_diff, ax_time):
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_size(7)
        ax.yaxis.label.set_size(7)
        ax.grid(alpha=0.3)
    return fig
