"""Run a sweep: every design point times every replication, on a process pool or Dask.

An experiment is a function from parameters to named outcomes, ``run_one(params, seed)``.
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

import concurrent.futures as cf
import json
import math
import multiprocessing
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.atomic import write_text_atomic
from experiments.designs import points as design_points
from experiments.spec import REPO, SweepSpec, load_spec
from model.config import load_config
from model.outcome import OUTCOMES
from model.parameters import ConfigError, suggest

BACKENDS = ("local", "dask")
FORMAT = 1
"""Version of the output layout and row schema; a resume refuses other versions."""
SCHEDULER_TIMEOUT_S = 5
MAX_POOL_RESTARTS = 2
QUIET_PROGRESS_EVERY_S = 30.0

Experiment = Callable[[Mapping[str, Any], int], dict[str, Any]]

ID_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("run_id", pa.int64()),
    ("point_id", pa.int64()),
    ("replication", pa.int64()),
    ("seed", pa.int64()),
)
RESULT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("outcome", pa.string()),
    ("reversal_months_before_expiry", pa.int64()),
    ("reversal_action", pa.string()),
    ("notice_month", pa.string()),
    ("reversal_month", pa.string()),
    ("first_curb_month", pa.string()),
    ("symmetric_pause", pa.bool_()),
    ("wto_complaint", pa.bool_()),
    ("talks_offered", pa.bool_()),
    ("reproduces_2019", pa.bool_()),
    ("final_pact_state", pa.string()),
    ("peak_opinion_share", pa.float64()),
    ("final_opinion_share", pa.float64()),
    ("peak_boycott_share", pa.float64()),
    ("peak_us_pressure_seoul", pa.float64()),
    ("peak_us_pressure_tokyo", pa.float64()),
    ("peak_beijing_stance", pa.float64()),
    ("peak_curb_level", pa.int64()),
    ("final_curb_level", pa.int64()),
    ("peak_threat", pa.float64()),
    ("payoff_seoul", pa.float64()),
    ("payoff_tokyo", pa.float64()),
    ("payoff_washington", pa.float64()),
    ("payoff_beijing", pa.float64()),
    ("n_events", pa.int64()),
)
"""What ``run_one`` returns (besides status and error), with its Parquet type."""
STATUS_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("status", pa.string()),
    ("error", pa.string()),
)
METRICS = tuple(name for name, _ in RESULT_COLUMNS)


# ---- one run -------------------------------------------------------------------------------
def _month(d: Any) -> str | None:
    return None if d is None else f"{d:%Y-%m}"


def summarise(model: Any) -> dict[str, Any]:
    """Named outcomes and summary metrics of a finished model run."""
    from experiments.calibration import first_months, reproduces_2019

    df = model.monthly()
    events = model.timeline

    def first(actor: str, names: Iterable[str]) -> Any:
        names = set(names)
        return next((e.date for e in events if e.actor == actor and e.event in names), None)

    notice = first("seoul", ("termination_notice",))
    reversal = first("seoul", ("conditional_suspension", "rescind_notice"))
    curbs = first("tokyo", ("targeted_export_controls", "whitelist_removal"))
    pause = False
    if reversal is not None:
        same = {(e.actor, e.event) for e in events if _month(e.date) == _month(reversal)}
        pause = ("seoul", "wto_suspension") in same and ("tokyo", "talks_offer") in same
    outcome = model.outcome
    firsts = first_months(e.to_dict() for e in events)
    months = model.reversal_months_before_expiry
    return {
        "outcome": outcome,
        "reversal_months_before_expiry": None if months is None else int(months),
        "reversal_action": model.episode.reversal_action,
        "notice_month": _month(notice),
        "reversal_month": _month(reversal),
        "first_curb_month": _month(curbs),
        "symmetric_pause": bool(pause),
        "wto_complaint": any(e.event == "wto_complaint" for e in events),
        "talks_offered": any(e.event == "talks_offer" for e in events),
        "reproduces_2019": bool(reproduces_2019(firsts, outcome)),
        "final_pact_state": str(df["pact_state"].iloc[-1]),
        "peak_opinion_share": float(df["opinion_share"].max()),
        "final_opinion_share": float(df["opinion_share"].iloc[-1]),
        "peak_boycott_share": float(df["boycott_share"].max()),
        "peak_us_pressure_seoul": float(df["us_pressure_seoul"].max()),
        "peak_us_pressure_tokyo": float(df["us_pressure_tokyo"].max()),
        "peak_beijing_stance": float(df["beijing_stance"].max()),
        "peak_curb_level": int(df["curb_level"].max()),
        "final_curb_level": int(df["curb_level"].iloc[-1]),
        "peak_threat": float(df["threat"].max()),
        "payoff_seoul": float(df["payoff_seoul"].sum()),
        "payoff_tokyo": float(df["payoff_tokyo"].sum()),
        "payoff_washington": float(df["payoff_washington"].sum()),
        "payoff_beijing": float(df["payoff_beijing"].sum()),
        "n_events": len(events),
    }


def run_one(params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """One model run: ``params`` are constructor keywords (base config + fixed overrides
    + the design point), ``seed`` the run's integer seed. Returns ``summarise``'s dict."""
    from model import GSOMIAModel

    model = GSOMIAModel(rng=int(seed), **dict(params))
    model.run()
    return summarise(model)


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
    (the chunk goes on)."""
    rows = []
    for run_id, point_id, rep, seed, point in chunk.runs:
        row: dict[str, Any] = {
            "run_id": run_id,
            "point_id": point_id,
            "replication": rep,
            "seed": seed,
            **point,
        }
        try:
            result = chunk.experiment(chunk.base | point, seed)
            row.update({k: result.get(k) for k in METRICS})
            row["status"], row["error"] = "ok", None
        except Exception as exc:  # a failing run is data, not the end of the sweep
            row.update(dict.fromkeys(METRICS))
            row["status"], row["error"] = "error", f"{type(exc).__name__}: {exc}"
        rows.append(row)
    return chunk.chunk_id, rows


