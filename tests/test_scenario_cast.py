"""The cast set in a scenario file: a ``[cast]`` table naming an actor defined here alone
(Patroller; nothing under model/ or agents/ knows it) runs through
``GSOMIAModel.from_config``, ``gsomia run --config``, ``gsomia calibrate --config`` and a
sweep whose base config it is; the parameter that actor declares, set in
``[parameters.patroller]`` of the same file, moves its payoff by the amount set; bad
``[cast]`` tables are refused naming the key and what is allowed (exit 2, one line,
nothing written)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from agents import Government
from experiments.cli import main
from experiments.spec import load_spec
from model import ConfigError, GSOMIAModel, load_config
from model.model import DEFAULT_ACTORS, DEFAULT_MOVE_ORDER
from model.parameters import P

MODULE = Path(__file__).stem  # tests/ is on sys.path (no __init__.py): "module:Class" works
COST = "patroller.patrol_cost"


class Patroller(Government):
    """A coast guard's patrols near the disputed islets, or nothing, each month. It gains
    from Seoul's defiance of Washington and pays its declared ``patrol_cost`` per patrol."""

    actor = "patroller"
    moves = ("hold", "patrol")
    events: ClassVar[Mapping[str, tuple[str, ...]]] = {"patroller": ("islet_patrol",)}
    components: ClassVar[tuple[str, ...]] = ("presence",)
    parameters: ClassVar[tuple] = (
        P(
            COST,
            float,
            0.5,
            0.0,
            5.0,
            unit="u/month",
            meaning="What a patrol costs the patroller.",
            source="Hand-set in tests/test_scenario_cast.py.",
        ),
    )

    @classmethod
    def signals(cls, g: Any, move: np.ndarray) -> dict[str, np.ndarray]:
        return {"patrol": (move == 1).astype(float)}

    @classmethod
    def utility(cls, g: Any, p: Any, env: Any) -> dict[str, Any]:
        return {"presence": g.signal("defiance") - p.patroller.patrol_cost * g.signal("patrol")}

    def apply(self, r: Any) -> None:
        if r.codes["patroller"] == 1:
            self.model.emit(r.month, "patroller", "islet_patrol", "near the islets")


class AlwaysPatrols(Patroller):
    """The patroller that patrols every month (its draw is made, and ignored, so the
    decision stream is the same as its parent's)."""

    def choose(self) -> None:
        game = self.model.month_game
        self.draw(game.node_probabilities(self.actor), self.model.decision_rng)
        self.move_code = game.take(self.actor, 1)


class NotAGovernment:
    """A class with an actor's name that is no government."""

    actor = "impostor"


ACTORS = [*DEFAULT_ACTORS, f"{MODULE}:Patroller"]
ORDER = [["patroller"], *map(list, DEFAULT_MOVE_ORDER)]
CAST = f"[cast]\nactors = {json.dumps(ACTORS)}\nmove_order = {json.dumps(ORDER)}\n"
HEAD = """\
# a short scenario with a patroller in its cast
[scenario]
start = 2019-06-01
end = 2019-08-31
[parameters]
n_citizens = 100
"""


