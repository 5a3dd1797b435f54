"""Run a sweep: every design point times every replication, on a process pool or Dask.

An experiment is a function from parameters to named outcomes, ``run_one(params, seed)``;
the default one runs the model, and a chunk hands the replications of each design point
to ``run_many(params, seeds)`` (the entry point the fit and the UI's ensemble use too).
The runner cuts the runs into fixed chunks (``chunk_size`` consecutive run ids), sends
chunks to workers, and writes each finished chunk as ``DIR/chunks/part-NNNNN.parquet``
(temporary file + rename, so a chunk file is whole or absent). At the end the chunks are
merged, in run-id order, into ``DIR/runs.parquet``. ``resume=True`` skips the chunks
already on disk, so an interrupted sweep (Ctrl-C, kill -9, a dead worker) finishes
without redoing or duplicating a run, and its runs.parquet equals an uninterrupted one's.

Every run's seed is ``SeedSequence([spec_seed, point_id, replication])`` folded to a
non-negative 63-bit integer and stored with the run, so results do not depend on the
worker count, the backend or the order in which chunks finish.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np

from experiments.atomic import write_text_atomic
from experiments.backends import (
    BACKENDS,
    SweepAborted,
    connect_dask,
    default_workers,
    imap_dask,
    imap_inprocess,
    imap_pool,
)
from experiments.boundary import Failed
from experiments.cast import actor_names
from experiments.designs import DESIGNS
from experiments.designs import points as design_points
from experiments.integrity import file_sha256
from experiments.outcomes import METRICS, RESULT_COLUMNS, metrics, summarise
from experiments.progress import Progress
from experiments.provenance import git_state, host, now, package_versions
from experiments.spec import REPO, SweepSpec, load_spec
from experiments.storage import (
    FORMAT,
    check_out,
    check_runs_file,
    chunk_path,
    chunk_table,
    default_chunk_size,
    done_chunks,
    expected_ids,
    merge_chunks,
    read_meta,
    remove_temp_files,
    schema,
    write_meta,
    write_table_atomic,
    writer_lock,
)
from model.outcome import OUTCOMES
from model.parameters import ConfigError, suggest
from model.version import __version__

__all__ = [
    "BACKENDS",
    "FORMAT",
    "METRICS",
    "RESULT_COLUMNS",
    "SweepAborted",
    "estimate_seconds",
    "git_state",
    "package_versions",
    "run_many",
    "run_one",
    "run_seed",
    "run_sweep",
    "schema",
    "summarise",
]

Experiment = Callable[[Mapping[str, Any], int], dict[str, Any]]
LONG_SWEEP_S = 3600.0
"""A sweep estimated to take longer asks for confirmation (``--yes`` off a terminal)."""


# ---- runs ------------------------------------------------------------------------------------
def run_many(
    params: Mapping[str, Any],
    seeds: Iterable[int],
    series: Sequence[str] = (),
    *,
    view: Callable[[Any], Any] | None = None,
    errors: Literal["raise", "yield"] = "raise",
) -> Iterator[Any]:
    """The model runs of one parameter vector, one per seed, in the order of ``seeds``:
    yields ``summarise``'s dict of each run as it finishes (lazily, so a caller can show
    progress or stop early). ``params`` are constructor keywords (base config + fixed
    overrides + the design point), each seed an integer. With ``series`` (monthly
    columns), each dict also holds ``"series"`` (name -> float array) and ``"dates"``
    (the month ends), for views of an ensemble over time. ``view``: what to read off
    each finished model instead of the summary (the fit's scored ``Run``).
    ``errors="yield"``: a run that raises yields its exception in place of its result and
    the other seeds still run (a sweep records it as a failed row); ``"raise"``: the
    exception ends the iteration.

    The one entry point for many seeds (a sweep's chunk, a fit's particle, the UI's
    ensemble), so what the seeds of one vector can share is shared here: the keywords
    are copied once and every run after the first finds the process warm (imports, and
    the model's caches of the structures a scenario's months share). Each run's monthly
    series are read from its DataCollector's lists, never through a DataFrame. The
    model draws everything from its seed (graph, predispositions, threats, decisions)
    from the first month on, so nothing a run computes can be reused by the next seed's.
    """
    from model import GSOMIAModel

    kwargs = dict(params)
    for seed in seeds:
        try:
            model = GSOMIAModel(rng=int(seed), **kwargs)
            model.run()
            out = summarise(model) if view is None else view(model)
        except Exception as exc:
            if errors == "raise":
                raise
            yield exc
            continue
        if view is not None:
            yield out
            continue
        if series:
            monthly = model.datacollector.model_vars
            out["series"] = {name: np.asarray(monthly[name], dtype=float) for name in series}
            out["dates"] = [str(d) for d in monthly["date"]]
        yield out


def run_one(params: Mapping[str, Any], seed: int, series: Sequence[str] = ()) -> dict[str, Any]:
    """One model run (``run_many`` of one seed): ``params`` are constructor keywords (base
    config + fixed overrides + the design point), ``seed`` the run's integer seed. Returns
    ``summarise``'s dict; with ``series`` (monthly columns), also ``"series"`` (name ->
    array) and ``"dates"`` (the month ends)."""
    (out,) = run_many(params, (seed,), series)
    return out


def run_seed(spec_seed: int, point_id: int, replication: int) -> int:
    """The seed of one run: a non-negative 63-bit integer from
    ``SeedSequence([spec_seed, point_id, replication])``."""
    ss = np.random.SeedSequence([spec_seed, point_id, replication])
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True)
class Chunk:
    """A unit of work: consecutive runs, the constructor keywords they share and the
    experiment function (a picklable top-level function)."""

    chunk_id: int
    runs: tuple[tuple[int, int, int, int, dict[str, Any]], ...]  # run, point, rep, seed, point
    base: dict[str, Any]
    experiment: Experiment


def run_chunk(chunk: Chunk) -> tuple[int, list[dict[str, Any]]]:
    """Run a chunk; a run that raises becomes a row with status 'error' and the message
    (the chunk goes on). The chunk's runs of one design point (its consecutive
    replications) go to ``run_many`` together when the experiment is ``run_one``."""
    rows = []
    names = metrics(actor_names(chunk.base))
    for result, (run_id, point_id, rep, seed, point) in zip(
        _chunk_results(chunk), chunk.runs, strict=True
    ):
        row: dict[str, Any] = {
            "run_id": run_id,
            "point_id": point_id,
            "replication": rep,
            "seed": seed,
            **point,
        }
        if isinstance(result, Exception):  # a failing run is data, not the end of the sweep
            row.update(dict.fromkeys(names))
            row["status"], row["error"] = "error", f"{type(result).__name__}: {result}"
        else:
            row.update({k: result.get(k) for k in names})
            row["status"], row["error"] = "ok", None
        rows.append(row)
    return chunk.chunk_id, rows


def _chunk_results(chunk: Chunk) -> Iterator[dict[str, Any] | Exception]:
    """The result (or the exception) of each of the chunk's runs, in order."""
    if chunk.experiment is run_one:
        for _, group in itertools.groupby(chunk.runs, key=lambda run: run[1]):
            runs = list(group)
            params = chunk.base | runs[0][4]
            yield from run_many(params, [run[3] for run in runs], errors="yield")
        return
    for _, _, _, seed, point in chunk.runs:
        try:
            yield chunk.experiment(chunk.base | point, seed)
        except Exception as exc:
            yield exc


