"""Import the repo-root ``app.py`` (the Solara page is a script, not part of an installed
package) once per test session, for the in-process and the browser tests alike."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def load_app() -> ModuleType:
    """The ``app`` module, imported from ``REPO/app.py`` (reused if already imported)."""
    module = sys.modules.get("app")
    if module is not None and getattr(module, "__file__", "") == str(REPO / "app.py"):
        return module
    spec = importlib.util.spec_from_file_location("app", REPO / "app.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {REPO / 'app.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    return module
