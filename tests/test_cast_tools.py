"""The experiment tools follow the cast and the data, not 2019's actors: a cast with an
actor defined here alone (Moscow, nothing under model/ or agents/ knows it) goes through
``gsomia calibrate --cast --timeline`` with its own timeline, and through a sweep and
its analysis, whose columns and wording come from that cast."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from agents import Government
from experiments.calibration import derive_scoring, read_timeline, timeline_vocabulary
from experiments.cast import notice_wording
from experiments.cli import main
from experiments.outcomes import METRICS, metrics
from model import GSOMIAModel
from model.model import DEFAULT_ACTORS, DEFAULT_MOVE_ORDER

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "configs" / "baseline_2019.toml"
MODULE = Path(__file__).stem  # tests/ is on sys.path (no __init__.py): "module:Class" works


class Moscow(Government):
    """Russia as a player: an air patrol near the triangle or nothing, each month. It
    gains from Seoul's defiance of Washington and pays ``patrol_cost`` per patrol."""

    actor = "moscow"
    moves = ("hold", "patrol")
    events: ClassVar[Mapping[str, tuple[str, ...]]] = {"moscow": ("air_patrol",)}
    components: ClassVar[tuple[str, ...]] = ("influence",)
    patrol_cost: ClassVar[float] = -1.0  # patrolling pays: it patrols nearly every month

    @classmethod
    def signals(cls, g: Any, move: np.ndarray) -> dict[str, np.ndarray]:
        return {"patrol": (move == 1).astype(float)}

    @classmethod
    def utility(cls, g: Any, p: Any, env: Any) -> dict[str, Any]:
        return {"influence": g.signal("defiance") - cls.patrol_cost * g.signal("patrol")}

    def apply(self, r: Any) -> None:
        if r.codes["moscow"] == 1:
            self.model.emit(r.month, "moscow", "air_patrol", "near the triangle")


class Manila(Moscow):
    """An actor that may also give the pact's notice (its declared events say so; this
    one never does)."""

    actor = "manila"
    events: ClassVar[Mapping[str, tuple[str, ...]]] = {"manila": ("termination_notice",)}

    def apply(self, r: Any) -> None:
        pass


ACTORS = [*DEFAULT_ACTORS, f"{MODULE}:Moscow"]
ORDER = [["moscow"], *map(list, DEFAULT_MOVE_ORDER)]
CAST_TOML = f"[cast]\nactors = {json.dumps(ACTORS)}\nmove_order = {json.dumps(ORDER)}\n"

TIMELINE = """date,actor,event,domain,detail,status,sequence
2018-10-30,seoul_court,forced_labour_ruling,history,a ruling before the start,exogenous,
2019-06-01,moscow,air_patrol,security,first patrol,,
2019-06-10,moscow,warning,diplomacy,cheap talk the model has no move for,not modelled,
2019-07-04,tokyo,targeted_export_controls,trade,curbs,,curbs
2019-07-04,tokyo,whitelist_removal,trade,or the white list,,curbs
2019-08-23,seoul,termination_notice,security,notice,,
2019-08-23,tokyo,protest,diplomacy,a protest not required of a run,,no
"""


