"""Writing files whole or not at all: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename, so a reader (or a
    resumed sweep) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, 0o644)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files_atomic(folder: Path, files: dict[str, str]) -> None:
    """Write several text files into ``folder``, all or none: each goes to a temporary
    file first (a full disk or a permission error stops before any final name exists),
    then all are renamed into place."""
    folder.mkdir(parents=True, exist_ok=True)
    tmps: dict[str, str] = {}
    try:
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
            tmps[name] = tmp
            os.chmod(tmp, 0o644)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
        for name, tmp in tmps.items():
            os.replace(tmp, folder / name)
    except BaseException:
        for tmp in tmps.values():
            Path(tmp).unlink(missing_ok=True)
        raise


def check_out_dir(out: Path) -> None:
    """``--out``: refuse, before any work, a path that is not and cannot become a
    directory: a file, a symbolic link to a missing target (creating it would fail with
    "File exists"), or a path under a file."""
    from model.parameters import ConfigError

    allowed = "allowed: a directory (new or existing) or a link to an existing one"
    if out.is_symlink() and not out.exists():
        raise ConfigError(
            f"--out: {out} is a symbolic link to {os.readlink(out)}, which does not exist; "
            f"{allowed} (create the link's target first, or choose another --out)"
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out: {out} exists and is not a directory; {allowed}")
    for parent in out.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"--out: {parent} (in {out}) is not a directory; {allowed}")
            break
