"""Ensembles of runs and the outcome shares they support, with intervals.

- **Seeds**: one setting over seeds; each outcome's share with a 95% Wilson interval.
- **Posterior**: parameter vectors drawn from a fit's posterior (the last generation of
  ``posterior.parquet``, drawn in proportion to their weights, seeded) times seeds per
  draw; each outcome's share with a 95% interval that counts the spread between draws
  (parameter uncertainty) as well as the seeds: Wilson's interval at the effective sample
  size ``n / deff``, where ``deff`` is Kish's design effect of the draws as clusters
  (``clustered_shares``). Next to it, the seeds-only ensemble at the point estimate (the
  posterior mean, as in ``fitted.toml``).
- **Compare**: two settings over the same seeds; the difference of each outcome's share
  with Newcombe's interval for paired proportions (``newcombe_paired``).

Runs go through the sweep runner's many-seeds call (``experiments.runner.run_many``) on the
sweep backends' process pool (``experiments.backends.imap_pool``), kept warm between calls
so a server pays the workers' start-up once; ``run_batches`` is the one place that hands
work to them. The same seed gives the same rows on any worker count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis import wilson
from model.outcome import OUTCOMES
from model.parameters import ConfigError

BAND_SERIES = ("opinion_share", "us_pressure_seoul")
"""Monthly series each member keeps, for the bands over months."""
BATCH_SEEDS = 4
"""Seeds per pool task: few enough for live progress and a prompt cancel."""
POSTERIOR_STREAM = 20
"""Second word of the posterior draws' SeedSequence (apart from any other use of a seed)."""
POSTERIOR_FILES = ("posterior.parquet", "targets.toml")
NOT_PARAMETERS = ("weight", "distance", "generation", "epsilon")


# ---- running members -------------------------------------------------------------------------
@dataclass(frozen=True)
class Batch:
    """Seeds of one setting, run in one task; ``tag`` is copied into each row (e.g. the
    posterior draw the setting came from)."""

    params: Mapping[str, Any]
    seeds: tuple[int, ...]
    series: tuple[str, ...] = BAND_SERIES
    tag: Mapping[str, Any] = field(default_factory=dict)


def run_batch(batch: Batch) -> list[dict[str, Any]]:
    """Run a batch: one row per seed, the runner's named outcomes plus the series (the
    runner's many-seeds call, ``run_many``). The one function a worker runs."""
    from experiments.runner import run_many

    runs = run_many(batch.params, batch.seeds, batch.series)
    return [
        {"seed": int(seed), **batch.tag} | out for seed, out in zip(batch.seeds, runs, strict=True)
    ]


def batches(
    params: Mapping[str, Any],
    seeds: Sequence[int],
    tag: Mapping[str, Any] | None = None,
    size: int = BATCH_SEEDS,
) -> list[Batch]:
    """``seeds`` of one setting cut into batches of ``size``."""
    seeds = [int(s) for s in seeds]
    return [
        Batch(dict(params), tuple(seeds[i : i + size]), BAND_SERIES, dict(tag or {}))
        for i in range(0, len(seeds), size)
    ]


def run_batches(
    work: Sequence[Batch],
    workers: int = 1,
    keep_going: Callable[[], bool] = lambda: True,
) -> Iterator[list[dict[str, Any]]]:
    """Each batch's rows as it finishes (completion order), on ``workers`` processes of
    the shared warm pool (one batch: in this process). Stops, leaving the pool idle and
    warm, as soon as ``keep_going()`` is false after a batch."""
    from experiments.backends import imap_inprocess, imap_pool

    items = iter(work)
    if workers <= 1 or len(work) < 2:
        results = imap_inprocess(run_batch, items)
    else:
        results = imap_pool(run_batch, items, workers, warm=True)
    try:
        for rows in results:
            yield rows
            if not keep_going():
                return
    finally:
        results.close()


# ---- statistics ------------------------------------------------------------------------------
def _clean(x: float) -> float:
    """An interval bound with rounding noise removed (``6.9e-18`` is 0)."""
    if math.isnan(x):
        return x
    return float(min(1.0, max(0.0, round(x, 12))))


