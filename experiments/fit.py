"""``gsomia fit``: simulation-based calibration of the parameters a targets file names, by
pyabc's ABC-SMC.

A particle is a parameter vector drawn from the prior (the registry's ranges, or the
narrower ``[fit.bounds]``) or, from the second generation on, perturbed from the previous
population; it is simulated on every scenario the targets name for ``fit.seeds`` seeds and
scored (``experiments.fit_score``); it is accepted when its distance is at most the
generation's epsilon (the ``epsilon_quantile`` of the previous population's distances,
the median by default).

Each generation runs as a fresh ``ABCSMC`` loaded from the SQLite history, so an
uninterrupted fit and one resumed after Ctrl-C take the same path; the sampler seeds every
particle's draws from ``--seed`` (``experiments.fit_sampler``), so the posterior does not
depend on the worker count or backend.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import random
import shlex
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.atomic import write_files_atomic, write_text_atomic
from experiments.backends import (
    BACKENDS,
    _stop_pool,
    check_address,
    connect_dask,
    default_workers,
    process_pool,
)
from experiments.boundary import Failed
from experiments.fit_sampler import (
    Map,
    SeededMappingSampler,
    dask_map,
    inprocess_map,
    pool_map,
)
from experiments.fit_score import poll_deviations, score_runs, simulate, simulate_runs
from experiments.fit_store import (
    FORMAT,
    HISTORY,
    META,
    check_history,
    check_out,
    clean_staging,
    commit_history,
    damaged_message,
    db_url,
    fitted_toml,
    is_disk_full,
    repair_history,
    staged_history,
    write_meta,
    write_parquet_atomic,
)
from experiments.integrity import seal
from experiments.progress import Progress
from experiments.provenance import git_state, now, package_versions
from experiments.storage import writer_lock
from experiments.targets import TargetSet, load_targets
from model.parameters import ConfigError
from model.version import __version__

MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class ParticleModel:
    """pyabc's model: one parameter vector -> its summary statistics. The run seeds come
    from numpy's global generator, which the sampler seeded for this particle."""

    targets: TargetSet

    def __call__(self, pars: Mapping[str, float]) -> dict[str, float]:
        """Simulate ``pars`` on every scenario for ``fit.seeds`` seeds; score them."""
        # numpy's global generator on purpose: pyabc draws from it, the sampler seeds it
        seeds = np.random.randint(0, 2**62, size=self.targets.fit.seeds, dtype=np.int64)  # noqa: NPY002
        score = simulate(self.targets, {k: float(v) for k, v in pars.items()}, seeds.tolist())
        return {"distance": score.distance, **score.stats()}


def particle_distance(x: Mapping[str, float], x_0: Mapping[str, float]) -> float:
    """The particle's weighted distance (computed with its simulation); pyabc's distance
    signature (the observed data are the targets themselves)."""
    return float(x["distance"])


def make_abc(targets: TargetSet, sampler: SeededMappingSampler) -> Any:
    """The ABC-SMC object of a fit: uniform priors, the targets' distance, and an epsilon
    at the ``epsilon_quantile`` of the last generation's distances (the median by
    default)."""
    import pyabc

    prior = pyabc.Distribution(
        **{n: pyabc.RV("uniform", lo, hi - lo) for n, lo, hi in targets.fit.bounds}
    )
    return pyabc.ABCSMC(
        ParticleModel(targets),
        prior,
        particle_distance,
        population_size=targets.fit.population,
        sampler=sampler,
        eps=pyabc.QuantileEpsilon(alpha=targets.fit.epsilon_quantile, weighted=True),
    )


@contextmanager
def mapper(backend: str, workers: int, scheduler: str | None) -> Iterator[tuple[Map, int]]:
    """An order-preserving map on the chosen backend, and the number of workers."""
    if backend == "dask":
        client, cluster = connect_dask(scheduler, workers)
        try:
            yield dask_map(client), sum(client.nthreads().values())
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif workers <= 1:
        yield inprocess_map, 1
    else:
        pool = process_pool(workers)
        try:
            yield pool_map(pool), workers
        finally:
            _stop_pool(pool)


