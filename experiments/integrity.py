"""Checksums that make a sweep's or fit's bookkeeping trustworthy after the fact.

- A JSON record (``meta.json``, ``fit.json``) is *sealed* when written: its ``checksum``
  is the SHA-256 of the rest of it in canonical JSON (sorted keys, no spaces). Reading it
  back checks the seal, so an edited spec (``replications = 9``) or a hand-written
  ``"sessions": [1]`` is refused naming the file, before anything trusts it.
- Rows (a sweep's chunk, a fit's generation) carry the SHA-256 of their canonical JSON
  (``rows_sha256``), recorded when they are written and compared when they are read.
- A finished file (``runs.parquet``) is fingerprinted whole (``file_sha256``).

Canonical JSON is stable across library versions (Python's float repr round-trips), so a
checksum written by one installation is checked by another.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from model.parameters import ConfigError

CHECKSUM = "checksum"
"""The key of a sealed record's checksum."""


def canonical(value: Any) -> bytes:
    """``value`` as canonical JSON bytes (sorted keys, no spaces, NaN as ``NaN``)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def digest(value: Any) -> str:
    """SHA-256 (hex) of ``value``'s canonical JSON."""
    return hashlib.sha256(canonical(value)).hexdigest()


def seal(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` with ``CHECKSUM``: the digest of the rest of it."""
    rest = {k: v for k, v in record.items() if k != CHECKSUM}
    return {**rest, CHECKSUM: digest(rest)}


def read_sealed(path: Path, what: str, version: int) -> dict[str, Any]:
    """A sealed JSON object from ``path`` whose ``format`` is ``version``; ConfigError naming
    the file when it is missing, not JSON, not an object, of another format (written by
    another version of gsomia, perhaps unsealed) or not as it was written (no checksum,
    or another one)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: missing; allowed: the {what}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"{path}: unreadable ({type(exc).__name__}: {exc}); allowed: the {what}"
        ) from exc
    if not isinstance(record, dict):
        raise ConfigError(
            f"{path}: invalid value {record!r:.60} (a JSON {type(record).__name__}); allowed: "
            f"the JSON object of the {what}"
        )
    if record.get("format") != version:
        raise ConfigError(
            f"{path}: invalid value {record.get('format')!r} for 'format' (written by another "
            f"version of gsomia); allowed: {version}, what this version writes (start again "
            "into a new --out)"
        )
    stored = record.get(CHECKSUM)
    rest = {k: v for k, v in record.items() if k != CHECKSUM}
    if stored != digest(rest):
        why = "it has no checksum" if stored is None else "its checksum does not match it"
        raise ConfigError(
            f"{path}: changed since gsomia wrote it ({why}); allowed: the {what} as written "
            "(restore it, or start again into a new --out)"
        )
    return rest


def rows_sha256(rows: list[dict[str, Any]]) -> str:
    """SHA-256 of rows (``pyarrow.Table.to_pylist()``, particles...) in canonical JSON."""
    return digest(rows)


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()
