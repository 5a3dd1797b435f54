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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from model.parameters import ConfigError

if TYPE_CHECKING:  # spec.py imports this module for the registry
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


# ---- the registry ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    """A sweep design: what its spec may hold and how it turns a spec into points.

    ``grid_axes``: parameters take 'levels' or 'values' (else 'low' and 'high' only);
    ``needs_samples``: 'sweep.samples' is required (else refused); ``powers_of_two``: the
    samples must be a power of 2; ``min_parameters``; ``second_order``: the design reads
    'sweep.second_order'; ``sensitivity``: its points carry Sobol' indices (the analysis).
    """

    name: str
    grid_axes: bool = False
    needs_samples: bool = True
    powers_of_two: bool = False
    min_parameters: int = 1
    second_order: bool = False
    sensitivity: bool = False

    def check_samples(self, samples: int, where: str) -> None:
        """Refuse a sample count the design cannot use."""
        if self.powers_of_two and samples & (samples - 1):
            raise ConfigError(
                f"{where}: invalid value {samples} for 'sweep.samples'; allowed: a power of 2 "
                "(Sobol' sequences; e.g. 64, 128, 256)"
            )

    def points(self, spec: SweepSpec) -> list[Point]:
        """The spec's design points, in a fixed order (point_id = position)."""
        raise NotImplementedError

    def n_points(self, spec: SweepSpec) -> int:
        """Number of design points, without generating them."""
        return int(spec.samples or 0)


class Grid(Design):
    """Full factorial grid over each parameter's levels or values."""

    def points(self, spec: SweepSpec) -> list[Point]:
        return grid(spec.parameters)

    def n_points(self, spec: SweepSpec) -> int:
        return math.prod(len(grid_values(p)) for p in spec.parameters)


class LatinHypercube(Design):
    """``samples`` points of a Latin hypercube."""

    def points(self, spec: SweepSpec) -> list[Point]:
        return lhs(spec.parameters, int(spec.samples or 0), spec.seed)


class Saltelli(Design):
    """Saltelli's scheme for Sobol' indices: samples x (D + 2) points (x (2D + 2) with
    second-order indices)."""

    def points(self, spec: SweepSpec) -> list[Point]:
        return saltelli(spec.parameters, int(spec.samples or 0), spec.seed, spec.second_order)

    def n_points(self, spec: SweepSpec) -> int:
        d = len(spec.parameters)
        return int(spec.samples or 0) * (2 * d + 2 if spec.second_order else d + 2)


DESIGNS: dict[str, Design] = {
    d.name: d
    for d in (
        Grid("grid", grid_axes=True, needs_samples=False),
        LatinHypercube("lhs"),
        Saltelli(
            "saltelli", powers_of_two=True, min_parameters=2, second_order=True, sensitivity=True
        ),
    )
}
"""Every design by name; a new design is one subclass and one entry here."""


def points(spec: SweepSpec) -> list[Point]:
    """The spec's design points, in a fixed order (point_id = position)."""
    return DESIGNS[spec.design].points(spec)


def n_points(spec: SweepSpec) -> int:
    """Number of design points, without generating them."""
    return DESIGNS[spec.design].n_points(spec)
