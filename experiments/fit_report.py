"""A fit's report: the posterior mean (the point estimate the fit writes to
``fitted.toml``), median and mode, 90% credible intervals against the prior, the three
point estimates compared over the check seeds, the pairwise plot, the posterior predictive
table and the parameters the evidence leaves unidentified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.atomic import write_text_atomic
from experiments.targets import TargetSet
from model.version import __version__

UNIDENTIFIED_SHARE = 0.75
"""A parameter is reported unidentified when its 90% credible interval covers at least
this share of its prior range: the evidence barely narrowed it (a uniform prior's own 90%
interval covers 0.9)."""
CREDIBLE = 0.90


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of weighted samples (pyabc's definition)."""
    from pyabc.weighted_statistics import weighted_quantile as wq

    return float(wq(np.asarray(values, float), np.asarray(weights, float), alpha=q))


def final_population(frame: pd.DataFrame) -> pd.DataFrame:
    """The last stored generation (the posterior)."""
    return frame[frame["generation"] == frame["generation"].max()]


def posterior_summary(frame: pd.DataFrame, targets: TargetSet) -> dict[str, dict[str, Any]]:
    """Per parameter: median, 90% credible interval, prior range and whether it is
    identified (see UNIDENTIFIED_SHARE)."""
    post = final_population(frame)
    w = post["weight"].to_numpy()
    out = {}
    tail = (1 - CREDIBLE) / 2
    for name, lo, hi in targets.fit.bounds:
        x = post[name].to_numpy()
        low, med, high = (weighted_quantile(x, w, q) for q in (tail, 0.5, 1 - tail))
        share = (high - low) / (hi - lo)
        out[name] = {
            "median": med,
            "low": low,
            "high": high,
            "prior": (lo, hi),
            "share": share,
            "identified": share < UNIDENTIFIED_SHARE,
        }
    return out


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights, (sum w)^2 / sum w^2: the
    number of equally weighted particles they are worth. Near 1 the weights sit on one
    particle and the generation's intervals mean nothing (ABC-SMC's weight degeneracy,
    which grows with the number of parameters)."""
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / np.sum(w**2))


POINT_ESTIMATES = ("mean", "median", "mode")
"""The point estimates a report compares; the first is the one ``fitted.toml`` holds."""


def posterior_mean(frame: pd.DataFrame, targets: TargetSet) -> dict[str, float]:
    """The weighted mean of the last generation: the fit's point estimate (the usual one
    of ABC, Beaumont, Zhang and Balding 2002). With a seed-noisy distance one particle
    can be accepted on a lucky seed; the mean averages over all of them (on the
    evidence_2019 fit it met the targets better over fresh seeds than the median or the
    mode: report.md, "Point estimates")."""
    post = final_population(frame)
    w = post["weight"].to_numpy(float)
    return {n: float(np.dot(w, post[n].to_numpy(float)) / w.sum()) for n in targets.fit.names}


def posterior_mode(frame: pd.DataFrame, targets: TargetSet) -> dict[str, float]:
    """The particle of the last generation where the posterior density is highest: the
    weighted kernel density of the population (pyabc's ``MultivariateNormalTransition``,
    the kernel ABC-SMC perturbs with) evaluated at every particle.

    Unlike the vector of marginal medians it is a parameter vector the fit simulated and
    accepted: when parameters trade off against each other, the marginal medians can fall
    where no accepted particle lies (the first evidence_2019 fit's medians put the July
    2019 poll at 97% for ending the pact, against 47% polled, and every run at them
    lapsed). But it is one particle, which may have been accepted on a lucky seed."""
    from pyabc.transition import MultivariateNormalTransition

    post = final_population(frame).reset_index(drop=True)
    names = list(targets.fit.names)
    x = post[names].astype(float)
    w = post["weight"].to_numpy(float)
    kde = MultivariateNormalTransition()
    kde.fit(x, w / w.sum())
    density = np.atleast_1d(kde.pdf(x))
    best = int(np.argmax(density))
    return {n: float(x.at[best, n]) for n in names}


def point_estimates(
    frame: pd.DataFrame, targets: TargetSet, summary: dict[str, dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """The point estimates a report compares, keyed as ``POINT_ESTIMATES``: the posterior
    mean, the marginal medians (from ``posterior_summary``) and the mode."""
    points = {
        "mean": posterior_mean(frame, targets),
        "median": {n: summary[n]["median"] for n in targets.fit.names},
        "mode": posterior_mode(frame, targets),
    }
    return {k: points[k] for k in POINT_ESTIMATES}


def predictive_at_posterior(frame: pd.DataFrame, targets: TargetSet) -> dict[str, float]:
    """Share of seeds meeting each target, averaged over the posterior (weighted
    particles of the last generation, each over its own seeds)."""
    post = final_population(frame)
    w = post["weight"].to_numpy() / post["weight"].sum()
    return {t.name: float(np.dot(w, post[f"met:{t.name}"].to_numpy())) for t in targets.targets}


def pairs_figure(frame: pd.DataFrame, targets: TargetSet, path: Path) -> None:
    """Pairwise scatter of the posterior particles (size ~ weight) over the prior box,
    with weighted histograms on the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    post = final_population(frame)
    bounds = targets.fit.bounds
    k = len(bounds)
    size = min(2.2 * k, 24)
    fig, axes = plt.subplots(k, k, figsize=(size, size), squeeze=False)
    w = post["weight"].to_numpy()
    marker = 4 + 60 * w / max(w.max(), 1e-12)
    for i, (ni, loi, hii) in enumerate(bounds):
        for j, (nj, loj, hij) in enumerate(bounds):
            ax = axes[i][j]
            if i == j:
                ax.hist(post[ni], bins=20, range=(loi, hii), weights=w, color="tab:blue")
                ax.set_xlim(loi, hii)
            else:
                ax.scatter(post[nj], post[ni], s=marker, alpha=0.5, color="tab:blue")
                ax.set_xlim(loj, hij)
                ax.set_ylim(loi, hii)
            if i == k - 1:
                ax.set_xlabel(nj, fontsize=7)
            if j == 0:
                ax.set_ylabel(ni, fontsize=7)
            ax.tick_params(labelsize=6)
    fig.suptitle("Posterior (last generation): pairs over the prior ranges", fontsize=9)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    try:
        fig.savefig(tmp, dpi=80)
        tmp.replace(path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)