# ---- the sweep ------------------------------------------------------------------------------
def _meta(
    spec: SweepSpec,
    total: int,
    n_points: int,
    chunk_size: int,
    n_chunks: int,
    code: dict[str, Any],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "status": "running",
        "name": spec.name,
        "spec_file": None if spec.path is None else str(spec.path),
        "spec": spec.to_dict(),
        "fingerprint": spec.fingerprint(),
        "points": n_points,
        "replications": spec.replications,
        "runs_total": total,
        "chunk_size": chunk_size,
        "chunks": n_chunks,
        "version": __version__,
        "started": now(),
        "finished": None,
        **host(),
        "packages": package_versions(),
        "git": code,
        "sessions": [],
        "counts": None,
    }


def _check_inputs(
    spec: SweepSpec, backend: str, scheduler: str | None, workers: int | None
) -> None:
    if backend not in BACKENDS:
        raise ConfigError(
            f"--backend: invalid value {backend!r}{suggest(str(backend), BACKENDS)}; "
            "allowed: one of " + ", ".join(BACKENDS)
        )
    if scheduler is not None and backend != "dask":
        raise ConfigError("--scheduler: only used with --backend dask")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ConfigError(f"--workers: invalid value {workers!r}; allowed: an integer >= 1")


def default_out(name: str) -> Path:
    """Where a sweep writes without --out: the clone's results/ folder, or ./results/ when
    gsomia runs from an installed wheel (never inside site-packages)."""
    results = REPO / "results"
    return (results if results.is_dir() else Path.cwd() / "results") / name


