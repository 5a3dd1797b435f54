"""Korean public opinion: many citizens on a social graph, updated as one vector.

Each citizen holds an opinion in [0, 1], support for a hard line on Japan (scrapping the
pact); above 0.5 counts as "favours termination" in the poll Seoul's payoffs read. The
update is Friedkin & Johnsen's (1990) anchored averaging: a citizen's new opinion mixes
their own predisposition with their neighbours' mean, plus the month's events and an
idiosyncratic shock. Events enter as a state-driven push (standing curbs keep anger up,
talks calm it), which is how the July 2019 boycott and the August lean toward scrapping
the pact arise (DOMAIN.md, "Korean public"). US pressure polarises: citizens predisposed
to the alliance move toward keeping the pact, nationalists harden (rallies for and
against, November 2019).

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
        self.opinion = self.predisposition.copy()
        self.settle()

    def settle(self, months: int = 24) -> None:
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

    def step(self, push: OpinionPush) -> None:
        """One month of opinion dynamics."""
        e = self.effects
        shift = (
            e.curb_anger * (push.curbs > 0)
            + e.curb_escalation * push.curbs / 2
            + e.rally * push.firm
            - e.talks_calm * push.talks
            - e.launch_fear * push.launches
        )
        polar = e.pressure_polarisation * push.us_pressure * (2.0 * self.predisposition - 1.0)
        neighbours = self.weights @ self.opinion
        x = (1.0 - self.conformity) * self.predisposition + self.conformity * neighbours
        x += self.sensitivity * (shift + polar)
        if self.noise > 0:
            x += self.noise * self.rng.standard_normal(self.n)
        np.clip(x, 0.0, 1.0, out=self.opinion)

    def poll(self) -> float:
        """Share of citizens favouring termination (opinion above 0.5)."""
        return float(np.mean(self.opinion > 0.5))

    def mean(self) -> float:
        """Mean opinion."""
        return float(self.opinion.mean())

    def share_above(self, threshold: float) -> float:
        """Share of citizens with opinion above ``threshold``."""
        return float(np.mean(self.opinion > threshold))
