"""Ensembles (experiments/ensemble.py): the runs on the warm pool, the outcome shares and
their intervals (Wilson; the posterior's design-effect interval; Newcombe's paired
difference), the fitted posterior's draws, and ``gsomia calibrate --posterior``."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from experiments import backends
from experiments.analysis import wilson
from experiments.cli import main
from experiments.ensemble import (
    Batch,
    batches,
    clustered_shares,
    design_effect,
    load_posterior,
    newcombe_paired,
    outcome_shares,
    posterior_ensemble,
    reversal_histogram,
    run_batches,
    share_differences,
)
from experiments.runner import run_one, run_seed
from model import OUTCOMES, ConfigError
from model.config import load_config

REPO = Path(__file__).resolve().parents[1]
FIT = REPO / "results" / "fit"
SHORT = load_config("baseline_2019") | {"n_citizens": 200}


@pytest.fixture
def warm():
    """Tests that use the shared pool stop it afterwards (other tests count children)."""
    yield
    backends.close_warm_pools()


# ---- shares and intervals ------------------------------------------------------------------------
def test_outcome_shares_are_wilson_with_exact_edges():
    outcomes = ["renewed"] * 3 + ["terminated"] * 47
    table = outcome_shares(outcomes).set_index("outcome")
    assert list(table.index) == list(OUTCOMES)
    assert table.loc["terminated", "runs"] == 47
    assert (table.loc["terminated", "lo95"], table.loc["terminated", "hi95"]) == pytest.approx(
        wilson(47, 50)
    )
    assert table.loc["pending", "lo95"] == 0.0  # not 6.9e-18
    assert table["runs"].sum() == 50


def test_one_run_per_cluster_is_wilsons_interval():
    rng = np.random.default_rng(1)
    outcomes = list(rng.choice(["renewed", "terminated", "pending"], size=40))
    clustered = clustered_shares(outcomes, range(40)).set_index("outcome")
    for outcome in OUTCOMES:
        k = outcomes.count(outcome)
        assert clustered.loc[outcome, "deff"] == 1.0
        assert (clustered.loc[outcome, "lo95"], clustered.loc[outcome, "hi95"]) == pytest.approx(
            wilson(k, 40)
        )


def test_clusters_that_decide_the_outcome_count_once_each():
    """Every seed of a draw ends alike: the seeds add nothing, the interval is Wilson's
    over the draws."""
    draws = ["terminated", "renewed", "terminated", "terminated", "renewed"]
    outcomes = [o for o in draws for _ in range(10)]
    clusters = [j for j in range(5) for _ in range(10)]
    row = clustered_shares(outcomes, clusters).set_index("outcome").loc["terminated"]
    assert row["deff"] == 10.0 and row["n_eff"] == 5.0
    assert (row["lo95"], row["hi95"]) == pytest.approx(wilson(3, 5))


def test_design_effect_is_bounded_and_conservative_at_the_edges():
    assert design_effect(np.array([0, 0, 0]), np.array([4, 4, 4])) == 4.0
    assert design_effect(np.array([4, 4]), np.array([4, 4])) == 4.0
    assert design_effect(np.array([2]), np.array([4])) == 4.0  # one cluster: worth one run
    # clusters as alike as binomial draws: no inflation below 1
    assert design_effect(np.array([2, 2, 2, 2]), np.array([4, 4, 4, 4])) == 1.0


def test_the_clustered_interval_covers_when_draws_differ():
    """Shares that vary between draws (Beta(2, 3), mean 0.4): the design-effect interval
    keeps its 95% coverage; Wilson's over the runs, ignoring the draws, does not."""
    rng = np.random.default_rng(20191122)
    draws, seeds, reps = 40, 10, 400
    covered = naive = 0
    for _ in range(reps):
        p = rng.beta(2, 3, size=draws)
        hits = rng.binomial(seeds, p)
        sizes = np.full(draws, seeds)
        n_eff = hits.size * seeds / design_effect(hits, sizes)
        lo, hi = wilson(hits.sum() / (draws * seeds) * n_eff, n_eff)
        covered += lo <= 0.4 <= hi
        lo, hi = wilson(hits.sum(), draws * seeds)
        naive += lo <= 0.4 <= hi
    assert 0.92 <= covered / reps <= 0.99
    assert naive / reps < 0.85


def test_newcombe_paired_without_correlation_is_the_independent_interval():
    """Uncorrelated pairs (ad = bc): method 10 for paired data is Newcombe's interval for
    two independent proportions of the same n (statsmodels' 'newcomb')."""
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    both, only_a, only_b, neither = 10, 20, 5, 10  # ad - bc = 100 - 100 = 0
    n = both + only_a + only_b + neither
    lo, hi = newcombe_paired(both, only_a, only_b, neither)
    ref = proportion.confint_proportions_2indep(
        both + only_a, n, both + only_b, n, method="newcomb", compare="diff"
    )
    assert (lo, hi) == pytest.approx(tuple(ref), abs=1e-9)