def _check_one(
    args: tuple[TargetSet, dict[str, float], int],
) -> tuple[dict[str, float], dict[str, dict[str, float]], float]:
    targets, params, seed = args
    runs = simulate_runs(targets, params, [seed])
    polls = {
        t.name: poll_deviations(t, runs[t.scenario][0]) for t in targets.targets if t.kind == "poll"
    }
    score = score_runs(targets, runs)
    return score.met_shares, polls, score.distance


@dataclass(frozen=True)
class Check:
    """The check at a point estimate: share of seeds meeting each target, per poll target
    and answer the median over seeds of the model's share (points), and the mean over
    seeds of the fit's distance."""

    met: dict[str, float]
    poll_medians: dict[str, dict[str, float]]
    distance: float


def check_at(targets: TargetSet, params: dict[str, float], map_: Map) -> Check:
    """Runs of ``params`` for seeds 0..check_seeds-1, scored."""
    seeds = range(targets.fit.check_seeds)
    results = list(map_(_check_one, [(targets, params, s) for s in seeds]))
    met = {t.name: float(np.mean([r[0][t.name] for r in results])) for t in targets.targets}
    medians = {}
    for t in targets.targets:
        if t.kind == "poll":
            medians[t.name] = {
                answer: observed + float(np.median([r[1][t.name][answer] for r in results]))
                for answer, observed in t.shares
            }
    return Check(met, medians, float(np.mean([r[2] for r in results])))


def pilot(targets: TargetSet) -> float:
    """One run of every scenario at the prior's centre (seed 0), scored: a target the
    model cannot score (a poll answer it does not report) stops the fit here, before
    anything is written. Returns the seconds it took."""
    t0 = time.perf_counter()
    centre = {n: (lo + hi) / 2 for n, lo, hi in targets.fit.bounds}
    simulate(targets, centre, [0])
    return time.perf_counter() - t0


def _history(out: Path) -> Any:
    """pyabc's view of the stored history (None before anything is stored); read only: the
    history is replaced whole, never written in place (``experiments.fit_store``)."""
    import pyabc

    if not (out / HISTORY).is_file():
        return None
    h = pyabc.History(db_url(out), create=False)
    if h.all_runs():
        h.id = 1
    return h


def stored_generations(history: Any) -> int:
    """Generations the history holds (0 before the first is stored)."""
    if history is None or not history.all_runs() or history.max_t is None:
        return 0
    return int(history.max_t) + 1


@dataclass
class FitResult:
    """What a fit did: generations stored, simulations, why it stopped."""

    out: Path
    generations: int
    simulations: int
    stopped: str