def run_sweep(
    spec: str | Path | SweepSpec,
    out: str | Path | None = None,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool | None = None,
    experiment: Experiment = run_one,
) -> Path:
    """Run (or, with ``resume``, finish) a sweep; return the output directory.

    ``workers`` defaults to all cores (local) or the LocalCluster size (dask); with the
    local backend ``workers=1`` runs in this process. ``progress``: None = a bar on a
    terminal and quiet lines otherwise, False = silent. ``experiment`` must be a picklable
    top-level function ``(params, seed) -> dict`` returning the keys of ``METRICS``.
    Raises ConfigError on bad input before anything is written, ``Failed`` when another
    process writes to ``out``, a worker keeps dying or a chunk is damaged, and OSError
    (disk full...) with every finished chunk kept for ``resume``.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    _check_inputs(spec, backend, scheduler, workers)
    out = Path(out) if out is not None else default_out(spec.name)
    check_out(out, spec.fingerprint(), str(spec.path or spec.name), resume)
    base = spec.base_params()
    with writer_lock(out):
        meta = check_out(out, spec.fingerprint(), str(spec.path or spec.name), resume)
        return _run_locked(spec, out, meta, base, workers, backend, scheduler, progress, experiment)


def _run_locked(
    spec: SweepSpec,
    out: Path,
    meta: dict[str, Any] | None,
    base: dict[str, Any],
    workers: int | None,
    backend: str,
    scheduler: str | None,
    progress: bool | None,
    experiment: Experiment,
) -> Path:
    pts = design_points(spec)
    reps = spec.replications
    total = len(pts) * reps

    if meta is not None and meta.get("status") == "complete" and (out / "runs.parquet").is_file():
        check_runs_file(out, meta)
        shutil.rmtree(out / "chunks", ignore_errors=True)
        if progress is not False:
            print(f"gsomia sweep: {out} is already complete", file=sys.stderr)
        return out

    n_workers = workers or default_workers()
    client = cluster = None
    if backend == "dask":
        client, cluster = connect_dask(scheduler, n_workers)
    try:
        slots = n_workers if client is None else sum(client.nthreads().values())
        # a resume keeps the chunking the sweep started with (its files are named by it)
        chunk_size = (
            (meta or {}).get("chunk_size") or spec.chunk_size or default_chunk_size(total, slots)
        )
        n_chunks = math.ceil(total / chunk_size)
        code = git_state()
        if meta is None:
            meta = _meta(spec, total, len(pts), chunk_size, n_chunks, code)
            write_text_atomic(out / "spec.toml", spec.text or _spec_toml(spec))
            write_text_atomic(out / "config.toml", spec.config.read_text())
            write_meta(out, meta)
        session = {
            "started": now(),
            "ended": None,
            "backend": backend,
            "scheduler": scheduler,
            "workers": slots,
            "host": host()["host"],
            "version": __version__,
            "git": code,
            "runs": 0,
            "interrupted": None,
        }
        if meta["sessions"] and session["git"] != meta["sessions"][-1].get("git"):
            print(
                "gsomia sweep: warning: the code changed since this sweep started "
                f"(git {meta['sessions'][-1].get('git')} -> {session['git']})",
                file=sys.stderr,
            )
        meta["sessions"].append(session)
        write_meta(out, meta)

        remove_temp_files(out)  # e.g. a merge killed before its rename
        removed: list[str] = []
        done = done_chunks(out, n_chunks, chunk_size, total, spec.fingerprint(), removed)
        if removed:
            print(
                f"gsomia sweep: warning: recomputing {len(removed)} chunk(s) that are not this "
                f"sweep's as written: {'; '.join(removed[:3])}"
                + ("; ..." if len(removed) > 3 else ""),
                file=sys.stderr,
            )
        todo = (cid for cid in range(n_chunks) if cid not in done)
        pool_size = min(n_workers, max(1, n_chunks - len(done)))  # no idle processes

        def chunks() -> Iterator[Chunk]:
            for cid in todo:
                runs = []
                for run_id in expected_ids(cid, chunk_size, total):
                    pid, rep = divmod(run_id, reps)
                    runs.append((run_id, pid, rep, run_seed(spec.seed, pid, rep), pts[pid]))
                yield Chunk(cid, tuple(runs), base, experiment)

        if client is not None:
            results = imap_dask(run_chunk, chunks(), client)
        elif pool_size == 1:
            results = imap_inprocess(run_chunk, chunks())
        else:
            results = imap_pool(run_chunk, chunks(), pool_size)
        already = sum(len(expected_ids(c, chunk_size, total)) for c in done)
        bar = Progress(total, already, progress, f"sweep {spec.name}")
        sch, fingerprint = schema(spec), spec.fingerprint()
        try:
            for cid, rows in results:
                write_table_atomic(chunk_table(rows, sch, fingerprint), chunk_path(out, cid))
                session["runs"] += len(rows)
                bar.update(len(rows))
        except BaseException as exc:
            session["ended"] = now()
            session["interrupted"] = type(exc).__name__
            # e.g. the disk is full: the chunks on disk are what a resume needs
            with contextlib.suppress(OSError):
                write_meta(out, meta)
            raise
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()  # stop the backend (terminate pool workers) before we return
            bar.close()
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    counts = merge_chunks(out, spec, n_chunks, chunk_size, total)
    status = counts.column("status").to_pylist()
    outcome = counts.column("outcome").to_pylist()
    meta["counts"] = {
        "runs": len(status),
        "ok": status.count("ok"),
        "error": status.count("error"),
        "outcomes": {o: outcome.count(o) for o in OUTCOMES if outcome.count(o)},
    }
    meta["runs_sha256"] = file_sha256(out / "runs.parquet")  # checked by analyze
    meta["status"] = "complete"
    meta["finished"] = session["ended"] = now()
    write_meta(out, meta)
    shutil.rmtree(out / "chunks", ignore_errors=True)
    return out


def estimate_seconds(spec: SweepSpec, runs: int, workers: int) -> float:
    """Rough wall time of ``runs`` runs of ``spec`` on ``workers`` processes: one run of
    the base scenario timed here (after a warm-up run), times runs / workers."""
    base = spec.base_params()
    run_one(base, 0)
    t0 = time.perf_counter()
    run_one(base, 1)
    return (time.perf_counter() - t0) * runs / max(1, workers)


def _hms(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min"


def _spec_toml(spec: SweepSpec) -> str:
    """A TOML rendering of a spec built in code (no file text to copy)."""
    lines = ["[sweep]", f'name = "{spec.name}"', f'config = "{spec.config}"']
    lines += [f'design = "{spec.design}"', f"replications = {spec.replications}"]
    lines += [f"seed = {spec.seed}"]
    if spec.samples is not None:
        lines.append(f"samples = {spec.samples}")
    if DESIGNS[spec.design].second_order:
        lines.append(f"second_order = {str(spec.second_order).lower()}")
    if spec.chunk_size is not None:
        lines.append(f"chunk_size = {spec.chunk_size}")
    for p in spec.parameters:
        lines += ["", f"[parameters.{p.name}]"]
        if p.values is not None:
            lines.append(f"values = {list(p.values)}")
        else:
            lines += [f"low = {p.low!r}", f"high = {p.high!r}"]
            if p.levels is not None:
                lines.append(f"levels = {p.levels}")
    if spec.fixed:
        lines += ["", "[fixed]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in spec.fixed.items()]
    if spec.cast is not None:
        lines += ["", "[cast]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in spec.cast.items()]
    return "\n".join(lines) + "\n"


def toml_value(v: Any) -> str:
    """A scalar as a TOML literal: dates bare (as TOML writes them), the rest as JSON,
    whose booleans, numbers and quoted strings are TOML's too."""
    if isinstance(v, date):
        return v.isoformat()
    return json.dumps(v)


