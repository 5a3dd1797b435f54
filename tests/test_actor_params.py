"""An actor declares its own parameters: defined here alone (nothing under model/ or
agents/ knows it), its parameter is set from the constructor and from a scenario TOML,
moves its payoff by the amount set, is listed by ``gsomia params --actor``, and bad values
are refused with the registry's errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import pytest
from test_open_cast import Pyongyang

from model import ConfigError, GSOMIAModel
from model.model import DEFAULT_ACTORS, DEFAULT_MOVE_ORDER
from model.parameters import PARAMETERS, P, registry

REPO = Path(__file__).resolve().parents[1]
SHORT = {"start": "2019-06-01", "end": "2019-08-31", "n_citizens": 100, "exogenous": ()}
COST = "pyongyang.provocation_cost"


class Provoker(Pyongyang):
    """Pyongyang paying its own declared ``provocation_cost`` per launch (instead of a
    class constant)."""

    parameters: ClassVar[tuple] = (
        P(
            COST,
            float,
            0.5,
            0.0,
            5.0,
            unit="u/month",
            meaning="What a missile launch costs the regime (sanctions, Beijing's displeasure).",
            source="Hand-set in tests/test_actor_params.py.",
        ),
    )

    @classmethod
    def utility(cls, g: Any, p: Any, env: Any) -> dict[str, Any]:
        return {
            "regime": cls.gain * g.signal("defiance") * env.threat
            - p.pyongyang.provocation_cost * g.signal("launch")
        }


CAST = {
    "actors": [*DEFAULT_ACTORS, Provoker],
    "move_order": [["pyongyang"], *map(list, DEFAULT_MOVE_ORDER)],
}


def model(**kw: Any) -> GSOMIAModel:
    return GSOMIAModel(rng=1, **CAST, **(SHORT | kw))


def launch_penalty(m: GSOMIAModel) -> list[float]:
    """What launching costs Pyongyang this month, by hand: hold's immediate utility minus
    launch's (the defiance term does not depend on its own move)."""
    m.run()
    return [
        d.option("hold").immediate["regime"] - d.option("launch").immediate["regime"]
        for d in m.explain("pyongyang")
    ]


def test_the_default_and_a_value_from_the_constructor_set_the_payoff():
    default = model()
    assert default.parameters[COST] == 0.5
    assert default.params.pyongyang.provocation_cost == 0.5
    assert launch_penalty(default) == pytest.approx([0.5] * 3)
    dear = model(**{COST: 2.0})
    assert dear.parameters[COST] == 2.0
    # each launch now costs 2.0 - 0.5 = 1.5 more
    assert launch_penalty(dear) == pytest.approx([2.0] * 3)


def scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(
        textwrap.dedent(
            """\
            # a short scenario with Pyongyang's own parameter
            [scenario]
            start = 2019-06-01
            end = 2019-08-31
            [parameters]
            n_citizens = 100
            """
        )
        + textwrap.dedent(body),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "body",
    ["pyongyang.provocation_cost = 3.0\n", "[parameters.pyongyang]\nprovocation_cost = 3.0\n"],
    ids=["dotted key", "sub-table"],
)
def test_a_scenario_file_sets_it(tmp_path: Path, body: str):
    m = GSOMIAModel.from_config(scenario(tmp_path, body), rng=1, **CAST)
    assert m.parameters[COST] == 3.0
    assert launch_penalty(m) == pytest.approx([3.0] * 3)
    # an override wins over the file, validated the same way
    assert (
        GSOMIAModel.from_config(scenario(tmp_path, body), rng=1, **CAST, **{COST: 1.0}).parameters[
            COST
        ]
        == 1.0
    )


