"""A sweep's output directory: the row schema, chunk files, meta.json, the writer's lock and
the merge into runs.parquet.

Layout: ``DIR/meta.json`` (spec, provenance, sessions, counts), ``DIR/spec.toml``,
``DIR/config.toml``, ``DIR/chunks/part-NNNNN.parquet`` while running (each written whole
or not at all) and ``DIR/runs.parquet`` at the end. ``DIR/.lock`` is held (``flock``) by
the one process writing; the kernel releases it when that process dies, whatever killed it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from experiments.atomic import check_out_dir, write_text_atomic
from experiments.boundary import Failed
from experiments.integrity import file_sha256, read_sealed, rows_sha256, seal
from experiments.outcomes import result_columns
from experiments.spec import SweepSpec
from model.parameters import ConfigError

FORMAT = 2
"""Version of the output layout and row schema; a resume refuses other versions (2: sealed
meta.json, chunks stamped with the sweep's fingerprint and their rows' checksum)."""
SWEEP_KEY = b"gsomia.sweep"
"""Chunk metadata: the fingerprint of the sweep that wrote it."""
ROWS_KEY = b"gsomia.rows"
"""Chunk metadata: the SHA-256 of its rows (``experiments.integrity.rows_sha256``)."""
LOCK_NAME = ".lock"
MERGE_ROW_GROUP = 65_536
"""Rows per row group of runs.parquet: the file's layout does not depend on the chunking."""

ID_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("run_id", pa.int64()),
    ("point_id", pa.int64()),
    ("replication", pa.int64()),
    ("seed", pa.int64()),
)
STATUS_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("status", pa.string()),
    ("error", pa.string()),
)


def schema(spec: SweepSpec) -> pa.Schema:
    """The row schema of runs.parquet (and of every chunk)."""
    varied = [(p.name, pa.int64() if p.kind is int else pa.float64()) for p in spec.parameters]
    return pa.schema([*ID_COLUMNS, *varied, *result_columns(spec.actors), *STATUS_COLUMNS])


CHUNKS_PER_WORKER = 8
"""Chunks per worker by default. Each chunk is a Parquet file written, read back by the
merge and removed, and a message between processes: a few milliseconds, which for a
120-run sweep in chunks of one run was a tenth of its time. Eight per worker keep the
workers busy to the end (the last chunks are short next to a worker's share), and a resume
redoes at most one chunk per worker."""
MAX_CHUNK = 50


def default_chunk_size(total: int, workers: int = 1) -> int:
    """About ``CHUNKS_PER_WORKER`` chunks per worker, 1 to ``MAX_CHUNK`` runs each. A
    sweep records its chunk size, and a resume keeps it, so it may follow the workers."""
    return max(1, min(MAX_CHUNK, math.ceil(total / (CHUNKS_PER_WORKER * max(1, workers)))))


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


def chunk_table(rows: list[dict[str, Any]], sch: pa.Schema, fingerprint: str) -> pa.Table:
    """A chunk's rows as a table stamped with the sweep's fingerprint and the rows'
    checksum (Parquet key-value metadata): a resume and the merge recognise a chunk of
    another sweep, or one changed since, by them."""
    table = pa.Table.from_pylist(rows, schema=sch)
    stamp = {SWEEP_KEY: fingerprint.encode(), ROWS_KEY: rows_sha256(table.to_pylist()).encode()}
    return table.replace_schema_metadata(stamp)


def stamp_problem(
    path: Path, table: pa.Table, fingerprint: str, schema: pa.Schema | None = None
) -> str:
    """Why the chunk at ``path`` (read as ``table``; its file's ``schema``, read here when
    not given) is not this sweep's as written: '' when it is."""
    meta = (pq.read_schema(path) if schema is None else schema).metadata or {}
    if SWEEP_KEY not in meta or ROWS_KEY not in meta:
        return "carries no sweep fingerprint or checksum (not written by this sweep)"
    if meta[SWEEP_KEY] != fingerprint.encode():
        return "was written by another sweep (its fingerprint differs)"
    if meta[ROWS_KEY] != rows_sha256(table.to_pylist()).encode():
        return "changed since it was written (its rows do not match their checksum)"
    return ""


