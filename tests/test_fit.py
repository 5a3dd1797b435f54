"""``gsomia fit`` (issue 9, item 4): the same posterior on any worker count and backend,
resume after an interruption, the budget, refusals, and the report's contents. Tiny
targets (tests/fixtures/tiny_targets.toml: 6 particles, 2 generations, 1 seed, a short
scenario with 60 citizens)."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import experiments.fit as fit_mod
from experiments.cli import main
from experiments.fit import run_fit
from experiments.fit_report import (
    UNIDENTIFIED_SHARE,
    effective_sample_size,
    point_estimates,
    posterior_mean,
    posterior_mode,
    posterior_summary,
)
from experiments.targets import load_targets
from model import GSOMIAModel, __version__

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny_targets.toml"
SEED = 3


def posterior(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "posterior.parquet")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted fit on one worker (in this process)."""
    out = tmp_path_factory.mktemp("fit") / "ref"
    run_fit(TINY, out, workers=1, seed=SEED, progress=False, command="test")
    return out


# ---- outputs -----------------------------------------------------------------------------------
def test_posterior_parquet_holds_weighted_generations(reference):
    df = posterior(reference)
    ts = load_targets(TINY)
    assert set(ts.fit.names) <= set(df.columns)
    assert {"weight", "distance", "generation", "epsilon"} <= set(df.columns)
    assert sorted(df["generation"].unique()) == [0, 1]
    for _, g in df.groupby("generation"):
        assert len(g) == ts.fit.population
        assert g["weight"].sum() == pytest.approx(1.0)
        # accepted particles are within their generation's epsilon
        assert (g["distance"] <= g["epsilon"].iloc[0] + 1e-12).all()
    for name, lo, hi in ts.fit.bounds:
        assert df[name].between(lo, hi).all()


def test_fitted_toml_is_the_posterior_mean_usable_as_overrides(reference):
    fitted = tomllib.loads((reference / "fitted.toml").read_text())["parameters"]
    ts = load_targets(TINY)
    assert set(fitted) == set(ts.fit.names)
    last = posterior(reference).query("generation == generation.max()")
    w = last["weight"] / last["weight"].sum()
    for name, value in fitted.items():
        assert value == pytest.approx(float((last[name] * w).sum()), rel=1e-12)
    assert fitted == posterior_mean(posterior(reference), ts)
    m = GSOMIAModel.from_config(FIXTURES / "tiny_2019.toml", rng=0, **fitted)
    m.run()
    assert m.parameters["audience_cost"] == pytest.approx(fitted["audience_cost"])


def test_report_contents(reference):
    text = (reference / "report.md").read_text()
    ts = load_targets(TINY)
    # the command that produced it, its seed and the model's version
    assert f"Produced by `test` (seed {SEED}; gsomia {__version__})" in text
    for name, lo, hi in ts.fit.bounds:
        assert f"| `{name}` |" in text
        assert f"{lo:g} – {hi:g}" in text
    for t in ts.targets:
        assert f"| {t.name} | {t.scenario} | {t.kind} |" in text
    assert "Left unidentified by this evidence:" in text
    assert "](pairs.png)" in text and (reference / "pairs.png").stat().st_size > 1000
    assert (reference / "pairs.png").read_bytes()[:4] == b"\x89PNG"


def test_report_compares_the_point_estimates_by_their_distance_over_the_check_seeds(reference):
    """The report's point-estimate table gives, for the posterior mean, median and mode,
    the fit's distance averaged over the check seeds: what simulating them gives."""
    from experiments.fit_score import simulate

    ts = load_targets(TINY)
    frame = posterior(reference)
    text = (reference / "report.md").read_text()
    points = point_estimates(frame, ts, posterior_summary(frame, ts))
    assert list(points) == ["mean", "median", "mode"]
    for name, point in points.items():
        d = simulate(ts, point, range(ts.fit.check_seeds)).distance
        assert f"| posterior {name} | {d:.3f} |" in text


def test_report_gives_each_generations_effective_sample_size(reference):
    df = posterior(reference)
    text = (reference / "report.md").read_text()
    sizes = []
    for _, g in df.groupby("generation"):
        w = g["weight"].to_numpy()
        sizes.append(f"{w.sum() ** 2 / (w**2).sum():.0f}")
    assert "effective sample size (Kish) by generation: " + ", ".join(sizes) + "." in text
    assert effective_sample_size(np.full(50, 0.02)) == pytest.approx(50)
    assert effective_sample_size(np.r_[1.0, np.zeros(9)]) == pytest.approx(1)


