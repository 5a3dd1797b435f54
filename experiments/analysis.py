"""Analyse a finished sweep: ``DIR/report.md`` with PNG figures and CSV tables.

- outcome shares per design point with 95% Wilson intervals (``outcome_shares.csv``);
- the timing of reversals, months before expiry: the deadline effect
  (``reversal_timing.csv``, ``reversal_timing.png``);
- marginal effect of each varied parameter on the outcome shares (``marginals.*``);
- phase maps over pairs of varied parameters, coloured by the dominant outcome and by
  P(last-minute suspension) (``phase_maps.csv``, ``phase_dominant.png``, ``phase_p_lms.png``);
- for Saltelli designs, Sobol' first-order and total indices of P(last-minute suspension)
  and P(terminated) (SALib; ``sobol_indices.csv``, ``sobol.png``);
- scenario discovery: PRIM boxes, in plain parameter bounds with coverage and density, for
  the region where each outcome is the result (EMA Workbench's PRIM when installed, else
  the small peeling algorithm below; ``prim_boxes.csv``, ``prim_tradeoff.png``).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from model.outcome import OUTCOMES
from model.parameters import ConfigError, suggest

Z95 = 1.959963984540054
LMS = "last_minute_suspension"
COLOURS = {
    "renewed": "#4daf4a",
    "early_reversal": "#377eb8",
    "last_minute_suspension": "#ff7f00",
    "terminated": "#e41a1c",
    "pending": "#999999",
    "not_signed": "#984ea3",
    "error": "#000000",
}
MAX_BINS = 8
MAX_PHASE_PARAMS = 6
PRIM_THRESHOLD = 0.8
PRIM_MIN_CASES = 10


# ---- statistics ------------------------------------------------------------------------------
def wilson(k: int | float, n: int | float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n (NaNs when n is 0). At k = 0
    the lower bound is exactly 0 and at k = n the upper bound exactly 1 (the formula
    gives them only up to rounding, e.g. 6.9e-18)."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if k <= 0 else max(0.0, centre - half)
    high = 1.0 if k >= n else min(1.0, centre + half)
    return low, high


def load(dir: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The runs and meta of a finished sweep; ConfigError naming the file when DIR is not
    one (missing, malformed or truncated files, no rows, no ok run)."""
    from experiments.storage import check_runs_file, read_meta

    d = Path(dir)
    runs = d / "runs.parquet"
    if not d.is_dir() or not runs.is_file() or not (d / "meta.json").is_file():
        raise ConfigError(
            f"{d}: not a finished sweep (no runs.parquet or meta.json); allowed: the --out "
            "directory of a completed `gsomia sweep` (finish an interrupted one with --resume)"
        )
    meta = read_meta(d)
    _check_meta(meta, d / "meta.json")
    try:
        df = pd.read_parquet(runs)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ConfigError(
            f"{runs}: not a readable Parquet file ({type(exc).__name__}: {str(exc)[:200]}); "
            "allowed: the runs.parquet a sweep wrote (rerun the sweep into a new --out)"
        ) from exc
    names = varied_names(meta)
    missing = [c for c in ("run_id", "point_id", "status", "outcome", *names) if c not in df]
    if missing:
        raise ConfigError(
            f"{runs}: missing column(s) {', '.join(missing)}; allowed: the runs.parquet a "
            "sweep wrote"
        )
    if df.empty:
        raise ConfigError(f"{runs}: no runs (0 rows); allowed: a sweep with at least one run")
    check_rows(df, names, runs)
    if not (df["status"] == "ok").any():
        first = df["error"].dropna().iloc[0] if "error" in df and df["error"].notna().any() else "?"
        raise ConfigError(
            f"{runs}: every one of the {len(df)} runs failed (first error: {first}); "
            "allowed: a sweep with at least one ok run"
        )
    check_runs_file(d, meta)
    return df, meta


def _ids(df: pd.DataFrame, mask: pd.Series) -> str:
    """The first run ids where ``mask`` holds, for a message."""
    ids = df.loc[mask, "run_id"].tolist()
    return ", ".join(map(str, ids[:5])) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def check_rows(df: pd.DataFrame, names: list[str], runs: Path) -> None:
    """Every row as a sweep writes it: a status of ``ok`` or ``error``, an outcome the
    model has for every ok run (a null or unknown one would be counted wrongly, or not at
    all), the varied parameters set, each run id once. ConfigError naming the column, the
    value, the run ids and what is allowed."""
    statuses = ("ok", "error")
    bad = ~df["status"].isin(statuses)
    if bad.any():
        value = str(df.loc[bad, "status"].iloc[0])
        raise ConfigError(
            f"{runs}: invalid value {value!r} in column 'status' (run ids {_ids(df, bad)})"
            f"{suggest(value, statuses)}; allowed: ok or error"
        )
    ok = df["status"] == "ok"
    missing = ok & df["outcome"].isna()
    if missing.any():
        raise ConfigError(
            f"{runs}: {int(missing.sum())} ok run(s) without an outcome (null in column "
            f"'outcome' at run ids {_ids(df, missing)}); allowed: an outcome of every ok run, "
            "one of " + ", ".join(OUTCOMES)
        )
    unknown = ok & ~df["outcome"].isin(OUTCOMES)
    if unknown.any():
        value = str(df.loc[unknown, "outcome"].iloc[0])
        raise ConfigError(
            f"{runs}: unknown outcome {value!r} in column 'outcome' (run ids "
            f"{_ids(df, unknown)}){suggest(value, OUTCOMES)}; allowed: one of "
            + ", ".join(OUTCOMES)
        )
    for name in names:
        nan = pd.to_numeric(df[name], errors="coerce").isna()
        if nan.any():
            raise ConfigError(
                f"{runs}: invalid value {df.loc[nan, name].tolist()[0]!r} in column {name!r} (run "
                f"ids {_ids(df, nan)}); allowed: the number the design gave every run"
            )
    repeated = df["run_id"].duplicated(keep=False)
    if repeated.any():
        raise ConfigError(
            f"{runs}: repeated run ids ({_ids(df, repeated)}); allowed: each run id once"
        )


