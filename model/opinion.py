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

from dataclasses import dataclass, field
from typing import Any, Literal

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


def listening_weights(adjacency: sp.csr_array) -> sp.csr_array:
    """Row-normalised weights of a 0/1 adjacency: each citizen averages their neighbours;
    isolated citizens listen to themselves. Built directly as ``diag(1/degree) @ A``
    would be (each row's entries in the reverse of A's order, as scipy's sparse product
    leaves them, so every neighbours' mean is summed in the same order), without the
    product: a tenth of its cost."""
    counts = np.diff(adjacency.indptr)
    if not counts.all():  # isolated citizens: the product itself, with a self-tie each
        isolated = counts == 0
        looped = adjacency + sp.diags_array(isolated.astype(float))
        deg = np.where(isolated, 1.0, counts.astype(float))
        return sp.csr_array(sp.diags_array(1.0 / deg) @ looped)
    row = np.repeat(np.arange(counts.size), counts)
    reverse = adjacency.indptr[row] + adjacency.indptr[row + 1] - 1 - np.arange(row.size)
    data = np.repeat(1.0 / counts, counts)
    return sp.csr_array((data, adjacency.indices[reverse], adjacency.indptr), shape=adjacency.shape)


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
        self.weights = listening_weights(self.adjacency)
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
        return self.uniform_pushes(push.curbs, push.firm, push.talks, push.launches)

    def uniform_pushes(self, curbs: Any, firm: Any, talks: Any, launches: Any) -> Any:
        """:meth:`uniform_push` of every push the (broadcast) arguments describe, in one
        pass: the same operations in the same order, so each value is the scalar's."""
        e = self.effects
        return (
            e.curb_anger * (curbs > 0)
            + e.curb_escalation * curbs / 2
            + e.rally * firm
            - e.talks_calm * talks
            - e.launch_fear * launches
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
        end = _share(self.opinion > 0.5 + self.undecided_band)
        keep = _share(self.opinion < 0.5 - self.undecided_band)
        return end, keep, 1.0 - end - keep

    def mean(self) -> float:
        """Mean opinion."""
        return float(self.opinion.mean())

    def share_above(self, threshold: float) -> float:
        """Share of citizens with opinion above ``threshold``."""
        return _share(self.opinion > threshold)


def _share(flags: np.ndarray) -> float:
    """The share of true ``flags``: ``np.mean``'s value (the count over the size, both
    exact doubles) at a seventh of its cost, read several times a month."""
    return np.count_nonzero(flags) / flags.size


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
    table: np.ndarray = field(init=False, repr=False, compare=False)
    """(3, states): end, keep and boycott by flat state index (``flat_index``)."""

    def __post_init__(self) -> None:
        table = np.stack([np.ravel(self.end), np.ravel(self.keep), np.ravel(self.boycott)])
        object.__setattr__(self, "table", table)

    @classmethod
    def expect(
        cls,
        net: OpinionNetwork,
        boycott_threshold: float,
        curb_levels: int,
        pressure_levels: int,
        launches: float,
    ) -> PublicBelief:
        """Expected shares from ``net``'s opinions, for every state (vectorised: the
        uniform push of every (curb, firm, talks) at once, then one sort per pressure
        level and one binary search per share)."""
        shape = (curb_levels, 2, 2, pressure_levels)
        end, keep, boycott = np.empty((3, *shape))
        gain = net.sensitivity * net.rest_gain
        base = net.uniform_push(net.last_push)
        uniform = net.uniform_pushes(
            np.arange(curb_levels)[:, None, None],
            np.array([False, True])[None, :, None],
            np.array([False, True])[None, None, :],
            launches,
        )
        shift = gain * (uniform - base)  # (curb, firm, talks)
        n, band = net.n, net.undecided_band
        # the searches' targets do not depend on the pressure level
        q_end = _Query.of(0.5 + band, shift, strict=True)
        q_keep = _Query.of(0.5 - band, shift, strict=False)
        q_boycott = _Query.of(boycott_threshold, shift, strict=True)
        for level in range(pressure_levels):
            pressure = level / (pressure_levels - 1)
            delta = pressure - net.last_push.us_pressure
            polar = net.sensitivity * net.effects.pressure_polarisation * delta
            x = np.sort(net.opinion + polar * net.polar_rest if polar else net.opinion)
            end[..., level] = q_end.share(x, n)
            keep[..., level] = 1.0 - q_keep.share(x, n)
            boycott[..., level] = q_boycott.share(x, n)
        return cls(end=end, keep=keep, boycott=boycott)

    def flat_index(self, curb: Any, firm: Any, talks: Any, pressure: Any) -> Any:
        """The states given (broadcast index arrays: curb level, firm stance 0/1, talks
        0/1, US pressure level) as one flat index into ``table``, checked against the
        shape (``np.ravel_multi_index`` over (curb, firm, talks, pressure)). It depends
        on the states only, so a caller asking about the same states month after month
        can keep it and call ``take``."""
        return np.ravel_multi_index((curb, firm, talks, pressure), self.end.shape)

    def take(self, flat: Any) -> tuple[Any, Any, Any]:
        """(end, keep, boycott) shares at flat state indices (``flat_index``): one gather
        instead of three four-array fancy indexings."""
        out = self.table.take(flat, axis=1)
        return out[0], out[1], out[2]

    def at(self, curb: Any, firm: Any, talks: Any, pressure: Any) -> tuple[Any, Any, Any]:
        """(end, keep, boycott) shares in the states given (broadcast index arrays)."""
        return self.take(self.flat_index(curb, firm, talks, pressure))


@dataclass(frozen=True)
class _Query:
    """Where the share of ``clip(x + shift, 0, 1)`` above a threshold is read in the
    sorted opinions: a binary search for ``threshold - shift``, or, for a threshold the
    clipped opinions cannot pass (or always pass), that share outright."""

    targets: np.ndarray
    side: Literal["left", "right"]
    constant: float | None

    @classmethod
    def of(cls, threshold: float, shift: np.ndarray, strict: bool) -> _Query:
        """Above ``threshold`` (``strict``) or at least ``threshold``, for each shift."""
        if (threshold >= 1.0) if strict else (threshold > 1.0):
            return cls(shift, "right", 0.0)  # opinions are clipped to [0, 1]
        if (threshold < 0.0) if strict else (threshold <= 0.0):
            return cls(shift, "right", 1.0)
        return cls(threshold - shift, "right" if strict else "left", None)

    def share(self, sorted_x: np.ndarray, n: int) -> np.ndarray:
        """The share, for each shift, from the sorted opinions ``sorted_x`` (``n`` of them)."""
        if self.constant is not None:
            return np.full(self.targets.shape, self.constant)
        return (n - sorted_x.searchsorted(self.targets, side=self.side)) / n


def _share_above(
    sorted_x: np.ndarray, threshold: float, shift: np.ndarray, n: int, strict: bool = True
) -> np.ndarray:
    """Share of ``clip(x + shift, 0, 1)`` above (or at least, ``strict=False``)
    ``threshold``, for each shift, from the sorted opinions ``sorted_x``."""
    return _Query.of(threshold, shift, strict).share(sorted_x, n)
