"""Figure 1: one baseline-2019 run, and where a monthly step spends its time."""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any

from benchmarks.common import BASELINE, RUN_SEED, summary

FuncKey = tuple[str, int, str]

STEP_GROUPS: dict[str, tuple[str, ...]] = {
    "decisions": ("solve_month", "do"),
    "opinion": ("_public_reacts",),
    "data_collection": ("collect",),
    "moves": ("_apply_moves",),
}
"""Direct callees of ``GSOMIAModel.step``, by what they are for (``do``: each government
draws its move); the rest of the step (exogenous shocks, calendar, drift, relations,
timeline) is ``other``. Explanations are computed on demand, outside ``run()``."""

DETAIL = {
    "lookahead (solve_horizon)": ("model/lookahead.py", "solve_horizon"),
    "profiles built (horizon, cached per scenario)": ("model/lookahead.py", "horizon"),
    "utilities (all callers)": ("model/game.py", "utilities"),
    "backward induction in a month (game.solve, all callers)": ("model/game.py", "solve"),
    "QRE (games.logit_qre, all callers)": ("model/games.py", "logit_qre"),
    "opinion update (OpinionNetwork.step)": ("model/opinion.py", "step"),
    "data collection (DataCollector.collect)": ("mesa/datacollection.py", "collect"),
}
"""Cumulative time of named functions over all their callers within steps (nested:
these overlap, e.g. the QRE is inside the backward induction)."""


def one_run(seed: int = RUN_SEED, **overrides: Any) -> tuple[float, float, str, int]:
    """One baseline run: (seconds to load the config and build the model, seconds to
    run it, outcome, months stepped)."""
    from model.model import GSOMIAModel

    t0 = time.perf_counter()
    model = GSOMIAModel.from_config(BASELINE, rng=seed, **overrides)
    t1 = time.perf_counter()
    outcome = model.run()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, outcome, int(model.steps)


def _find(stats: dict[FuncKey, Any], path_end: str, name: str) -> list[FuncKey]:
    return [k for k in stats if k[2] == name and k[0].replace("\\", "/").endswith(path_end)]


def _children(stats: dict[FuncKey, Any], parent: FuncKey) -> dict[FuncKey, float]:
    """Cumulative seconds of each direct callee of ``parent`` when called from it."""
    out: dict[FuncKey, float] = {}
    for key, (_cc, _nc, _tt, _ct, callers) in stats.items():
        if parent in callers:
            out[key] = callers[parent][3]
    return out


def _label(key: FuncKey) -> str:
    path = key[0].replace("\\", "/")
    for root in ("/model/", "/agents/", "/experiments/", "/mesa/", "/numpy/", "/scipy/"):
        if root in path:
            path = root.strip("/") + "/" + path.split(root, 1)[1]
            break
    else:
        path = path.rsplit("/", 1)[-1]
    return f"{path}:{key[1]}({key[2]})" if key[1] else key[2]


