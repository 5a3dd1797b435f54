"""A fit's output directory: ``fit.json`` (what was fitted, with which seed; budget spent;
the checksum of every stored generation), pyabc's history ``history.db`` (SQLite, one row
per particle of every finished generation), and the outputs ``posterior.parquet``,
``fitted.toml``, ``pairs.png`` and ``report.md`` (written last). ``DIR/.lock`` is held by
the one fit writing there.

The history is never written in place: each generation runs on a copy (``STAGING``) that
replaces ``history.db`` by a rename once the generation is stored whole and its checksum
is recorded in fit.json, so a fault at any point (a full disk, ``kill -9``, Ctrl-C) leaves
the last whole generation or nothing new. The history it replaces is kept as
``history.prev.db`` (one generation back). Before a fit resumes, the history is checked
(an SQLite file, SQLite's own check, pyabc's schema version, every generation whole and
matching its checksum); a damaged one is named with the command that recovers:
``--resume --repair`` restarts from the last whole generation it can verify (the previous
history) or from scratch.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.atomic import check_out_dir, write_text_atomic
from experiments.integrity import digest, read_sealed, seal
from experiments.storage import is_temp_file
from model.parameters import ConfigError

FORMAT = 2
"""2: sealed fit.json with each generation's checksum; the history replaced whole."""
META = "fit.json"
HISTORY = "history.db"
PREVIOUS = "history.prev.db"
"""The history one generation back: what ``--repair`` restores when history.db is damaged."""
STAGING = ".history.db.tmp"
"""The copy a generation runs on (with SQLite's journal beside it while it writes)."""
DAMAGED = "history.db.damaged"
"""Where ``--repair`` moves a damaged history (kept for a look, never read)."""
OUTPUTS = ("posterior.parquet", "fitted.toml", "pairs.png", "report.md")
SQLITE_HEADER = b"SQLite format 3\x00"


def db_url(out: Path, name: str = HISTORY) -> str:
    """The SQLAlchemy URL of the fit's pyabc history (or of another file in ``out``)."""
    return f"sqlite:///{(out / name).resolve()}"


def read_meta(out: Path) -> dict[str, Any]:
    """``DIR/fit.json``; ConfigError naming it when it is not the one a fit wrote."""
    meta = read_sealed(out / META, f"{META} gsomia fit wrote", FORMAT)
    if not isinstance(meta.get("sessions"), list) or not isinstance(
        meta.get("generations", []), list
    ):
        raise ConfigError(f"{out / META}: invalid content; allowed: the {META} a fit wrote")
    return meta


def write_meta(out: Path, meta: dict[str, Any]) -> None:
    """Write ``DIR/fit.json`` whole or not at all, sealed with its checksum."""
    write_text_atomic(out / META, json.dumps(seal(meta), indent=1) + "\n")


# ---- the history: checks, checksums, staging, repair -----------------------------------------
def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=5)


def generation_digest(con: sqlite3.Connection, t: int) -> str:
    """SHA-256 of generation ``t`` of run 1 as stored: epsilon, simulations and every
    particle (weight, parameters, distance, summary statistics), independent of row ids."""
    pop = con.execute(
        "SELECT id, epsilon, nr_samples FROM populations WHERE abc_smc_id = 1 AND t = ?", (t,)
    ).fetchone()
    particles: dict[int, dict[str, Any]] = {}
    rows = con.execute(
        "SELECT pa.id, pa.w FROM particles pa JOIN models m ON pa.model_id = m.id "
        "WHERE m.population_id = ?",
        (pop[0],),
    )
    for pid, w in rows:
        particles[pid] = {"w": w, "parameters": {}, "samples": []}
    for pid, name, value in con.execute(
        "SELECT pr.particle_id, pr.name, pr.value FROM parameters pr JOIN particles pa ON "
        "pr.particle_id = pa.id JOIN models m ON pa.model_id = m.id WHERE m.population_id = ?",
        (pop[0],),
    ):
        particles[pid]["parameters"][name] = value
    samples: dict[int, dict[str, Any]] = {}
    for sid, pid, distance in con.execute(
        "SELECT s.id, s.particle_id, s.distance FROM samples s JOIN particles pa ON "
        "s.particle_id = pa.id JOIN models m ON pa.model_id = m.id WHERE m.population_id = ?",
        (pop[0],),
    ):
        samples[sid] = {"distance": distance, "stats": {}}
        particles[pid]["samples"].append(samples[sid])
    for sid, name, value in con.execute(
        "SELECT ss.sample_id, ss.name, ss.value FROM summary_statistics ss JOIN samples s ON "
        "ss.sample_id = s.id JOIN particles pa ON s.particle_id = pa.id JOIN models m ON "
        "pa.model_id = m.id WHERE m.population_id = ?",
        (pop[0],),
    ):
        samples[sid]["stats"][name] = value.hex() if isinstance(value, bytes) else value
    body = sorted(digest(p) for p in particles.values())
    return digest({"t": t, "epsilon": pop[1], "simulations": pop[2], "particles": body})


