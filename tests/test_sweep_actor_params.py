"""An actor's own parameter (``patroller.patrol_cost``, declared by the Patroller of
tests/test_scenario_cast.py) varied in a sweep and fitted: the spec's or base config's
``[cast]`` and the targets' scenarios' casts say which parameters are known; the run uses
the value its row carries; bad names are refused naming the key and the allowed keys (the
cast's own included), exit 2, nothing written."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_scenario_cast import COST, HEAD, AlwaysPatrols

from experiments.cli import main
from experiments.fit_score import simulate_runs
from experiments.spec import load_spec
from experiments.targets import fittable, load_targets
from model import ConfigError
from model.model import DEFAULT_ACTORS, DEFAULT_MOVE_ORDER

MODULE = Path(__file__).stem


class CostOnly(AlwaysPatrols):
    """A patroller that patrols every month and whose payoff is the cost alone: its
    summed payoff over a run is -patrol_cost x the months, whatever the seed draws."""

    @classmethod
    def utility(cls, g: Any, p: Any, env: Any) -> dict[str, Any]:
        return {"presence": -p.patroller.patrol_cost * g.signal("patrol")}


ACTORS = [*DEFAULT_ACTORS, f"{MODULE}:CostOnly"]
ORDER = [*map(list, DEFAULT_MOVE_ORDER), ["patroller"]]
CAST = f"[cast]\nactors = {json.dumps(ACTORS)}\nmove_order = {json.dumps(ORDER)}\n"


def run_cli(argv: list[Any], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def scenario(tmp_path: Path, cast: str = CAST, name: str = "patrol.toml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + cast, encoding="utf-8")
    return path


def spec(tmp_path: Path, body: str, cast: str = "") -> Path:
    path = tmp_path / "patrol_sweep.toml"
    path.write_text(
        '[sweep]\nname = "patrol_sweep"\nconfig = "patrol.toml"\ndesign = "grid"\n'
        "replications = 1\n" + textwrap.dedent(body) + cast,
        encoding="utf-8",
    )
    return path


def test_a_sweep_varies_an_actors_parameter_and_its_runs_use_it(tmp_path: Path, capsys):
    """Three months, a patrol each: the summed payoff is -cost x 3, so the run at 3.0 has
    (3.0 - 1.0) x 3 = 6.0 less than the run at 1.0."""
    scenario(tmp_path)
    path = spec(tmp_path, "[parameters.patroller.patrol_cost]\nvalues = [1.0, 3.0]\n")
    assert load_spec(path).names == (COST,)
    out = tmp_path / "sweep"
    code, _, err = run_cli(["sweep", path, "--out", out, "--workers", "1"], capsys)
    assert code == 0, err
    df = pd.read_parquet(out / "runs.parquet").sort_values(COST)
    assert df[COST].tolist() == [1.0, 3.0]
    assert df["payoff_patroller"].tolist() == pytest.approx([-3.0, -9.0])
    assert df["payoff_patroller"].diff().iloc[1] == pytest.approx(-6.0)
    code, _, err = run_cli(["analyze", out], capsys)
    assert code == 0, err


def test_the_specs_own_cast_and_fixed_actor_parameters(tmp_path: Path):
    scenario(tmp_path, cast="")  # the config has no cast: the spec's is used
    path = spec(
        tmp_path,
        "[parameters.patroller.patrol_cost]\nlow = 0.5\nhigh = 2.0\nlevels = 2\n"
        "[fixed]\nrationality = 1.0\n",
        CAST,
    )
    assert load_spec(path).parameters[0].name == COST
    fixed = spec(
        tmp_path, "[parameters.rationality]\nvalues = [1.0]\n[fixed.patroller]\npatrol_cost = 2.0\n"
    )
    scenario(tmp_path)
    assert load_spec(fixed).fixed == {COST: 2.0}
    assert load_spec(fixed).base_params()[COST] == 2.0


BAD_SWEEPS = {
    "misspelt": (
        CAST,
        "[parameters.patroller.patrol_cosst]\nvalues = [1.0, 2.0]\n",
        "unknown parameter 'parameters.patroller.patrol_cosst' (did you mean "
        "'patroller.patrol_cost'?)",
    ),
    "without the cast": (
        "",
        "[parameters.patroller.patrol_cost]\nvalues = [1.0, 2.0]\n",
        "unknown parameter 'parameters.patroller.patrol_cost'",
    ),
    "outside its bounds": (
        CAST,
        "[parameters.patroller.patrol_cost]\nlow = 1.0\nhigh = 9.0\nlevels = 2\n",
        "invalid value 9 for 'parameters.patroller.patrol_cost.high' (outside the model's bounds)",
    ),
    "fixed, misspelt": (
        CAST,
        "[parameters.rationality]\nvalues = [1.0]\n[fixed]\npatroller.patrol_cosst = 1.0\n",
        "unknown key 'fixed.patroller.patrol_cosst' (did you mean 'patroller.patrol_cost'?)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SWEEPS))
def test_a_bad_actor_parameter_in_a_sweep_is_refused(tmp_path: Path, case: str, capsys):
    cast, body, message = BAD_SWEEPS[case]
    scenario(tmp_path, cast)
    path = spec(tmp_path, body)
    with pytest.raises(ConfigError, match="allowed") as info:
        load_spec(path)
    assert message in str(info.value)
    if message.startswith("unknown"):  # the allowed keys hold the cast's own, if it has one
        allowed = str(info.value).split("allowed")[-1]
        assert ("patroller.patrol_cost" in allowed) == bool(cast)
    out = tmp_path / "sweep"
    code, _, err = run_cli(["sweep", path, "--out", out, "--workers", "1"], capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def targets(tmp_path: Path, parameters: list[str], *scenarios: str) -> Path:
    path = tmp_path / f"targets_{len(list(tmp_path.glob('targets_*')))}.toml"
    body = (
        f"[fit]\nparameters = {json.dumps(parameters)}\nseeds = 1\npopulation = 2\n"
        "generations = 1\n"
    )
    for i, s in enumerate(scenarios):
        body += (
            f'[[target]]\nname = "t{i}"\nscenario = "{s}"\nkind = "absent"\n'
            'actor = "seoul"\nevent = "termination_notice"\n'
        )
    path.write_text(body, encoding="utf-8")
    return path


def test_a_fit_estimates_an_actors_parameter_of_its_scenarios_cast(tmp_path: Path):
    scenario(tmp_path)
    ts = load_targets(targets(tmp_path, [COST, "audience_cost"], "patrol.toml"))
    assert ts.fit.bounds[0] == (COST, 0.0, 5.0)
    runs = simulate_runs(ts, {COST: 2.0, "audience_cost": 6.0}, [0])
    assert len(runs["patrol.toml"]) == 1
    with pytest.raises(ConfigError, match=r"9.0 for 'patroller\.patrol_cost'"):
        simulate_runs(ts, {COST: 9.0, "audience_cost": 6.0}, [0])
    assert COST not in fittable()  # the central registry alone does not know it
    # the scenario's targets may name its cast's own events
    own = tmp_path / "own_events.toml"
    own.write_text(
        ts.text.replace('actor = "seoul"', 'actor = "patroller"').replace(
            'event = "termination_notice"', 'event = "islet_patrol"'
        ),
        encoding="utf-8",
    )
    assert load_targets(own).targets[0].absent == ("patroller", "islet_patrol")


def test_a_fit_refuses_a_parameter_only_some_scenarios_casts_know(tmp_path: Path, capsys):
    scenario(tmp_path)
    plain = scenario(tmp_path, "", "plain.toml")
    ok = load_targets(targets(tmp_path, ["audience_cost"], "patrol.toml", "plain.toml"))
    assert ok.fit.names == ("audience_cost",)
    bad = targets(tmp_path, [COST], "patrol.toml", "plain.toml")
    with pytest.raises(ConfigError, match="not known to every scenario") as info:
        load_targets(bad)
    assert f"the cast of {plain.name} does not declare it" in str(info.value)
    assert "allowed: a parameter every scenario's cast knows: " in str(info.value)
    only_plain = targets(tmp_path, [COST], "plain.toml")
    with pytest.raises(ConfigError, match=r"unknown parameter 'patroller\.patrol_cost'"):
        load_targets(only_plain)
    out = tmp_path / "fit"
    code, _, err = run_cli(["fit", bad, "--out", out], capsys)
    assert code == 2 and "not known to every scenario" in err and "Traceback" not in err
    assert not out.exists()