def profile_runs(n: int) -> dict[str, Any]:
    """cProfile the ``run()`` of ``n`` baseline runs (seeds RUN_SEED..., built unprofiled)
    and split the time of ``GSOMIAModel.step`` by its direct callees (exact: callees'
    cumulative time as called from step, plus step's own time), with nested details and
    the hottest functions."""
    from model.model import GSOMIAModel

    profiler = cProfile.Profile()
    outcomes = []
    wall = 0.0
    for i in range(n):
        model = GSOMIAModel.from_config(BASELINE, rng=RUN_SEED + i)  # not profiled
        t0 = time.perf_counter()
        profiler.enable()
        outcomes.append(model.run())
        profiler.disable()
        wall += time.perf_counter() - t0
    stats: dict[FuncKey, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    steps = _find(stats, "model/model.py", "step")
    if len(steps) != 1:
        raise RuntimeError(f"cannot find GSOMIAModel.step in the profile ({steps})")
    step = steps[0]
    n_steps = stats[step][1]
    step_total = stats[step][3]
    groups = dict.fromkeys((*STEP_GROUPS, "other"), 0.0)
    members: dict[str, list[dict[str, Any]]] = {g: [] for g in groups}
    for key, ct in _children(stats, step).items():
        group = next((g for g, names in STEP_GROUPS.items() if key[2] in names), "other")
        groups[group] += ct
        members[group].append({"function": _label(key), "seconds": ct})
    groups["other"] += stats[step][2]  # step's own lines
    members["other"].append({"function": "GSOMIAModel.step (own time)", "seconds": stats[step][2]})

    split = {
        g: {
            "ms_per_step": 1000 * sec / n_steps,
            "share": sec / step_total,
            "functions": sorted(members[g], key=lambda m: -m["seconds"]),
        }
        for g, sec in groups.items()
    }
    detail = {}
    for label, (path_end, name) in DETAIL.items():
        keys = _find(stats, path_end, name)
        sec = sum(stats[k][3] for k in keys)
        detail[label] = {"ms_per_step": 1000 * sec / n_steps, "share": sec / step_total}
    hottest = sorted(stats.items(), key=lambda kv: -kv[1][2])[:15]
    calls = sum(v[1] for v in stats.values())  # only run() was profiled
    return {
        "runs": n,
        "outcomes": outcomes,
        "steps": n_steps,
        "profiled_wall_s": wall,
        "step_ms_profiled": 1000 * step_total / n_steps,
        "function_calls_per_step": calls / n_steps,
        "split": split,
        "nested": detail,
        "hottest_own_time_note": "own time over the profiled run() calls / steps",
        "hottest_own_time": [
            {
                "function": _label(k),
                "calls": v[1],
                "own_ms_per_step": 1000 * v[2] / n_steps,
                "share_of_step": v[2] / step_total,
            }
            for k, v in hottest
        ],
    }


def profile_construction(n: int) -> dict[str, Any]:
    """cProfile ``n`` ``GSOMIAModel.from_config`` calls (config load + construction) and
    list the direct callees of ``from_config`` and of ``GSOMIAModel.__init__`` with their
    cumulative time per run."""
    from model.model import GSOMIAModel

    GSOMIAModel.from_config(BASELINE, rng=RUN_SEED)  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        GSOMIAModel.from_config(BASELINE, rng=RUN_SEED + i)
    profiler.disable()
    stats: dict[FuncKey, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    (root,) = _find(stats, "model/model.py", "from_config")
    total = stats[root][3]
    parts: dict[str, float] = {}
    for parent in (root, *_find(stats, "model/model.py", "__init__")):
        for key, ct in _children(stats, parent).items():
            if key[2] == "__init__" and key[0].replace("\\", "/").endswith("model/model.py"):
                continue  # GSOMIAModel.__init__ itself is split into its callees
            parts[_label(key)] = parts.get(_label(key), 0.0) + ct
    return {
        "runs": n,
        "ms_per_run_profiled": 1000 * total / n,
        "callees": [
            {"function": f, "ms_per_run": 1000 * sec / n, "share": sec / total}
            for f, sec in sorted(parts.items(), key=lambda kv: -kv[1])[:12]
        ],
    }


def bare_mesa_run(months: int) -> float:
    """Seconds for a bare Mesa model of five agents that do nothing, stepped ``months``
    times: the floor any Mesa model of this size pays (the issue's reference loop)."""
    import mesa

    class Idle(mesa.Agent):
        def step(self) -> None:
            pass

    class Bare(mesa.Model):
        def __init__(self) -> None:
            super().__init__(rng=RUN_SEED)
            Idle.create_agents(self, 5)

        def step(self) -> None:
            self.agents.do("step")

    t0 = time.perf_counter()
    model = Bare()
    for _ in range(months):
        model.step()
    return time.perf_counter() - t0


def figure(repeats: int, profile_n: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Figure 1: timed baseline runs (after one warm-up run) and the profile split."""
    log(f"run: warm-up, then {repeats} baseline runs (seed {RUN_SEED})")
    one_run()
    build, run, total, per_step = [], [], [], []
    outcome, months = "", 0
    for _ in range(repeats):
        b, r, outcome, months = one_run()
        build.append(b)
        run.append(r)
        total.append(b + r)
        per_step.append(r / months)
    bare = [bare_mesa_run(months) for _ in range(max(repeats, 20))]
    from model.lookahead import clear_caches

    cold = []
    for _ in range(3):  # a scenario's first run builds the structures later runs reuse
        clear_caches()
        b, r, _, _ = one_run()
        cold.append(b + r)
    ratio = [t / b for t, b in zip(total, bare, strict=False)]
    log(f"run: profiling {profile_n} runs")
    prof = profile_runs(profile_n)
    construction = profile_construction(max(5, 5 * profile_n))
    step_ms = 1000 * sorted(per_step)[len(per_step) // 2]
    for g in prof["split"].values():
        g["ms_per_step_unprofiled"] = g["share"] * step_ms
    return {
        "description": (
            "One baseline-2019 run (configs/baseline_2019.toml, seed "
            f"{RUN_SEED}, {months} monthly steps): config load + model construction, "
            "then run() to the outcome. Warm process (one run before timing). The step "
            "split is from cProfile over separate runs; cProfile inflates many small "
            "calls, so shares are indicative and ms_per_step_unprofiled rescales them to "
            "the unprofiled step time. bare_mesa_run_s: five idle Mesa agents stepped as "
            "many months in the same process; ratio_to_bare_mesa pairs run i with bare i; "
            "cold_run_s: a run after the scenario's cached structures are cleared."
        ),
        "outcome": outcome,
        "months": months,
        "measurements": {
            "run_total_s": summary(total, "s"),
            "load_and_construct_s": summary(build, "s"),
            "run_s": summary(run, "s"),
            "per_step_s": summary(per_step, "s"),
            "bare_mesa_run_s": summary(bare, "s"),
            "cold_run_s": summary(cold, "s"),
            "ratio_to_bare_mesa": summary(ratio, "x"),
        },
        "profile": prof,
        "construction_profile": construction,
    }