def inspect_history(path: Path, population: int) -> tuple[int, list[str], str]:
    """(whole generations, their checksums, '' or why the history at ``path`` is damaged):
    an SQLite file that passes SQLite's check, in pyabc's schema version, with one run,
    generations 0..k-1 after the prior sample, each of ``population`` particles."""
    from pyabc.storage.version import __db_version__

    try:
        with open(path, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return 0, [], "it is missing"
    except OSError as exc:
        return 0, [], f"unreadable ({exc.strerror})"
    if header != SQLITE_HEADER:
        return 0, [], "not an SQLite database (garbage, or another kind of file)"
    try:
        with contextlib.closing(_connect(path)) as con:
            check = con.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                return 0, [], f"SQLite finds it damaged ({check})"
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            versions = (
                [str(r[0]) for r in con.execute("SELECT version_num FROM version")]
                if "version" in tables
                else []
            )
            if versions != [__db_version__]:
                found = ", ".join(versions) or "none"
                return (
                    0,
                    [],
                    (
                        f"pyabc schema version {found}, this pyabc reads {__db_version__} (created "
                        "only in part, or by another pyabc)"
                    ),
                )
            runs = [r[0] for r in con.execute("SELECT id FROM abc_smc")]
            if runs != [1]:
                return 0, [], f"it holds runs {runs} instead of one (run 1)"
            ts = [r[0] for r in con.execute("SELECT t FROM populations ORDER BY t")]
            generations = [t for t in ts if t >= 0]
            if generations != list(range(len(generations))) or (generations and -1 not in ts):
                return 0, [], f"its generations {ts} are not the prior sample then 0, 1, 2..."
            sums = []
            for t in generations:
                (n,) = con.execute(
                    "SELECT count(*) FROM particles pa JOIN models m ON pa.model_id = m.id "
                    "JOIN populations p ON m.population_id = p.id WHERE p.t = ?",
                    (t,),
                ).fetchone()
                if n != population:
                    return t, sums, f"generation {t} holds {n} particles, not {population}"
                sums.append(generation_digest(con, t))
    except sqlite3.Error as exc:
        return 0, [], f"SQLite cannot read it ({exc})"
    return len(sums), sums, ""


def check_history(path: Path, meta: dict[str, Any], population: int) -> tuple[int, str]:
    """(whole generations that match fit.json's checksums, '' or why the history at
    ``path`` is damaged). Generations fit.json records beyond the history's (a kill
    between recording a generation and storing it) are not an error: they are redone."""
    records = [r.get("sha256") for r in meta.get("generations", [])]
    if not path.exists():
        return 0, "it is missing" if records else ""
    k, sums, problem = inspect_history(path, population)
    if problem:
        return k, problem
    for t, s in enumerate(sums):
        if t >= len(records):
            return t, f"generation {t} is not recorded in {META}"
        if records[t] != s:
            return t, f"generation {t} does not match its checksum in {META}"
    return k, ""


def clean_staging(out: Path) -> None:
    """Remove what a generation cut short left: the staging copy and its SQLite journal."""
    for f in out.glob(f"{STAGING}*"):
        f.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_history(out: Path) -> Any:
    """A copy of the history (none before the first generation) for a generation to run
    on; removed on the way out unless ``commit_history`` put it in place."""
    clean_staging(out)
    staging = out / STAGING
    try:
        if (out / HISTORY).exists():
            try:
                shutil.copyfile(out / HISTORY, staging)
            except OSError as exc:  # name the copy being written, not its source
                raise OSError(exc.errno, exc.strerror, str(staging)) from exc
        yield staging
    finally:
        clean_staging(out)


def commit_history(out: Path, meta: dict[str, Any], population: int, generations: int) -> None:
    """Put the staging copy in place: check it holds ``generations`` whole generations,
    record the new one's checksum in fit.json (first: a kill after it leaves a record
    the next resume drops), keep the current history as history.prev.db, rename."""
    staging = out / STAGING
    k, sums, problem = inspect_history(staging, population)
    if problem or k != generations:
        raise RuntimeError(f"the generation just run was not stored whole ({problem or k})")
    meta["generations"] = [{"t": t, "sha256": s} for t, s in enumerate(sums)]
    write_meta(out, meta)
    with open(staging, "rb+") as fh:
        os.fsync(fh.fileno())
    if (out / HISTORY).exists():
        link = out / f"{STAGING}.prev"
        link.unlink(missing_ok=True)
        os.link(out / HISTORY, link)
        os.replace(link, out / PREVIOUS)
    os.replace(staging, out / HISTORY)


def repair_history(out: Path, meta: dict[str, Any], population: int) -> str:
    """Restart a damaged history from the last whole generation that verifies (the
    previous history, one generation back) or from scratch; the damaged file is moved to
    history.db.damaged. Returns what it did."""
    path = out / HISTORY
    k, problem = check_history(path, meta, population)
    if not problem:
        return f"{path} verifies ({k} whole generations); nothing to repair"
    if path.exists():
        os.replace(path, out / DAMAGED)
    pk, pproblem = check_history(out / PREVIOUS, meta, population)
    if (out / PREVIOUS).exists() and not pproblem:
        shutil.copyfile(out / PREVIOUS, out / STAGING)
        os.replace(out / STAGING, path)
        meta["generations"] = meta["generations"][:pk]
        write_meta(out, meta)
        return (
            f"{path} was damaged ({problem}); restarted from {out / PREVIOUS} ({pk} whole "
            "generations)"
        )
    (out / PREVIOUS).unlink(missing_ok=True)
    meta["generations"] = []
    write_meta(out, meta)
    return f"{path} was damaged ({problem}) and no earlier history verifies; restarted from scratch"


def damaged_message(
    out: Path, meta: dict[str, Any], population: int, why: str, command: str
) -> str:
    """What ``Failed`` says of a damaged history: the file, why, and the command that
    recovers (with what it would restart from)."""
    pk, pproblem = check_history(out / PREVIOUS, meta, population)
    start = (
        f"from generation {pk} ({out / PREVIOUS}, the last whole generation it verifies)"
        if (out / PREVIOUS).exists() and not pproblem
        else "from scratch (no whole generation can be verified)"
    )
    again = (
        f"`{command} --resume --repair`" if command else "the same command with --resume --repair"
    )
    return f"{out / HISTORY} is damaged ({why}); run {again}: it restarts {start}"


def is_disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether ``exc`` (or what it arose from) is the disk filling up: an ENOSPC, SQLite's
    SQLITE_FULL, or an SQLite I/O error or pyabc/SQLAlchemy failure on a filesystem with
    no room left (SQLite and SQLAlchemy often report the full disk only as that)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    storage_error = False
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        code = getattr(e, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_FULL:
            return True
        if "disk is full" in str(e) or "No space left" in str(e):
            return True
        module = type(e).__module__ or ""
        if isinstance(e, sqlite3.Error | OSError) or module.startswith(("sqlalchemy", "pyabc")):
            storage_error = True
        stack += [e.__cause__, e.__context__, getattr(e, "orig", None)]
    if not storage_error:
        return False
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < 256 * 1024


def check_out(out: Path, fingerprint: str, seed: int, name: str, resume: bool) -> dict | None:
    """Refuse a DIR that is not ours to write; on resume return its meta (None: afresh)."""
    check_out_dir(out)
    if not out.exists() or not [
        p for p in out.iterdir() if p.name != ".lock" and not is_temp_file(p)
    ]:
        return None  # nothing, or only what a kill during the first write left
    if not (out / META).is_file():
        raise ConfigError(
            f"--out: {out} is not empty and holds no fit (no {META}); refusing to write into "
            "it; choose another --out"
        )
    meta = read_meta(out)
    if not resume:
        raise ConfigError(
            f"--out: {out} holds a fit of {meta.get('targets_name')!r}; pass --resume to "
            "continue it, or choose another --out"
        )
    if meta.get("fingerprint") != fingerprint:
        raise ConfigError(
            f"--resume: {out} holds a fit of other targets than {name} (the targets file or "
            f"a scenario it names changed; see {out}/targets.toml); allowed: the same "
            "targets, or another --out"
        )
    if meta.get("seed") != seed:
        raise ConfigError(
            f"--resume: invalid value {seed} for '--seed' ({out} was started with seed "
            f"{meta.get('seed')!r}); allowed: --seed {meta.get('seed')!r}"
        )
    return meta


def write_parquet_atomic(path: Path, df: pd.DataFrame) -> None:
    """A DataFrame to Parquet via a temporary file and a rename."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(buf.getvalue())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def fitted_toml(point: dict[str, float], header: str) -> str:
    """A point estimate as a ``[parameters]`` table (scenario overrides)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += ["[parameters]"]
    lines += [f"{k} = {float(v)!r}" for k, v in point.items()]
    return "\n".join(lines) + "\n"