def outcome_shares(outcomes: Sequence[str]) -> pd.DataFrame:
    """Runs, share and 95% Wilson interval of every outcome (``OUTCOMES`` order)."""
    n = len(outcomes)
    rows = []
    for outcome in OUTCOMES:
        k = sum(o == outcome for o in outcomes)
        lo, hi = wilson(k, n)
        share = k / n if n else math.nan
        rows.append(
            {"outcome": outcome, "runs": k, "share": share, "lo95": _clean(lo), "hi95": _clean(hi)}
        )
    return pd.DataFrame(rows)


def design_effect(hits: np.ndarray, sizes: np.ndarray) -> float:
    """Kish's design effect of a share estimated from clusters (``hits[j]`` of
    ``sizes[j]`` runs in cluster j): the cluster-robust variance of the pooled share over
    its binomial variance, kept between 1 (clusters no more alike than independent runs)
    and the mean cluster size (each cluster worth one run). At a share of 0 or 1 the
    clusters cannot be told apart and the bound is taken (conservative)."""
    hits, sizes = np.asarray(hits, float), np.asarray(sizes, float)
    n, clusters = sizes.sum(), len(sizes)
    top = n / clusters
    p = hits.sum() / n
    if clusters < 2 or p in (0.0, 1.0):
        return float(top)
    robust = clusters / (clusters - 1) * np.sum((hits - p * sizes) ** 2) / n**2
    deff = robust / (p * (1 - p) / n)
    return float(min(max(deff, 1.0), top))


def clustered_shares(outcomes: Sequence[str], clusters: Sequence[Any]) -> pd.DataFrame:
    """Outcome shares of runs grouped in clusters (runs of one posterior draw), with 95%
    Wilson intervals at the effective sample size ``n_eff = n / deff``
    (``design_effect``): the interval widens with the spread of the share between
    clusters, so it counts the parameter uncertainty the draws carry, not only the seeds.
    With one run per cluster it is Wilson's interval of the runs."""
    frame = pd.DataFrame({"outcome": list(outcomes), "cluster": list(clusters)})
    n = len(frame)
    sizes = frame.groupby("cluster", sort=True).size()
    rows = []
    for outcome in OUTCOMES:
        hits = (frame["outcome"] == outcome).groupby(frame["cluster"], sort=True).sum()
        k = int(hits.sum())
        deff = design_effect(hits.reindex(sizes.index).to_numpy(), sizes.to_numpy()) if n else 1
        n_eff = n / deff if n else 0
        lo, hi = wilson(k / n * n_eff if n else 0, n_eff)
        rows.append(
            {
                "outcome": outcome,
                "runs": k,
                "share": k / n if n else math.nan,
                "lo95": _clean(lo),
                "hi95": _clean(hi),
                "deff": deff,
                "n_eff": n_eff,
            }
        )
    return pd.DataFrame(rows)


def newcombe_paired(both: int, only_a: int, only_b: int, neither: int) -> tuple[float, float]:
    """95% interval of p_a - p_b for paired binary data (Newcombe 1998, "Improved
    confidence intervals for the difference between binomial proportions based on paired
    data", method 10): Wilson intervals of the two margins combined by square-and-add, with
    the correlation of the pairs (phi, corrected for continuity as in the paper)."""
    n = both + only_a + only_b + neither
    if n == 0:
        return math.nan, math.nan
    p_a, p_b = (both + only_a) / n, (both + only_b) / n
    l_a, u_a = wilson(both + only_a, n)
    l_b, u_b = wilson(both + only_b, n)
    margins = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    phi = 0.0
    if margins > 0:
        cross = both * neither - only_a * only_b
        if cross > n / 2:
            phi = (cross - n / 2) / math.sqrt(margins)
        elif cross < 0:
            phi = cross / math.sqrt(margins)
    d = p_a - p_b
    down = (p_a - l_a) ** 2 - 2 * phi * (p_a - l_a) * (u_b - p_b) + (u_b - p_b) ** 2
    up = (u_a - p_a) ** 2 - 2 * phi * (u_a - p_a) * (p_b - l_b) + (p_b - l_b) ** 2
    return max(-1.0, d - math.sqrt(max(down, 0.0))), min(1.0, d + math.sqrt(max(up, 0.0)))