def _confirm_long(spec: SweepSpec, workers: int, yes: bool, resume: bool) -> None:
    """Print the estimate of a sweep over an hour; without ``--yes`` ask on a terminal,
    refuse (exit 2) off one."""
    from experiments.designs import n_points

    runs = n_points(spec) * spec.replications
    if runs < 100 or yes or resume:
        return
    eta = estimate_seconds(spec, runs, workers)
    if eta <= LONG_SWEEP_S:
        return
    msg = f"{runs} runs, estimated {_hms(eta)} on {workers} worker(s)"
    print(f"gsomia sweep: {spec.name}: {msg}", file=sys.stderr)
    if sys.stdin is not None and sys.stdin.isatty():
        answer = input("start it? [y/N] ").strip().lower()
        if answer in ("y", "yes"):
            return
        raise ConfigError(f"{spec.name}: not started ({msg}); pass --yes to start it")
    raise ConfigError(
        f"{spec.name}: {msg}; allowed: --yes to start a sweep longer than an hour when not "
        "on a terminal (or fewer levels, samples or replications)"
    )


def cli_sweep(args: Any) -> int:
    """``gsomia sweep SPEC``: run a sweep; exit 0 when complete, 1 when its runs all failed
    or a worker, the cluster or the disk failed (finished runs are kept; ``--resume``
    completes), 2 on bad input, 130 on Ctrl-C."""
    started = time.monotonic()
    spec = load_spec(args.spec)
    _check_inputs(spec, args.backend, args.scheduler, args.workers)
    cores = default_workers()
    if args.workers is not None and args.workers > cores and args.backend == "local":
        print(
            f"gsomia sweep: warning: --workers {args.workers} is more than the {cores} "
            "cores available; runs will not go faster and use more memory",
            file=sys.stderr,
        )
    out = Path(args.out) if args.out is not None else default_out(spec.name)
    check_out(out, spec.fingerprint(), str(spec.path or spec.name), args.resume)  # refuse first
    _confirm_long(spec, args.workers or cores, getattr(args, "yes", False), args.resume)
    try:
        path = run_sweep(
            spec,
            out=out,
            workers=args.workers,
            backend=args.backend,
            scheduler=args.scheduler,
            resume=args.resume,
        )
    except OSError as exc:
        from experiments.boundary import describe_os_error

        raise Failed(
            f"{describe_os_error(exc)}; finished chunks are kept; free space (or fix the "
            "cause) and run the same command with --resume"
        ) from exc
    meta = read_meta(path)
    counts = meta["counts"]
    shares = ", ".join(f"{k} {v}" for k, v in counts["outcomes"].items())
    print(
        f"wrote {path}/runs.parquet: {counts['runs']} runs ({counts['ok']} ok, "
        f"{counts['error']} error) in {time.monotonic() - started:.0f} s; outcomes: {shares}"
    )
    if counts["runs"] and counts["ok"] == 0:
        raise Failed(
            f"every one of the {counts['runs']} runs failed (see the 'error' column of "
            f"{path}/runs.parquet); fix the spec and run it into a new --out"
        )
    print(f"next: gsomia analyze {path}")
    return 0
