"""Bad input stops with a ConfigError naming the file, the key, the value and what is
allowed; the CLI turns it into exit status 2 and writes nothing. A valid config key is the
constructor keyword of the same name."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from experiments.cli import main
from model import PARAMETERS, ConfigError, GSOMIAModel, __version__, load_config

REPO = Path(__file__).resolve().parents[1]

SHORT = """\
[scenario]
start = 2019-06-01
end = 2019-08-31
"""


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# Each case: TOML text, then the fragments the message must contain.
BAD_CONFIGS = {
    "unknown_key_typo": (
        SHORT + "[parameters]\naudiance_cost = 3.0\n",
        ["audiance_cost", "did you mean 'audience_cost'"],
    ),
    "unknown_scenario_key_typo": (
        "[scenario]\npact_stat = 'active'\n",
        ["pact_stat", "did you mean 'pact_state'"],
    ),
    "string_for_float": (
        SHORT + '[parameters]\naudience_cost = "4"\n',
        ["audience_cost", "'4'", "a number in [0, 10]"],
    ),
    "bool_for_int": (
        SHORT + "[parameters]\nlookahead_months = true\n",
        ["lookahead_months", "True", "an integer"],
    ),
    "fraction_for_int": (
        SHORT + "[parameters]\nn_citizens = 100.5\n",
        ["n_citizens", "100.5", "an integer"],
    ),
    "int_for_date": (
        "[scenario]\nstart = 2019\n",
        ["start", "2019", "YYYY-MM-DD"],
    ),
    "out_of_range_high": (
        SHORT + "[parameters]\naudience_cost = 11.0\n",
        ["audience_cost", "11.0", "[0, 10]"],
    ),
    "out_of_range_low": (
        SHORT + "[parameters]\nrationality = -1\n",
        ["rationality", "-1", "[0, 100]"],
    ),
    "bad_choice": (
        "[scenario]\npact_state = 'lapsed'\n",
        ["pact_state", "'lapsed'", "'notice_pending'"],
    ),
    "unknown_table": (
        SHORT + "[paramters]\naudience_cost = 3.0\n",
        ["paramters", "did you mean 'parameters'"],
    ),
    "key_in_wrong_table": (
        "[scenario]\naudience_cost = 3.0\n",
        ["audience_cost", "[parameters]"],
    ),
    "exogenous_not_an_array": (
        SHORT + "[exogenous]\ndate = 2019-07-01\nevent = 'x'\n",
        ["exogenous", "a list of tables"],
    ),
    "exogenous_missing_date": (
        SHORT + "[[exogenous]]\nevent = 'x'\n",
        ["exogenous[0]", "date"],
    ),
    "exogenous_unknown_key": (
        SHORT + "[[exogenous]]\ndate = 2019-07-01\nevent = 'x'\ngrievence = 0.1\n",
        ["exogenous[0]", "grievence", "did you mean 'grievance'"],
    ),
    "exogenous_wrong_type": (
        SHORT + "[[exogenous]]\ndate = 2019-07-01\nevent = 'x'\nthreat = 'high'\n",
        ["exogenous[0]", "threat", "'high'", "a number"],
    ),
    "exogenous_bad_date": (
        SHORT + "[[exogenous]]\ndate = '2019-13-01'\nevent = 'x'\n",
        ["exogenous[0]", "date", "'2019-13-01'"],
    ),
    "not_toml": (
        "[scenario\nstart = 2019-06-01\n",
        ["TOML"],
    ),
}

# Cross-field checks: the keys are fine one by one, the combination is not.
CONSISTENCY_CONFIGS = {
    "end_before_start": (
        "[scenario]\nstart = 2019-06-01\nend = 2019-03-31\n",
        ["end", "2019-03-31", "start"],
    ),
    "notice_after_start": (
        "[scenario]\nstart = 2019-06-01\nend = 2019-12-31\npact_state = 'notice_pending'\n"
        "notice_date = 2019-08-23\n",
        ["notice_date", "2019-08-23"],
    ),
}

CONSTRUCTOR_BAD = {
    "unknown_keyword": ({"audiance_cost": 3.0}, ["audiance_cost", "did you mean 'audience_cost'"]),
    "string_for_float": ({"audience_cost": "4"}, ["audience_cost", "'4'", "a number"]),
    "bool_for_float": ({"trade_damage": True}, ["trade_damage", "True", "a number"]),
    "bool_for_int": ({"lookahead_months": True}, ["lookahead_months", "True", "an integer"]),
    "out_of_range": ({"rationality": 101.0}, ["rationality", "101.0", "[0, 100]"]),
    "nan": ({"nk_threat": float("nan")}, ["nk_threat", "nan"]),
    "bad_date_string": ({"start": "2019-02-30"}, ["start", "'2019-02-30'", "YYYY-MM-DD"]),
    "end_before_start": (
        {"start": date(2019, 6, 1), "end": date(2019, 3, 31)},
        ["end", "2019-03-31", "start"],
    ),
    "exogenous_unknown_key": (
        {"exogenous": [{"date": date(2019, 7, 1), "event": "x", "grievence": 0.1}]},
        ["exogenous[0]", "grievence", "did you mean 'grievance'"],
    ),
    "non_numeric_seed": ({"rng": "abc"}, ["rng", "'abc'"]),
    "negative_seed": ({"rng": -3}, ["rng", "-3"]),
    "bool_seed": ({"rng": True}, ["rng", "True"]),
}


def assert_message(message: str, parts: list[str], source: str) -> None:
    assert source in message, f"{source!r} not named in {message!r}"
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# ---- from_config ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_raises_config_error(tmp_path, case):
    text, parts = BAD_CONFIGS[case]
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        GSOMIAModel.from_config(path, rng=0)
    assert_message(str(err.value), parts, str(path))
    with pytest.raises(ConfigError):
        load_config(path)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_missing_config_file_names_it(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as err:
        GSOMIAModel.from_config(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("case", sorted(CONSISTENCY_CONFIGS))
def test_inconsistent_config_names_the_file(tmp_path, case):
    text, parts = CONSISTENCY_CONFIGS[case]
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        GSOMIAModel.from_config(path, rng=0)
    assert_message(str(err.value), parts, str(path))


def test_stale_standing_notice_is_rejected():
    with pytest.raises(ConfigError) as err:
        GSOMIAModel(
            rng=0,
            pact_state="notice_pending",
            notice_date=date(2018, 8, 23),  # lapses 2018-11-23, before the start
            start=date(2019, 10, 1),
            end=date(2019, 12, 31),
        )
    assert "notice_date" in str(err.value)


def test_past_scheduled_signing_is_rejected():
    with pytest.raises(ConfigError) as err:
        GSOMIAModel(
            rng=0,
            pact_state="negotiating",
            signing_date=date(2018, 1, 1),
            start=date(2019, 1, 1),
            end=date(2019, 4, 30),
        )
    assert "signing_date" in str(err.value)


def test_override_is_validated(tmp_path):
    path = write(tmp_path, SHORT)
    with pytest.raises(ConfigError) as err:
        GSOMIAModel.from_config(path, rng=0, audience_cost=-1.0)
    assert_message(str(err.value), ["audience_cost", "-1.0", "[0, 10]"], "override")
    with pytest.raises(ConfigError) as err:
        GSOMIAModel.from_config(path, rng=0, audiance_cost=1.0)
    assert "did you mean 'audience_cost'" in str(err.value)


@pytest.mark.parametrize("seed", ["abc", "1.5", ""])
def test_from_config_non_numeric_seed_string(tmp_path, seed):
    path = write(tmp_path, SHORT)
    with pytest.raises(ConfigError) as err:
        GSOMIAModel.from_config(path, rng=seed)
    assert "rng" in str(err.value)


# ---- the constructor -----------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CONSTRUCTOR_BAD))
def test_bad_constructor_keyword_raises_config_error(case):
    kwargs, parts = CONSTRUCTOR_BAD[case]
    with pytest.raises(ConfigError) as err:
        GSOMIAModel(**({"rng": 0} | kwargs))
    assert_message(str(err.value), parts, "constructor")


# ---- the CLI -------------------------------------------------------------------------------
def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    status = main(args)
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_cli_bad_config_exit_2_and_writes_nothing(tmp_path, capsys, case):
    text, parts = BAD_CONFIGS[case]
    path = write(tmp_path, text)
    out_dir = tmp_path / "out"
    status, stdout, stderr = run_cli(["run", "--config", str(path), "--out", str(out_dir)], capsys)
    assert status == 2
    assert_message(stderr, parts, str(path))
    assert stdout == ""
    assert not out_dir.exists()


@pytest.mark.parametrize("case", sorted(CONSISTENCY_CONFIGS))
def test_cli_inconsistent_config_exit_2(tmp_path, capsys, case):
    text, parts = CONSISTENCY_CONFIGS[case]
    path = write(tmp_path, text)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    status, stdout, stderr = run_cli(["run", "--config", str(path), "--out", str(out_dir)], capsys)
    assert status == 2
    for part in parts:
        assert part in stderr
    assert stdout == ""
    assert list(out_dir.iterdir()) == []


def test_cli_bad_set_override_exit_2(tmp_path, capsys):
    path = write(tmp_path, SHORT)
    out_dir = tmp_path / "out"
    status, _, stderr = run_cli(
        ["run", "--config", str(path), "--set", "audience_cost=11", "--out", str(out_dir)],
        capsys,
    )
    assert status == 2
    assert "audience_cost" in stderr and "11" in stderr
    assert not out_dir.exists()


def test_cli_non_numeric_seed_exit_2(tmp_path, capsys):
    path = write(tmp_path, SHORT)
    out_dir = tmp_path / "out"
    with pytest.raises(SystemExit) as err:
        main(["run", "--config", str(path), "--seed", "abc", "--out", str(out_dir)])
    assert err.value.code == 2
    assert "abc" in capsys.readouterr().err
    assert not out_dir.exists()


def test_cli_valid_config_runs_and_writes(tmp_path, capsys):
    path = write(tmp_path, SHORT)
    out_dir = tmp_path / "out"
    status, stdout, _ = run_cli(["run", "--config", str(path), "--out", str(out_dir)], capsys)
    assert status == 0
    assert "outcome:" in stdout
    assert json.loads((out_dir / "outcome.json").read_text())["version"] == __version__


# ---- valid configs -------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_configs_load(path):
    values = load_config(path)
    assert set(values) - {"exogenous"} <= set(PARAMETERS)


ROUND_TRIP = {
    "audience_cost": ("[parameters]\naudience_cost = 1.5\n", {"audience_cost": 1.5}),
    "us_pressure_weight": ("[parameters]\nus_pressure_weight = 1.2\n", {"us_pressure_weight": 1.2}),
    "rationality": ("[parameters]\nrationality = 3.0\n", {"rationality": 3.0}),
    "lookahead_months": ("[parameters]\nlookahead_months = 4\n", {"lookahead_months": 4}),
    "int_for_float": ("[parameters]\nnk_threat = 2\n", {"nk_threat": 2.0}),
    "scenario_state": (
        "[scenario]\npact_state = 'notice_pending'\nnotice_date = 2019-05-20\n"
        "initial_curb_level = 2\ninitial_wto = 'active'\n",
        {
            "pact_state": "notice_pending",
            "notice_date": date(2019, 5, 20),
            "initial_curb_level": 2,
            "initial_wto": "active",
        },
    ),
}
ROUND_TRIP_SCENARIO = {"start": date(2019, 6, 1), "end": date(2019, 12, 31)}


def _scenario_toml(extra: str) -> str:
    head = "[scenario]\nstart = 2019-06-01\nend = 2019-12-31\n"
    if extra.startswith("[scenario]\n"):
        return head + extra.removeprefix("[scenario]\n")
    return head + extra


@pytest.mark.parametrize("case", sorted(ROUND_TRIP))
def test_config_key_equals_constructor_keyword(tmp_path, case):
    text, kwargs = ROUND_TRIP[case]
    path = write(tmp_path, _scenario_toml(text))
    from_file = GSOMIAModel.from_config(path, rng=11)
    direct = GSOMIAModel(rng=11, **ROUND_TRIP_SCENARIO, **kwargs)
    for key, value in kwargs.items():
        assert from_file.parameters[key] == value
        assert type(from_file.parameters[key]) is type(direct.parameters[key])
    assert from_file.parameters == direct.parameters
    from_file.run()
    direct.run()
    assert from_file.timeline == direct.timeline
    assert from_file.outcome == direct.outcome
    assert from_file.monthly().equals(direct.monthly())


def test_exogenous_from_config_equals_constructor(tmp_path):
    text = _scenario_toml(
        "[[exogenous]]\ndate = 2019-07-23\nactor = 'beijing'\nevent = 'joint_air_patrol'\n"
        "threat = 1.0\n\n[[exogenous]]\ndate = 2019-06-10\nevent = 'rally'\nopinion = 0.1\n"
    )
    path = write(tmp_path, text)
    exogenous = [
        {"date": date(2019, 7, 23), "actor": "beijing", "event": "joint_air_patrol", "threat": 1.0},
        {"date": date(2019, 6, 10), "event": "rally", "opinion": 0.1},
    ]
    from_file = GSOMIAModel.from_config(path, rng=5)
    direct = GSOMIAModel(rng=5, exogenous=exogenous, **ROUND_TRIP_SCENARIO)
    assert from_file.exogenous == direct.exogenous
    # sorted by date, whatever the order given
    assert [e.event for e in direct.exogenous] == ["rally", "joint_air_patrol"]
    from_file.run()
    direct.run()
    assert from_file.timeline == direct.timeline
    assert [e.event for e in direct.timeline if e.extra.get("exogenous")] == [
        "rally",
        "joint_air_patrol",
    ]


def test_every_parameter_is_a_constructor_keyword():
    import inspect

    signature = inspect.signature(GSOMIAModel)
    for name, param in PARAMETERS.items():
        assert name in signature.parameters
        assert signature.parameters[name].default == param.default
    assert "rng" in signature.parameters