def test_newcombe_paired_narrows_with_positive_correlation_and_stays_in_range():
    apart = newcombe_paired(10, 20, 5, 10)
    together = newcombe_paired(30, 10, 2, 30)  # strongly concordant pairs
    for lo, hi in (apart, together):
        assert -1 <= lo <= hi <= 1
    d = (10 - 2) / 72
    assert together[0] < d < together[1]
    n_apart = 45
    assert together[1] - together[0] < (apart[1] - apart[0]) * math.sqrt(n_apart / 72)
    assert newcombe_paired(0, 0, 0, 20) == pytest.approx((-wilson(0, 20)[1], wilson(0, 20)[1]))


def test_newcombe_paired_covers_correlated_pairs():
    rng = np.random.default_rng(7)
    covered = 0
    reps, n = 400, 60
    for _ in range(reps):
        a = rng.random(n) < 0.3
        b = np.where(rng.random(n) < 0.6, a, rng.random(n) < 0.45)  # B follows A often
        true = 0.3 - (0.6 * 0.3 + 0.4 * 0.45)
        cells = (int(np.sum(a & b)), int(np.sum(a & ~b)), int(np.sum(~a & b)), int(np.sum(~a & ~b)))
        lo, hi = newcombe_paired(*cells)
        covered += lo <= true <= hi
    assert covered / reps >= 0.92


def test_share_differences_pair_the_seeds():
    a = {0: "terminated", 1: "terminated", 2: "renewed", 3: "terminated"}
    b = {0: "terminated", 1: "renewed", 2: "renewed", 3: "renewed", 9: "pending"}
    table = share_differences(a, b).set_index("outcome")
    row = table.loc["terminated"]
    assert (row["share_a"], row["share_b"], row["difference"]) == (0.75, 0.25, 0.5)
    assert (row["lo95"], row["hi95"]) == pytest.approx(newcombe_paired(1, 2, 0, 1))
    assert table.loc["pending", "share_b"] == 0.0  # seed 9 ran under B only: left out


def test_reversal_histogram_counts_lapses_and_months():
    rows = [
        {"outcome": "terminated", "reversal_months_before_expiry": None},
        {"outcome": "last_minute_suspension", "reversal_months_before_expiry": 0},
        {"outcome": "early_reversal", "reversal_months_before_expiry": 3},
        {"outcome": "renewed", "reversal_months_before_expiry": float("nan")},
        {"outcome": "early_reversal", "reversal_months_before_expiry": 3.0},
    ]
    assert reversal_histogram(rows) == {"lapsed": 1, "3": 2, "0": 1}


# ---- running members -----------------------------------------------------------------------------
def test_batches_run_the_runners_single_run_and_the_same_on_two_workers(warm):
    seeds = [3, 0, 2, 1, 4]
    work = batches(SHORT, seeds, {"draw": 7}, size=2)
    assert [b.seeds for b in work] == [(3, 0), (2, 1), (4,)]
    here = sorted((r for rows in run_batches(work) for r in rows), key=lambda r: r["seed"])
    there = sorted((r for rows in run_batches(work, 2) for r in rows), key=lambda r: r["seed"])
    assert [r["seed"] for r in here] == [0, 1, 2, 3, 4]
    for a, b in zip(here, there, strict=True):
        expected = run_one(SHORT, a["seed"])
        assert {k: a[k] for k in expected} == expected
        assert a["draw"] == 7
        assert {k: v for k, v in a.items() if k != "series"} == {
            k: v for k, v in b.items() if k != "series"
        }
        assert list(a["series"]["opinion_share"]) == list(b["series"]["opinion_share"])


def _slow_batch(batch: Batch) -> list[dict]:
    """A stand-in for run_batch that takes a while and leaves a trace per seed."""
    for seed in batch.seeds:
        time.sleep(0.2)
        with open(batch.tag["log"], "a") as fh:
            fh.write(f"{seed}\n")
    return [{"seed": s} for s in batch.seeds]


def test_a_cancel_leaves_the_pool_warm_and_idle(tmp_path, monkeypatch, warm):
    """Stopping after the first batch: the queued batches are dropped, the running ones
    finish, and the same worker processes serve the next ensemble."""
    import experiments.ensemble as ensemble

    monkeypatch.setattr(ensemble, "run_batch", _slow_batch)
    log = tmp_path / "seeds.log"
    work = [Batch({}, (s,), (), {"log": str(log)}) for s in range(30)]
    pool = backends.warm_pool(2)
    before = {p.pid for p in pool._processes.values()}
    seen = []
    for rows in run_batches(work, 2, keep_going=lambda: not seen):
        seen.extend(rows)
    assert len(seen) == 1
    assert pool.submit(int, "1").result(timeout=30) == 1  # idle again: nothing queued
    ran = log.read_text().split()
    assert len(ran) <= 4  # at most the window in flight (2 x 2 workers), not 30
    assert backends.warm_pool(2) is pool
    assert {p.pid for p in pool._processes.values()} == before