def expected_ids(cid: int, chunk_size: int, total: int) -> range:
    """The run ids chunk ``cid`` must hold, in order."""
    first = cid * chunk_size
    return range(first, min(first + chunk_size, total))


def is_temp_file(path: Path) -> bool:
    """A file an atomic write writes before its rename: hidden, ending in ``.tmp``."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def remove_temp_files(folder: Path) -> None:
    """Remove the temporary files a kill during a write left in ``folder`` (call under
    the sweep's lock: no other writer is running)."""
    for f in folder.iterdir():
        if is_temp_file(f) and f.is_file():
            f.unlink(missing_ok=True)


def done_chunks(
    out: Path,
    n_chunks: int,
    chunk_size: int,
    total: int,
    fingerprint: str,
    removed: list[str] | None = None,
) -> set[int]:
    """Chunk ids whose file is on disk, readable, holding exactly its run ids and stamped
    by this sweep with its rows' checksum (any other file in chunks/ is removed, to be
    recomputed: a damaged chunk, a neighbour's copy, another sweep's; ``removed`` gets
    each one's name and why)."""
    folder = out / "chunks"
    done: set[int] = set()
    if not folder.is_dir():
        return done
    remove_temp_files(folder)
    for f in sorted(folder.iterdir()):
        if not (f.name.startswith("part-") and f.name.endswith(".parquet")):
            continue
        try:
            cid = int(f.name[5:-8])
            table = pq.read_table(f)
            ids = table.column("run_id").to_pylist()
            why = stamp_problem(f, table, fingerprint)
        except (ValueError, OSError, KeyError, pa.ArrowException) as exc:
            why = f"unreadable: {type(exc).__name__}"
        else:
            if not 0 <= cid < n_chunks:
                why = "numbered past the sweep's last chunk"
            elif not why and ids != list(expected_ids(cid, chunk_size, total)):
                why = f"holds run ids {_span(ids)}"
        if why:
            f.unlink(missing_ok=True)
            if removed is not None:
                removed.append(f"{f.name} ({why})")
        else:
            done.add(cid)
    return done


def read_meta(out: Path) -> dict[str, Any]:
    """``DIR/meta.json`` as a dict; ConfigError naming the file when it is not the one a
    sweep wrote (missing, not JSON, edited: its seal, ``experiments.integrity``)."""
    return read_sealed(out / "meta.json", "meta.json a gsomia sweep wrote", FORMAT)


def check_runs_file(out: Path, meta: dict[str, Any]) -> None:
    """ConfigError unless ``DIR/runs.parquet`` is the file the sweep wrote (its SHA-256 is
    the one meta.json recorded at the merge)."""
    path = out / "runs.parquet"
    if file_sha256(path) != meta.get("runs_sha256"):
        raise ConfigError(
            f"{path}: changed since the sweep wrote it (its SHA-256 differs from 'runs_sha256' "
            f"in {out / 'meta.json'}); allowed: the runs.parquet the sweep wrote (run the sweep "
            "again into a new --out)"
        )


def write_meta(out: Path, meta: dict[str, Any]) -> None:
    """Replace meta.json atomically, sealed with its checksum."""
    write_text_atomic(out / "meta.json", json.dumps(seal(meta), indent=1) + "\n")


def _entries(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name != LOCK_NAME]


def check_out(out: Path, fingerprint: str, spec_name: str, resume: bool) -> dict[str, Any] | None:
    """Refuse to overwrite; on resume return the stored meta (None: start afresh)."""
    check_out_dir(out)
    if not out.exists() or not _entries(out):
        return None
    if not (out / "meta.json").is_file():
        raise ConfigError(
            f"--out: {out} is not empty and holds no sweep (no meta.json); refusing to "
            "write into it; choose another --out"
        )
    meta = read_meta(out)
    if not resume:
        if meta.get("status") == "complete":
            raise ConfigError(
                f"--out: {out} holds a finished sweep ({meta.get('runs_total')} runs); "
                "refusing to overwrite it; choose another --out (or delete it)"
            )
        raise ConfigError(
            f"--out: {out} holds an unfinished sweep; pass --resume to finish it (when no "
            "other gsomia sweep is writing there), or choose another --out"
        )
    if meta.get("fingerprint") != fingerprint:
        raise ConfigError(
            f"--resume: {out} was started from a different spec or base config than "
            f"{spec_name}; allowed: the same spec (see {out}/spec.toml)"
        )
    if not isinstance(meta.get("sessions"), list):
        raise ConfigError(f"{out}/meta.json: invalid value for 'sessions'; allowed: a list")
    return meta


_LOCK_FDS: set[int] = set()
"""Descriptors of the writer locks this process holds."""


def _drop_inherited_locks() -> None:
    """In a forked child (a pool worker), close the writer locks' descriptors: the lock
    stays the parent's alone, so it is gone as soon as the parent is, not when the last
    worker exits."""
    for fd in _LOCK_FDS:
        with contextlib.suppress(OSError):
            os.close(fd)
    _LOCK_FDS.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


@contextlib.contextmanager
def writer_lock(out: Path, command: str = "sweep") -> Iterator[None]:
    """Hold ``DIR/.lock`` while writing: a second writer is refused (exit 1) while this one
    runs; the lock dies with the process, so a killed sweep leaves nothing stale."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    _LOCK_FDS.add(fd)
    locked = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise Failed(
                f"another gsomia {command} (pid {holder}) is writing to {out}; wait for it to "
                "finish (or stop it), then run the same command with --resume"
            ) from exc
        locked = True
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        if locked:
            path.unlink(missing_ok=True)
            if created and not _entries(out):  # nothing written: leave nothing
                with contextlib.suppress(OSError):
                    out.rmdir()
        _LOCK_FDS.discard(fd)
        os.close(fd)  # releases the lock


def merge_chunks(
    out: Path, spec: SweepSpec, n_chunks: int, chunk_size: int, total: int
) -> pa.Table:
    """Stream the chunks, in run-id order, into runs.parquet (atomic; at most one row
    group in memory); check that they hold every run id exactly once; return the (status,
    outcome) columns for the counts. A chunk that fails the check is removed and ``Failed``
    says to resume (which recomputes it)."""
    sch = schema(spec)
    fingerprint = spec.fingerprint()
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
                path = chunk_path(out, cid)
                ids = expected_ids(cid, chunk_size, total)
                table = _read_chunk(path, sch, ids, fingerprint)
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


def _read_chunk(path: Path, sch: pa.Schema, ids: range, fingerprint: str) -> pa.Table:
    why = ""
    try:
        # Read with the sweep's schema (compatible types are cast to it), but a missing
        # column would come back as nulls: a chunk without one is not this sweep's.
        stored = pq.read_schema(path)
        names = set(stored.names)
        missing = [n for n in sch.names if n not in names]
        table = pq.read_table(path, schema=sch)
        got = table.column("run_id").to_pylist()
        if missing:
            why = f"lacks the columns {', '.join(missing)}"
        elif got != list(ids):
            why = f"holds run ids {_span(got)} instead of {_span(list(ids))}"
        else:
            why = stamp_problem(path, table, fingerprint, stored)
    except FileNotFoundError:
        why = "is missing"
    except (OSError, pa.ArrowException) as exc:
        why = f"is unreadable ({exc})"
    if why:
        path.unlink(missing_ok=True)
        raise Failed(
            f"chunk {path.name} {why}; it was removed; run the same command with --resume to "
            "recompute it"
        )
    return table


def _span(ids: list[int]) -> str:
    if not ids:
        return "none"
    return f"{ids[0]}..{ids[-1]} ({len(ids)} rows, {len(set(ids))} distinct)"


def sizes(chunk_size: int, total: int) -> Callable[[int], int]:
    """Rows of chunk ``cid``."""
    return lambda cid: len(expected_ids(cid, chunk_size, total))