def run_cli(argv: list[Any], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cast_file(tmp_path: Path) -> Path:
    path = tmp_path / "cast.toml"
    path.write_text(CAST_TOML)
    return path


def test_calibrate_scores_another_cast_against_its_own_timeline(tmp_path, cast_file, capsys):
    timeline = tmp_path / "crisis.csv"
    timeline.write_text(TIMELINE)
    code, out, err = run_cli(
        [
            *("calibrate", "--seeds", "2", "--workers", "1"),
            *("--cast", cast_file, "--timeline", timeline),
        ],
        capsys,
    )
    assert code == 0, err
    lines = out.splitlines()
    assert "| 2018-10-30 | seoul_court | forced_labour_ruling | exogenous |" in lines
    assert "| 2019-06-10 | moscow | warning | not modelled |" in lines
    patrol = next(x for x in lines if "| moscow | air_patrol |" in x)
    assert patrol.endswith("% |")  # modelled: a share of the runs
    assert any(x.startswith("| | | **whole crisis sequence** | **") for x in lines)
    assert "2019 sequence" not in out and "Washington" not in out
    assert "Outcomes over 2 seeds:" in out


def test_the_sequence_and_statuses_come_from_the_timeline_and_the_cast(tmp_path):
    path = tmp_path / "crisis.csv"
    path.write_text(TIMELINE)
    model = GSOMIAModel.from_config(BASELINE, rng=0, actors=ACTORS, move_order=ORDER)
    timeline = read_timeline(path, timeline_vocabulary(model))
    scoring = derive_scoring(timeline, model, str(path), "whole crisis sequence")
    assert scoring.statuses == (
        "exogenous",
        *("modelled", "not modelled", "modelled", "modelled", "modelled", "modelled"),
    )
    assert scoring.steps == (
        ("moscow", ("air_patrol",), (2019, 6)),
        ("tokyo", ("targeted_export_controls", "whitelist_removal"), (2019, 7)),
        ("seoul", ("termination_notice",), (2019, 8)),
    )
    assert scoring.outcome is None and scoring.leave_out is None


@pytest.mark.parametrize(
    ("row", "named"),
    [
        ("2019-07-01,manila,air_patrol,security,x,,", "unknown actor 'manila' for 'actor'"),
        ("2019-07-01,moscow,air_patorl,security,x,,", "unknown event 'air_patorl' for 'event'"),
        ("2019-07-01,moscow,air_patrol,security,x,maybe,", "invalid value 'maybe' for 'status'"),
    ],
)
def test_a_timeline_naming_what_the_cast_does_not_declare_exits_2(
    tmp_path, cast_file, capsys, row, named
):
    timeline = tmp_path / "bad.csv"
    timeline.write_text(TIMELINE + row + "\n")
    code, _, err = run_cli(
        ["calibrate", "--seeds", "1", "--cast", cast_file, "--timeline", timeline], capsys
    )
    assert code == 2, err
    assert f"{timeline}: line 9: {named}" in err
    assert "allowed" in err and "Traceback" not in err
    if "actor" in named:
        assert "moscow" in err.split("allowed")[-1]  # the cast's actors are listed
    if "event" in named:
        assert "allowed for moscow: air_patrol" in err


def test_a_bad_cast_table_exits_2_naming_the_key(tmp_path, capsys):
    cast = tmp_path / "cast.toml"
    cast.write_text(f"[cast]\nactors = {json.dumps(ACTORS)}\n")
    code, _, err = run_cli(["calibrate", "--seeds", "1", "--cast", cast], capsys)
    assert code == 2 and "missing key 'cast.move_order'" in err and "Traceback" not in err
    cast.write_text('[cast]\nactor = ["agents.seoul:Seoul"]\n')
    code, _, err = run_cli(["calibrate", "--seeds", "1", "--cast", cast], capsys)
    assert code == 2 and "unknown key 'cast.actor'" in err and "Traceback" not in err
    code, _, err = run_cli(["calibrate", "--cast", cast, "--posterior", tmp_path], capsys)
    assert code == 2 and "--cast: not used with --posterior" in err and "Traceback" not in err


def test_a_sweep_and_its_analysis_follow_the_cast(tmp_path, capsys):
    actors = [*ACTORS, f"{MODULE}:Manila"]
    order = [["moscow", "manila"], *map(list, DEFAULT_MOVE_ORDER)]
    spec = tmp_path / "cast_sweep.toml"
    spec.write_text(
        f"""[sweep]
name = "cast_sweep"
config = "{BASELINE}"
design = "grid"
replications = 3
seed = 7
chunk_size = 2

[parameters.audience_cost]
values = [2.0, 6.0]

[fixed]
n_citizens = 300

[cast]
actors = {json.dumps(actors)}
move_order = {json.dumps(order)}
"""
    )
    out = tmp_path / "out"
    code, _, err = run_cli(["sweep", spec, "--out", out, "--workers", "1"], capsys)
    assert code == 0, err
    df = pd.read_parquet(out / "runs.parquet")
    cast = ("seoul", "tokyo", "washington", "beijing", "moscow", "manila")
    assert [c for c in df.columns if c.startswith("payoff_")] == [f"payoff_{a}" for a in cast]
    shared = [m for m in METRICS if not m.startswith("payoff_")]
    assert list(metrics(cast)) == [c for c in df.columns if c in set(metrics(cast))]
    assert set(shared) <= set(df.columns)
    assert (df["status"] == "ok").all()
    assert df["payoff_moscow"].notna().all() and (df["payoff_moscow"] != 0).any()
    meta = json.loads((out / "meta.json").read_text())
    assert meta["spec"]["cast"] == {"actors": actors, "move_order": order}

    code, _, err = run_cli(["analyze", out], capsys)
    assert code == 0, err
    report = (out / "report.md").read_text()
    assert "runs in which Manila or Seoul gave notice" in report  # reversed or not


def test_the_notice_wording_comes_from_the_cast():
    assert notice_wording() == "Seoul"
    assert notice_wording(ACTORS) == "Seoul"
    assert notice_wording([*DEFAULT_ACTORS, Manila]) == "Manila or Seoul"
    assert notice_wording(["agents.tokyo:Tokyo", f"{MODULE}:Moscow"]) == "an actor"


def test_a_sweep_spec_with_a_bad_cast_exits_2_before_running(tmp_path, capsys):
    spec = tmp_path / "bad_cast.toml"
    spec.write_text(
        f'[sweep]\nconfig = "{BASELINE}"\nreplications = 1\nseed = 1\n\n'
        "[parameters.audience_cost]\nvalues = [2.0]\n\n"
        '[cast]\nactors = ["agents.nowhere:Nobody"]\n'
    )
    out = tmp_path / "out"
    code, _, err = run_cli(["sweep", spec, "--out", out, "--workers", "1"], capsys)
    assert code == 2 and "'agents.nowhere:Nobody' for 'actors'" in err, err
    assert "allowed" in err and "Traceback" not in err and not out.exists()
