"""Where a fit's particles are simulated: pyabc's ``MappingSampler`` with seeds of our own.

pyabc's ``MappingSampler`` maps "sample until one particle is accepted" over the population
and reseeds every mapped call from the operating system, so two fits never agree. This
sampler gives the i-th call of generation t its own seed, ``SeedSequence([seed, t + 1,
i])``, which seeds numpy's global generator and ``random`` (what pyabc's priors,
transitions and our model function draw from) before the call's first proposal. The map
preserves order (a process pool's ``map``, a Dask client's ``map`` + results in order), so
the population is the same on any worker count and backend.

``limit`` caps the simulations of each call (a budget): a call that reaches it without an
acceptance makes the generation incomplete (``sample.ok`` false), and pyabc stores nothing.
"""

from __future__ import annotations

import contextlib
import functools
import math
import pickle
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
from pyabc.sampler import MappingSampler

Map = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]
"""An order-preserving lazy map: ``map_(fn, items)`` yields ``fn(item)`` in item order."""


def call_seed(seed: int, t: int, i: int) -> int:
    """The seed of the i-th mapped call of generation t (t = -1: the prior sample that
    calibrates the first epsilon)."""
    return int(np.random.SeedSequence([seed, t + 1, i]).generate_state(1)[0])


class SeededMappingSampler(MappingSampler):
    """A ``MappingSampler`` whose mapped calls are seeded from the fit's seed, with a
    per-call simulation limit and a progress callback per accepted particle."""

    def __init__(
        self,
        map_: Map,
        seed: int,
        on_particle: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(map_=map_, mapper_pickles=False)
        self.seed = seed
        self.limit: float = math.inf
        self.on_particle = on_particle
        self.incomplete_evaluations = 0

    def map_function(self, simulate_one: bytes, item: tuple[int, float]) -> tuple[Any, int, bool]:
        """Sample (seeded) until one particle is accepted or ``limit`` simulations ran;
        returns the sample, the number of simulations and whether one was accepted."""
        seed, limit = item
        simulate_one = _unpickled(simulate_one)
        np.random.seed(seed)  # noqa: NPY002 (pyabc's priors and transitions draw from it)
        random.seed(seed)
        n = 0
        sample = self._create_empty_sample()
        while n < limit:
            particle = simulate_one()
            n += 1
            sample.append(particle)
            if particle.accepted:
                return sample, n, True
        return sample, n, False

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Any,
        t: int,
        *,
        max_eval: float = np.inf,  # pyabc's signature; our budget is ``limit``
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        """One generation: n seeded calls in order; ``sample.ok`` is false when a call
        hit ``limit`` without an acceptance."""
        fn = functools.partial(self.map_function, self.pickle(simulate_one))
        items = [(call_seed(self.seed, t, i), self.limit) for i in range(n)]
        sample = self._create_empty_sample()
        evaluations = 0
        complete = True
        for part, evals, accepted in self.map_(fn, items):
            evaluations += evals
            complete = complete and accepted
            sample += part
            if accepted and self.on_particle is not None and t >= 0:
                self.on_particle(1)
        self.nr_evaluations_ = evaluations
        if not complete:
            self.incomplete_evaluations += evaluations
            sample.ok = False
        return sample


@functools.lru_cache(maxsize=1)
def _unpickled(pickled: bytes) -> Any:
    """A generation's pickled ``simulate_one``, unpickled once per process: every call of
    a generation carries the same bytes, and unpickling them rebuilt the priors' and
    transitions' scipy distributions each time (milliseconds a call). pyabc's own
    samplers call one such function many times too: it holds no state between calls
    (its draws come from numpy's global generator, which ``map_function`` seeds)."""
    return pickle.loads(pickled)  # cloudpickle's output is plain pickle to load


def pool_map(pool: Any) -> Map:
    """Order-preserving lazy map on a ``concurrent.futures`` process pool."""
    return lambda fn, items: pool.map(fn, items, chunksize=1)


def dask_map(client: Any) -> Map:
    """Order-preserving map on a Dask client: submit all, yield results in item order. A
    scheduler that stops, or has no workers for a while, raises ``Failed`` naming it
    (``experiments.backends.DaskWatch``) instead of a bare cancellation or a hang."""
    from experiments.backends import DaskWatch

    watch = DaskWatch(client, "finished generations are kept; run the same command with --resume")

    def map_(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        futures = client.map(fn, list(items), pure=False)
        try:
            for fut in futures:
                yield watch.result(fut)
        finally:
            if client.status == "running":  # a lost scheduler cannot cancel
                with contextlib.suppress(Exception):
                    client.cancel(futures)

    return map_


def inprocess_map(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
    """Every call here, in order."""
    return map(fn, items)