def _check_meta(meta: dict[str, Any], path: Path) -> None:
    """The keys of meta.json the report reads, with the right shapes (its format, what
    ``--resume`` accepts, and its seal are checked as it is read: ``storage.read_meta``)."""
    spec = meta.get("spec")
    if meta.get("status") != "complete":
        raise ConfigError(
            f"{path}: invalid value {meta.get('status')!r} for 'status'; allowed: 'complete' "
            "(finish the sweep with --resume first)"
        )
    if not isinstance(spec, dict):
        raise ConfigError(f"{path}: invalid value {spec!r:.60} for 'spec'; allowed: an object")
    params = spec.get("parameters")
    if (
        not isinstance(params, list)
        or not params
        or not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in params)
    ):
        raise ConfigError(
            f"{path}: invalid value {params!r:.60} for 'spec.parameters'; allowed: a list of "
            "objects with a 'name'"
        )
    for key in ("design", "replications", "seed"):
        if key not in spec:
            raise ConfigError(f"{path}: missing key 'spec.{key}'")
    for key in ("name", "points"):
        if key not in meta:
            raise ConfigError(f"{path}: missing key '{key}'")


def varied_names(meta: dict[str, Any]) -> list[str]:
    """Names of the varied parameters, in spec order."""
    return [p["name"] for p in meta["spec"]["parameters"]]