def run_fit(
    targets: TargetSet | str | Path,
    out: str | Path,
    *,
    budget: int | None = None,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    repair: bool = False,
    seed: int = 0,
    progress: bool | None = None,
    command: str = "",
) -> FitResult:
    """Run (or, with ``resume``, continue) a fit into ``out`` and write its outputs. A
    damaged history stops a resume (``Failed`` naming it); with ``repair`` too, the fit
    restarts from the last whole generation it can verify, or from scratch."""
    if not isinstance(targets, TargetSet):
        targets = load_targets(targets)
    _check_inputs(budget, workers, backend, scheduler, seed)
    if repair and not resume:
        raise ConfigError("--repair: only with --resume (it repairs a fit being resumed)")
    if budget is not None and budget < 2 * targets.fit.population:
        raise ConfigError(
            f"--budget: invalid value {budget}; allowed: at least {2 * targets.fit.population} "
            "simulations (the prior sample that sets the first epsilon and one generation of "
            f"fit.population = {targets.fit.population})"
        )
    out = Path(out)
    fingerprint = targets.fingerprint()
    name = str(targets.path or targets.name)
    check_out(out, fingerprint, seed, name, resume)
    pilot(targets)
    for noisy in ("ABC", "History", "Sampler", "Epsilon", "Distance", "Acceptor"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _quiet_interrupted_pool_closes()
    with writer_lock(out, command="fit"), mapper(backend, workers, scheduler) as (map_, _n):
        meta = check_out(out, fingerprint, seed, name, resume)
        if meta is None:
            meta = {
                "format": FORMAT,
                "version": __version__,
                "targets_name": targets.name,
                "fingerprint": fingerprint,
                "seed": seed,
                "incomplete_simulations": 0,
                "generations": [],
                "sessions": [],
            }
            files = {META: json.dumps(seal(meta), indent=1) + "\n", "targets.toml": targets.text}
            write_files_atomic(out, files)  # a full disk leaves neither
        else:
            _check_store(out, meta, targets.fit.population, repair, command)
        meta["sessions"].append(
            {
                "started": now(),
                "command": command,
                "version": __version__,
                "backend": backend,
                "workers": workers,
                "budget": budget,
                "git": git_state(),
                "versions": package_versions(),
            }
        )
        write_meta(out, meta)
        ss = np.random.SeedSequence([seed, 0]).generate_state(1)[0]
        np.random.seed(int(ss))  # noqa: NPY002 (pyabc's generator in this process)
        random.seed(int(ss))
        result = _generations(targets, out, meta, budget, seed, map_, progress)
        _outputs(targets, out, map_, command, seed, result)
        meta["sessions"][-1]["ended"] = now()
        meta["stopped"] = result.stopped
        write_meta(out, meta)
    return result


def _check_store(
    out: Path, meta: dict[str, Any], population: int, repair: bool, command: str
) -> None:
    """Before a resume loads the history: remove what a cut generation left, check the
    history (``fit_store.check_history``); a damaged one is repaired (``repair``) or
    named with the command that recovers. Records of a generation a kill kept from the
    history are dropped (it is redone)."""
    clean_staging(out)
    k, problem = check_history(out / HISTORY, meta, population)
    if problem and not repair:
        raise Failed(damaged_message(out, meta, population, problem, command))
    if repair:
        print(f"gsomia fit: {repair_history(out, meta, population)}", file=sys.stderr)
    elif len(meta["generations"]) > k:
        meta["generations"] = meta["generations"][:k]


def _state(out: Path) -> tuple[int, int, float]:
    """The stored history's generations, simulations spent and last epsilon."""
    history = _history(out)
    t = stored_generations(history)
    eps = float(history.get_all_populations()["epsilon"].iloc[-1]) if t else math.inf
    return t, _spent(history), eps


def _generations(
    targets: TargetSet,
    out: Path,
    meta: dict[str, Any],
    budget: int | None,
    seed: int,
    map_: Map,
    progress: bool | None,
) -> FitResult:
    """Generations until the fit's end, each run on a staged copy of the history that
    replaces it only once stored whole (``fit_store.staged_history``)."""
    fit = targets.fit
    pop = fit.population
    t, _, _ = _state(out)
    bar = Progress(pop * fit.generations, pop * t, progress, f"fit {targets.name}", "particle")
    sampler = SeededMappingSampler(map_, seed, on_particle=bar.update)
    stopped = "generations"
    try:
        while True:
            t, stored_spent, eps = _state(out)
            if t >= fit.generations:
                break
            if eps <= 0:
                stopped = "epsilon 0: every particle meets every target on every seed"
                break
            spent = stored_spent + meta["incomplete_simulations"]
            fresh = t == 0
            limit: float = math.inf
            if budget is not None:
                left = budget - spent - (pop if fresh else 0)  # the calibration sample
                if left < pop:
                    stopped = f"budget: {spent} of {budget} simulations spent"
                    break
                limit = left // pop
            sampler.limit = limit
            sampler.incomplete_evaluations = 0
            with staged_history(out) as staging:
                _run_staged(targets, sampler, out, staging)
                done = t + (0 if sampler.incomplete_evaluations else 1)
                meta["incomplete_simulations"] += sampler.incomplete_evaluations
                commit_history(out, meta, pop, done)
            if sampler.incomplete_evaluations:
                stopped = (
                    f"budget: generation {t} could not finish within {budget} simulations "
                    "(its draws are discarded)"
                )
                break
    finally:
        bar.close()
    t, stored_spent, _ = _state(out)
    return FitResult(out, t, stored_spent + meta["incomplete_simulations"], stopped)


def _run_staged(
    targets: TargetSet, sampler: SeededMappingSampler, out: Path, staging: Path
) -> None:
    """One generation on the staged history; a full disk becomes one OSError (ENOSPC,
    naming the file) whatever pyabc or SQLAlchemy made of it."""
    abc = make_abc(targets, sampler)
    url = db_url(out, staging.name)
    try:
        if staging.exists():
            abc.load(url, 1)
        else:
            abc.new(url, {"distance": 0.0})
        run_generation(abc)
    except Exception as exc:
        if is_disk_full(exc, out):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(staging)) from exc
        raise
    finally:
        _release(getattr(abc, "history", None))


