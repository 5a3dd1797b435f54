"""A fit's output directory: ``fit.json`` (what was fitted, with which seed; budget spent),
pyabc's history ``history.db`` (SQLite, one row per particle of every finished
generation), and the outputs ``posterior.parquet``, ``fitted.toml``, ``pairs.png`` and
``report.md`` (written last). ``DIR/.lock`` is held by the one fit writing there."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.atomic import check_out_dir, write_text_atomic
from model.parameters import ConfigError

FORMAT = 1
META = "fit.json"
HISTORY = "history.db"
OUTPUTS = ("posterior.parquet", "fitted.toml", "pairs.png", "report.md")


def db_url(out: Path) -> str:
    """The SQLAlchemy URL of the fit's pyabc history."""
    return f"sqlite:///{(out / HISTORY).resolve()}"


def read_meta(out: Path) -> dict[str, Any]:
    """``DIR/fit.json``; ConfigError when it is not a fit's."""
    path = out / META
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"{path}: unreadable ({type(exc).__name__}); allowed: a fit's {META}"
        ) from exc
    if not isinstance(meta, dict):
        raise ConfigError(f"{path}: invalid content; allowed: a fit's {META}")
    return meta


def write_meta(out: Path, meta: dict[str, Any]) -> None:
    """Write ``DIR/fit.json`` whole or not at all."""
    write_text_atomic(out / META, json.dumps(meta, indent=1) + "\n")


def check_out(out: Path, fingerprint: str, seed: int, name: str, resume: bool) -> dict | None:
    """Refuse a DIR that is not ours to write; on resume return its meta (None: afresh)."""
    check_out_dir(out)
    if not out.exists() or not [p for p in out.iterdir() if p.name != ".lock"]:
        return None
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
    if meta.get("format") != FORMAT:
        raise ConfigError(
            f"--resume: {out} was written by another version of gsomia fit (format "
            f"{meta.get('format')!r}, this one writes {FORMAT}); choose another --out"
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