def test_predictive_at_posterior_is_the_weighted_share_of_seeds(reference):
    df = posterior(reference)
    last = df[df["generation"] == df["generation"].max()]
    text = (reference / "report.md").read_text()
    share = float(np.dot(last["weight"], last["met:curbs_2019_07"]))
    assert f"| curbs_2019_07 | tiny_2019.toml | event | 1 | {share:.0%} |" in text


def test_unidentified_means_the_interval_covers_most_of_the_prior():
    ts = load_targets(TINY)
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "audience_cost": rng.uniform(1.0, 8.0, n),  # spread over its whole prior
            "opinion_sensitivity": rng.normal(2.0, 0.1, n),  # pinned down
            "weight": np.full(n, 1 / n),
            "generation": 0,
        }
    )
    s = posterior_summary(frame, ts)
    assert s["audience_cost"]["share"] > UNIDENTIFIED_SHARE
    assert not s["audience_cost"]["identified"]
    assert s["opinion_sensitivity"]["identified"]
    assert s["opinion_sensitivity"]["median"] == pytest.approx(2.0, abs=0.05)


def test_posterior_mode_is_a_particle_of_the_densest_cluster_where_medians_miss():
    """Three clusters of particles that trade two parameters off: the vector of marginal
    medians combines one cluster's audience cost with another's sensitivity, where no
    particle lies; the mode is a particle of the heaviest cluster, and weights count."""
    ts = load_targets(TINY)
    rng = np.random.default_rng(1)

    def cluster(n: int, audience: float, sensitivity: float) -> np.ndarray:
        return np.column_stack([rng.normal(audience, 0.1, n), rng.normal(sensitivity, 0.1, n)])

    heavy, other, third = cluster(45, 7.0, 0.5), cluster(30, 2.0, 2.5), cluster(25, 6.5, 4.0)
    x = np.vstack([heavy, other, third])
    frame = pd.DataFrame(x, columns=["audience_cost", "opinion_sensitivity"])
    frame["weight"] = 1 / len(frame)
    frame["generation"] = 0
    summary = posterior_summary(frame, ts)
    medians = np.array([summary[n]["median"] for n in ("audience_cost", "opinion_sensitivity")])
    assert np.linalg.norm(x - medians, axis=1).min() > 1.0  # no particle near the medians
    mode = posterior_mode(frame, ts)
    assert (mode["audience_cost"], mode["opinion_sensitivity"]) in set(map(tuple, heavy))
    frame["weight"] = np.r_[np.full(45, 0.2 / 45), np.full(30, 0.6 / 30), np.full(25, 0.2 / 25)]
    mode = posterior_mode(frame, ts)
    assert (mode["audience_cost"], mode["opinion_sensitivity"]) in set(map(tuple, other))


# ---- determinism -------------------------------------------------------------------------------
def test_same_seed_same_posterior_other_seed_differs(reference, tmp_path):
    again = tmp_path / "again"
    run_fit(TINY, again, workers=1, seed=SEED, progress=False, command="test")
    pd.testing.assert_frame_equal(posterior(again), posterior(reference))
    other = tmp_path / "other"
    run_fit(TINY, other, workers=1, seed=SEED + 1, progress=False, command="test")
    assert not posterior(other)["audience_cost"].equals(posterior(reference)["audience_cost"])


@pytest.mark.slow
def test_same_posterior_on_two_workers_and_on_dask(reference, tmp_path):
    two = tmp_path / "two"
    run_fit(TINY, two, workers=2, seed=SEED, progress=False, command="test")
    pd.testing.assert_frame_equal(posterior(two), posterior(reference))
    pytest.importorskip("distributed")
    dask = tmp_path / "dask"
    run_fit(TINY, dask, workers=2, backend="dask", seed=SEED, progress=False, command="test")
    pd.testing.assert_frame_equal(posterior(dask), posterior(reference))


# ---- interruption and resume -------------------------------------------------------------------
def interrupting_map(after: int):
    """An in-process map that raises KeyboardInterrupt (Ctrl-C) at its ``after``-th call:
    the prior sample is calls 1-6, generation 0 calls 7-12, generation 1 calls 13-18."""
    calls = {"n": 0}

    def map_(fn, items):
        for item in items:
            calls["n"] += 1
            if calls["n"] == after:
                raise KeyboardInterrupt
            yield fn(item)

    return map_


