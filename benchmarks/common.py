"""Shared pieces: summaries of repeated measurements, the machine description, specs."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from experiments.runner import git_state, package_versions, toml_value

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "configs" / "baseline_2019.toml"
SMOKE = REPO / "configs" / "sweeps" / "smoke.toml"
BENCH = REPO / "configs" / "sweeps" / "bench_2000.toml"
RUN_SEED = 1
"""Seed of the single-run figures (the seed of ``make demo``)."""


def summary(values: Sequence[float], unit: str, **extra: Any) -> dict[str, Any]:
    """Median, min and max of repeated measurements (all values kept)."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("no measurement")
    return {
        "median": statistics.median(vals),
        "min": min(vals),
        "max": max(vals),
        "n": len(vals),
        "unit": unit,
        "values": vals,
        **extra,
    }


def derived(values: Sequence[float], unit: str, **extra: Any) -> dict[str, Any]:
    """A summary of values computed from other measurements (ratios, rates)."""
    return summary(values, unit, derived=True, **extra)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call and its result."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def loadavg() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpu": _cpu_model(),
        "cores": cores(),
        "cpu_count": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "packages": package_versions(),
        "git": git_state(),
        "loadavg": loadavg(),
    }


def _set_keys(lines: list[str], table: str, values: dict[str, str]) -> list[str]:
    """TOML lines with ``values`` (rendered) set in ``table`` (added at the end if absent),
    replacing the keys' old lines."""
    if table not in lines:
        lines = [*lines, "", table]
    head = lines.index(table)
    end = next((i for i in range(head + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    body = [ln for ln in lines[head + 1 : end] if ln.split("=")[0].strip() not in values]
    body = [f"{k} = {v}" for k, v in values.items()] + body
    return lines[: head + 1] + body + lines[end:]


def spec_from(path: Path, name: str, **changes: Any) -> Any:
    """A validated SweepSpec: the TOML of ``path`` with ``name`` and, if given,
    ``replications=``/``seed=`` in [sweep] replaced, ``levels={param: n}`` set in the grid
    and ``fixed={...}`` added to [fixed].
    The edited text is parsed by ``parse_spec`` (the runner's own checks) and kept as the
    spec's text, which the runner copies to its output."""
    from experiments.spec import parse_spec

    sweep = {"name": json.dumps(name)}
    sweep |= {k: str(int(changes[k])) for k in ("replications", "seed") if k in changes}
    fixed = {k: toml_value(v) for k, v in (changes.get("fixed") or {}).items()}
    lines = _set_keys(path.read_text().splitlines(), "[sweep]", sweep)
    for param, levels in (changes.get("levels") or {}).items():
        lines = _set_keys(lines, f"[parameters.{param}]", {"levels": str(int(levels))})
    if fixed:
        lines = _set_keys(lines, "[fixed]", fixed)
    text = "\n".join(lines) + "\n"
    return parse_spec(tomllib.loads(text), path, text)


def n_runs(spec: Any) -> int:
    """Runs in a sweep spec."""
    from experiments.designs import n_points

    return n_points(spec) * spec.replications