def _dies_once(batch: Batch) -> list[dict]:
    """A stand-in for run_batch whose first call anywhere kills its worker."""
    import os

    marker = Path(batch.tag["marker"])
    try:
        with marker.open("x"):
            pass
    except FileExistsError:
        return [{"seed": s} for s in batch.seeds]
    os._exit(1)


def test_a_dead_worker_is_replaced_and_no_batch_is_lost(tmp_path, monkeypatch, warm):
    import experiments.ensemble as ensemble

    monkeypatch.setattr(ensemble, "run_batch", _dies_once)
    work = [Batch({}, (s,), (), {"marker": str(tmp_path / "died")}) for s in range(6)]
    first = backends.warm_pool(2)
    rows = sorted(r["seed"] for batch in run_batches(work, 2) for r in batch)
    assert rows == list(range(6))
    assert backends.warm_pool(2) is not first  # the broken pool was replaced, and is kept


# ---- the fitted posterior ------------------------------------------------------------------------
def test_posterior_is_the_last_generation_and_its_mean_is_fitted_toml():
    import tomllib

    post = load_posterior(FIT)
    assert len(post.particles) == 200 and set(post.particles["generation"]) == {9}
    fitted = tomllib.loads((FIT / "fitted.toml").read_text())["parameters"]
    assert post.mean == pytest.approx(fitted)


def test_posterior_draws_are_seeded_and_follow_the_weights():
    post = load_posterior(FIT)
    a, b, c = post.draw(50, 0), post.draw(50, 0), post.draw(50, 1)
    assert a.equals(b) and not a.equals(c)
    assert list(a.columns) == ["particle", *post.names]
    many = post.draw(20000, 3)["particle"].value_counts(normalize=True)
    w = post.weights / post.weights.sum()
    heaviest = int(np.argmax(w))
    assert many[heaviest] == pytest.approx(w[heaviest], abs=0.02)
    assert set(many.index) <= set(np.flatnonzero(w > 0))


def test_a_folder_without_a_fit_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match=r"posterior\.parquet or targets\.toml"):
        load_posterior(tmp_path)


def test_posterior_ensemble_runs_the_draws_and_the_point_estimate(warm):
    ens = posterior_ensemble(SHORT, FIT, draws=2, seeds=2, seed=5, workers=1)
    post = load_posterior(FIT)
    drawn = post.draw(2, 5)
    assert [(r["draw"], r["seed"]) for r in ens.posterior_rows] == sorted(
        (j, run_seed(5, j, r)) for j in range(2) for r in range(2)
    )
    first = ens.posterior_rows[0]
    params = SHORT | {n: float(drawn.loc[first["draw"], n]) for n in post.names}
    assert first["outcome"] == run_one(params, first["seed"])["outcome"]
    assert [r["seed"] for r in ens.point_rows] == [0, 1, 2, 3]
    point = run_one(SHORT | post.mean, 2)
    assert ens.point_rows[2]["outcome"] == point["outcome"]
    table = ens.table()
    assert table["posterior_runs"].sum() == 4 and table["point_runs"].sum() == 4
    again = posterior_ensemble(SHORT, FIT, draws=2, seeds=2, seed=5, workers=2)

    def key(rows):
        return [(r["draw"], r["seed"], r["outcome"]) for r in rows]

    assert key(again.posterior_rows) == key(ens.posterior_rows)
    assert key(again.point_rows) == key(ens.point_rows)


def test_gsomia_calibrate_posterior_prints_both_columns(capsys, warm):
    code = main(
        ["calibrate", "--posterior", str(FIT), "--draws", "2", "--seeds", "1", "--workers", "1"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "2 parameter draws from the posterior" in out
    assert "| outcome | posterior | 95% interval (parameters + seeds)" in out
    assert out.count("\n| ") == 2 + len(OUTCOMES)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--draws", "0"], "--draws: invalid value 0"),
        (["--seeds", "0"], "--seeds: invalid value 0"),
        (["--seed", "-1"], "--seed: invalid value -1"),
    ],
)
def test_gsomia_calibrate_posterior_refuses_bad_input(capsys, args, message):
    code = main(["calibrate", "--posterior", str(FIT), *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_gsomia_calibrate_posterior_names_a_folder_with_no_fit(capsys, tmp_path):
    code = main(["calibrate", "--posterior", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "gsomia fit" in err