def write(tmp_path: Path, body: str, name: str = "patrol.toml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """The scenario with its own cast, and the patroller's cost set to 3.0 in the file."""
    return write(tmp_path, CAST + "[parameters.patroller]\npatrol_cost = 3.0\n")


def patrol_penalty(m: GSOMIAModel) -> list[float]:
    """What patrolling costs the patroller each month, by hand: hold's immediate utility
    minus patrol's. The defiance term is Seoul's, who moves after it and whose move the
    patroller's does not change, so it cancels: the gap is ``patrol_cost``."""
    return [
        d.option("hold").immediate["presence"] - d.option("patrol").immediate["presence"]
        for d in m.explain("patroller")
    ]


def run_cli(argv: list[Any], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_load_config_returns_the_files_cast(scenario: Path):
    values = load_config(scenario)
    assert values["actors"] == ACTORS
    assert values["move_order"] == ORDER
    assert values[COST] == 3.0


def test_from_config_runs_the_files_cast_with_its_parameter(scenario: Path, tmp_path: Path):
    m = GSOMIAModel.from_config(scenario, rng=1)
    assert list(m.governments) == ["seoul", "tokyo", "washington", "beijing", "patroller"]
    assert m.cast.order.stages[0] == ("patroller",)
    assert m.parameters[COST] == 3.0
    assert m.params.patroller.patrol_cost == 3.0
    m.run()
    assert m.steps == 3
    assert patrol_penalty(m) == pytest.approx([3.0] * 3)
    assert "payoff_patroller" in m.monthly().columns
    # without the file's value the declared default, 0.5, holds: 3.0 - 0.5 = 2.5 less
    default = GSOMIAModel.from_config(write(tmp_path, CAST, "default.toml"), rng=1)
    assert default.parameters[COST] == 0.5
    default.run()
    assert patrol_penalty(default) == pytest.approx([0.5] * 3)
    # an override wins over the file, validated against the file's cast
    assert GSOMIAModel.from_config(scenario, rng=1, **{COST: 1.0}).parameters[COST] == 1.0
    with pytest.raises(ConfigError, match=r"9.0 for 'patroller\.patrol_cost'.*allowed"):
        GSOMIAModel.from_config(scenario, rng=1, **{COST: 9.0})


def test_the_realised_payoff_moves_by_the_cost_set(tmp_path: Path):
    """A patroller that patrols every month, moving last: nobody's move depends on its
    own, so a run whose file sets the cost to 3.0 has the same history as one at the
    default 0.5, and its monthly payoff (defiance - cost x 1) is 3.0 - 0.5 = 2.5 lower."""
    actors = [*DEFAULT_ACTORS, f"{MODULE}:AlwaysPatrols"]
    order = [*map(list, DEFAULT_MOVE_ORDER), ["patroller"]]
    cast = f"[cast]\nactors = {json.dumps(actors)}\nmove_order = {json.dumps(order)}\n"
    dear = write(tmp_path, cast + "[parameters.patroller]\npatrol_cost = 3.0\n", "dear.toml")
    cheap = write(tmp_path, cast, "cheap.toml")
    runs = [GSOMIAModel.from_config(path, rng=1) for path in (dear, cheap)]
    for m in runs:
        m.run()
    assert [e.event for e in runs[0].timeline if e.actor == "patroller"] == ["islet_patrol"] * 3
    assert [(e.actor, e.event) for e in runs[0].timeline] == [
        (e.actor, e.event) for e in runs[1].timeline
    ]
    a, b = (r.monthly()["payoff_patroller"].iloc[1:].to_numpy() for r in runs)
    assert a - b == pytest.approx([-2.5] * 3)


def test_gsomia_run_config_runs_the_cast(scenario: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    code, text, err = run_cli(
        ["run", "--config", scenario, "--seed", "1", "--json", "--out", out], capsys
    )
    assert code == 0, err
    record = json.loads(text)
    assert record["parameters"][COST] == 3.0
    mine = [d for d in record["decisions"] if d["actor"] == "patroller"]
    assert len(mine) == 3
    for d in mine:
        hold, patrol = (
            next(o for o in d["options"] if o["action"] == a) for a in ("hold", "patrol")
        )
        assert hold["immediate"]["presence"] - patrol["immediate"]["presence"] == pytest.approx(
            3.0, abs=1e-5
        )
    assert "payoff_patroller" in pd.read_csv(out / "monthly.csv").columns
    code, text, err = run_cli(
        ["run", "--config", scenario, "--explain", "patroller", "--set", f"{COST}=1.5"], capsys
    )
    assert code == 0, err
    assert "outcome:" in text


def test_without_the_cast_the_actors_parameter_is_unknown(tmp_path: Path, capsys):
    path = write(tmp_path, "[parameters.patroller]\npatrol_cost = 3.0\n")
    with pytest.raises(ConfigError, match=r"unknown key 'parameters\.patroller\.patrol_cost'"):
        GSOMIAModel.from_config(path, rng=1)
    # the cast given to from_config replaces the file's, and the file is read against it
    with_cast = write(tmp_path, CAST + "[parameters.patroller]\npatrol_cost = 3.0\n", "c.toml")
    with pytest.raises(ConfigError, match=r"unknown key 'parameters\.patroller\.patrol_cost'"):
        GSOMIAModel.from_config(with_cast, rng=1, actors=DEFAULT_ACTORS)
    m = GSOMIAModel.from_config(path, rng=1, actors=ACTORS, move_order=ORDER)
    assert m.parameters[COST] == 3.0
    code, _, err = run_cli(["run", "--config", path], capsys)
    assert code == 2 and "patroller.patrol_cost" in err and "Traceback" not in err


def test_the_default_move_order_may_be_left_out_for_the_default_actors(tmp_path: Path):
    path = write(tmp_path, f"[cast]\nactors = {json.dumps(list(DEFAULT_ACTORS))}\n")
    m = GSOMIAModel.from_config(path, rng=0)
    assert m.cast.order.stages == DEFAULT_MOVE_ORDER
    # a shipped scenario has no [cast]: the default cast, no cast keywords
    assert "actors" not in load_config("baseline_2019")


def test_calibrate_config_runs_the_cast(scenario: Path, tmp_path: Path, capsys):
    timeline = tmp_path / "patrols.csv"
    timeline.write_text(
        "date,actor,event,domain,detail,status,sequence\n"
        "2019-06-01,patroller,islet_patrol,security,first patrol,,\n"
    )
    code, out, err = run_cli(
        [
            *("calibrate", "--config", scenario, "--seeds", "2", "--workers", "1"),
            *("--timeline", timeline),
        ],
        capsys,
    )
    assert code == 0, err
    assert any("| patroller | islet_patrol |" in line for line in out.splitlines())
    assert "Outcomes over 2 seeds:" in out
    code, _, err = run_cli(["calibrate", "--config", scenario, "--posterior", tmp_path], capsys)
    assert code == 2 and "not used with --posterior" in err and "Traceback" not in err


def test_a_sweep_runs_its_base_configs_cast(scenario: Path, tmp_path: Path, capsys):
    spec = tmp_path / "patrol_sweep.toml"
    spec.write_text(
        textwrap.dedent(
            f"""\
            [sweep]
            name = "patrol_sweep"
            config = "{scenario.name}"
            design = "grid"
            replications = 1
            [parameters.rationality]
            values = [1.0, 2.0]
            """
        )
    )
    out = tmp_path / "sweep"
    code, _, err = run_cli(["sweep", spec, "--out", out, "--workers", "1"], capsys)
    assert code == 0, err
    df = pd.read_parquet(out / "runs.parquet")
    assert "payoff_patroller" in df.columns and len(df) == 2
    meta = json.loads((out / "meta.json").read_text())
    assert meta["spec"]["cast"] == {"actors": ACTORS, "move_order": ORDER}


BAD = {
    "not importable": (
        '[cast]\nactors = ["agents.nowhere:Nobody"]\n',
        "'agents.nowhere:Nobody' for 'actors' (cannot import it",
    ),
    "not a government": (
        f"[cast]\nactors = {json.dumps([*DEFAULT_ACTORS, f'{MODULE}:NotAGovernment'])}\n"
        'move_order = [["impostor"], ["washington", "beijing"], ["tokyo"], ["seoul"]]\n',
        f"'{MODULE}:NotAGovernment' for 'actors' (not a government class",
    ),
    "a stranger in the move order": (
        f"[cast]\nactors = {json.dumps(ACTORS)}\n"
        'move_order = [["moscow"], ["washington", "beijing"], ["tokyo"], ["seoul"]]\n',
        "for 'move_order' (names 'moscow', not in the cast); allowed: a list of stages "
        "naming each of seoul, tokyo, washington, beijing, patroller once",
    ),
    "a missing move order": (
        f"[cast]\nactors = {json.dumps(ACTORS)}\n",
        "missing key 'cast.move_order'",
    ),
    "an unknown key": (
        f"[cast]\nactors = {json.dumps(ACTORS)}\nmove_order = {json.dumps(ORDER)}\nstages = 2\n",
        "unknown key 'cast.stages' (value 2); allowed keys: actors, move_order",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_cast_is_a_config_error_naming_the_key(tmp_path: Path, case: str, capsys):
    body, message = BAD[case]
    path = write(tmp_path, body)
    with pytest.raises(ConfigError, match="allowed") as info:
        GSOMIAModel.from_config(path, rng=0)
    assert message in str(info.value) and str(path) in str(info.value)
    out = tmp_path / "out"
    code, text, err = run_cli(["run", "--config", path, "--out", out], capsys)
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert text == "" and not out.exists()
    code, _, err = run_cli(["calibrate", "--config", path, "--seeds", "1"], capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_sweeps_own_cast_reads_the_base_configs_actor_parameters(tmp_path: Path, capsys):
    """A spec's [cast] (the config has none) is the cast the base config is read with: its
    [parameters.patroller] is known and set in every run."""
    write(tmp_path, "[parameters.patroller]\npatrol_cost = 3.0\n")
    spec = tmp_path / "own_cast.toml"
    spec.write_text(
        '[sweep]\nname = "own_cast"\nconfig = "patrol.toml"\ndesign = "grid"\n'
        "replications = 1\n[parameters.rationality]\nvalues = [1.0]\n" + CAST
    )
    out = tmp_path / "sweep"
    code, _, err = run_cli(["sweep", spec, "--out", out, "--workers", "1"], capsys)
    assert code == 0, err
    assert "payoff_patroller" in pd.read_parquet(out / "runs.parquet").columns
    assert load_spec(spec).base_params()[COST] == 3.0