def test_bad_values_give_the_registrys_errors(tmp_path: Path):
    with pytest.raises(
        ConfigError, match=r"'pyongyang.provocation_cost'.*allowed: a number in \[0, 5\]"
    ):
        model(**{COST: 9.0})
    with pytest.raises(ConfigError, match=r"'pyongyang.provocation_cost'.*wrong type"):
        model(**{COST: "high"})
    with pytest.raises(ConfigError) as exc:
        model(**{"pyongyang.provocation": 1.0})
    msg = str(exc.value)
    assert "unknown key 'pyongyang.provocation'" in msg
    assert "did you mean 'pyongyang.provocation_cost'" in msg
    assert "allowed keys: " in msg and COST in msg and "rationality" in msg
    path = scenario(tmp_path, "[parameters.pyongyang]\nprovocation_cost = -1.0\n")
    with pytest.raises(ConfigError, match=r"scenario.toml: \[parameters\]: invalid value -1.0 "):
        GSOMIAModel.from_config(path, **CAST)
    path = scenario(tmp_path, "[parameters.pyongyang]\nprovocation = 1.0\n")
    with pytest.raises(
        ConfigError,
        match=r"unknown key 'parameters.pyongyang.provocation'.*"
        r"allowed keys in \[parameters\]: .*pyongyang.provocation_cost",
    ):
        GSOMIAModel.from_config(path, **CAST)


def test_without_the_actor_its_parameter_is_unknown(tmp_path: Path):
    with pytest.raises(
        ConfigError, match=r"unknown key 'pyongyang.provocation_cost'.*no actor of the cast"
    ):
        GSOMIAModel(rng=0, **{COST: 1.0})
    path = scenario(tmp_path, "[parameters.pyongyang]\nprovocation_cost = 1.0\n")
    with pytest.raises(ConfigError, match=r"unknown key 'parameters.pyongyang.provocation_cost'"):
        GSOMIAModel.from_config(path)


def test_names_must_be_in_the_actors_namespace_and_not_central():
    class Central(Provoker):
        parameters = (P("rationality", float, 1.0, 0.0, 2.0),)

    class Stray(Provoker):
        parameters = (P("elsewhere.cost", float, 1.0, 0.0, 2.0),)

    class Twice(Provoker):
        parameters = (*Provoker.parameters, *Provoker.parameters)

    class OutOfRange(Provoker):
        parameters = (P(COST, float, 7.0, 0.0, 2.0),)

    with pytest.raises(ConfigError, match="'rationality' collides with the central parameter"):
        registry([Central])
    with pytest.raises(
        ConfigError, match=r"invalid parameter name 'elsewhere.cost'; allowed: 'pyongyang.<name>'"
    ):
        registry([Stray])
    with pytest.raises(ConfigError, match="declared twice"):
        registry([Twice])
    with pytest.raises(ConfigError, match=r"default of: invalid value 7.0 .*in \[0, 2\]"):
        registry([OutOfRange])
    with pytest.raises(ConfigError, match="collides with the central parameter"):
        GSOMIAModel(rng=0, actors=[*DEFAULT_ACTORS, Central], move_order=CAST["move_order"])


def test_the_central_registry_is_untouched():
    assert COST not in PARAMETERS
    from agents import Beijing, Seoul, Tokyo, Washington

    assert registry([Seoul, Tokyo, Washington, Beijing]) is PARAMETERS  # they declare none
    assert list(registry([Provoker])) == [*PARAMETERS, COST]


def test_gsomia_params_lists_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any):
    from experiments.cli import main, parameter_table

    row = next(r for r in parameter_table([Provoker]).splitlines() if COST in r)
    assert "u/month" in row and "0 – 5" in row and "| 0.5 |" in row and "launch costs" in row
    assert COST not in parameter_table()
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    assert main(["params", "--actor", "test_actor_params:Provoker"]) == 0
    assert COST in capsys.readouterr().out


def test_gsomia_params_bad_actor_exits_2_without_traceback(tmp_path: Path):
    (tmp_path / "myactors.py").write_text("NOT_A_CLASS = 1\n", encoding="utf-8")
    for spec in ("myactors:Missing", "myactors:NOT_A_CLASS", ":X"):
        r = subprocess.run(
            [sys.executable, "-m", "experiments.cli", "params", "--actor", spec],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(REPO), "PATH": ""},
        )
        assert r.returncode == 2, r.stderr
        assert "--actor: invalid value" in r.stderr and spec in r.stderr
        assert "Traceback" not in r.stderr
