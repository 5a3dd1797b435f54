"""One seed, four independent streams: decisions, opinion, the North Korean threat and the
social graph are children of ``numpy.random.SeedSequence(seed)`` (docs/getting-started.md,
"From Python"), in that order. Each stream is rebuilt here from the seed alone and compared with
what the model did, and changing what one stream drives leaves the others' draws alone."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from model import GSOMIAModel
from model.opinion import OpinionNetwork

DECISIONS, OPINION, THREAT, GRAPH = range(4)
SHORT = {
    "n_citizens": 400,
    "start": date(2019, 5, 1),
    "end": date(2019, 12, 31),
    "grievance_initial": 1.0,  # a dispute for Tokyo to answer: curbs, notice, talks
}


def streams(seed: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(4)


def graph_seed(seed: int) -> int:
    return int(streams(seed)[GRAPH].generate_state(1)[0])


def public_from_streams(seed: int, m: GSOMIAModel, stream: int = OPINION) -> OpinionNetwork:
    """The model's public rebuilt from the seed's graph stream and ``stream`` (the opinion
    stream, or another child to show it is not an alias of it)."""
    p = m.parameters
    return OpinionNetwork(
        n=p["n_citizens"],
        degree=p["citizen_degree"],
        initial_opinion=p["initial_opinion"],
        conformity=p["opinion_conformity"],
        noise=p["opinion_noise"],
        sensitivity=p["opinion_sensitivity"],
        rng=np.random.default_rng(streams(seed)[stream]),
        graph_seed=graph_seed(seed),
    )


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**40 + 3])
def test_public_is_drawn_from_the_opinion_and_graph_streams(seed):
    m = GSOMIAModel(rng=seed, **SHORT)
    net = public_from_streams(seed, m)
    mine = m.public.network
    assert (mine.adjacency != net.adjacency).nnz == 0
    np.testing.assert_array_equal(mine.predisposition, net.predisposition)
    np.testing.assert_array_equal(mine.opinion, net.opinion)


@pytest.mark.parametrize("seed", [0, 7])
def test_no_two_streams_share_a_seed(seed):
    """Drawing the public from any other child (the decision or threat stream, or the
    graph's) gives other predispositions, so the streams are not aliases of one another."""
    m = GSOMIAModel(rng=seed, **SHORT)
    mine = m.public.network.predisposition
    for other in (DECISIONS, THREAT, GRAPH):
        net = public_from_streams(seed, m, stream=other)
        assert not np.array_equal(net.predisposition, mine)


@pytest.mark.parametrize("seed", [0, 3, 99])
def test_threat_follows_the_threat_stream(seed):
    """Launches are Poisson draws of the threat stream, one a month (docs/model/actors.md)."""
    m = GSOMIAModel(rng=seed, nk_launch_rate=1.5, **SHORT)
    m.run()
    p = m.parameters
    rng = np.random.default_rng(streams(seed)[THREAT])
    stock, expected = 0.0, []
    for _ in range(len(m.monthly()) - 1):
        stock = p["nk_memory"] * stock + rng.poisson(p["nk_launch_rate"])
        expected.append(p["nk_threat"] * (1.0 + p["nk_launch_effect"] * stock))
    np.testing.assert_allclose(m.monthly()["threat"].iloc[1:], expected, rtol=1e-12)
    assert len(set(expected)) > 1


@pytest.mark.parametrize("seed", [0, 5])
def test_decisions_follow_the_decision_stream(seed):
    """With rationality 0 every feasible move is equally likely, so each government's
    choice is its draw from the decision stream: Washington, Beijing, Tokyo, then Seoul,
    one uniform number each a month, picking option floor(u * number of options)."""
    m = GSOMIAModel(rng=seed, rationality=0.0, **SHORT)
    m.run()
    rng = np.random.default_rng(streams(seed)[DECISIONS])
    by_actor = {a: m.explain(a) for a in ("washington", "beijing", "tokyo", "seoul")}
    months = len(by_actor["seoul"])
    assert months == 8
    for k in range(months):
        for actor in ("washington", "beijing", "tokyo", "seoul"):
            d = by_actor[actor][k]
            probs = [o.probability for o in d.options]
            np.testing.assert_allclose(probs, 1.0 / len(probs))
            pick = int(rng.random() * len(d.options))
            assert d.chosen == d.options[pick].action, (actor, d.date)


def test_changing_what_the_threat_stream_drives_leaves_the_opinion_draws_alone():
    """With events unable to move opinion (``opinion_sensitivity`` 0) the public's path is
    its predispositions, its graph and its monthly shocks only: more launches, or other
    decisions, must not change it."""
    quiet = {"opinion_sensitivity": 0.0, "opinion_noise": 0.05}
    base = GSOMIAModel(rng=11, **(SHORT | quiet))
    base.run()
    for change in ({"nk_launch_rate": 4.0}, {"rationality": 0.0}, {"japan_resolve": 0.0}):
        other = GSOMIAModel(rng=11, **(SHORT | quiet | change))
        other.run()
        for col in ("opinion_mean", "opinion_share"):
            np.testing.assert_array_equal(other.monthly()[col], base.monthly()[col])
    # and the run did differ in what was changed
    assert not np.array_equal(other.monthly()["curb_level"], base.monthly()["curb_level"])


def test_changing_opinion_or_decisions_leaves_the_threat_draws_alone():
    base = GSOMIAModel(rng=4, **SHORT)
    base.run()
    for change in ({"opinion_noise": 0.3}, {"initial_opinion": 0.9}, {"rationality": 0.0}):
        other = GSOMIAModel(rng=4, **(SHORT | change))
        other.run()
        np.testing.assert_array_equal(other.monthly()["threat"], base.monthly()["threat"])


def test_changing_the_opinion_draws_leaves_the_graph_alone():
    a = GSOMIAModel(rng=8, **SHORT)
    b = GSOMIAModel(rng=8, initial_opinion=0.8, opinion_noise=0.2, **SHORT)
    assert (a.public.network.adjacency != b.public.network.adjacency).nnz == 0
    assert not np.array_equal(a.public.network.predisposition, b.public.network.predisposition)


def test_a_generator_or_seed_sequence_seeds_all_four_streams():
    """A Generator passed as ``rng`` gives a reproducible seed, recorded on the model, from
    which the same four streams follow."""
    a = GSOMIAModel(rng=np.random.default_rng(3), **SHORT)
    b = GSOMIAModel(rng=np.random.default_rng(3), **SHORT)
    assert a.seed == b.seed
    again = GSOMIAModel(rng=a.seed, **SHORT)
    np.testing.assert_array_equal(a.public.network.opinion, again.public.network.opinion)
    net = public_from_streams(a.seed, a)
    np.testing.assert_array_equal(a.public.network.predisposition, net.predisposition)