@pytest.mark.parametrize("after", [9, 15], ids=["in generation 0", "in generation 1"])
def test_resume_after_interruption_gives_the_same_posterior(
    reference, tmp_path, monkeypatch, after
):
    out = tmp_path / "cut"
    with monkeypatch.context() as m:
        m.setattr(fit_mod, "inprocess_map", interrupting_map(after))
        with pytest.raises(KeyboardInterrupt):
            run_fit(TINY, out, workers=1, seed=SEED, progress=False, command="test")
    assert not (out / "posterior.parquet").exists()
    run_fit(TINY, out, workers=1, seed=SEED, resume=True, progress=False, command="test")
    pd.testing.assert_frame_equal(posterior(out), posterior(reference))


def test_ctrl_c_exits_130_and_says_resume(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fit_mod, "inprocess_map", interrupting_map(9))
    out = tmp_path / "cut"
    code = main(["fit", str(TINY), "--out", str(out), "--workers", "1", "--seed", str(SEED)])
    err = capsys.readouterr().err
    assert code == 130
    assert "--resume" in err
    assert (out / "fit.json").is_file()


# ---- refusals and the budget -------------------------------------------------------------------
def test_refuses_a_dir_with_a_fit_without_resume_and_other_targets_or_seed(
    reference, tmp_path, capsys
):
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    before = sorted(p.name for p in out.iterdir())
    code = main(["fit", str(TINY), "--out", str(out), "--workers", "1", "--seed", str(SEED)])
    assert code == 2 and "pass --resume" in capsys.readouterr().err

    other = tmp_path / "other.toml"
    other.write_text(TINY.read_text().replace("tolerance = 5.0", "tolerance = 4.0"))
    shutil.copy(FIXTURES / "tiny_2019.toml", tmp_path / "tiny_2019.toml")
    code = main(["fit", str(other), "--out", str(out), "--resume", "--seed", str(SEED)])
    assert code == 2 and "holds a fit of other targets" in capsys.readouterr().err

    code = main(["fit", str(TINY), "--out", str(out), "--resume", "--seed", "4"])
    assert code == 2 and "--seed 3" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before