def report_text(
    targets: TargetSet,
    frame: pd.DataFrame,
    summary: dict[str, dict[str, Any]],
    points: dict[str, dict[str, float]],
    checks: dict[str, Any],
    command: str,
    seed: int,
    result: Any,
) -> str:
    """report.md as text."""
    post = final_population(frame)
    gens = frame.groupby("generation")["epsilon"].first()
    ess = frame.groupby("generation")["weight"].apply(effective_sample_size)
    at_post = predictive_at_posterior(frame, targets)
    lines = [
        f"# Fit of {targets.name}",
        "",
        f"Produced by `{command}` (seed {seed}; gsomia {__version__}). "
        f"{result.generations} generation(s) of "
        f"{targets.fit.population} particles, {result.simulations} simulations of "
        f"{len(targets.scenarios)} scenario(s) x {targets.fit.seeds} seed(s) each; stopped: "
        f"{result.stopped}. Epsilon by generation: "
        + ", ".join(f"{e:.3f}" for e in gens.to_numpy())
        + "; effective sample size (Kish) by generation: "
        + ", ".join(f"{e:.0f}" for e in ess.to_numpy())
        + ".",
        "",
        "## Parameters",
        "",
        "Posterior mean (the point estimate in `fitted.toml`), median, mode (the particle "
        "where the weighted kernel density is highest) and "
        f"{CREDIBLE:.0%} credible interval (weighted particles of the last generation) "
        "against the prior range. *Unidentified*: the interval covers at least "
        f"{UNIDENTIFIED_SHARE:.0%} of the prior range.",
        "",
        "| parameter | mean | median | mode | 90% interval | prior | share of prior | identified |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in summary.items():
        lo, hi = s["prior"]
        lines.append(
            f"| `{name}` | {points['mean'][name]:.3g} | {s['median']:.3g} | "
            f"{points['mode'][name]:.3g} | {s['low']:.3g} – "
            f"{s['high']:.3g} | {lo:g} – {hi:g} | {s['share']:.0%} | "
            f"{'yes' if s['identified'] else '**no**'} |"
        )
    free = [n for n, s in summary.items() if not s["identified"]]
    lines += [
        "",
        "Left unidentified by this evidence: "
        + (", ".join(f"`{n}`" for n in free) if free else "none")
        + ".",
        "",
        "![pairwise posterior](pairs.png)",
        "",
        "[Pairwise plot of the posterior](pairs.png); all particles of every generation "
        "are in `posterior.parquet`, the posterior mean as scenario overrides in "
        "[`fitted.toml`](fitted.toml).",
        "",
        "## Posterior predictive",
        "",
        "Share of seeds meeting each target: averaged over the posterior (each particle's "
        f"own {targets.fit.seeds} seed(s)), and at each point estimate over seeds 0–"
        f"{targets.fit.check_seeds - 1}.",
        "",
        "| target | scenario | kind | weight | at the posterior | "
        + " | ".join(f"at the posterior {k}" for k in POINT_ESTIMATES)
        + " |",
        "| --- | --- | --- | --- | --- | " + " | ".join("---" for _ in POINT_ESTIMATES) + " |",
    ]
    for t in targets.targets:
        lines.append(
            f"| {t.name} | {t.scenario} | {t.kind} | {t.weight:g} | {at_post[t.name]:.0%} | "
            + " | ".join(f"{checks[k].met[t.name]:.0%}" for k in POINT_ESTIMATES)
            + " |"
        )
    lines += [
        "",
        "## Point estimates",
        "",
        f"Mean distance over seeds 0–{targets.fit.check_seeds - 1} (0: every seed meets "
        "every target; the fit's own distance) at each point estimate. The posterior mean "
        "is the one in `fitted.toml`.",
        "",
        "| point estimate | mean distance |",
        "| --- | --- |",
    ]
    lines += [f"| posterior {k} | {checks[k].distance:.3f} |" for k in POINT_ESTIMATES]
    check = checks["mean"]
    if check.poll_medians:
        lines += [
            "",
            "Polls at the posterior mean: the model's share on the poll's date, median "
            f"over seeds 0–{targets.fit.check_seeds - 1}, against the poll (points).",
            "",
            "| target | answer | poll | model (median) | difference | tolerance |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for t in targets.targets:
            for answer, observed in t.shares:
                model = check.poll_medians[t.name][answer]
                lines.append(
                    f"| {t.name} | {answer} | {observed:.1f} | {model:.1f} | "
                    f"{model - observed:+.1f} | {t.tolerance:g} |"
                )
    lines += ["", f"Particles in the posterior: {len(post)}.", ""]
    return "\n".join(lines)


def write_report(
    out: Path,
    targets: TargetSet,
    frame: pd.DataFrame,
    summary: dict[str, dict[str, Any]],
    points: dict[str, dict[str, float]],
    checks: dict[str, Any],
    command: str,
    seed: int,
    result: Any,
) -> None:
    """pairs.png, then report.md (last, whole or not at all)."""
    pairs_figure(frame, targets, out / "pairs.png")
    text = report_text(targets, frame, summary, points, checks, command, seed, result)
    write_text_atomic(out / "report.md", text)
