"""Figure 5: how the cost of a run grows with months simulated and with citizens."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from benchmarks.common import RUN_SEED, summary
from benchmarks.run import one_run
from model.calendar import add_months, month_start

START = date(2018, 10, 1)
LINEAR = (0.85, 1.15)
"""Log-log slopes inside this band are called linear."""


def end_for(months: int, start: date = START) -> date:
    """The ``end`` that makes a run from ``start`` simulate ``months`` months."""
    return add_months(month_start(start), months - 1)


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log(y) on log(x): the fitted exponent of y ~ x^k."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sxx


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares intercept and slope of y = a + b x."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((a - mx) ** 2 for a in xs)
    b = sum((a - mx) * (c - my) for a, c in zip(xs, ys, strict=True)) / sxx
    return my - b * mx, b


def _remark(what: str, k: float, fixed_share: float | None = None) -> str:
    lo, hi = LINEAR
    if lo <= k <= hi:
        return f"{what}: ~linear (exponent {k:.2f})"
    if k > hi:
        return f"{what}: SUPER-linear (exponent {k:.2f}): a cost grows faster than linearly"
    extra = ""
    if fixed_share is not None:
        extra = (
            f"; a fixed per-run cost dominates at the small end ({fixed_share:.0%} of the "
            "smallest run is the fitted intercept), see the marginal cost"
        )
    return f"{what}: sub-linear (exponent {k:.2f}){extra}"


def _series(
    xs: Sequence[int],
    repeats: int,
    fn: Callable[[int], float],
    unit_name: str,
    log: Callable[[str], None],
) -> dict[str, Any]:
    points = {}
    medians = []
    for x in xs:
        vals = []
        for _ in range(repeats):
            vals.append(fn(x))
        points[str(x)] = summary(vals, "s")
        medians.append(points[str(x)]["median"])
        log(f"scaling: {unit_name}={x}: {points[str(x)]['median']:.3f} s")
    k = loglog_slope(xs, medians)
    a, b = linear_fit(xs, medians)
    return {
        "x": list(xs),
        "points": points,
        "exponent": k,
        "linear_fit": {"intercept_s": a, "slope_s_per_unit": b},
        "fixed_share_at_smallest": max(0.0, a) / medians[0],
    }


def _months_run(months: int) -> float:
    """Seconds of one baseline run simulating ``months`` months (checked)."""
    build, run, _, steps = one_run(end=end_for(months))
    if steps != months:
        raise RuntimeError(f"asked for {months} months, the model stepped {steps}")
    return build + run


def _opinion_only(n: int, months: int) -> float:
    """Seconds to build an OpinionNetwork of ``n`` citizens (graph + settling) and step it
    ``months`` times with a typical push: the opinion update without the games."""
    import numpy as np

    from model.opinion import OpinionNetwork, OpinionPush
    from model.parameters import defaults

    d = defaults()
    t0 = time.perf_counter()
    net = OpinionNetwork(
        n=n,
        degree=d["citizen_degree"],
        initial_opinion=d["initial_opinion"],
        conformity=d["opinion_conformity"],
        noise=d["opinion_noise"],
        sensitivity=d["opinion_sensitivity"],
        rng=np.random.default_rng(RUN_SEED),
        graph_seed=RUN_SEED,
    )
    push = OpinionPush(curbs=1, firm=True, talks=False, launches=1.0, us_pressure=0.5)
    for _ in range(months):
        net.step(push)
        net.poll()
    return time.perf_counter() - t0


def figure(
    months: Sequence[int],
    citizens: Sequence[int],
    opinion_citizens: Sequence[int],
    repeats: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Figure 5: run time against months simulated (baseline parameters, start
    2018-10, ``end`` moved) and against ``n_citizens`` (baseline 15 months); and the
    opinion update alone against citizens."""
    one_run(end=end_for(min(months)))  # warm-up
    by_months = _series(months, repeats, _months_run, "months", log)
    by_citizens = _series(
        citizens, repeats, lambda n: sum(one_run(n_citizens=n)[:2]), "n_citizens", log
    )
    opinion = _series(
        opinion_citizens, repeats, lambda n: _opinion_only(n, 15), "opinion-only n", log
    )
    for m, s in zip(months, by_months["points"].values(), strict=True):
        s["per_month_s"] = s["median"] / m
    remarks = [
        _remark("time vs months", by_months["exponent"], by_months["fixed_share_at_smallest"]),
        _remark(
            "time vs citizens (whole run)",
            by_citizens["exponent"],
            by_citizens["fixed_share_at_smallest"],
        ),
        _remark(
            "opinion update alone vs citizens",
            opinion["exponent"],
            opinion["fixed_share_at_smallest"],
        ),
    ]
    b = by_citizens["linear_fit"]["slope_s_per_unit"]
    remarks.append(f"marginal cost of a citizen over a 15-month run: {1e6 * b:.2f} µs")
    return {
        "description": (
            f"Run time (config load to outcome, seed {RUN_SEED}) of the baseline scenario "
            f"starting {START:%Y-%m} with 'end' set for {list(months)} months; of the "
            f"baseline 15 months with n_citizens {list(citizens)}; and of the opinion "
            f"network alone (build + settle + 15 monthly updates) for {list(opinion_citizens)} "
            "citizens. Exponent = least-squares log-log slope over the medians; "
            f"~linear means within {LINEAR}."
        ),
        "months": by_months,
        "citizens": by_citizens,
        "opinion_only": opinion,
        "remarks": remarks,
    }
