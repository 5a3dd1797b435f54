"""The printed table and the targets of the issue (reported, never enforced)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

RUN_TARGET_S = 0.010
BARE_MESA_TARGET = 60.0
SWEEP_RATE_TARGET = 120.0
SPEEDUP_TARGET = 1.8
MEMORY_TARGET = 0.2
MEMORY_TARGET_RUNS = 20_000
OVERHEAD_TARGET = 0.10
VS_BATCH_RUN_TARGET = 1.5
"""A sweep on all workers against mesa.batch_run on as many processes (issue 17)."""
WORKER_MEMORY_TARGET_MIB = 300.0
FIT_BASELINE_S = 3060.0
"""The shipped evidence_2019 fit before issue 17: 51 minutes on 2 workers (13,278
simulations at 4.3 a second)."""
FIT_SPEEDUP_TARGET = 5.0


def measurements(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every summary (a dict with median/min/max) under ``node``, with its dotted path."""
    if isinstance(node, dict):
        if {"median", "min", "max"} <= node.keys():
            yield path, node
            return
        for key, value in node.items():
            if key in ("profile", "construction_profile", "functions", "hottest_own_time"):
                continue
            yield from measurements(value, f"{path}.{key}" if path else str(key))


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 0.01:
        return f"{x:.3f}"
    return f"{x:.2e}"