def test_refuses_a_dir_that_holds_something_else(tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code = main(["fit", str(TINY), "--out", str(out), "--seed", "0"])
    assert code == 2 and "holds no fit" in capsys.readouterr().err


def test_budget_caps_simulations(reference, tmp_path, capsys):
    import pyabc

    from experiments.fit_store import db_url

    h = pyabc.History(db_url(reference))
    h.id = 1
    spent = h.get_all_populations().set_index("t")["samples"]  # t = -1: the prior sample
    # enough for the prior sample and generation 0, one simulation short of generation 1
    budget = int(spent[-1] + spent[0] + spent[1] - 1)
    out = tmp_path / "budget"
    result = run_fit(TINY, out, budget=budget, workers=1, seed=SEED, progress=False)
    assert result.simulations <= budget
    assert result.generations == 1
    assert result.stopped.startswith("budget")
    ref = posterior(reference)
    pd.testing.assert_frame_equal(posterior(out), ref[ref["generation"] == 0])

    # a budget of the prior sample and one search each: generation 0 finishes only if
    # each of its searches was accepted at once (as in the reference); else exit 1 and
    # the fit resumes with a larger budget
    small = tmp_path / "small"
    pop = load_targets(TINY).fit.population
    argv = ["fit", str(TINY), "--out", str(small), "--seed", str(SEED), "--workers", "1"]
    code = main([*argv, "--budget", str(int(spent[-1]) + pop)])
    err = capsys.readouterr().err
    if spent[0] > pop:
        assert code == 1 and "--resume and a larger --budget" in err
        assert main([*argv, "--resume", "--budget", str(budget + 100)]) == 0
    else:
        assert code == 0 and posterior(small)["generation"].max() == 0


def flaky_particle():
    """A pyabc particle accepted with probability 0.3 (from numpy's global generator)."""
    from pyabc.parameters import Parameter
    from pyabc.population import Particle

    accepted = bool(np.random.random() < 0.3)  # noqa: NPY002 (what the sampler seeds)
    return Particle(0, Parameter({"x": 1.0}), 1.0, {}, 0.0, accepted=accepted)


def test_sampler_is_seeded_per_search_and_limit_discards_a_generation():
    from experiments.fit_sampler import SeededMappingSampler, inprocess_map

    def sample(limit, seed=7):
        sampler = SeededMappingSampler(inprocess_map, seed)
        sampler.limit = limit
        s = sampler.sample_until_n_accepted(20, flaky_particle, 0)
        return s, sampler

    full, sampler = sample(np.inf)
    assert full.ok and full.n_accepted == 20
    evals = sampler.nr_evaluations_
    assert evals > 20 and sampler.incomplete_evaluations == 0
    _, sampler2 = sample(np.inf)
    assert sampler2.nr_evaluations_ == evals  # the same seeds, the same searches
    _, other = sample(np.inf, seed=8)
    assert other.nr_evaluations_ != evals
    cut, sampler3 = sample(2)
    assert not cut.ok  # some search needed more than 2 draws: the generation is discarded
    assert sampler3.incomplete_evaluations == sampler3.nr_evaluations_ <= 2 * 20


def test_a_generations_function_is_unpickled_once_with_the_same_draws(monkeypatch):
    """Every call of a generation carries the same pickled function: it is unpickled once
    per process, and the searches are the ones a fresh copy per call makes."""
    from experiments import fit_sampler
    from experiments.fit_sampler import SeededMappingSampler, inprocess_map

    def searches() -> tuple[int, list[float]]:
        sampler = SeededMappingSampler(inprocess_map, 7)
        s = sampler.sample_until_n_accepted(20, flaky_particle, 0)
        return sampler.nr_evaluations_, [p.distance for p in s.accepted_particles]

    loads = []
    plain = fit_sampler.pickle.loads
    monkeypatch.setattr(fit_sampler.pickle, "loads", lambda b: loads.append(b) or plain(b))
    fit_sampler._unpickled.cache_clear()
    cached = searches()
    assert len(loads) == 1
    monkeypatch.setattr(fit_sampler, "_unpickled", plain)  # a fresh copy for every call
    assert searches() == cached


def test_no_stored_generation_is_a_failure_to_resume(tmp_path, capsys):
    from experiments.fit import FitResult, _outputs, inprocess_map

    ts = load_targets(TINY)
    result = FitResult(tmp_path, 0, 9, "budget: 9 of 12 simulations spent")
    with pytest.raises(fit_mod.Failed, match="--resume and a larger --budget"):
        _outputs(ts, tmp_path, inprocess_map, "test", 0, result)
    assert not (tmp_path / "report.md").exists()


def test_budget_below_one_generation_is_bad_input(tmp_path, capsys):
    code = main(["fit", str(TINY), "--out", str(tmp_path / "x"), "--budget", "5"])
    err = capsys.readouterr().err
    assert code == 2 and "--budget: invalid value 5; allowed: at least 12" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--backend", "mpi"], "--backend: invalid value 'mpi'"),
        (["--workers", "0"], "--workers: invalid value 0"),
        (["--seed", "-1"], "--seed: invalid value -1"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler: only with --backend dask"),
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, argv, message):
    code = main(["fit", str(TINY), "--out", str(tmp_path / "x"), *argv])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_second_writer_is_refused(tmp_path, capsys):
    from experiments.storage import writer_lock

    out = tmp_path / "locked"
    with writer_lock(out, command="fit"):
        code = main(["fit", str(TINY), "--out", str(out), "--workers", "1"])
        assert [p.name for p in out.iterdir()] == [".lock"]  # the second wrote nothing
    err = capsys.readouterr().err
    assert code == 1 and "another gsomia fit" in err and "--resume" in err


def stored_generations(out: Path) -> int:
    import sqlite3

    db = out / "history.db"
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("SELECT count(*) FROM populations WHERE t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


HANG_S = 600.0
"""How long a step of a subprocess test may take before it counts as hung. The steps are
awaited by what they show (a stored generation, an exit), never by a fixed time: on a
loaded machine each may take many times its usual few seconds, and a bound below what
load can cost (the first version's 60 s) fails a correct fit."""


def wait_for(condition, what: str, proc) -> None:
    """Poll ``condition`` until true or ``proc`` ends; fail naming ``what`` after HANG_S."""
    import time

    deadline = time.monotonic() + HANG_S
    while not condition() and proc.poll() is None:
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {HANG_S:.0f} s: {process_tree(proc.pid)}")
        time.sleep(0.05)


def process_tree(pgid: int) -> str:
    """The processes of group ``pgid`` (state and command), for a hang's failure message."""
    import subprocess

    ps = subprocess.run(
        ["ps", "-o", "pid,stat,etime,time,args", "-g", str(pgid)], capture_output=True, text=True
    )
    return ps.stdout.strip() or "(no process left)"


@pytest.mark.slow
def test_ctrl_c_to_the_process_group_then_resume(reference, tmp_path):
    """Ctrl-C (SIGINT to the whole process group, workers included) while the second of
    two generations runs: exit 130 with one line and no traceback, the finished generation
    kept, no posterior written; --resume then gives the uninterrupted fit's posterior.
    Robust to a loaded machine: each step is awaited by what it shows (``HANG_S`` only
    bounds a hang, which fails with the group's processes and kills them)."""
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "cut"
    argv = [sys.executable, "-m", "experiments.cli", "fit", str(TINY), "--out", str(out)]
    argv += ["--seed", str(SEED)]
    proc = subprocess.Popen(
        [*argv, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_for(lambda: stored_generations(out) >= 1, "stored generation", proc)
        assert proc.poll() is None, f"the fit ended before the interrupt: {proc.communicate()}"
        assert stored_generations(out) < load_targets(TINY).fit.generations
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole group
        try:
            _, err = proc.communicate(timeout=HANG_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no exit {HANG_S:.0f} s after Ctrl-C: {process_tree(proc.pid)}")
    finally:
        if proc.poll() is None:  # a failure above: leave no process loading the machine
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "interrupted" in err and "--resume" in err
    assert stored_generations(out) >= 1  # the finished generation is kept
    assert not (out / "posterior.parquet").exists()
    res = subprocess.run(
        [*argv, "--workers", "1", "--resume"], capture_output=True, text=True, timeout=HANG_S
    )
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(posterior(out), posterior(reference))


def test_report_poll_table_is_the_median_over_check_seeds(reference):
    from datetime import date

    from experiments.fit_score import share_on

    fitted = tomllib.loads((reference / "fitted.toml").read_text())["parameters"]
    ts = load_targets(TINY)
    shares = []
    for seed in range(ts.fit.check_seeds):
        m = GSOMIAModel.from_config(FIXTURES / "tiny_2019.toml", rng=seed, **fitted)
        m.run()
        shares.append(100 * share_on(m.monthly(), "opinion_share", date(2019, 8, 7)))
    model = float(np.median(shares))
    text = (reference / "report.md").read_text()
    assert f"| poll_2019_08_07 | end | 47.7 | {model:.1f} | {model - 47.7:+.1f} | 5 |" in text


def test_a_connection_closed_by_ctrl_c_is_not_logged_other_pool_errors_are(reference, capsys):
    """SQLAlchemy's pool logs a connection whose closing a Ctrl-C cut short, with the
    KeyboardInterrupt's traceback (seen in CI runs of the process-group test); after a
    fit that record is dropped, and only that one. It is logged by the pool class's own
    logger (a child of ``sqlalchemy.pool``), as SQLAlchemy does."""
    import logging

    import sqlalchemy

    engine = sqlalchemy.create_engine("sqlite://")
    pool_log = logging.getLogger(engine.pool.logger.name)
    assert pool_log.name.startswith("sqlalchemy.pool.")
    pool_log.error(
        "Exception closing connection", exc_info=(KeyboardInterrupt, KeyboardInterrupt(), None)
    )
    assert capsys.readouterr().err == ""
    try:
        raise OSError("disk full")
    except OSError as exc:
        pool_log.error("Exception closing connection", exc_info=exc)
    err = capsys.readouterr().err
    assert err.startswith("Exception closing connection\n") and "OSError: disk full" in err


def test_an_interrupt_inside_a_database_write_stays_an_interrupt(reference, tmp_path, monkeypatch):
    """Ctrl-C during pyabc's write of a generation: pyabc's clean-up then fails on the
    session (PendingRollbackError, seen with a real Ctrl-C); the fit still reports the
    interrupt, and the resume redoes the generation."""
    import pyabc.storage.history as hist

    out = tmp_path / "cut"
    original = hist.History._save_to_population_db
    original_done = hist.History.done
    calls = {"n": 0}

    def interrupted_write(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the write of generation 1
            if self._session is None:
                self._make_session()
            self._session.add(hist.Population(t=99, epsilon=0.0))  # a pending change
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    def failing_done(self, *args, **kwargs):
        if calls["n"] < 2:
            return original_done(self, *args, **kwargs)
        raise RuntimeError("Can't reconnect until invalid transaction is rolled back")

    with monkeypatch.context() as m:
        m.setattr(hist.History, "_save_to_population_db", interrupted_write)
        m.setattr(hist.History, "done", failing_done)
        with pytest.raises(KeyboardInterrupt):
            run_fit(TINY, out, workers=1, seed=SEED, progress=False, command="test")
    run_fit(TINY, out, workers=1, seed=SEED, resume=True, progress=False, command="test")
    pd.testing.assert_frame_equal(posterior(out), posterior(reference))