# ---- layout ---------------------------------------------------------------------------------
def schema(spec: SweepSpec) -> pa.Schema:
    """The row schema of runs.parquet (and of every chunk)."""
    varied = [(p.name, pa.int64() if p.kind is int else pa.float64()) for p in spec.parameters]
    return pa.schema([*ID_COLUMNS, *varied, *RESULT_COLUMNS, *STATUS_COLUMNS])


def default_chunk_size(total: int) -> int:
    """About 500 chunks per sweep, 1 to 50 runs each (a few seconds of work per chunk)."""
    return max(1, min(50, math.ceil(total / 500)))


def chunk_path(out: Path, chunk_id: int) -> Path:
    """The file of one finished chunk."""
    return out / "chunks" / f"part-{chunk_id:05d}.parquet"


def write_table_atomic(table: pa.Table, path: Path) -> None:
    """Write a Parquet file via a temporary file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o644)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _done_chunks(out: Path, n_chunks: int, sizes: Callable[[int], int]) -> set[int]:
    """Chunk ids whose file is on disk with the right row count (others are removed)."""
    folder = out / "chunks"
    done: set[int] = set()
    if not folder.is_dir():
        return done
    for f in folder.iterdir():
        if f.name.startswith(".") and f.name.endswith(".tmp"):
            f.unlink(missing_ok=True)  # left by a kill during a write
            continue
        if not (f.name.startswith("part-") and f.name.endswith(".parquet")):
            continue
        try:
            cid = int(f.name[5:-8])
            rows = pq.read_metadata(f).num_rows
        except (ValueError, OSError, pa.ArrowException):
            f.unlink(missing_ok=True)
            continue
        if 0 <= cid < n_chunks and rows == sizes(cid):
            done.add(cid)
        else:
            f.unlink(missing_ok=True)
    return done


# ---- provenance -----------------------------------------------------------------------------
PACKAGES = (
    "gsomia",
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "networkx",
    "SALib",
    "dask",
    "distributed",
    "matplotlib",
    "ema_workbench",
)


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a sweep's results depend on."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state() -> dict[str, Any]:
    """The repository's commit and whether tracked files differ from it."""

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(
                ["git", "-C", str(REPO), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---- progress -------------------------------------------------------------------------------
class Progress:
    """A tqdm bar (rate, ETA) on a terminal; a quiet line every 30 s otherwise."""

    def __init__(self, total: int, done: int, enabled: bool | None, label: str) -> None:
        self.total, self.done, self.label = total, done, label
        self.enabled = enabled is not False
        self.tty = sys.stderr.isatty()
        self.bar: Any = None
        self.t0 = time.monotonic()
        self.start_done = done
        self.last = self.t0
        if self.enabled and self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="run", desc=label, smoothing=0.05)
        elif self.enabled:
            self._line()

    def _line(self) -> None:
        elapsed = time.monotonic() - self.t0
        new = self.done - self.start_done
        rate = new / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = f"{left / rate:.0f} s" if rate > 0 else "?"
        print(
            f"{self.label}: {self.done}/{self.total} runs ({self.done / max(1, self.total):.0%})"
            f", {rate:.1f} runs/s, ETA {eta}",
            file=sys.stderr,
            flush=True,
        )

    def update(self, n: int) -> None:
        """Count ``n`` more finished runs."""
        self.done += n
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if now - self.last >= QUIET_PROGRESS_EVERY_S:
            self.last = now
            self._line()

    def close(self) -> None:
        """Final line / close the bar."""
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            self._line()


# ---- backends -------------------------------------------------------------------------------
class SweepAborted(RuntimeError):
    """The sweep stopped before the end (a dead worker, a lost cluster); finished chunks
    are on disk and ``--resume`` completes the rest."""


def _imap_inprocess(chunks: Iterator[Chunk]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    for chunk in chunks:
        yield run_chunk(chunk)


def _imap_pool(chunks: Iterator[Chunk], workers: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Process pool ('spawn' context: no state forked from the parent), at most
    2*workers chunks in flight so memory stays flat; a broken pool (a worker killed) is
    restarted and its chunks resubmitted, at most MAX_POOL_RESTARTS times."""
    ctx = multiprocessing.get_context("spawn")
    window = 2 * workers
    pending: dict[cf.Future[Any], Chunk] = {}
    retry: list[Chunk] = []
    restarts = 0
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    try:
        while True:
            while len(pending) < window:
                chunk = retry.pop() if retry else next(chunks, None)
                if chunk is None:
                    break
                pending[pool.submit(run_chunk, chunk)] = chunk
            if not pending:
                return
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            broken = False
            for fut in done:
                chunk = pending.pop(fut)
                try:
                    result = fut.result()
                except cf.process.BrokenProcessPool:
                    broken = True
                    retry.append(chunk)
                    continue
                yield result
            if broken:
                restarts += 1
                retry.extend(pending.values())
                pending.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                if restarts > MAX_POOL_RESTARTS:
                    raise SweepAborted(
                        f"a worker process died {restarts} times (killed, out of memory or a "
                        "crash in a run)"
                    )
                print("gsomia sweep: a worker died; restarting the pool", file=sys.stderr)
                pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def connect_dask(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    """A Dask client: joined to ``scheduler`` (fails within SCHEDULER_TIMEOUT_S with a
    ConfigError) or to a new LocalCluster on 127.0.0.1 with ``workers`` processes.
    Returns (client, cluster or None)."""
    try:
        import logging

        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(
            "--backend dask: dask.distributed is not installed; allowed: install the sweep "
            "extra (pip install -e '.[sweep]')"
        ) from exc
    if scheduler is not None:
        if "://" not in scheduler and ":" not in scheduler:
            raise ConfigError(
                f"--scheduler: invalid value {scheduler!r}; allowed: an address like "
                "tcp://host:8786"
            )
        import dask

        timeout = f"{SCHEDULER_TIMEOUT_S}s"
        try:
            with dask.config.set({"distributed.comm.timeouts.connect": timeout}):
                client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(
                f"--scheduler: cannot reach the Dask scheduler at {scheduler!r} within "
                f"{SCHEDULER_TIMEOUT_S} s ({type(exc).__name__}); allowed: the address of a "
                "running `dask scheduler` (tcp://host:port), or no --scheduler for a local "
                "cluster"
            ) from exc
        return client, None
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        client = Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close()
        raise
    return client, cluster


def _imap_dask(chunks: Iterator[Chunk], client: Any) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Submit chunks to a Dask cluster, at most 2 per worker thread in flight."""
    from distributed import as_completed

    window = max(2, 2 * sum(client.nthreads().values()))
    futures = []
    for chunk in chunks:
        futures.append(client.submit(run_chunk, chunk, pure=False))
        if len(futures) >= window:
            break
    if not futures:
        return
    ac = as_completed(futures, loop=client.loop)
    for fut in ac:
        try:
            result = fut.result()
        except Exception as exc:
            msg = f"the Dask cluster failed a chunk ({type(exc).__name__}: {exc})"
            raise SweepAborted(msg) from exc
        fut.release()
        yield result
        nxt = next(chunks, None)
        if nxt is not None:
            ac.add(client.submit(run_chunk, nxt, pure=False))


# ---- the sweep ------------------------------------------------------------------------------
def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _check_out(out: Path, spec: SweepSpec, resume: bool) -> dict[str, Any] | None:
    """Refuse to overwrite; on resume return the stored meta (None: start afresh)."""
    meta_path = out / "meta.json"
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out: {out} exists and is not a directory; choose another --out")
    if not out.exists() or not any(out.iterdir()):
        return None
    if not meta_path.is_file():
        raise ConfigError(
            f"--out: {out} is not empty and holds no sweep (no meta.json); refusing to "
            "write into it; choose another --out"
        )
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"--out: {meta_path} is unreadable ({exc}); choose another --out"
        ) from exc
    if not resume:
        if meta.get("status") == "complete":
            raise ConfigError(
                f"--out: {out} holds a finished sweep ({meta.get('runs_total')} runs); "
                "refusing to overwrite it; choose another --out (or delete it)"
            )
        raise ConfigError(
            f"--out: {out} holds an unfinished sweep; pass --resume to finish it, or choose "
            "another --out"
        )
    if meta.get("format") != FORMAT:
        raise ConfigError(
            f"--out: {out} was written by another version of the runner (format "
            f"{meta.get('format')}, this one writes {FORMAT}); choose another --out"
        )
    if meta.get("fingerprint") != spec.fingerprint():
        raise ConfigError(
            f"--resume: {out} was started from a different spec or base config than "
            f"{spec.path or spec.name}; allowed: the same spec (see {out}/spec.toml)"
        )
    return meta


def _meta(
    spec: SweepSpec, total: int, n_points: int, chunk_size: int, n_chunks: int
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
        "started": _now(),
        "finished": None,
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "git": git_state(),
        "sessions": [],
        "counts": None,
    }


MERGE_ROW_GROUP = 65_536
"""Rows per row group of runs.parquet: the file's layout does not depend on the chunking."""


def merge_chunks(out: Path, spec: SweepSpec, n_chunks: int) -> pa.Table:
    """Stream the chunks, in run-id order, into runs.parquet (atomic; at most one row
    group in memory); return the (status, outcome) columns for the counts."""
    sch = schema(spec)
    target = out / "runs.parquet"
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".runs.parquet.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o644)
    parts = []
    try:
        with pq.ParquetWriter(tmp, sch) as writer:
            buffer: list[pa.Table] = []
            rows = 0
            for cid in range(n_chunks):
                table = pq.read_table(chunk_path(out, cid), schema=sch)
                parts.append(table.select(["status", "outcome"]))
                buffer.append(table)
                rows += table.num_rows
                if rows >= MERGE_ROW_GROUP or cid == n_chunks - 1:
                    merged = pa.concat_tables(buffer).combine_chunks()
                    for start in range(0, merged.num_rows, MERGE_ROW_GROUP):
                        piece = merged.slice(start, MERGE_ROW_GROUP)
                        if piece.num_rows == MERGE_ROW_GROUP or cid == n_chunks - 1:
                            writer.write_table(piece, row_group_size=MERGE_ROW_GROUP)
                        else:
                            buffer, rows = [piece], piece.num_rows
                            break
                    else:
                        buffer, rows = [], 0
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return pa.concat_tables(parts) if parts else pa.table({"status": [], "outcome": []})


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
    Raises ConfigError on bad input before anything is written.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    if backend not in BACKENDS:
        raise ConfigError(
            f"--backend: invalid value {backend!r}{suggest(str(backend), BACKENDS)}; "
            "allowed: one of " + ", ".join(BACKENDS)
        )
    if scheduler is not None and backend != "dask":
        raise ConfigError("--scheduler: only used with --backend dask")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ConfigError(f"--workers: invalid value {workers!r}; allowed: an integer >= 1")
    out = Path(out) if out is not None else REPO / "results" / spec.name
    meta = _check_out(out, spec, resume)

    pts = design_points(spec)
    reps = spec.replications
    total = len(pts) * reps
    chunk_size = spec.chunk_size or default_chunk_size(total)
    n_chunks = math.ceil(total / chunk_size)

    def size(cid: int) -> int:
        return min(chunk_size, total - cid * chunk_size)

    if meta is not None and meta.get("status") == "complete" and (out / "runs.parquet").is_file():
        shutil.rmtree(out / "chunks", ignore_errors=True)
        if progress is not False:
            print(f"gsomia sweep: {out} is already complete", file=sys.stderr)
        return out

    base = load_config(spec.config) | spec.fixed
    n_workers = workers or default_workers()
    client = cluster = None
    if backend == "dask":
        client, cluster = connect_dask(scheduler, n_workers)
    try:
        if meta is None:
            meta = _meta(spec, total, len(pts), chunk_size, n_chunks)
            out.mkdir(parents=True, exist_ok=True)
            write_text_atomic(out / "meta.json", json.dumps(meta, indent=1) + "\n")
            write_text_atomic(out / "spec.toml", spec.text or _spec_toml(spec))
            write_text_atomic(out / "config.toml", spec.config.read_text())
        session = {
            "started": _now(),
            "ended": None,
            "backend": backend,
            "scheduler": scheduler,
            "workers": n_workers if scheduler is None else sum(client.nthreads().values()),
            "host": socket.gethostname(),
            "git": git_state(),
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
        write_text_atomic(out / "meta.json", json.dumps(meta, indent=1) + "\n")

        done = _done_chunks(out, n_chunks, size)
        todo = (cid for cid in range(n_chunks) if cid not in done)

        def chunks() -> Iterator[Chunk]:
            for cid in todo:
                first = cid * chunk_size
                runs = []
                for run_id in range(first, first + size(cid)):
                    pid, rep = divmod(run_id, reps)
                    runs.append((run_id, pid, rep, run_seed(spec.seed, pid, rep), pts[pid]))
                yield Chunk(cid, tuple(runs), base, experiment)

        if backend == "dask":
            results = _imap_dask(chunks(), client)
        elif n_workers == 1:
            results = _imap_inprocess(chunks())
        else:
            results = _imap_pool(chunks(), n_workers)
        already = sum(size(c) for c in done)
        bar = Progress(total, already, progress, f"sweep {spec.name}")
        sch = schema(spec)
        try:
            for cid, rows in results:
                write_table_atomic(pa.Table.from_pylist(rows, schema=sch), chunk_path(out, cid))
                session["runs"] += len(rows)
                bar.update(len(rows))
        except BaseException as exc:
            session["ended"] = _now()
            session["interrupted"] = type(exc).__name__
            write_text_atomic(out / "meta.json", json.dumps(meta, indent=1) + "\n")
            raise
        finally:
            bar.close()
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    counts = merge_chunks(out, spec, n_chunks)
    status = counts.column("status").to_pylist()
    outcome = counts.column("outcome").to_pylist()
    meta["counts"] = {
        "runs": len(status),
        "ok": status.count("ok"),
        "error": status.count("error"),
        "outcomes": {o: outcome.count(o) for o in OUTCOMES if outcome.count(o)},
    }
    meta["status"] = "complete"
    meta["finished"] = session["ended"] = _now()
    write_text_atomic(out / "meta.json", json.dumps(meta, indent=1) + "\n")
    shutil.rmtree(out / "chunks", ignore_errors=True)
    return out


def _spec_toml(spec: SweepSpec) -> str:
    """A TOML rendering of a spec built in code (no file text to copy)."""
    lines = ["[sweep]", f'name = "{spec.name}"', f'config = "{spec.config}"']
    lines += [f'design = "{spec.design}"', f"replications = {spec.replications}"]
    lines += [f"seed = {spec.seed}"]
    if spec.samples is not None:
        lines.append(f"samples = {spec.samples}")
    if spec.design == "saltelli":
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
    return "\n".join(lines) + "\n"


def toml_value(v: Any) -> str:
    """A scalar as a TOML literal: dates bare (as TOML writes them), the rest as JSON,
    whose booleans, numbers and quoted strings are TOML's too."""
    if isinstance(v, date):
        return v.isoformat()
    return json.dumps(v)


def cli_sweep(args: Any) -> int:
    """``gsomia sweep SPEC``: run a sweep; exit 0 when complete, 130 on Ctrl-C, 1 when a
    worker or the cluster failed (finished runs are kept; ``--resume`` completes)."""
    started = time.monotonic()
    out = args.out
    try:
        path = run_sweep(
            args.spec,
            out=out,
            workers=args.workers,
            backend=args.backend,
            scheduler=args.scheduler,
            resume=args.resume,
        )
    except KeyboardInterrupt:
        print(
            "gsomia sweep: interrupted; finished chunks are kept, run the same command with "
            "--resume to complete the sweep",
            file=sys.stderr,
        )
        return 130
    except SweepAborted as exc:
        print(
            f"gsomia sweep: stopped: {exc}; finished chunks are kept, run the same command "
            "with --resume to complete the sweep",
            file=sys.stderr,
        )
        return 1
    meta = json.loads((path / "meta.json").read_text())
    counts = meta["counts"]
    shares = ", ".join(f"{k} {v}" for k, v in counts["outcomes"].items())
    print(
        f"wrote {path}/runs.parquet: {counts['runs']} runs ({counts['ok']} ok, "
        f"{counts['error']} error) in {time.monotonic() - started:.0f} s; outcomes: {shares}"
    )
    print(f"next: gsomia analyze {path}")
    return 0