def outcome_shares(df: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """One row per design point: parameter values, run counts, share of each outcome with
    its 95% Wilson interval, and the dominant outcome."""
    rows = []
    for pid, g in df.groupby("point_id", sort=True):
        ok = g[g["status"] == "ok"]
        n = len(ok)
        row: dict[str, Any] = {"point_id": pid, **{k: g[k].iloc[0] for k in names}}
        row["runs"], row["ok"], row["errors"] = len(g), n, int((g["status"] != "ok").sum())
        counts = ok["outcome"].value_counts()
        best, best_k = None, -1
        for o in OUTCOMES:
            k = int(counts.get(o, 0))
            lo, hi = wilson(k, n)
            row[f"n_{o}"], row[f"p_{o}"] = k, (k / n if n else math.nan)
            row[f"p_{o}_lo"], row[f"p_{o}_hi"] = lo, hi
            if k > best_k:
                best, best_k = o, k
        row["dominant"] = best if n else "error"
        rows.append(row)
    return pd.DataFrame(rows)


HELD = ("early_reversal", LMS)
"""Outcomes whose reversal held to the end of the run (a revived notice is 'terminated')."""


def reversal_timing(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Reversals of the first termination notice by months before its expiry, split into
    those that held and those later revived (the pact then terminated), plus lapses with
    no reversal; and the deadline-effect numbers: the share of reversals in the expiry
    month, and that share if each reversal fell uniformly in a month after the notice
    up to the expiry (the run's own window)."""
    ok = df[df["status"] == "ok"]
    rev = ok.dropna(subset=["reversal_months_before_expiry"])
    months = rev["reversal_months_before_expiry"].astype(int)
    held = rev["outcome"].isin(HELD)
    top = int(months.max()) if len(months) else 0
    rows = [
        {"months_before_expiry": m, "label": f"{m} month{'s' * (m > 1)}" if m else "expiry month"}
        for m in range(top, -1, -1)
    ]
    table = pd.DataFrame(rows)
    table["reversals"] = [int((months == m).sum()) for m in table["months_before_expiry"]]
    table["held"] = [int(((months == m) & held).sum()) for m in table["months_before_expiry"]]
    table["revived"] = table["reversals"] - table["held"]
    no_reversal = ok["reversal_months_before_expiry"].isna()
    lapsed = int(((ok["outcome"] == "terminated") & no_reversal).sum())
    first = {"months_before_expiry": -1, "label": "lapsed, no reversal", "reversals": lapsed}
    first |= {"held": 0, "revived": 0}
    table = pd.concat([pd.DataFrame([first]), table], ignore_index=True)
    noticed = int(ok["notice_month"].notna().sum())
    table["share_of_noticed_runs"] = table["reversals"] / noticed if noticed else math.nan
    n_rev, n_held = len(rev), int(held.sum())
    at_expiry = int((months == 0).sum())
    held_at_expiry = int(((months == 0) & held).sum())
    null = math.nan
    if n_rev:
        rmonth = pd.PeriodIndex(rev["reversal_month"], freq="M")
        nmonth = pd.PeriodIndex(rev["notice_month"], freq="M")
        lapse = rmonth + months.to_numpy()
        window = np.maximum(1, (lapse - nmonth).map(lambda x: x.n).to_numpy())
        null = float(np.mean(1.0 / window))
    share = at_expiry / n_rev if n_rev else math.nan
    lo, hi = wilson(at_expiry, n_rev)
    stats = {
        "runs_ok": float(len(ok)),
        "noticed": float(noticed),
        "reversals": float(n_rev),
        "at_expiry": float(at_expiry),
        "share_at_expiry": share,
        "share_at_expiry_lo": lo,
        "share_at_expiry_hi": hi,
        "uniform_share": null,
        "ratio": share / null if n_rev and null > 0 else math.nan,
        "held": float(n_held),
        "held_share_at_expiry": held_at_expiry / n_held if n_held else math.nan,
        "lapsed": float(lapsed),
        "lapsed_share_of_noticed": lapsed / noticed if noticed else math.nan,
    }
    return table, stats


def base_values(d: Path, meta: dict[str, Any]) -> dict[str, float]:
    """The base scenario's values of the varied parameters (registry defaults, then the
    sweep's copy of the base config, then the spec's fixed overrides)."""
    from model.cast import cast_classes
    from model.config import load_config
    from model.parameters import defaults, registry

    values = defaults()
    config = d / "config.toml"
    if config.is_file():
        cast = meta["spec"].get("cast")  # the spec's cast, else the config's own
        own = load_config(config, None if not cast else cast_classes(cast))
        if cast or "actors" in own:  # the defaults of the cast's own parameters too
            values = defaults(registry(cast_classes(cast or own)))
        values |= own
    values |= meta["spec"].get("fixed", {})
    return {p["name"]: float(values[p["name"]]) for p in meta["spec"]["parameters"]}


NEAR_BASE = 0.2
"""'Near the base scenario': every varied parameter within this share of its swept range
of the base value."""


def near_base(df: pd.DataFrame, meta: dict[str, Any], base: dict[str, float]) -> pd.Series:
    """Mask of the runs near the base scenario's values."""
    mask = pd.Series(True, index=df.index)
    for p in meta["spec"]["parameters"]:
        width = NEAR_BASE * (p["high"] - p["low"])
        mask &= (df[p["name"]] - base[p["name"]]).abs() <= width + 1e-12
    return mask


def bins_for(values: pd.Series, low: float, high: float) -> tuple[pd.Series, list[float]]:
    """Bin a parameter: its own values when it takes at most MAX_BINS distinct values (a
    grid), else MAX_BINS equal-width bins over [low, high]; returns (bin index, centres)."""
    distinct = np.sort(values.unique())
    if len(distinct) <= MAX_BINS:
        index = pd.Series(np.searchsorted(distinct, values.to_numpy()), index=values.index)
        return index, [float(v) for v in distinct]
    edges = np.linspace(low, high, MAX_BINS + 1)
    idx = np.clip(np.searchsorted(edges, values.to_numpy(), side="right") - 1, 0, MAX_BINS - 1)
    centres = [float(x) for x in (edges[:-1] + edges[1:]) / 2]
    return pd.Series(idx, index=values.index), centres


def _cells(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Outcome shares per group of ``keys`` (ok runs only), with the dominant outcome."""
    ok = df[df["status"] == "ok"]
    counts = ok.groupby([*keys, "outcome"]).size().unstack("outcome", fill_value=0)
    counts = counts.reindex(columns=list(OUTCOMES), fill_value=0)
    n = counts.sum(axis=1)
    out = counts.div(n, axis=0).add_prefix("p_")
    out.insert(0, "n", n)
    out["dominant"] = counts.idxmax(axis=1)
    lo_hi = [wilson(k, m) for k, m in zip(counts[LMS], n, strict=True)]
    out[f"p_{LMS}_lo"] = [a for a, _ in lo_hi]
    out[f"p_{LMS}_hi"] = [b for _, b in lo_hi]
    return out.reset_index()


def marginals(df: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """Outcome shares by bins of each varied parameter, the others averaged over."""
    parts = []
    for p in meta["spec"]["parameters"]:
        idx, centres = bins_for(df[p["name"]], p["low"], p["high"])
        t = _cells(df.assign(bin=idx), ["bin"])
        t.insert(0, "parameter", p["name"])
        t.insert(2, "value", [centres[i] for i in t["bin"]])
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def phase_maps(df: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """Outcome shares on every pair of varied parameters (at most MAX_PHASE_PARAMS of
    them), binned, the other parameters averaged over."""
    params = meta["spec"]["parameters"][:MAX_PHASE_PARAMS]
    binned = {}
    for p in params:
        binned[p["name"]] = bins_for(df[p["name"]], p["low"], p["high"])
    parts = []
    for i, a in enumerate(params):
        for b in params[i + 1 :]:
            (ia, ca), (ib, cb) = binned[a["name"]], binned[b["name"]]
            t = _cells(df.assign(a_bin=ia, b_bin=ib), ["a_bin", "b_bin"])
            t.insert(0, "a", a["name"])
            t.insert(1, "b", b["name"])
            t.insert(4, "a_value", [ca[k] for k in t["a_bin"]])
            t.insert(5, "b_value", [cb[k] for k in t["b_bin"]])
            parts.append(t)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def sobol_indices(df: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame | None:
    """Sobol' S1 and ST (with 95% bootstrap half-widths) of P(last-minute suspension) and
    P(terminated) per design point; None unless the design is 'saltelli'."""
    spec = meta["spec"]
    from experiments.designs import DESIGNS, design_rng_seed

    design = DESIGNS.get(spec["design"])
    if design is None or not design.sensitivity:
        return None
    from SALib.analyze import sobol

    names = [p["name"] for p in spec["parameters"]]
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[p["low"], p["high"]] for p in spec["parameters"]],
    }
    ok = df[df["status"] == "ok"]
    n_points = int(meta["points"])
    rows = []
    for target in (LMS, "terminated"):
        y = (
            (ok["outcome"] == target)
            .groupby(ok["point_id"])
            .mean()
            .reindex(range(n_points))
            .to_numpy(dtype=float)
        )
        if np.isnan(y).any():  # a point whose every run failed: use the mean (noted)
            y = np.where(np.isnan(y), np.nanmean(y), y)
        if not np.isfinite(y).all() or np.var(y) == 0:
            for name in names:
                rows.append({"outcome": target, "parameter": name, "S1": math.nan})
            continue
        seed = int(design_rng_seed(spec["seed"]).generate_state(2)[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = sobol.analyze(
                problem, y, calc_second_order=spec["second_order"], seed=seed % 2**32
            )
        for i, name in enumerate(names):
            rows.append(
                {
                    "outcome": target,
                    "parameter": name,
                    "S1": float(res["S1"][i]),
                    "S1_conf": float(res["S1_conf"][i]),
                    "ST": float(res["ST"][i]),
                    "ST_conf": float(res["ST_conf"][i]),
                }
            )
    return pd.DataFrame(rows)


# ---- PRIM --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrimBox:
    """A PRIM box: bounds of the restricted parameters and its quality."""

    limits: dict[str, tuple[float, float]]  # restricted parameters only
    coverage: float  # share of all cases of interest inside the box
    density: float  # share of the box's runs that are cases of interest
    mass: float  # share of all runs inside the box
    n: int  # runs inside the box

    def describe(self) -> str:
        """Plain bounds, e.g. '0.3 ≤ us_pressure_weight ≤ 0.9 and trade_damage ≤ 1.5'."""
        if not self.limits:
            return "anywhere in the sweep's ranges"
        return " and ".join(f"{lo:.3g} ≤ {k} ≤ {hi:.3g}" for k, (lo, hi) in self.limits.items())


Trajectory = list[tuple[dict[str, tuple[float, float]], float, float, float, int]]


def prim_trajectory_builtin(
    x: pd.DataFrame, y: np.ndarray, peel_alpha: float = 0.05, mass_min: float = 0.05
) -> Trajectory:
    """Friedman & Fisher's top-down peeling: repeatedly remove the ``peel_alpha`` share of
    the box's runs from the low or high end of one parameter, whichever leaves the highest
    density, until fewer than ``mass_min`` of all runs remain. On a discrete parameter
    a peel removes at least one whole level. Returns the trajectory of boxes as (limits,
    coverage, density, mass, n), limits over all parameters."""
    xv = x.to_numpy(dtype=float)
    yv = np.asarray(y, dtype=float)
    total, positives = len(yv), float(yv.sum())
    inside = np.ones(total, dtype=bool)

    def entry(mask: np.ndarray) -> tuple[dict[str, tuple[float, float]], float, float, float, int]:
        sub = xv[mask]
        lims = {c: (float(sub[:, j].min()), float(sub[:, j].max())) for j, c in enumerate(x)}
        k = int(mask.sum())
        cov = float(yv[mask].sum() / positives) if positives else math.nan
        return lims, cov, float(yv[mask].mean()), k / total, k

    trajectory = [entry(inside)]
    while True:
        best: tuple[float, int, np.ndarray] | None = None
        for j in range(xv.shape[1]):
            col = xv[inside, j]
            lo_v, hi_v = col.min(), col.max()
            if lo_v == hi_v:
                continue
            cut_lo = np.quantile(col, peel_alpha, method="higher")
            cut_hi = np.quantile(col, 1 - peel_alpha, method="lower")
            # keep values from the cut on; when the cut is the extreme value itself (many
            # ties, a grid), drop that whole level instead
            keep_low = xv[:, j] >= cut_lo if cut_lo > lo_v else xv[:, j] > lo_v
            keep_high = xv[:, j] <= cut_hi if cut_hi < hi_v else xv[:, j] < hi_v
            for cand in (keep_low, keep_high):
                mask = inside & cand
                k = int(mask.sum())
                if k == 0 or k == inside.sum() or k / total < mass_min:
                    continue
                score = float(yv[mask].mean())
                if best is None or score > best[0] or (score == best[0] and k > best[1]):
                    best = (score, k, mask)
        if best is None:
            return trajectory
        inside = best[2]
        trajectory.append(entry(inside))


def prim_trajectory_ema(
    x: pd.DataFrame, y: np.ndarray, peel_alpha: float = 0.05, mass_min: float = 0.05
) -> Trajectory:
    """The peeling trajectory from EMA Workbench's PRIM (ImportError if not installed)."""
    import logging

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    logging.getLogger("EMA").setLevel(logging.WARNING)
    logging.getLogger("EMA.analysis.prim").setLevel(logging.WARNING)
    xf = x.astype(float).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = prim.Prim(xf, np.asarray(y, dtype=bool), peel_alpha=peel_alpha, mass_min=mass_min)
        found = box.find_box()
    if found is None:
        return []
    traj = found.peeling_trajectory
    out: Trajectory = []
    for i, lims in enumerate(found.box_lims):
        row = traj.iloc[i]
        limits = {c: (float(lims[c].iloc[0]), float(lims[c].iloc[1])) for c in x.columns}
        quality = (float(row["coverage"]), float(row["density"]), float(row["mass"]))
        out.append((limits, *quality, int(row["n"])))
    return out


def ema_available() -> bool:
    """Whether EMA Workbench's PRIM imports."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim  # noqa: F401
    except Exception:
        return False
    return True


def prim_box(
    x: pd.DataFrame,
    y: np.ndarray,
    threshold: float = PRIM_THRESHOLD,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    impl: str = "auto",
) -> tuple[PrimBox | None, Trajectory]:
    """The PRIM box for the cases ``y`` (bool per run) over the parameters ``x``.

    Picks, along the peeling trajectory, the box of highest coverage among those with
    density >= ``threshold`` (ties: the denser); if none reaches it, the densest box.
    ``impl``: 'ema' (EMA Workbench), 'builtin', or 'auto' (EMA when it imports)."""
    y = np.asarray(y, dtype=bool)
    if impl not in ("auto", "ema", "builtin"):
        raise ValueError(f"impl: {impl!r}")
    use_ema = impl == "ema" or (impl == "auto" and ema_available())
    run = prim_trajectory_ema if use_ema else prim_trajectory_builtin
    traj = run(x, y, peel_alpha, mass_min) if y.any() else []
    if not traj:
        return None, traj
    ok = [t for t in traj if t[2] >= threshold]
    pick = max(ok, key=lambda t: (t[1], t[2])) if ok else max(traj, key=lambda t: (t[2], t[1]))
    full = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}
    restricted = {c: v for c, v in pick[0].items() if v != full[c]}
    return PrimBox(restricted, pick[1], pick[2], pick[3], pick[4]), traj


# ---- figures ----------------------------------------------------------------------------------
def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def plot_timing(panels: list[tuple[str, pd.DataFrame, dict[str, float]]], path: Path) -> None:
    """Bar charts, one per (title, table, stats): lapses, then reversals by months before
    expiry (held / later revived stacked), the expiry month last."""
    plt = _plt()
    from matplotlib.patches import Patch

    width = max(6.5, 0.62 * max(len(t) for _, t, _ in panels) + 1.5)
    fig, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), 4.2), squeeze=False)
    for ax, (name, table, stats) in zip(axes.flat, panels, strict=True):
        x = np.arange(len(table))
        held_colours = [
            COLOURS["terminated"]
            if m < 0
            else COLOURS[LMS]
            if m == 0
            else COLOURS["early_reversal"]
            for m in table["months_before_expiry"]
        ]
        base = np.where(table["months_before_expiry"] < 0, table["reversals"], table["held"])
        ax.bar(x, base, color=held_colours)
        ax.bar(
            x,
            table["revived"],
            bottom=base,
            color="white",
            edgecolor=COLOURS["terminated"],
            hatch="//",
            linewidth=[1.0 if r else 0.0 for r in table["revived"]],
        )
        handles = [
            Patch(color=COLOURS["terminated"], label="lapsed without a reversal"),
            Patch(color=COLOURS["early_reversal"], label="early reversal (held)"),
            Patch(color=COLOURS[LMS], label="last-minute suspension (held)"),
            Patch(
                facecolor="white",
                edgecolor=COLOURS["terminated"],
                hatch="//",
                label="reversal later revived: terminated",
            ),
        ]
        ax.set_ylim(0, max(1, table["reversals"].max()) * 1.12)
        for i, v in enumerate(table["reversals"]):
            ax.text(i, v, str(int(v)), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, [t.replace(" ", "\n", 1) for t in table["label"]], fontsize=8)
        ax.set_ylabel("runs")
        ax.set_xlabel("months before the pact would lapse")
        title = name
        if stats["reversals"]:
            title += (
                f"\n{stats['share_at_expiry']:.0%} of {int(stats['reversals'])} reversals in "
                f"the expiry month (uniform timing: {stats['uniform_share']:.0%})"
            )
        ax.set_title(title, fontsize=9)
        ax.legend(handles=handles, fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_marginals(table: pd.DataFrame, path: Path) -> None:
    """One panel per varied parameter: outcome shares against its value."""
    plt = _plt()
    params = list(dict.fromkeys(table["parameter"]))
    ncol = min(3, len(params))
    nrow = math.ceil(len(params) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    for ax, name in zip(axes.flat, params, strict=False):
        t = table[table["parameter"] == name]
        for o in OUTCOMES:
            if t[f"p_{o}"].max() > 0:
                ax.plot(t["value"], t[f"p_{o}"], marker="o", ms=3, color=COLOURS[o], label=o)
        ax.set_xlabel(name)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("share of runs")
    for ax in axes.flat[len(params) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_phase(
    table: pd.DataFrame, path: Path, kind: str, base: dict[str, float] | None = None
) -> None:
    """Phase maps, one panel per parameter pair: ``kind`` 'dominant' (categorical) or
    'p_lms' (P(last-minute suspension), 0..1); a white cross marks the ``base`` values."""
    plt = _plt()
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    pairs = list(dict.fromkeys(zip(table["a"], table["b"], strict=True)))
    ncol = min(3, len(pairs))
    nrow = math.ceil(len(pairs) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 3.8 * nrow), squeeze=False)
    cats = list(OUTCOMES)
    cmap = ListedColormap([COLOURS[o] for o in cats])
    norm = BoundaryNorm(np.arange(len(cats) + 1) - 0.5, len(cats))
    image = None
    for ax, (a, b) in zip(axes.flat, pairs, strict=False):
        t = table[(table["a"] == a) & (table["b"] == b)]
        av = sorted(t["a_value"].unique())
        bv = sorted(t["b_value"].unique())
        grid = np.full((len(bv), len(av)), np.nan)
        for _, r in t.iterrows():
            i, j = bv.index(r["b_value"]), av.index(r["a_value"])
            grid[i, j] = cats.index(r["dominant"]) if kind == "dominant" else r[f"p_{LMS}"]
        if kind == "dominant":
            image = ax.imshow(grid, origin="lower", aspect="auto", cmap=cmap, norm=norm)
        else:
            image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1)
        if base is not None and a in base and b in base:
            bx = np.interp(base[a], av, range(len(av)))
            by = np.interp(base[b], bv, range(len(bv)))
            ax.plot([bx], [by], marker="x", color="white", ms=9, mew=2.5)
            ax.plot([bx], [by], marker="x", color="black", ms=7, mew=1.2)
        ax.set_xticks(range(len(av)), [_fmt(v) for v in av], fontsize=7, rotation=45)
        ax.set_yticks(range(len(bv)), [_fmt(v) for v in bv], fontsize=7)
        ax.set_xlabel(a, fontsize=9)
        ax.set_ylabel(b, fontsize=9)
    for ax in axes.flat[len(pairs) :]:
        ax.axis("off")
    if kind == "dominant":
        present = [o for o in cats if (table["dominant"] == o).any()]
        handles = [Patch(color=COLOURS[o], label=o) for o in present]
        fig.suptitle("Dominant outcome (other parameters averaged over)", fontsize=10)
        fig.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.965),
            ncol=len(handles),
            fontsize=8,
            frameon=False,
        )
        fig.tight_layout(rect=(0, 0, 1, 0.92))
    else:
        fig.suptitle("P(last-minute suspension) (other parameters averaged over)", fontsize=10)
        fig.tight_layout(rect=(0, 0, 0.92, 0.96))
        if image is not None:
            cax = fig.add_axes((0.93, 0.15, 0.015, 0.7))
            fig.colorbar(image, cax=cax)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_sobol(table: pd.DataFrame, path: Path) -> None:
    """Grouped bars of S1 and ST with confidence half-widths, one panel per outcome."""
    plt = _plt()
    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(6 * len(outcomes), 3.6), squeeze=False)
    for ax, o in zip(axes.flat, outcomes, strict=True):
        t = table[table["outcome"] == o]
        x = np.arange(len(t))
        ax.bar(x - 0.2, t["S1"], 0.4, yerr=t.get("S1_conf"), label="first order S1")
        ax.bar(x + 0.2, t["ST"], 0.4, yerr=t.get("ST_conf"), label="total ST")
        ax.set_xticks(x, t["parameter"], rotation=30, ha="right", fontsize=8)
        ax.set_title(f"Sobol' indices of P({o})", fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_tradeoff(traj: Trajectory, pick: PrimBox | None, path: Path, outcome: str) -> None:
    """PRIM peeling trajectory: coverage against density, the chosen box marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4))
    cov = [t[1] for t in traj]
    den = [t[2] for t in traj]
    ax.plot(cov, den, marker="o", ms=3, color=COLOURS.get(outcome, "k"))
    if pick is not None:
        ax.plot([pick.coverage], [pick.density], "k*", ms=12, label="chosen box")
        ax.legend(fontsize=8)
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.set_title(f"PRIM peeling trajectory: {outcome}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---- report --------------------------------------------------------------------------------------
def _pct(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.0%}"


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            cells.append(_fmt(v) if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


class Report:
    """A report being written: markdown lines and the files beside it. Files go to a
    staging folder first; ``commit`` moves them into the sweep's folder, report.md last,
    so a failure leaves the previous report (or none), never half of one."""

    def __init__(self, d: Path) -> None:
        self.dir = d
        self.stage = Path(tempfile.mkdtemp(dir=d, prefix=".analysis-"))
        self.lines: list[str] = []
        self.written: list[str] = []

    def csv(self, table: pd.DataFrame, name: str) -> None:
        """Stage a CSV table."""
        table.to_csv(self.stage / name, index=False, float_format="%.6g")
        self.written.append(name)

    def figure(self, name: str) -> Path:
        """The staged path of a figure about to be drawn."""
        self.written.append(name)
        return self.stage / name

    def commit(self) -> Path:
        """Write report.md and move every staged file into place."""
        lines = [*self.lines, "", "## Files", "", *(f"- `{w}`" for w in self.written)]
        (self.stage / "report.md").write_text("\n".join(lines) + "\n")
        for name in [*self.written, "report.md"]:
            os.replace(self.stage / name, self.dir / name)
        self.discard()
        return self.dir / "report.md"

    def discard(self) -> None:
        """Remove the staging folder."""
        shutil.rmtree(self.stage, ignore_errors=True)


def _section_header(r: Report, df: pd.DataFrame, meta: dict[str, Any], n_ok: int) -> None:
    spec = meta["spec"]
    n_err = len(df) - n_ok
    r.lines += [f"# Sweep report: {meta['name']}", ""]
    if spec.get("description"):
        r.lines += [spec["description"], ""]
    ranges = ", ".join(
        f"{p['name']} "
        + (
            "{" + ", ".join(_fmt(v) for v in p["values"]) + "}"
            if p.get("values")
            else f"[{_fmt(p['low'])}, {_fmt(p['high'])}]"
            + (f" ({p['levels']} levels)" if p.get("levels") else "")
        )
        for p in spec["parameters"]
    )
    size = f"{meta['points']} design points x {spec['replications']} replications"
    r.lines += [
        f"- design: **{spec['design']}**, {size} = {len(df)} runs "
        f"({n_ok} ok, {n_err} errors); spec seed {spec['seed']}",
        f"- varied: {ranges}",
        f"- base scenario: `{Path(spec['config']).name}`"
        + (f"; fixed: {spec['fixed']}" if spec.get("fixed") else ""),
        f"- run {meta.get('started')} to {meta.get('finished')} on {meta.get('host')}; git "
        f"{(meta.get('git') or {}).get('commit')}"
        + (f"; gsomia {meta['version']}" if meta.get("version") else ""),
        "",
    ]
    if n_err:
        first = df.loc[df["status"] != "ok", "error"].iloc[0]
        r.lines += [f"**{n_err} runs raised** (first: `{first}`); shares below use ok runs.", ""]


def _section_outcomes(r: Report, df: pd.DataFrame, ok: pd.DataFrame, names: list[str]) -> None:
    n_ok = len(ok)
    r.lines += ["## Outcomes", "", "| outcome | runs | share | 95% Wilson interval |"]
    r.lines += ["| --- | --- | --- | --- |"]
    overall = []
    for o in OUTCOMES:
        k = int((ok["outcome"] == o).sum())
        lo, hi = wilson(k, n_ok)
        overall.append({"outcome": o, "runs": k, "share": k / n_ok if n_ok else math.nan})
        overall[-1].update({"lo": lo, "hi": hi})
        if k:
            r.lines.append(f"| {o} | {k} | {_pct(k / n_ok)} | {_pct(lo)}–{_pct(hi)} |")
    r.csv(pd.DataFrame(overall), "outcomes_overall.csv")
    shares = outcome_shares(df, names)
    r.csv(shares, "outcome_shares.csv")
    r.lines += [
        "",
        f"Per design point (with 95% Wilson intervals): `outcome_shares.csv`. The points "
        f"with the highest P({LMS}):",
        "",
    ]
    top = shares.sort_values([f"p_{LMS}", "point_id"], ascending=[False, True]).head(8)
    show = top[[*names, "ok", f"p_{LMS}", f"p_{LMS}_lo", f"p_{LMS}_hi", "dominant"]]
    r.lines += [_md_table(show), ""]


def notice_giver(meta: dict[str, Any]) -> str:
    """Who gives the pact's notice in the sweep's cast (its spec's ``[cast]``; default
    cast: Seoul), as the report words it (``experiments.cast.notice_wording``)."""
    from experiments.cast import notice_wording

    cast = meta["spec"].get("cast") or {}
    try:
        return notice_wording(cast.get("actors"))
    except ConfigError:  # the cast's module is not importable here: say so plainly
        return "an actor of the cast"


def _section_deadline(
    r: Report, df: pd.DataFrame, meta: dict[str, Any], base: dict[str, float]
) -> None:
    timing, ts = reversal_timing(df)
    near = near_base(df, meta, base)
    near_timing, ns = reversal_timing(df[near])
    both = pd.concat(
        [timing.assign(subset="all runs"), near_timing.assign(subset="near the base scenario")],
        ignore_index=True,
    )
    r.csv(both, "reversal_timing.csv")
    panels = [("All runs", timing, ts)]
    if 0 < near.sum() < len(df):
        panels.append(("Near the base scenario", near_timing, ns))
    plot_timing(panels, r.figure("reversal_timing.png"))
    r.lines += ["## The deadline effect", "", "![reversal timing](reversal_timing.png)", ""]
    near_desc = ", ".join(f"{k} {_fmt(v)}" for k, v in base.items())
    giver = notice_giver(meta)
    for label, st in (("Over the whole sweep", ts), ("Near the base scenario", ns)):
        if label.startswith("Near"):
            label += (
                f" ({int(near.sum())} runs with every varied parameter within "
                f"{NEAR_BASE:.0%} of its range of {near_desc})"
            )
        if not st["reversals"]:
            r.lines += [
                f"{label}: of {int(st['noticed'])} runs in which {giver} gave notice, "
                "none reversed it.",
                "",
            ]
            continue
        r.lines += [
            f"{label}: of {int(st['noticed'])} runs in which {giver} gave notice, "
            f"{int(st['reversals'])} reversed it; **{_pct(st['share_at_expiry'])}** of the "
            f"reversals (95% CI {_pct(st['share_at_expiry_lo'])}–"
            f"{_pct(st['share_at_expiry_hi'])}) came in the month of expiry, against "
            f"{_pct(st['uniform_share'])} if reversals were spread evenly over each run's "
            f"notice-to-expiry window (ratio {st['ratio']:.1f}x). Of the {int(st['held'])} "
            f"reversals that held, {_pct(st['held_share_at_expiry'])} came in the expiry "
            f"month. {int(st['lapsed'])} noticed runs ({_pct(st['lapsed_share_of_noticed'])}) "
            "let the pact lapse without a reversal.",
            "",
        ]


def _section_marginals(r: Report, df: pd.DataFrame, meta: dict[str, Any]) -> None:
    marg = marginals(df, meta)
    r.csv(marg, "marginals.csv")
    plot_marginals(marg, r.figure("marginals.png"))
    r.lines += [
        "## Outcome shares by parameter",
        "",
        "Each panel: the share of each outcome against one parameter, the others "
        "averaged over the design.",
        "",
        "![marginal effects](marginals.png)",
        "",
    ]


def _section_phase(
    r: Report, df: pd.DataFrame, meta: dict[str, Any], names: list[str], base: dict[str, float]
) -> None:
    if len(names) < 2:
        return
    phase = phase_maps(df, meta)
    r.csv(phase, "phase_maps.csv")
    plot_phase(phase, r.figure("phase_dominant.png"), "dominant", base)
    plot_phase(phase, r.figure("phase_p_lms.png"), "p_lms", base)
    more = (
        f" (the first {MAX_PHASE_PARAMS} varied parameters)"
        if len(names) > MAX_PHASE_PARAMS
        else ""
    )
    r.lines += [
        "## Phase maps",
        "",
        f"Every pair of varied parameters{more}; each cell pools the runs at those two "
        "values over the other parameters. The cross marks the base scenario's values.",
        "",
        "![dominant outcome](phase_dominant.png)",
        "",
        "![P(last-minute suspension)](phase_p_lms.png)",
        "",
    ]


def _section_sobol(r: Report, df: pd.DataFrame, meta: dict[str, Any]) -> None:
    sob = sobol_indices(df, meta)
    if sob is None:
        return
    r.csv(sob, "sobol_indices.csv")
    r.lines += ["## Sobol' sensitivity indices", ""]
    if sob["S1"].notna().any():
        plot_sobol(sob.dropna(subset=["S1"]), r.figure("sobol.png"))
        r.lines += [
            "First-order (S1) and total (ST) indices of the per-point probability of "
            "each outcome over the replications, with 95% bootstrap half-widths "
            "(SALib). Replication noise shows up as ST summing to more than S1.",
            "",
            "![Sobol indices](sobol.png)",
            "",
            _md_table(sob.round(3)),
            "",
        ]
    else:
        r.lines += ["The outcome probabilities do not vary over the design.", ""]


def _section_prim(r: Report, ok: pd.DataFrame, meta: dict[str, Any], names: list[str]) -> None:
    use_ema = ema_available()
    r.lines += [
        "## Scenario discovery (PRIM)",
        "",
        f"Boxes found by {'EMA Workbench' if use_ema else 'the built-in'} PRIM on the "
        f"{len(ok)} ok runs: the box of highest coverage with density ≥ "
        f"{PRIM_THRESHOLD:.0%} (or the densest box). Coverage: share of all runs with the "
        "outcome that fall in the box; density: share of the box's runs with the outcome."
        + (
            " On a grid, EMA's bounds fall half-way between levels (0.75 ≤ x ≤ 1.75 on "
            "levels 0, 0.5, 1, ... means the levels 1 and 1.5)."
            if use_ema and meta["spec"]["design"] == "grid"
            else ""
        ),
        "",
    ]
    prim_rows = []
    x = ok[names].reset_index(drop=True)
    for o in OUTCOMES:
        y = (ok["outcome"] == o).to_numpy()
        k = int(y.sum())
        if k < PRIM_MIN_CASES or k == len(y):
            continue
        box, traj = prim_box(x, y)
        if box is None:
            continue
        if o == LMS:
            plot_tradeoff(traj, box, r.figure("prim_tradeoff.png"), o)
        rate = k / len(y)
        r.lines.append(
            f"- **{o}** (base rate {_pct(rate)}): {box.describe()} — coverage "
            f"{_pct(box.coverage)}, density {_pct(box.density)} ({box.density / rate:.1f}x the "
            f"base rate), mass {_pct(box.mass)} ({box.n} runs)"
        )
        for name in names:
            lo, hi = box.limits.get(name, (float(x[name].min()), float(x[name].max())))
            prim_rows.append(
                {
                    "outcome": o,
                    "parameter": name,
                    "restricted": name in box.limits,
                    "low": lo,
                    "high": hi,
                    "coverage": box.coverage,
                    "density": box.density,
                    "mass": box.mass,
                    "n": box.n,
                    "base_rate": rate,
                }
            )
    if prim_rows:
        r.csv(pd.DataFrame(prim_rows), "prim_boxes.csv")
        if "prim_tradeoff.png" in r.written:
            r.lines += ["", "![PRIM trajectory](prim_tradeoff.png)"]
    else:
        r.lines.append(f"- too few runs of any outcome (< {PRIM_MIN_CASES}) for PRIM")


def analyze(dir: str | Path) -> Path:
    """Write report.md, figures and tables into a finished sweep's directory; return the
    report's path. ConfigError (nothing written) when the folder is not a finished sweep
    with at least one ok run; all files or none."""
    d = Path(dir)
    df, meta = load(d)
    names = varied_names(meta)
    ok = df[df["status"] == "ok"]
    base = base_values(d, meta)
    r = Report(d)
    try:
        _section_header(r, df, meta, len(ok))
        _section_outcomes(r, df, ok, names)
        _section_deadline(r, df, meta, base)
        _section_marginals(r, df, meta)
        _section_phase(r, df, meta, names, base)
        _section_sobol(r, df, meta)
        _section_prim(r, ok, meta, names)
        return r.commit()
    finally:
        r.discard()


def cli_analyze(args: Any) -> int:
    """``gsomia analyze DIR``: write the report of a finished sweep."""
    report = analyze(args.dir)
    print(f"wrote {report} (figures and tables in {report.parent})")
    return 0
