"""Experiments on the GSOMIA model: the CLI, calibration, sweeps and their analysis.

``from experiments import run_sweep, run_many, run_one, analyze`` (loaded on first use, so the
``gsomia`` command starts fast).
"""

from typing import Any

_LAZY = {
    "run_sweep": "experiments.runner",
    "run_many": "experiments.runner",
    "run_one": "experiments.runner",
    "analyze": "experiments.analysis",
}


def __getattr__(name: str) -> Any:
    """Import ``run_sweep``, ``run_many``, ``run_one`` and ``analyze`` on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'experiments' has no attribute {name!r}")
