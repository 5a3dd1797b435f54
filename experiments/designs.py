"""Experimental designs: a validated spec -> the list of parameter points to run.

Pure and deterministic: the same spec (and spec seed) always gives the same points in the
same order, whatever machine or worker count. The randomness of a design (LHS, Saltelli
scrambling) is drawn from a child of the spec seed that no run uses
(``SeedSequence([seed, DESIGN_STREAM])``), so the spec seed is the sweep's one source of
randomness.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from experiments.spec import SweepSpec, Varied

DESIGN_STREAM = 0x5EED_DE51
"""Key mixed into the spec seed for the design's own random stream. Run seeds use the
three-word entropy ``[seed, point_id, replication]``; the design uses the two-word
``[seed, DESIGN_STREAM]``, so the two never share a stream."""

Point = dict[str, float | int]


def grid_values(p: Varied) -> list[float | int]:
    """The grid levels of one parameter: explicit ``values`` or ``levels`` evenly spaced
    points in [low, high] (integers rounded and de-duplicated)."""
    if p.values is not None:
        return list(p.values)
    if p.levels is None:
        raise ValueError(f"{p.name}: grid parameter without levels or values")
    raw = np.linspace(p.low, p.high, p.levels)
    if p.kind is int:
        return list(dict.fromkeys(round(float(v)) for v in raw))
    return [float(v) for v in raw]


def _cast(p: Varied, v: float) -> float | int:
    if p.kind is int:
        return int(min(max(round(v), math.ceil(p.low)), math.floor(p.high)))
    return float(v)


def design_rng_seed(spec_seed: int) -> np.random.SeedSequence:
    """The design's seed sequence, a child of the spec seed."""
    return np.random.SeedSequence([spec_seed, DESIGN_STREAM])


def grid(params: tuple[Varied, ...]) -> list[Point]:
    """Full factorial grid, the last parameter varying fastest."""
    axes = [grid_values(p) for p in params]
    return [
        {p.name: v for p, v in zip(params, combo, strict=True)}
        for combo in itertools.product(*axes)
    ]


def lhs(params: tuple[Varied, ...], n: int, seed: int) -> list[Point]:
    """``n`` points of a Latin hypercube (scipy.stats.qmc), scaled to the ranges."""
    from scipy.stats import qmc

    rng = np.random.default_rng(design_rng_seed(seed))
    unit = qmc.LatinHypercube(d=len(params), rng=rng).random(n)
    lows = np.array([p.low for p in params])
    highs = np.array([p.high for p in params])
    x = qmc.scale(unit, lows, highs)
    return [{p.name: _cast(p, v) for p, v in zip(params, row, strict=True)} for row in x]


def saltelli_problem(params: tuple[Varied, ...]) -> dict[str, Any]:
    """The SALib problem dict of the varied parameters."""
    return {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [[p.low, p.high] for p in params],
    }


def saltelli(params: tuple[Varied, ...], n: int, seed: int, second_order: bool) -> list[Point]:
    """Saltelli's extension of a scrambled Sobol' sequence (SALib.sample.sobol): n*(D+2)
    points, or n*(2D+2) with second-order indices; the order matters for the analysis."""
    from SALib.sample import sobol

    # SALib's seed must be an int or a Generator; derive an int from the design stream.
    salib_seed = int(design_rng_seed(seed).generate_state(1)[0])
    x = sobol.sample(saltelli_problem(params), n, calc_second_order=second_order, seed=salib_seed)
    return [{p.name: _cast(p, v) for p, v in zip(params, row, strict=True)} for row in x]


def points(spec: SweepSpec) -> list[Point]:
    """The spec's design points, in a fixed order (point_id = position)."""
    if spec.design == "grid":
        return grid(spec.parameters)
    if spec.design == "lhs":
        return lhs(spec.parameters, int(spec.samples or 0), spec.seed)
    if spec.design == "saltelli":
        return saltelli(spec.parameters, int(spec.samples or 0), spec.seed, spec.second_order)
    raise ValueError(f"unknown design {spec.design!r}")


def n_points(spec: SweepSpec) -> int:
    """Number of design points, without generating them."""
    if spec.design == "grid":
        return math.prod(len(grid_values(p)) for p in spec.parameters)
    d = len(spec.parameters)
    n = int(spec.samples or 0)
    if spec.design == "lhs":
        return n
    return n * (2 * d + 2 if spec.second_order else d + 2)