def run_generation(abc: Any) -> None:
    """One generation of ``abc``. A Ctrl-C (or SIGTERM) inside a database write leaves
    pyabc's session needing a rollback, and pyabc's clean-up then raises about that
    instead: the interrupt is what happened, so it is raised again (the uncommitted
    generation is rolled back; ``--resume`` redoes it)."""
    try:
        abc.run(max_nr_populations=1, minimum_epsilon=0.0)
    except BaseException as exc:
        interrupt = _interrupt_in(exc)
        if interrupt is None:
            raise
        _release(abc.history)
        if interrupt is exc:
            raise
        raise interrupt from None


class _PoolLogToStderr(logging.Handler):
    """SQLAlchemy's pool messages to the current ``sys.stderr`` (as logging's last-resort
    handler prints them), except a connection whose closing a Ctrl-C cut short: that
    record carries the KeyboardInterrupt's traceback, and the interrupt itself is what
    the fit reports (one line and exit 130)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return _interrupt_in(exc) is None and bool(super().filter(record))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def _quiet_interrupted_pool_closes() -> None:
    """Route the pool's loggers (``sqlalchemy.pool.impl.QueuePool`` and its kin, children
    of ``sqlalchemy.pool``) through ``_PoolLogToStderr``. A filter on ``sqlalchemy.pool``
    itself would not see them: a logger's filters apply only to records created on it,
    not to those its children pass up. Idempotent."""
    pool_log = logging.getLogger("sqlalchemy.pool")
    if not any(isinstance(h, _PoolLogToStderr) for h in pool_log.handlers):
        pool_log.addHandler(_PoolLogToStderr())
        pool_log.propagate = False


def _interrupt_in(exc: BaseException | None) -> BaseException | None:
    """The KeyboardInterrupt (Ctrl-C, or SIGTERM as ``Terminated``) ``exc`` is or arose
    while handling, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        seen.add(id(exc))
        exc = exc.__context__
    return None


def _release(history: Any) -> None:
    """Roll back and close the history's open session, if any (best effort: the
    interrupt that follows matters more than a failure here)."""
    session = getattr(history, "_session", None)
    engine = getattr(history, "_engine", None)
    with contextlib.suppress(Exception):
        if session is not None:
            session.rollback()
            session.close()
    with contextlib.suppress(Exception):
        if engine is not None:
            engine.dispose()


def _spent(history: Any) -> int:
    """Simulations of the stored generations (and of the prior sample)."""
    return int(history.total_nr_simulations) if history and history.all_runs() else 0


