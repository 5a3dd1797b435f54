"""Import the repo-root ``app.py`` (the Solara page is a script, not part of an installed
package) once per test session, for the in-process and the browser tests alike."""

from __future__ import annotations

from types import ModuleType

from experiments import serve


def load_app() -> ModuleType:
    """The ``app`` module (``experiments.serve.load_app``: reused if already imported)."""
    return serve.load_app()
