"""Korean public opinion: many citizens on a social graph, updated as one vector.

Each citizen holds an opinion in [0, 1], support for a hard line on Japan (scrapping the
pact). A poll counts a citizen as favouring termination above ``0.5 + undecided_band``, as
favouring the pact below ``0.5 - undecided_band`` and as undecided in between (the
Realmeter polls of July and August 2019 found 11-13% with no opinion; DOMAIN.md). The
update is Friedkin & Johnsen's (1990) anchored averaging: a citizen's new opinion mixes
their own predisposition with their neighbours' mean, plus the month's events and an
idiosyncratic shock. Events enter as a state-driven push (standing curbs keep anger up,
talks calm it), which is how the July 2019 boycott and the August lean toward scrapping
the pact arise (DOMAIN.md, "Korean public"). US pressure polarises: citizens predisposed
to the alliance move toward keeping the pact, nationalists harden (rallies for and
against, November 2019).

The governments' lookahead reads the public it expects under each state their moves
create (``PublicBelief``): the rest point of the same update under that state's push, so
a government counts what its own move does to the poll and the boycott.

Cost is linear in citizens: one sparse matrix-vector product and a few vector operations
per month.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from model.parameters import PARAMETERS


@dataclass(frozen=True)
class OpinionEffects:
    """Monthly pushes of the month's events on opinion, before ``opinion_sensitivity``
    scales them (registry parameters of the same names)."""

    curb_anger: float
    curb_escalation: float
    rally: float
    talks_calm: float
    launch_fear: float
    pressure_polarisation: float

    @classmethod
    def from_params(cls, p: Any = None) -> OpinionEffects:
        """The effects from a ``Params`` (or the registry's defaults)."""
        names = cls.__dataclass_fields__
        if p is None:
            return cls(**{k: float(PARAMETERS[k].default) for k in names})
        return cls(**{k: getattr(p, k) for k in names})


SETTLE_MONTHS = 24
"""Months of the update after which a public counts as at rest (the update converges
geometrically at rate ``opinion_conformity``)."""


@dataclass(frozen=True)
class OpinionPush:
    """What moved opinion this month (all read from the model's state)."""

    curbs: int
    firm: bool
    talks: bool
    launches: float
    us_pressure: float


def small_world(n: int, degree: int, rewiring: float, rng: np.random.Generator) -> sp.csr_array:
    """Adjacency of a Watts & Strogatz (1998) small world, built with array operations.

    A ring where each citizen knows the ``degree // 2`` next ones on each side, each tie
    rewired with probability ``rewiring`` to a uniformly drawn citizen (self-ties dropped,
    duplicate ties merged). Same construction as ``networkx.watts_strogatz_graph``, at a
    fraction of the cost for large publics; ``OpinionNetwork.graph`` gives it as networkx.
    """
    half = max(1, min(degree, n - 1) // 2)
    src = np.repeat(np.arange(n), half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % n
    rewired = rng.random(src.size) < rewiring
    dst[rewired] = rng.integers(0, n, int(rewired.sum()))
    keep = src != dst
    src, dst = src[keep], dst[keep]
    a = sp.coo_array((np.ones(src.size), (src, dst)), shape=(n, n)).tocsr()
    a = (a + a.T).tocsr()
    a.data[:] = 1.0
    return a


class OpinionNetwork:
    """The Korean public: ``n`` citizens on a Watts-Strogatz graph.

    ``graph_seed`` seeds the social graph; ``rng`` (the model's opinion stream) draws the
    predispositions now and the monthly shocks later.
    """

    def __init__(
        self,
        n: int,
        degree: int,
        initial_opinion: float,
        conformity: float,
        noise: float,
        sensitivity: float,
        rng: np.random.Generator,
        graph_seed: int,
        effects: OpinionEffects | None = None,
        rewiring: float = PARAMETERS["opinion_rewiring"].default,
        concentration: float = PARAMETERS["predisposition_concentration"].default,
        undecided_band: float = PARAMETERS["undecided_band"].default,
    ) -> None:
        self.effects = OpinionEffects.from_params() if effects is None else effects
        self.adjacency = small_world(n, degree, rewiring, np.random.default_rng(graph_seed))
        deg = np.asarray(self.adjacency.sum(axis=1)).ravel()
        isolated = deg == 0
        # isolated citizens listen to themselves
        adjacency = self.adjacency + sp.diags_array(isolated.astype(float))
        deg = np.where(isolated, 1.0, deg)
        self.weights = sp.csr_array(sp.diags_array(1.0 / deg) @ adjacency)
        self.conformity = conformity
        self.noise = noise
        self.sensitivity = sensitivity
        self.rng = rng
        m = float(np.clip(initial_opinion, 1e-3, 1 - 1e-3))
        a = m * concentration
        b = (1.0 - m) * concentration
        self.predisposition = rng.beta(a, b, size=n)
        self.undecided_band = undecided_band
        self.opinion = self.predisposition.copy()
        self.settle()
        self.last_push = OpinionPush(
            curbs=0, firm=False, talks=False, launches=0.0, us_pressure=0.0
        )
        # the rest-point response to a push: a uniform push moves every citizen by
        # ``rest_gain`` times it, a unit of US pressure moves citizen i by ``polar_rest[i]``
        # times ``pressure_polarisation`` (sum of (conformity * W)^k over SETTLE_MONTHS)
        self.rest_gain = float(sum(self.conformity**k for k in range(SETTLE_MONTHS)))
        v = 2.0 * self.predisposition - 1.0
        term, self.polar_rest = v.copy(), v.copy()
        for _ in range(1, SETTLE_MONTHS):
            term = self.conformity * (self.weights @ term)
            self.polar_rest += term

    def settle(self, months: int = SETTLE_MONTHS) -> None:
        """Run the update without events or noise until opinions rest (Friedkin-Johnsen
        converges geometrically at rate ``conformity``), so a run starts from a public at
        rest rather than drifting in its first months."""
        for _ in range(months):
            neighbours = self.weights @ self.opinion
            self.opinion = (
                1.0 - self.conformity
            ) * self.predisposition + self.conformity * neighbours

    @property
    def graph(self) -> nx.Graph:
        """The social graph as a networkx Graph (built on demand; citizens are 0..n-1)."""
        return nx.from_scipy_sparse_array(self.adjacency)

    @property
    def n(self) -> int:
        """Number of citizens."""
        return self.opinion.size

    def uniform_push(self, push: OpinionPush) -> float:
        """The part of the month's push every citizen feels alike (before sensitivity)."""
        e = self.effects
        return (
            e.curb_anger * (push.curbs > 0)
            + e.curb_escalation * push.curbs / 2
            + e.rally * push.firm
            - e.talks_calm * push.talks
            - e.launch_fear * push.launches
        )

    def step(self, push: OpinionPush) -> None:
        """One month of opinion dynamics."""
        e = self.effects
        shift = self.uniform_push(push)
        polar = e.pressure_polarisation * push.us_pressure * (2.0 * self.predisposition - 1.0)
        self.last_push = push
        neighbours = self.weights @ self.opinion
        x = (1.0 - self.conformity) * self.predisposition + self.conformity * neighbours
        x += self.sensitivity * (shift + polar)
        if self.noise > 0:
            x += self.noise * self.rng.standard_normal(self.n)
        np.clip(x, 0.0, 1.0, out=self.opinion)

    def poll(self) -> float:
        """Share of all citizens favouring termination (opinion above ``0.5 + band``)."""
        return self.shares()[0]

    def shares(self) -> tuple[float, float, float]:
        """The poll: shares of all citizens for ending the pact, for keeping it, and
        undecided (they sum to 1)."""
        end = float(np.mean(self.opinion > 0.5 + self.undecided_band))
        keep = float(np.mean(self.opinion < 0.5 - self.undecided_band))
        return end, keep, 1.0 - end - keep

    def mean(self) -> float:
        """Mean opinion."""
        return float(self.opinion.mean())

    def share_above(self, threshold: float) -> float:
        """Share of citizens with opinion above ``threshold``."""
        return float(np.mean(self.opinion > threshold))


@dataclass(frozen=True)
class PublicBelief:
    """The public the governments expect under each state of their game: the poll's
    shares and the boycott share, by (curb level, firm stance, talks, level of US
    pressure on Seoul). Each is where the opinion update would settle if the state's
    push went on, starting from today's opinions; a state whose push is today's keeps
    today's public ("today's mood lasts")."""

    end: np.ndarray
    keep: np.ndarray
    boycott: np.ndarray

    @classmethod
    def expect(
        cls,
        net: OpinionNetwork,
        boycott_threshold: float,
        curb_levels: int,
        pressure_levels: int,
        launches: float,
    ) -> PublicBelief:
        """Expected shares from ``net``'s opinions, for every state (vectorised: one sort
        per pressure level, one binary search per push)."""
        shape = (curb_levels, 2, 2, pressure_levels)
        end, keep, boycott = (np.empty(shape) for _ in range(3))
        gain = net.sensitivity * net.rest_gain
        base = net.uniform_push(net.last_push)
        uniform = np.array(
            [
                [
                    [
                        net.uniform_push(OpinionPush(c, bool(f), bool(t), launches, 0.0))
                        for t in (0, 1)
                    ]
                    for f in (0, 1)
                ]
                for c in range(curb_levels)
            ]
        )
        shift = gain * (uniform - base)  # (curb, firm, talks)
        n, band = net.n, net.undecided_band
        for level in range(pressure_levels):
            pressure = level / (pressure_levels - 1)
            delta = pressure - net.last_push.us_pressure
            polar = net.sensitivity * net.effects.pressure_polarisation * delta
            x = np.sort(net.opinion + polar * net.polar_rest if polar else net.opinion)
            end[..., level] = _share_above(x, 0.5 + band, shift, n)
            keep[..., level] = 1.0 - _share_above(x, 0.5 - band, shift, n, strict=False)
            boycott[..., level] = _share_above(x, boycott_threshold, shift, n)
        return cls(end=end, keep=keep, boycott=boycott)

    def take(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(end, keep, boycott) shares at flat positions of the tables (``index`` from
        ``np.ravel_multi_index`` over (curb, firm, talks, pressure))."""
        return (
            np.take(self.end, index),
            np.take(self.keep, index),
            np.take(self.boycott, index),
        )

    def at(self, curb: Any, firm: Any, talks: Any, pressure: Any) -> tuple[Any, Any, Any]:
        """(end, keep, boycott) shares in the states given (broadcast index arrays)."""
        idx = (curb, firm, talks, pressure)
        return self.end[idx], self.keep[idx], self.boycott[idx]


def _share_above(
    sorted_x: np.ndarray, threshold: float, shift: np.ndarray, n: int, strict: bool = True
) -> np.ndarray:
    """Share of ``clip(x + shift, 0, 1)`` above (or at least, ``strict=False``)
    ``threshold``, for each shift, from the sorted opinions ``sorted_x``."""
    if (threshold >= 1.0) if strict else (threshold > 1.0):
        return np.zeros(shift.shape)  # opinions are clipped to [0, 1]
    if (threshold < 0.0) if strict else (threshold <= 0.0):
        return np.ones(shift.shape)
    below = np.searchsorted(sorted_x, threshold - shift, side="right" if strict else "left")
    return (n - below) / n