def table(result: dict[str, Any]) -> str:
    """The figures as aligned text: one line per measurement, then the step split."""
    rows = [("measurement", "median", "min", "max", "unit", "n")]
    for name, fig in result["figures"].items():
        for path, m in measurements(fig):
            rows.append(
                (
                    f"{name}.{path}",
                    _fmt(m["median"]),
                    _fmt(m["min"]),
                    _fmt(m["max"]),
                    m["unit"],
                    str(m["n"]),
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if i == 0:
            lines.append("-" * len(lines[0]))
    prof = result["figures"].get("run", {}).get("profile")
    if prof:
        lines += ["", f"monthly step split (cProfile, {prof['steps']} steps):"]
        for group, g in prof["split"].items():
            lines.append(
                f"  {group:<16} {g['share']:6.1%}  {g.get('ms_per_step_unprofiled', 0):7.2f} "
                f"ms/step (unprofiled)   {g['ms_per_step']:7.2f} ms/step (profiled)"
            )
        lines.append("  nested (inside decisions, overlapping):")
        for label, d in prof["nested"].items():
            lines.append(f"    {label:<46} {d['share']:6.1%}  {d['ms_per_step']:7.2f} ms/step")
    cons = result["figures"].get("run", {}).get("construction_profile")
    if cons:
        lines += [
            "",
            f"config load + construction (cProfile, {cons['ms_per_run_profiled']:.2f} ms):",
        ]
        for c in cons["callees"][:5]:
            lines.append(
                f"    {c['function']:<46} {c['share']:6.1%}  {c['ms_per_run']:7.2f} ms/run"
            )
    scaling = result["figures"].get("scaling", {})
    if scaling.get("remarks"):
        lines += ["", "scaling:"] + [f"  {r}" for r in scaling["remarks"]]
    targets = result.get("targets") or {}
    if targets:
        lines += ["", "targets (reported, not enforced):"]
        for name, t in targets.items():
            state = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
            lines.append(f"  {state:<7} {name}: {t['value']} (target {t['target']})")
    return "\n".join(lines)


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The issue's targets against the medians measured (None where not measured)."""
    figs = result["figures"]
    out: dict[str, dict[str, Any]] = {}

    def add(name: str, value: float | None, target: str, met: bool | None, note: str) -> None:
        out[name] = {
            "value": None if value is None else round(value, 4),
            "target": target,
            "met": met,
            "note": note,
        }

    run = _get(figs, "run", "measurements", "run_total_s", "median")
    add(
        "one_run",
        run,
        f"<= {RUN_TARGET_S} s median",
        None if run is None else run <= RUN_TARGET_S,
        "baseline-2019 run, config load to outcome",
    )
    bare = _get(figs, "run", "measurements", "ratio_to_bare_mesa", "median")
    add(
        "one_run_vs_bare_mesa",
        bare,
        f"<= {BARE_MESA_TARGET:g}x a bare 5-agent Mesa loop",
        None if bare is None else bare <= BARE_MESA_TARGET,
        "same process, same number of monthly steps",
    )
    design = _get(figs, "throughput", "design")
    workers = _get(design, "workers")
    rate = _get(design, "runs_per_s", f"runner_{workers}", "median")
    add(
        "sweep_rate",
        rate,
        f">= {SWEEP_RATE_TARGET:g} runs/s on all workers",
        None if rate is None else rate >= SWEEP_RATE_TARGET,
        f"runner on {workers} workers, design {_get(design, 'spec')}",
    )
    speed = _get(design, "ratios", f"speedup_runner_{workers}_over_1", "median")
    add(
        "speedup_all_cores",
        speed,
        f">= {SPEEDUP_TARGET}x one worker",
        None if speed is None else speed >= SPEEDUP_TARGET,
        f"runner on {workers} workers / 1 worker, design {_get(design, 'spec')} "
        f"({_get(design, 'runs')} runs)",
    )
    for key, label in (("design", "vs_batch_run"), ("small", "vs_batch_run_small")):
        sweep = _get(figs, "throughput", key)
        vs = _get(sweep, "ratios", f"runner_over_batch_run_{workers}", "median")
        add(
            label,
            vs,
            f">= {VS_BATCH_RUN_TARGET:g}x mesa.batch_run throughput",
            None if vs is None else vs >= VS_BATCH_RUN_TARGET,
            f"same grid, {workers} processes, {_get(sweep, 'spec')} ({_get(sweep, 'runs')} runs)",
        )
    mem = _get(figs, "memory", "sizes") or {}
    largest = max((int(k) for k in mem), default=None)
    ratio = None if largest is None else _get(mem, str(largest), "ratio_runner_over_batch_run")
    value = None if ratio is None else ratio["median"]
    met = None if value is None or largest < MEMORY_TARGET_RUNS else value <= MEMORY_TARGET
    add(
        "memory_vs_batch_run",
        value,
        f"<= {MEMORY_TARGET} of batch_run's peak RSS at {MEMORY_TARGET_RUNS} runs",
        met,
        f"peak tree RSS ratio at {largest} runs, {_get(figs, 'memory', 'configuration')} "
        "configuration",
    )
    worker = None if largest is None else _get(mem, str(largest), "runner", "peak_process_rss_mib")
    add(
        "memory_per_worker",
        None if worker is None else worker["median"],
        f"<= {WORKER_MEMORY_TARGET_MIB:g} MiB peak RSS of any process of a sweep",
        None if worker is None else worker["median"] <= WORKER_MEMORY_TARGET_MIB,
        f"runner, {largest} runs, {_get(figs, 'memory', 'configuration')} configuration",
    )
    fit = _get(figs, "fit", "evidence_2019_scaled", "shipped_fit_estimate", "median")
    add(
        "fit_speedup",
        None if fit is None else FIT_BASELINE_S / fit,
        f">= {FIT_SPEEDUP_TARGET:g}x the shipped fit's {FIT_BASELINE_S / 60:.0f} minutes",
        None if fit is None else FIT_BASELINE_S / fit >= FIT_SPEEDUP_TARGET,
        "estimated from a scaled-down evidence_2019 fit at the same cost per simulation",
    )
    over = _get(figs, "overhead", "overhead", "median")
    add(
        "harness_overhead",
        over,
        f"<= {OVERHEAD_TARGET:.0%} over a bare loop",
        None if over is None else over <= OVERHEAD_TARGET,
        "runner on 1 worker / bare model loop - 1",
    )
    scaling = figs.get("scaling") or {}
    for key, label in (("months", "months"), ("opinion_only", "citizens (opinion update)")):
        k = _get(scaling, key, "exponent")
        add(
            f"linear_in_{key}",
            k,
            "log-log exponent in [0.85, 1.15]",
            None if k is None else 0.85 <= k <= 1.15,
            f"time vs {label}",
        )
    return out
