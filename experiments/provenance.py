"""Provenance of a run, sweep or fit: the model's version, package versions, the code's git
state, host and time."""

from __future__ import annotations

import platform
import socket
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from model.version import __version__

REPO = Path(__file__).resolve().parents[1]

PACKAGES = (
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
    """Versions of the packages a sweep's or a fit's results depend on: the model's own
    (``model.__version__``, the code that ran: an editable install's metadata keeps the
    version it was installed with) and the installed versions of the others."""
    out: dict[str, str | None] = {"python": platform.python_version(), "gsomia": __version__}
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


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def host() -> dict[str, str]:
    """The machine a sweep runs on."""
    return {"host": socket.gethostname(), "platform": platform.platform()}