def posterior_frame(out: Path, names: tuple[str, ...]) -> pd.DataFrame:
    """Every stored generation's particles: parameters, weight, distance, generation and
    epsilon (the last generation is the posterior)."""
    history = _history(out)
    if not stored_generations(history):
        return pd.DataFrame(columns=[*names, "weight", "distance", "generation", "epsilon"])
    eps = history.get_all_populations().set_index("t")["epsilon"]
    rows = []
    for t in range(history.max_t + 1):
        for p in history.get_population(t).particles:
            row = {n: float(p.parameter[n]) for n in names}
            row |= {"weight": float(p.weight), "distance": float(p.distance)}
            row |= {f"met:{k[4:]}": float(v) for k, v in p.sum_stat.items() if k.startswith("met:")}
            row |= {"generation": t, "epsilon": float(eps[t])}
            rows.append(row)
    return pd.DataFrame(rows)


def _outputs(
    targets: TargetSet, out: Path, map_: Map, command: str, seed: int, result: FitResult
) -> None:
    from experiments.fit_report import point_estimates, posterior_summary, write_report

    names = targets.fit.names
    frame = posterior_frame(out, names)
    if frame.empty:
        raise Failed(
            f"no generation finished ({result.stopped}); the simulations so far are kept: "
            "run the same command with --resume and a larger --budget"
        )
    write_parquet_atomic(out / "posterior.parquet", frame)
    summary = posterior_summary(frame, targets)
    points = point_estimates(frame, targets, summary)
    checks = {k: check_at(targets, point, map_) for k, point in points.items()}
    header = (
        f"Posterior mean of `{command}` (seed {seed}); use as scenario overrides:\n"
        f"gsomia run --config baseline_2019 --set KEY=VALUE ..., or copy into a scenario."
    )
    write_text_atomic(out / "fitted.toml", fitted_toml(points["mean"], header))
    write_report(out, targets, frame, summary, points, checks, command, seed, result)


def _check_inputs(
    budget: int | None, workers: int, backend: str, scheduler: str | None, seed: int
) -> None:
    if backend not in BACKENDS:
        raise ConfigError(
            f"--backend: invalid value {backend!r}; allowed: one of " + ", ".join(BACKENDS)
        )
    if scheduler is not None:
        if backend != "dask":
            raise ConfigError("--scheduler: only with --backend dask")
        check_address(scheduler)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"--workers: invalid value {workers!r}; allowed: an integer >= 1")
    if budget is not None and budget < 1:
        raise ConfigError(f"--budget: invalid value {budget!r}; allowed: an integer >= 1")
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"--seed: invalid value {seed!r}; allowed: an integer from 0 to 2^63-1")


def cli_fit(args: Any) -> int:
    """``gsomia fit TARGETS --out DIR``: exit 0 when done, 2 on bad input (nothing written),
    130 on Ctrl-C (finished generations kept; ``--resume`` continues)."""
    started = time.monotonic()
    targets = load_targets(args.targets)
    workers = args.workers if args.workers is not None else default_workers()
    cores = default_workers()
    if args.backend == "local" and workers > cores:
        print(
            f"gsomia fit: warning: --workers {workers} is more than the {cores} cores "
            "available; it will not go faster and uses more memory",
            file=sys.stderr,
        )
    command = shlex.join(
        ["gsomia", "fit", str(args.targets), "--out", str(args.out), "--seed", str(args.seed)]
        + ([] if args.budget is None else ["--budget", str(args.budget)])
    )
    result = run_fit(
        targets,
        args.out,
        budget=args.budget,
        workers=workers,
        backend=args.backend,
        scheduler=args.scheduler,
        resume=args.resume,
        repair=args.repair,
        seed=args.seed,
        command=command,
    )
    print(
        f"wrote {result.out}/report.md, posterior.parquet, fitted.toml: {result.generations} "
        f"generations, {result.simulations} simulations in {time.monotonic() - started:.0f} s "
        f"(stopped: {result.stopped})"
    )
    return 0
