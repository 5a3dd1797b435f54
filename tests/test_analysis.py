"""Sweep analysis: the report of the smoke sweep, and the statistics behind it (Wilson
intervals, reversal timing, phase maps, Sobol' indices, PRIM) on hand-computed cases."""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import analysis
from experiments.analysis import (
    PrimBox,
    analyze,
    outcome_shares,
    phase_maps,
    prim_box,
    prim_trajectory_builtin,
    reversal_timing,
    sobol_indices,
    wilson,
)
from experiments.cli import main
from experiments.designs import saltelli
from experiments.runner import run_sweep
from experiments.spec import Varied
from model import OUTCOMES, __version__

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "configs" / "sweeps" / "smoke.toml"
BASELINE = REPO / "configs" / "baseline_2019.toml"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("analysis") / "smoke"
    run_sweep(SMOKE, out=out, workers=1, progress=False)
    return out


# ---- the report ---------------------------------------------------------------------------
def test_analyze_smoke_sweep_writes_report_figures_and_tables(smoke, capsys):
    assert main(["analyze", str(smoke)]) == 0
    assert "report.md" in capsys.readouterr().out
    report = (smoke / "report.md").read_text()
    for section in ("## Outcomes", "## The deadline effect", "## Phase maps", "PRIM"):
        assert section in report
    assert f"; gsomia {__version__}\n" in report  # the version the sweep ran
    for png in ("reversal_timing.png", "marginals.png", "phase_dominant.png", "phase_p_lms.png"):
        data = (smoke / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        assert f"]({png})" in report
    runs = pd.read_parquet(smoke / "runs.parquet")
    shares = pd.read_csv(smoke / "outcome_shares.csv")
    assert len(shares) == runs["point_id"].nunique() == 4
    p = shares[[f"p_{o}" for o in OUTCOMES]]
    assert np.allclose(p.sum(axis=1), 1.0)
    for o in OUTCOMES:
        assert (shares[f"p_{o}_lo"] <= shares[f"p_{o}"] + 1e-12).all()
        assert (shares[f"p_{o}"] <= shares[f"p_{o}_hi"] + 1e-12).all()
    # counts in the table are the runs' outcomes
    for _, row in shares.iterrows():
        sub = runs[runs["point_id"] == row["point_id"]]
        for o in OUTCOMES:
            assert row[f"n_{o}"] == (sub["outcome"] == o).sum()
    overall = pd.read_csv(smoke / "outcomes_overall.csv")
    assert overall["runs"].sum() == len(runs)
    timing = pd.read_csv(smoke / "reversal_timing.csv")
    timing = timing[timing["subset"] == "all runs"]
    reversed_ = runs["reversal_months_before_expiry"].notna().sum()
    assert timing.loc[timing["months_before_expiry"] >= 0, "reversals"].sum() == reversed_
    assert (timing["held"] + timing["revived"] <= timing["reversals"]).all()
    phase = pd.read_csv(smoke / "phase_maps.csv")
    assert set(phase["n"]) == {2}  # 2 x 2 grid cells, 2 replications each
    assert "report.md" not in [p.name for p in smoke.glob("*.csv")]


def test_analyze_refuses_a_directory_without_a_finished_sweep(tmp_path, capsys):
    assert main(["analyze", str(tmp_path)]) == 2
    assert "not a finished sweep" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def raise_when_cost_is_six(params, seed):
    from experiments.runner import run_one

    if params["audience_cost"] == 6.0:
        raise RuntimeError("injected")
    return run_one(params, seed)


def test_analyze_reports_failed_runs_and_uses_the_rest(tmp_path):
    out = run_sweep(
        SMOKE, out=tmp_path / "err", workers=1, progress=False, experiment=raise_when_cost_is_six
    )
    report = analyze(out).read_text()
    assert "**4 runs raised** (first: `RuntimeError: injected`)" in report
    shares = pd.read_csv(out / "outcome_shares.csv")
    failed = shares[shares["audience_cost"] == 6.0]
    assert (failed["ok"] == 0).all() and (failed["dominant"] == "error").all()


SALTELLI_SPEC = (
    'design = "saltelli"\nreplications = 1\nseed = 3\n'
    "[parameters.us_pressure_weight]\nlow = 0.0\nhigh = 1.8\n"
    "[parameters.trade_damage]\nlow = 0.0\nhigh = 3.0\n"
)


def salib_direct(runs: pd.DataFrame, spec_text: str, target: str) -> dict[str, np.ndarray]:
    """Sobol' indices of P(target) per design point, computed with SALib directly."""
    from SALib.analyze import sobol

    problem = {
        "num_vars": 2,
        "names": ["us_pressure_weight", "trade_damage"],
        "bounds": [[0.0, 1.8], [0.0, 3.0]],
    }
    y = (runs["outcome"] == target).groupby(runs["point_id"]).mean().to_numpy(dtype=float)
    return sobol.analyze(problem, y, calc_second_order=False, seed=1)


def test_saltelli_sweep_report_has_sobol_indices(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(f'[sweep]\nconfig = "{BASELINE}"\nsamples = 4\n' + SALTELLI_SPEC)
    out = run_sweep(spec, out=tmp_path / "sobol", workers=1, progress=False)
    report = analyze(out).read_text()
    assert "## Sobol' sensitivity indices" in report
    table = pd.read_csv(out / "sobol_indices.csv")
    assert set(table["outcome"]) == {"last_minute_suspension", "terminated"}
    assert set(table["parameter"]) == {"us_pressure_weight", "trade_damage"}
    # the values are SALib's on the per-point outcome shares
    runs = pd.read_parquet(out / "runs.parquet")
    for target in ("last_minute_suspension", "terminated"):
        rows = table[table["outcome"] == target].set_index("parameter")
        if (runs["outcome"] == target).nunique() < 2:  # no variance: no index
            assert rows["S1"].isna().all()
            continue
        direct = salib_direct(runs, SALTELLI_SPEC, target)
        for i, name in enumerate(("us_pressure_weight", "trade_damage")):
            # the CSV holds 6 significant digits
            assert rows.loc[name, "S1"] == pytest.approx(direct["S1"][i], rel=1e-5, abs=1e-6)
            assert rows.loc[name, "ST"] == pytest.approx(direct["ST"][i], rel=1e-5, abs=1e-6)
            assert rows.loc[name, "S1_conf"] >= 0 and rows.loc[name, "ST_conf"] >= 0


def threshold_experiment(params, seed):
    """Outcomes that depend on the parameters alone: a lapse below a pressure weight of
    0.6 whatever the trade damage, a last-minute suspension above it when damage is high."""
    if params["us_pressure_weight"] < 0.6:
        outcome = "terminated"
    elif params["trade_damage"] > 1.5:
        outcome = "last_minute_suspension"
    else:
        outcome = "renewed"
    return {"outcome": outcome}


def test_sobol_indices_match_salib_and_find_the_parameter_that_matters(tmp_path):
    """On outcomes with a known dependence, the analysis gives SALib's indices, a total
    index of exactly 0 to a parameter that cannot matter, and most of the variance of
    P(terminated) to the one that decides it."""
    spec = tmp_path / "s.toml"
    spec.write_text(f'[sweep]\nconfig = "{BASELINE}"\nsamples = 256\n' + SALTELLI_SPEC)
    out = run_sweep(
        spec, out=tmp_path / "sobol", workers=1, progress=False, experiment=threshold_experiment
    )
    runs, meta = analysis.load(out)
    table = sobol_indices(runs, meta).set_index(["outcome", "parameter"])
    for target in ("last_minute_suspension", "terminated"):
        direct = salib_direct(runs, SALTELLI_SPEC, target)
        for i, name in enumerate(("us_pressure_weight", "trade_damage")):
            row = table.loc[(target, name)]
            assert row["S1"] == pytest.approx(direct["S1"][i], abs=1e-12)
            assert row["ST"] == pytest.approx(direct["ST"][i], abs=1e-12)
    assert table.loc[("terminated", "trade_damage"), "ST"] == 0.0
    assert table.loc[("terminated", "us_pressure_weight"), "S1"] == pytest.approx(1.0, abs=0.1)
    # both parameters matter for a last-minute suspension, and they interact
    lms = table.loc["last_minute_suspension"]
    assert (lms["S1"] > 0.1).all() and (lms["ST"] > lms["S1"]).all()


# ---- Wilson ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "k, n, lo, hi",
    [
        (0, 10, 0.0, 0.277533),  # (z^2/2n ± z*sqrt(z^2/4n^2)) / (1 + z^2/n)
        (5, 10, 0.236593, 0.763407),
        (10, 10, 0.722467, 1.0),
        (1, 4, 0.045587, 0.699358),  # also statsmodels' proportion_confint(method="wilson")
        (81, 263, 0.255289, 0.366210),
    ],
)
def test_wilson_interval_matches_hand_computation(k, n, lo, hi):
    a, b = wilson(k, n)
    assert a == pytest.approx(lo, abs=1e-6)
    assert b == pytest.approx(hi, abs=1e-6)


def test_wilson_interval_of_no_runs_is_undefined():
    assert all(math.isnan(v) for v in wilson(0, 0))


@pytest.mark.parametrize("n", [1, 3, 7, 10, 50, 51, 999])
def test_wilson_bounds_are_exactly_0_and_1_at_the_edges(n):
    """No run of an outcome: the lower bound is 0, not rounding noise such as 6.9e-18
    (seen at n = 50); every run: the upper bound is 1."""
    assert wilson(0, n)[0] == 0.0
    assert wilson(n, n)[1] == 1.0
    assert 0.0 < wilson(0, n)[1] < 1.0 and 0.0 < wilson(n, n)[0] < 1.0


# ---- reversal timing ---------------------------------------------------------------------------
def runs_frame(rows: list[tuple]) -> pd.DataFrame:
    cols = ["outcome", "reversal_months_before_expiry", "notice_month", "reversal_month"]
    df = pd.DataFrame(rows, columns=cols)
    df["status"] = "ok"
    return df


def test_reversal_timing_counts_and_deadline_ratio_by_hand():
    df = runs_frame(
        [
            # notice Aug, lapse Nov: window Sep..Nov = 3 months
            ("last_minute_suspension", 0, "2019-08", "2019-11"),
            ("last_minute_suspension", 0, "2019-08", "2019-11"),
            ("last_minute_suspension", 0, "2019-08", "2019-11"),
            ("early_reversal", 2, "2019-08", "2019-09"),
            # notice Oct, lapse Nov: window 1 month
            ("terminated", 0, "2019-10", "2019-11"),  # suspended, then revived
            ("terminated", None, "2019-08", None),
            ("renewed", None, None, None),
            ("pending", None, "2019-12", None),
        ]
    )
    table, stats = reversal_timing(df)
    counts = dict(zip(table["months_before_expiry"], table["reversals"], strict=True))
    assert counts == {-1: 1, 2: 1, 1: 0, 0: 4}
    revived = dict(zip(table["months_before_expiry"], table["revived"], strict=True))
    assert revived == {-1: 0, 2: 0, 1: 0, 0: 1}  # the suspended-then-revived run
    labels = ["lapsed, no reversal", "2 months", "1 month", "expiry month"]
    assert list(table["label"]) == labels
    assert list(table["held"]) == [0, 1, 0, 3]
    assert table.index.equals(pd.RangeIndex(4))
    assert list(table["share_of_noticed_runs"]) == pytest.approx([1 / 7, 1 / 7, 0.0, 4 / 7])
    assert stats["reversals"] == 5 and stats["noticed"] == 7 and stats["held"] == 4
    assert stats["runs_ok"] == 8 and stats["at_expiry"] == 4
    assert stats["held_share_at_expiry"] == pytest.approx(3 / 4)
    assert stats["share_at_expiry"] == pytest.approx(4 / 5)
    # its 95% Wilson interval is over the 5 reversals (not the 7 noticed or 8 ok runs):
    # p = 0.8, n = 5, z = 1.96: (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
    assert stats["share_at_expiry_lo"] == pytest.approx(0.375535, abs=1e-6)
    assert stats["share_at_expiry_hi"] == pytest.approx(0.963776, abs=1e-6)
    # uniform timing: 1/3 for the four Aug notices, 1/1 for the Oct one
    assert stats["uniform_share"] == pytest.approx((4 / 3 + 1) / 5)
    assert stats["ratio"] == pytest.approx(0.8 / ((4 / 3 + 1) / 5))
    assert stats["lapsed_share_of_noticed"] == pytest.approx(1 / 7)


TIMING_CASES = {
    # us_pressure_weight -> (outcome, months before expiry, notice month, reversal month)
    0.1: ("last_minute_suspension", 0, "2019-08", "2019-11"),
    0.2: ("last_minute_suspension", 0, "2019-08", "2019-11"),
    0.3: ("last_minute_suspension", 0, "2019-08", "2019-11"),
    0.4: ("early_reversal", 2, "2019-08", "2019-09"),
    0.5: ("terminated", 0, "2019-10", "2019-11"),  # suspended, then revived
    0.6: ("terminated", None, "2019-08", None),
    0.7: ("renewed", None, None, None),
    0.8: ("pending", None, "2019-12", None),
}


def timing_experiment(params, seed):
    """Each design point's run is the row of TIMING_CASES for its value; 0.9 raises."""
    value = round(params["us_pressure_weight"], 1)
    if value not in TIMING_CASES:
        raise RuntimeError("injected")
    outcome, months, notice, reversal = TIMING_CASES[value]
    return {
        "outcome": outcome,
        "reversal_months_before_expiry": months,
        "notice_month": notice,
        "reversal_month": reversal,
        "n_events": 1,
    }


def test_the_reports_intervals_are_over_the_runs_they_share(tmp_path):
    """report.md's headline interval of reversals in the expiry month is over the
    reversals (4 of 5), not the noticed runs (7), the ok runs (8) or all runs (9, one
    raised); near the base scenario over its own reversals (1 of 2); the outcome table's
    over the ok runs (3 of 8)."""
    values = ", ".join(str(v) for v in [*TIMING_CASES, 0.9])
    spec = tmp_path / "timing.toml"
    spec.write_text(
        f'[sweep]\nconfig = "{BASELINE}"\ndesign = "grid"\nreplications = 1\nseed = 1\n'
        f"[parameters.us_pressure_weight]\nvalues = [{values}]\n"
    )
    out = run_sweep(
        spec, out=tmp_path / "out", workers=1, progress=False, experiment=timing_experiment
    )
    report = analyze(out).read_text()
    assert "9 runs (8 ok, 1 errors)" in report
    # Wilson 95% of 4 of 5: 37.6%-96.4%; of 1 of 2: 9.5%-90.5%
    assert (
        "of 7 runs in which Seoul gave notice, 5 reversed it; **80%** of the reversals "
        "(95% CI 38%–96%) came in the month of expiry" in report
    )
    # near the base (us_pressure_weight 0.506 +- 0.16): 0.4, 0.5 and 0.6
    assert "(3 runs with every varied parameter within 20% of its range" in report
    assert (
        "of 3 runs in which Seoul gave notice, 2 reversed it; **50%** of the reversals "
        "(95% CI 9%–91%)" in report
    )
    assert "| last_minute_suspension | 3 | 38% | 14%–69% |" in report  # 3 of 8 ok runs
    overall = pd.read_csv(out / "outcomes_overall.csv").set_index("outcome")
    lms = overall.loc["last_minute_suspension"]
    assert (lms["runs"], lms["share"]) == (3, 3 / 8)
    assert (lms["lo"], lms["hi"]) == pytest.approx((0.136844, 0.694258), abs=1e-6)


def test_near_base_selects_runs_close_to_the_base_values(smoke):
    from model.parameters import PARAMETERS

    meta = json.loads((smoke / "meta.json").read_text())
    base = analysis.base_values(smoke, meta)
    names = ("us_pressure_weight", "audience_cost")
    assert base == {k: PARAMETERS[k].default for k in names}  # the smoke config sets neither
    u, a = base["us_pressure_weight"], base["audience_cost"]
    # 20% of the swept ranges: 0.08 (us_pressure_weight 0.2..0.6) and 0.8 (cost 2..6)
    df = pd.DataFrame(
        {
            "us_pressure_weight": [u, u + 0.07, u - 0.09, u],
            "audience_cost": [a, a - 0.7, a, a + 0.9],
        }
    )
    assert list(analysis.near_base(df, meta, base)) == [True, True, False, False]


def test_reversal_timing_without_reversals():
    table, stats = reversal_timing(runs_frame([("renewed", None, None, None)] * 3))
    assert stats["reversals"] == 0 and math.isnan(stats["share_at_expiry"])
    assert table["reversals"].sum() == 0
    assert list(table["months_before_expiry"]) == [-1, 0]  # no rows before the expiry month
    assert math.isnan(stats["uniform_share"]) and math.isnan(stats["ratio"])


# ---- shares, phase maps ------------------------------------------------------------------------
def synthetic_grid() -> tuple[pd.DataFrame, dict]:
    """A 3 x 3 grid of (a, b), 4 runs each; last-minute suspension iff a + b >= 2, else
    renewed, except cell (0, 0) where 1 of 4 runs is terminated."""
    rows = []
    for pid, (a, b) in enumerate(itertools.product([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])):
        for rep in range(4):
            o = "last_minute_suspension" if a + b >= 2 else "renewed"
            if (a, b) == (0.0, 0.0) and rep == 0:
                o = "terminated"
            rows.append({"point_id": pid, "a": a, "b": b, "outcome": o, "status": "ok"})
    meta = {
        "spec": {
            "design": "grid",
            "parameters": [
                {"name": "a", "low": 0.0, "high": 2.0},
                {"name": "b", "low": 0.0, "high": 2.0},
            ],
        }
    }
    return pd.DataFrame(rows), meta


def test_outcome_shares_per_point_with_wilson_bounds():
    df, _ = synthetic_grid()
    shares = outcome_shares(df, ["a", "b"])
    first = shares.iloc[0]
    assert (first["a"], first["b"]) == (0.0, 0.0)
    assert first["p_terminated"] == 0.25 and first["p_renewed"] == 0.75
    assert (first["p_terminated_lo"], first["p_terminated_hi"]) == wilson(1, 4)
    assert first["dominant"] == "renewed"
    assert list(shares["dominant"]).count("last_minute_suspension") == 6


def test_phase_map_cells_by_hand():
    df, meta = synthetic_grid()
    table = phase_maps(df, meta)
    assert len(table) == 9 and set(table["n"]) == {4}
    cell = table[(table["a_value"] == 2.0) & (table["b_value"] == 0.0)].iloc[0]
    assert cell["p_last_minute_suspension"] == 1.0 and cell["dominant"] == "last_minute_suspension"
    cell = table[(table["a_value"] == 0.0) & (table["b_value"] == 1.0)].iloc[0]
    assert cell["p_last_minute_suspension"] == 0.0 and cell["dominant"] == "renewed"


def test_continuous_parameters_are_binned_into_equal_width_bins():
    values = pd.Series(np.linspace(0.0, 10.0, 101))
    index, centres = analysis.bins_for(values, 0.0, 10.0)
    assert len(centres) == analysis.MAX_BINS
    assert centres[0] == pytest.approx(10 / analysis.MAX_BINS / 2)
    assert index.iloc[0] == 0 and index.iloc[-1] == analysis.MAX_BINS - 1
    assert np.bincount(index).min() >= 12


# ---- Sobol ---------------------------------------------------------------------------------------
def test_sobol_indices_find_the_only_influential_parameter():
    df, meta = saltelli_frame(False, a_decides, n=256, seed=1)
    table = sobol_indices(df, meta).set_index(["outcome", "parameter"])
    for o in ("last_minute_suspension", "terminated"):
        assert table.loc[(o, "a"), "S1"] == pytest.approx(1.0, abs=0.1)
        assert table.loc[(o, "a"), "ST"] == pytest.approx(1.0, abs=0.1)
        assert abs(table.loc[(o, "b"), "S1"]) < 0.05
        assert table.loc[(o, "b"), "ST"] < 0.05


def test_sobol_indices_only_for_saltelli_designs():
    df, meta = synthetic_grid()
    assert sobol_indices(df, meta) is None


# ---- PRIM ----------------------------------------------------------------------------------------
def grid_case() -> tuple[pd.DataFrame, np.ndarray]:
    """10 x 10 integer grid; the cases of interest are a >= 5 and b >= 5 (25 of 100)."""
    a, b = np.meshgrid(np.arange(10.0), np.arange(10.0))
    x = pd.DataFrame({"a": a.ravel(), "b": b.ravel()})
    return x, ((x["a"] >= 5) & (x["b"] >= 5)).to_numpy()


IMPLS = ["builtin", pytest.param("ema", marks=pytest.mark.skipif(
    not analysis.ema_available(), reason="ema_workbench not installed"))]  # fmt: skip


def inside(x: pd.DataFrame, box: PrimBox) -> np.ndarray:
    mask = np.ones(len(x), dtype=bool)
    for k, (lo, hi) in box.limits.items():
        mask &= (x[k] >= lo).to_numpy() & (x[k] <= hi).to_numpy()
    return mask


@pytest.mark.parametrize("impl", IMPLS)
def test_prim_finds_the_quadrant_of_a_grid(impl):
    x, y = grid_case()
    box, traj = prim_box(x, y, threshold=0.8, impl=impl)
    assert (box.coverage, box.density, box.mass, box.n) == (1.0, 1.0, 0.25, 25)
    assert set(box.limits) == {"a", "b"}
    assert (inside(x, box) == y).all()
    # the trajectory starts from the whole space and ends at least as dense
    assert traj[0][1:] == (1.0, 0.25, 1.0, 100)
    assert traj[-1][2] >= box.density
    if impl == "builtin":  # bounds are data values (EMA interpolates: 4.5)
        assert box.limits == {"a": (5.0, 9.0), "b": (5.0, 9.0)}
        assert box.describe() == "5 ≤ a ≤ 9 and 5 ≤ b ≤ 9"


@pytest.mark.parametrize("impl", IMPLS)
def test_prim_one_dimension_by_hand(impl):
    x = pd.DataFrame({"u": np.arange(20.0), "noise": np.tile([0.0, 1.0], 10)})
    y = (x["u"] >= 12).to_numpy()  # 8 of 20
    box, _ = prim_box(x, y, threshold=0.99, impl=impl)
    assert set(box.limits) == {"u"}  # the noise column is left alone
    assert 11.0 < box.limits["u"][0] <= 12.0 and box.limits["u"][1] == 19.0
    assert (box.coverage, box.density, box.mass, box.n) == (1.0, 1.0, 0.4, 8)


def test_builtin_peeling_removes_alpha_share_per_step():
    x = pd.DataFrame({"u": np.arange(100.0)})
    y = (x["u"] >= 50).to_numpy()
    traj = prim_trajectory_builtin(x, y, peel_alpha=0.1, mass_min=0.3)
    masses = [t[3] for t in traj]
    # each peel keeps u >= the 10% quantile of the box (rounded up to a data value):
    # 0..99 -> 10..99 (90 runs) -> 19..99 (81) -> 27..99 (73), until < 30% would remain
    assert masses[:4] == [1.0, 0.9, 0.81, 0.73]
    assert min(masses) >= 0.3
    assert all(t[0]["u"][1] == 99.0 for t in traj)  # never peels the cases' side
    assert traj[-1][2] == 1.0


def test_prim_without_cases_gives_no_box():
    x, _ = grid_case()
    box, traj = prim_box(x, np.zeros(100, dtype=bool), impl="builtin")
    assert box is None and traj == []


def test_prim_box_description_without_restrictions():
    assert PrimBox({}, 1.0, 0.5, 1.0, 10).describe() == "anywhere in the sweep's ranges"


def test_meta_json_of_smoke_sweep_has_the_spec_for_analysis(smoke):
    meta = json.loads((smoke / "meta.json").read_text())
    assert analysis.varied_names(meta) == ["us_pressure_weight", "audience_cost"]


def test_builtin_peeling_from_the_high_end_mirrors_the_low_end():
    """Cases at the low end: each peel keeps u <= the 90% quantile of the box (rounded
    down to a data value): 0..99 -> 0..89 -> 0..80 -> 0..72."""
    x = pd.DataFrame({"u": np.arange(100.0)})
    traj = prim_trajectory_builtin(x, (x["u"] < 50).to_numpy(), peel_alpha=0.1, mass_min=0.3)
    assert [t[3] for t in traj[:4]] == [1.0, 0.9, 0.81, 0.73]
    assert [t[0]["u"][1] for t in traj[:4]] == [99.0, 89.0, 80.0, 72.0]
    assert all(t[0]["u"][0] == 0.0 for t in traj if t[2] < 1.0)  # not the cases' side


def test_prim_finds_the_low_quadrant_of_a_grid_by_dropping_tied_top_levels():
    """On a grid every level is tied 10 times: a peel from the top drops the whole top
    level (the 95% quantile is the maximum itself)."""
    x, _ = grid_case()
    y = ((x["a"] <= 4) & (x["b"] <= 4)).to_numpy()
    box, _ = prim_box(x, y, threshold=0.8, impl="builtin")
    assert box.limits == {"a": (0.0, 4.0), "b": (0.0, 4.0)}
    assert (box.coverage, box.density, box.mass, box.n) == (1.0, 1.0, 0.25, 25)


def test_builtin_peeling_defaults_peel_5_percent_down_to_5_percent_of_runs():
    x = pd.DataFrame({"u": np.arange(100.0)})
    traj = prim_trajectory_builtin(x, (x["u"] >= 90).to_numpy())
    assert [t[4] for t in traj[:3]] == [100, 95, 90]
    assert min(t[3] for t in traj) >= 0.05 and traj[-1][2] == 1.0


def test_peeling_may_end_at_a_box_of_exactly_mass_min():
    """'Until fewer than mass_min of all runs remain': a box of exactly mass_min (one run
    of 20) is allowed, and the peel goes down to it."""
    x = pd.DataFrame({"u": np.arange(20.0)})
    traj = prim_trajectory_builtin(x, (x["u"] == 19).to_numpy(), peel_alpha=0.05, mass_min=0.05)
    assert traj[-1][0]["u"] == (19.0, 19.0)
    assert traj[-1][1:] == (1.0, 1.0, 0.05, 1)


def test_peeling_skips_constant_parameters_and_peels_the_others():
    x = pd.DataFrame({"const": np.ones(20), "u": np.arange(20.0)})
    box, _ = prim_box(x, (x["u"] >= 12).to_numpy(), threshold=0.99, impl="builtin")
    assert box.limits == {"u": (12.0, 19.0)}
    assert (box.coverage, box.density, box.n) == (1.0, 1.0, 8)


def test_peeling_tries_the_high_end_when_the_low_end_would_leave_too_few_runs():
    """Dropping the tied bottom level (11 of 20 runs) would leave less than mass_min, so
    the peels come from the top until only the cases (the bottom level) remain."""
    x = pd.DataFrame({"u": [0.0] * 11 + [float(v) for v in range(1, 10)]})
    traj = prim_trajectory_builtin(x, (x["u"] == 0).to_numpy(), peel_alpha=0.05, mass_min=0.5)
    assert len(traj) > 1
    assert traj[-1][0]["u"] == (0.0, 0.0) and traj[-1][2] == 1.0


def test_each_peel_takes_the_densest_box_not_the_biggest():
    """A tied level of 'a' (half the runs) removes most non-cases; peeling one run of 'b'
    keeps more runs but is less dense: the peel restricts 'a'."""
    a = np.repeat([0.0, 1.0], 10)
    y = np.concatenate([[True, True] + [False] * 8, [True] * 8 + [False] * 2])
    x = pd.DataFrame({"a": a, "b": np.arange(20.0)})
    traj = prim_trajectory_builtin(x, y, peel_alpha=0.05, mass_min=0.05)
    assert traj[1][0]["a"] == (1.0, 1.0) and traj[1][2] == 0.8 and traj[1][4] == 10


def test_equally_dense_peels_keep_the_most_runs():
    """When every run is a case every peel is as dense as the others; the one keeping the
    most runs wins (one run off the top, not the tied bottom level of five)."""
    x = pd.DataFrame({"a": [0.0] * 5 + [float(v) for v in range(1, 16)]})
    traj = prim_trajectory_builtin(x, np.ones(20, dtype=bool), peel_alpha=0.05, mass_min=0.05)
    assert traj[1][4] == 19 and traj[1][0]["a"] == (0.0, 14.0)


def test_prim_without_cases_has_undefined_coverage_without_warnings():
    x = pd.DataFrame({"u": np.arange(10.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = prim_trajectory_builtin(x, np.zeros(10, dtype=bool))
    assert math.isnan(traj[0][1]) and traj[0][2] == 0.0


def test_prim_box_uses_the_implementation_asked_for():
    """'ema' and (with EMA Workbench installed) the default 'auto' give EMA's trajectory,
    whose bounds interpolate between grid levels; 'builtin' the built-in one."""
    x, y = grid_case()
    built = prim_trajectory_builtin(x, y, 0.05, 0.05)
    assert prim_box(x, y, impl="builtin")[1] == built
    if analysis.ema_available():
        ema = analysis.prim_trajectory_ema(x, y, 0.05, 0.05)
        assert ema != built
        assert prim_box(x, y, impl="ema")[1] == ema
        assert prim_box(x, y)[1] == prim_box(x, y, impl="auto")[1] == ema
    else:
        assert prim_box(x, y)[1] == built
    with pytest.raises(ValueError, match="impl: 'fast'"):
        prim_box(x, y, impl="fast")


def test_outcome_shares_are_in_point_order_with_run_and_error_counts():
    """Rows come out by point id whatever the row order; each counts its runs, ok runs
    and failed runs; the dominant outcome of a point with one ok run is that outcome."""
    df = pd.DataFrame(
        {
            "point_id": [2, 0, 2, 1, 0, 2],
            "a": [3.0, 1.0, 3.0, 2.0, 1.0, 3.0],
            "outcome": ["terminated", "renewed", None, "renewed", "renewed", "terminated"],
            "status": ["ok", "ok", "error", "ok", "error", "ok"],
        }
    )
    shares = outcome_shares(df, ["a"])
    assert list(shares["point_id"]) == [0, 1, 2] and list(shares["a"]) == [1.0, 2.0, 3.0]
    assert list(shares["runs"]) == [2, 1, 3]
    assert list(shares["ok"]) == [1, 1, 2]
    assert list(shares["errors"]) == [1, 0, 1]
    assert list(shares["dominant"]) == ["renewed", "renewed", "terminated"]
    # shares and intervals over each point's ok runs: point 2 is 2 of 2 terminated
    last = shares.iloc[2]
    assert (last["n_terminated"], last["p_terminated"]) == (2, 1.0)
    assert (last["p_terminated_lo"], last["p_terminated_hi"]) == pytest.approx(
        (0.342380, 1.0), abs=1e-6
    )


def test_dominant_outcome_ties_go_to_the_first_outcome_in_both_tables():
    """A tie between two outcomes goes to the one listed first in OUTCOMES, in the
    per-point shares and in the phase-map cells alike."""
    first, second = OUTCOMES[1], OUTCOMES[3]
    df = pd.DataFrame(
        {
            "point_id": [0, 0, 1, 1],
            "a": [0.0, 0.0, 1.0, 1.0],
            "b": [0.0, 0.0, 0.0, 0.0],
            "outcome": [second, first, first, second],
            "status": ["ok"] * 4,
        }
    )
    assert list(outcome_shares(df, ["a", "b"])["dominant"]) == [first, first]
    meta = {"spec": {"parameters": [{"name": n, "low": 0.0, "high": 1.0} for n in "ab"]}}
    assert set(phase_maps(df, meta)["dominant"]) == {first}


def test_near_base_includes_runs_at_exactly_a_fifth_of_the_range_despite_rounding():
    """0.55 - 0.35 is 0.2 plus a rounding error in floating point: still near."""
    meta = {"spec": {"parameters": [{"name": "u", "low": 0.0, "high": 1.0}]}}
    df = pd.DataFrame({"u": [0.55, 0.15, 0.5501, 0.35]})
    assert list(analysis.near_base(df, meta, {"u": 0.35})) == [True, True, False, True]


def test_marginals_bin_each_parameter_over_its_swept_range():
    """One block per parameter, in spec order: parameter, bin, bin centre, then the
    cell statistics; a continuous parameter gets MAX_BINS equal-width bins over
    [low, high], a grid parameter its own levels; the index runs 0..n-1."""
    rng = np.random.default_rng(3)
    u = rng.uniform(0.0, 4.0, 400)
    df = pd.DataFrame(
        {
            "u": u,
            "g": np.tile([1.0, 2.0], 200),
            "outcome": np.where(u > 2.0, "terminated", "renewed"),
            "status": "ok",
        }
    )
    meta = {
        "spec": {
            "parameters": [
                {"name": "u", "low": 0.0, "high": 4.0},
                {"name": "g", "low": 1.0, "high": 2.0},
            ]
        }
    }
    table = analysis.marginals(df, meta)
    assert list(table.columns[:3]) == ["parameter", "bin", "value"]
    assert table.index.equals(pd.RangeIndex(len(table)))
    u_rows = table[table["parameter"] == "u"]
    width = 4.0 / analysis.MAX_BINS
    assert list(u_rows["value"]) == pytest.approx([width * (i + 0.5) for i in range(8)])
    assert u_rows["n"].sum() == 400
    assert list(u_rows["p_terminated"]) == [0.0] * 4 + [1.0] * 4
    g_rows = table[table["parameter"] == "g"]
    assert list(g_rows["value"]) == [1.0, 2.0] and list(g_rows["n"]) == [200, 200]


def test_phase_cells_give_outcomes_that_never_occur_a_zero_share():
    """Outcomes absent from every run have share 0 (not missing), and a cell without a
    last-minute suspension still gets its Wilson interval (0 of n)."""
    df, meta = synthetic_grid()
    df["outcome"] = df["outcome"].replace("last_minute_suspension", "renewed")
    table = phase_maps(df, meta)
    for o in OUTCOMES:
        assert table[f"p_{o}"].notna().all()
    assert (table["p_pending"] == 0.0).all() and (table["p_last_minute_suspension"] == 0.0).all()
    head = ["a", "b", "a_bin", "b_bin", "a_value", "b_value", "n", f"p_{OUTCOMES[0]}"]
    assert list(table.columns[:8]) == head
    assert set(zip(table["a"], table["b"], strict=True)) == {("a", "b")}
    assert (table["p_last_minute_suspension_lo"] == 0.0).all()
    assert (table["p_last_minute_suspension_hi"] == wilson(0, 4)[1]).all()


def leaky_case() -> tuple[pd.DataFrame, np.ndarray]:
    """u = 0..19; the cases are u >= 10 but for u = 11 (9 of 20): the box u >= 10 holds
    every case at density 0.9, the box u >= 12 is pure but misses one case."""
    x = pd.DataFrame({"u": np.arange(20.0)})
    return x, ((x["u"] >= 10) & (x["u"] != 11)).to_numpy()


def test_prim_box_takes_the_most_covering_box_at_or_above_the_threshold():
    x, y = leaky_case()
    box, _ = prim_box(x, y, threshold=0.9, impl="builtin")
    assert box.limits == {"u": (10.0, 19.0)}
    assert (box.coverage, box.density, box.mass, box.n) == (1.0, 0.9, 0.5, 10)


def test_prim_box_below_the_threshold_takes_the_densest_then_most_covering_box():
    x, y = leaky_case()
    box, traj = prim_box(x, y, threshold=1.01, impl="builtin")
    assert box.limits == {"u": (12.0, 19.0)}
    assert (box.coverage, box.density, box.n) == (8 / 9, 1.0, 8)
    assert len([t for t in traj if t[2] == 1.0]) > 1  # smaller pure boxes were passed over


def test_prim_box_peels_with_the_given_alpha_and_minimum_mass():
    x, y = grid_case()
    _, traj = prim_box(x, y, peel_alpha=0.1, mass_min=0.3, impl="builtin")
    assert traj == prim_trajectory_builtin(x, y, 0.1, 0.3)
    assert traj != prim_trajectory_builtin(x, y, 0.3, 0.3)
    assert min(t[3] for t in traj) >= 0.3


def test_phase_maps_bin_continuous_parameters_over_their_swept_range():
    """A continuous parameter's cells are MAX_BINS equal-width bins over [low, high] (not
    over the values seen); only the first MAX_PHASE_PARAMS parameters are paired."""
    rng = np.random.default_rng(5)
    n_params = analysis.MAX_PHASE_PARAMS + 1
    names = [f"p{i}" for i in range(n_params)]
    df = pd.DataFrame({k: rng.uniform(1.0, 3.0, 300) for k in names})
    df["outcome"], df["status"] = "renewed", "ok"
    meta = {"spec": {"parameters": [{"name": k, "low": 0.0, "high": 4.0} for k in names]}}
    table = phase_maps(df, meta)
    width = 4.0 / analysis.MAX_BINS
    centres = {width * (i + 0.5) for i in range(analysis.MAX_BINS)}
    assert set(table["a_value"]) <= centres and set(table["b_value"]) <= centres
    assert set(table["a_value"]) == {c for c in centres if 1.0 < c < 3.0}
    pairs = set(zip(table["a"], table["b"], strict=True))
    assert len(pairs) == analysis.MAX_PHASE_PARAMS * (analysis.MAX_PHASE_PARAMS - 1) // 2
    assert all(names[-1] not in pair for pair in pairs)
    assert table.groupby(["a", "b"])["n"].sum().eq(300).all()
    assert table.index.equals(pd.RangeIndex(len(table)))


def test_phase_maps_of_a_single_parameter_are_empty():
    df, meta = synthetic_grid()
    meta["spec"]["parameters"] = meta["spec"]["parameters"][:1]
    assert phase_maps(df, meta).empty


def test_wilson_interval_of_one_run_and_its_bounds_stay_in_0_1():
    """One run is enough for an interval (0 of 1: [0, z^2 / (1 + z^2)]); rounding never
    takes a bound outside [0, 1] (k = n = 16 computes 1 + 2e-16 before clamping)."""
    z2 = analysis.Z95**2
    assert wilson(0, 1) == pytest.approx((0.0, z2 / (1 + z2)))
    assert wilson(1, 1) == pytest.approx((1 / (1 + z2), 1.0))
    for n in (16, 21, 37, 40, 100):
        for k in (0, n):
            lo, hi = wilson(k, n)
            assert 0.0 <= lo <= hi <= 1.0


def test_bins_for_a_grid_of_max_bins_levels_keeps_the_levels():
    levels = [0.0, 0.1, 0.3, 0.7, 1.5, 3.1, 6.3, 12.7]  # MAX_BINS levels, unevenly spaced
    assert len(levels) == analysis.MAX_BINS
    values = pd.Series(levels * 2, index=range(100, 116))
    index, centres = analysis.bins_for(values, 0.0, 12.7)
    assert centres == levels
    assert list(index) == list(range(8)) * 2
    assert index.index.equals(values.index)


def test_bins_for_continuous_values_edges_and_out_of_range_values():
    """Equal-width bins over [low, high] closed on the left: a value on an inner edge
    starts the next bin; high itself and values outside the range go to the end bins;
    the result keeps the values' index."""
    width = 10.0 / analysis.MAX_BINS
    inner = [0.3 + 0.11 * i for i in range(12)]  # more than MAX_BINS distinct values
    values = pd.Series([0.0, width, 2 * width, 10.0, -1.0, 11.0, *inner])
    values.index = values.index + 50
    index, _ = analysis.bins_for(values, 0.0, 10.0)
    assert list(index.iloc[:6]) == [0, 1, 2, analysis.MAX_BINS - 1, 0, analysis.MAX_BINS - 1]
    assert index.index.equals(values.index)


def test_sobol_indices_fill_a_point_whose_runs_all_failed_with_the_mean():
    """A design point with no ok run gets the mean of the others (SALib needs every
    point); the indices barely move when one point of 768 is missing."""
    df, meta = saltelli_frame(False, a_decides, n=256, seed=1)
    df.loc[df["point_id"] == 7, ["status", "outcome"]] = ["error", None]
    table = sobol_indices(df, meta).set_index(["outcome", "parameter"])
    assert len(table) == 4 and table["S1"].notna().all()
    assert table.loc[("terminated", "a"), "S1"] == pytest.approx(1.0, abs=0.1)


def a_decides(p: dict) -> str:
    """An outcome only parameter ``a`` moves."""
    return "last_minute_suspension" if p["a"] > 0.5 else "terminated"


def saltelli_frame(
    second_order: bool, outcome, n: int = 64, seed: int = 3
) -> tuple[pd.DataFrame, dict]:
    """Saltelli runs over parameters a and b in [0, 1], each point's outcome given by
    ``outcome``, and the sweep meta ``sobol_indices`` reads."""
    params = (Varied("a", float, 0.0, 1.0), Varied("b", float, 0.0, 1.0))
    points = saltelli(params, n, seed=seed, second_order=second_order)
    rows = [
        {"point_id": pid, **p, "status": "ok", "outcome": outcome(p)}
        for pid, p in enumerate(points)
    ]
    spec = {"design": "saltelli", "second_order": second_order, "seed": seed}
    spec["parameters"] = [{"name": n, "low": 0.0, "high": 1.0} for n in "ab"]
    return pd.DataFrame(rows), {"points": len(points), "spec": spec}


def test_sobol_indices_of_an_outcome_that_never_varies_are_undefined():
    df, meta = saltelli_frame(False, lambda p: "terminated")
    table = sobol_indices(df, meta)
    assert list(table.columns) == ["outcome", "parameter", "S1"]
    assert list(zip(table["outcome"], table["parameter"], strict=True)) == [
        ("last_minute_suspension", "a"),
        ("last_minute_suspension", "b"),
        ("terminated", "a"),
        ("terminated", "b"),
    ]
    assert table["S1"].isna().all()


@pytest.mark.parametrize("second_order", [False, True])
def test_sobol_indices_are_salibs_with_the_documented_bootstrap_seed(second_order):
    """S1, ST and their bootstrap half-widths are SALib's for the spec's second_order
    and the seed derived from the spec seed, so a report is reproducible."""
    from SALib.analyze import sobol

    from experiments.designs import design_rng_seed

    df, meta = saltelli_frame(
        second_order, lambda p: "terminated" if p["a"] + 0.3 * p["b"] > 0.6 else "renewed"
    )
    table = sobol_indices(df, meta).set_index(["outcome", "parameter"])
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0.0, 1.0]] * 2}
    y = (df["outcome"] == "terminated").to_numpy(dtype=float)
    seed = int(design_rng_seed(3).generate_state(2)[1]) % 2**32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = sobol.analyze(problem, y, calc_second_order=second_order, seed=seed)
    for i, name in enumerate("ab"):
        for key in ("S1", "S1_conf", "ST", "ST_conf"):
            assert table.loc[("terminated", name), key] == pytest.approx(ref[key][i])