def share_differences(a: Mapping[int, str], b: Mapping[int, str]) -> pd.DataFrame:
    """Each outcome's share under setting A and B over the seeds both ran (seed ->
    outcome), and the difference A - B with its 95% Newcombe interval for paired data
    (the two settings ran the same seeds)."""
    seeds = sorted(set(a) & set(b))
    rows = []
    for outcome in OUTCOMES:
        in_a = [a[s] == outcome for s in seeds]
        in_b = [b[s] == outcome for s in seeds]
        both = sum(x and y for x, y in zip(in_a, in_b, strict=True))
        only_a = sum(x and not y for x, y in zip(in_a, in_b, strict=True))
        only_b = sum(y and not x for x, y in zip(in_a, in_b, strict=True))
        neither = len(seeds) - both - only_a - only_b
        lo, hi = newcombe_paired(both, only_a, only_b, neither)
        n = len(seeds)
        rows.append(
            {
                "outcome": outcome,
                "share_a": (both + only_a) / n if n else math.nan,
                "share_b": (both + only_b) / n if n else math.nan,
                "difference": (only_a - only_b) / n if n else math.nan,
                "lo95": round(lo, 12),
                "hi95": round(hi, 12),
            }
        )
    return pd.DataFrame(rows)


def reversal_histogram(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Runs by reversal timing, months before expiry (``"0"`` = the expiry month), after
    the lapses with no reversal (``"lapsed"``)."""
    out: dict[str, int] = {}
    lapsed = 0
    for r in rows:
        m = r.get("reversal_months_before_expiry")
        if m is None or (isinstance(m, float) and math.isnan(m)):
            lapsed += r["outcome"] == "terminated"
            continue
        out[str(int(m))] = out.get(str(int(m)), 0) + 1
    return {"lapsed": lapsed} | {k: out[k] for k in sorted(out, key=int, reverse=True)}


# ---- the fitted posterior --------------------------------------------------------------------
@dataclass(frozen=True)
class Posterior:
    """The last generation of a fit: particles (parameter columns) and their weights."""

    directory: Path
    names: tuple[str, ...]
    particles: pd.DataFrame
    weights: np.ndarray

    @property
    def mean(self) -> dict[str, float]:
        """The weighted posterior mean: the point estimate ``fitted.toml`` holds."""
        w = self.weights / self.weights.sum()
        return {n: float(np.dot(w, self.particles[n].to_numpy(float))) for n in self.names}

    def draw(self, draws: int, seed: int) -> pd.DataFrame:
        """``draws`` particles drawn with replacement in proportion to their weights,
        from ``SeedSequence([seed, POSTERIOR_STREAM])``; column ``particle`` is the row
        of the last generation each draw is."""
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), POSTERIOR_STREAM]))
        picked = rng.choice(len(self.particles), size=draws, p=self.weights / self.weights.sum())
        out = self.particles.iloc[picked][list(self.names)].reset_index(drop=True)
        out.insert(0, "particle", picked)
        return out


def load_posterior(directory: str | Path) -> Posterior:
    """A fit's posterior from its output folder (``gsomia fit --out DIR``); ConfigError
    naming the file when the folder holds no fit."""
    from experiments.fit_report import final_population
    from experiments.targets import load_targets

    d = Path(directory)
    missing = [f for f in POSTERIOR_FILES if not (d / f).is_file()]
    if missing:
        raise ConfigError(
            f"--posterior: {d}: no {' or '.join(missing)}; allowed: the --out folder of a "
            "finished `gsomia fit` (e.g. results/fit)"
        )
    names = load_targets(d / "targets.toml").fit.names
    try:
        frame = pd.read_parquet(d / "posterior.parquet")
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{d / 'posterior.parquet'}: not a readable Parquet file ({type(exc).__name__}); "
            "allowed: the posterior.parquet `gsomia fit` wrote"
        ) from exc
    missing = [c for c in (*names, "weight", "generation") if c not in frame]
    if missing or frame.empty:
        raise ConfigError(
            f"{d / 'posterior.parquet'}: missing column(s) {', '.join(missing) or '(no rows)'}"
            "; allowed: the posterior.parquet `gsomia fit` wrote"
        )
    last = final_population(frame).reset_index(drop=True)
    return Posterior(d, tuple(names), last, last["weight"].to_numpy(float))


def posterior_work(
    base: Mapping[str, Any], posterior: Posterior, draws: int, seeds: int, seed: int
) -> tuple[list[Batch], list[Batch]]:
    """The posterior ensemble's work (``draws`` draws x ``seeds`` seeds; draw j's seeds
    are the runner's ``run_seed(seed, j, r)``) and the seeds-only ensemble at the
    posterior mean over as many runs (seeds 0 .. draws*seeds - 1)."""
    from experiments.runner import run_seed

    drawn = posterior.draw(draws, seed)
    work = []
    for j, row in drawn.iterrows():
        params = dict(base) | {n: float(row[n]) for n in posterior.names}
        run_seeds = [run_seed(seed, int(j), r) for r in range(seeds)]
        work += batches(params, run_seeds, {"draw": int(j), "particle": int(row["particle"])})
    point = batches(dict(base) | posterior.mean, range(draws * seeds), {"draw": -1})
    return work, point


@dataclass(frozen=True)
class PosteriorEnsemble:
    """A posterior ensemble's rows and the seeds-only rows at the point estimate."""

    draws: int
    seeds: int
    posterior_rows: tuple[dict[str, Any], ...]
    point_rows: tuple[dict[str, Any], ...]
    point: Mapping[str, float]

    def table(self) -> pd.DataFrame:
        """Per outcome: the posterior share and interval (draws as clusters) next to the
        point estimate's share and Wilson interval."""
        post = clustered_shares(
            [r["outcome"] for r in self.posterior_rows], [r["draw"] for r in self.posterior_rows]
        )
        point = outcome_shares([r["outcome"] for r in self.point_rows])
        return pd.DataFrame(
            {
                "outcome": post["outcome"],
                "posterior_runs": post["runs"],
                "posterior_share": post["share"],
                "posterior_lo95": post["lo95"],
                "posterior_hi95": post["hi95"],
                "deff": post["deff"],
                "point_runs": point["runs"],
                "point_share": point["share"],
                "point_lo95": point["lo95"],
                "point_hi95": point["hi95"],
            }
        )


def posterior_ensemble(
    base: Mapping[str, Any],
    fit_dir: str | Path,
    draws: int,
    seeds: int,
    seed: int = 0,
    workers: int = 1,
    keep_going: Callable[[], bool] = lambda: True,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> PosteriorEnsemble:
    """Run the posterior ensemble of scenario keywords ``base`` (``load_config``) over
    the fit in ``fit_dir``, and the seeds-only ensemble at its posterior mean. Stops early
    (with the rows so far) when ``keep_going()`` turns false."""
    for key, value in (("--draws", draws), ("--seeds", seeds)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key}: invalid value {value!r}; allowed: an integer >= 1")
    posterior = load_posterior(fit_dir)
    work, point = posterior_work(base, posterior, draws, seeds, seed)
    total = 2 * draws * seeds
    post_rows: list[dict[str, Any]] = []
    point_rows: list[dict[str, Any]] = []
    for rows in run_batches(work + point, workers, keep_going):
        for row in rows:
            (point_rows if row["draw"] < 0 else post_rows).append(row)
        progress(len(post_rows) + len(point_rows), total)
    order = sorted(post_rows, key=lambda r: (r["draw"], r["seed"]))
    return PosteriorEnsemble(
        draws,
        seeds,
        tuple(order),
        tuple(sorted(point_rows, key=lambda r: r["seed"])),
        posterior.mean,
    )


def posterior_markdown(ens: PosteriorEnsemble, scenario: str, fit_dir: str | Path) -> str:
    """The posterior ensemble's table as GitHub markdown (``gsomia calibrate
    --posterior``)."""

    def pct(x: float) -> str:
        return "" if math.isnan(x) else f"{100 * x:.0f}%"

    n = ens.draws * ens.seeds
    lines = [
        f"Outcomes of {scenario}: {ens.draws} parameter draws from the posterior in {fit_dir} "
        f"x {ens.seeds} seeds ({len(ens.posterior_rows)} of {n} runs), against the posterior "
        f"mean over {len(ens.point_rows)} seeds.",
        "",
        "| outcome | posterior | 95% interval (parameters + seeds) | design effect | "
        "posterior mean | 95% Wilson interval (seeds) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in ens.table().itertuples():
        lines.append(
            f"| {r.outcome} | {pct(r.posterior_share)} | {pct(r.posterior_lo95)}–"
            f"{pct(r.posterior_hi95)} | {r.deff:.1f} | {pct(r.point_share)} | "
            f"{pct(r.point_lo95)}–{pct(r.point_hi95)} |"
        )
    lines += [
        "",
        "Posterior interval: Wilson's at n / deff runs, deff = Kish's design effect of the "
        "draws as clusters (between 1 and the seeds per draw).",
    ]
    return "\n".join(lines)
