"""One vocabulary for every name a user writes (issue 23, class 2): the events the cast
declares cover what runs emit; targets, timelines and shocks are checked against it;
``gsomia analyze`` refuses outcomes and parameters a sweep cannot have written."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from experiments.cli import main
from experiments.runner import run_sweep
from experiments.targets import load_targets
from model import GSOMIAModel
from model.config import list_scenarios
from model.parameters import ConfigError
from model.vocabulary import CALENDAR_EVENTS, vocabulary

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny_targets.toml"
SMALL = {"n_citizens": 60, "citizen_degree": 4}


def run_cli(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---- the declared vocabulary against what runs emit -------------------------------------------
def emitted_runs():
    """Every shipped scenario (2 seeds) and, with uniform choices (rationality 0), runs
    from each pact state: between them every declared event happens."""
    for name in list_scenarios():
        for seed in (0, 1):
            yield GSOMIAModel.from_config(name, rng=seed, **SMALL)
    states = [
        {"pact_state": "negotiating", "signing_date": date(2019, 3, 15)},
        {"pact_state": "active"},
        {"pact_state": "suspended", "notice_date": date(2019, 8, 23)},
    ]
    for seed in range(6):
        for state in states:
            start = date(2019, 12, 1) if state["pact_state"] == "suspended" else date(2019, 1, 1)
            kw = {"start": start, "end": date(2020, 6, 30), "rationality": 0.0} | state
            yield GSOMIAModel(rng=seed, initial_curb_level=1, **SMALL, **kw)


def test_the_declared_vocabulary_is_exactly_what_runs_emit():
    """Each run's events are in the vocabulary of its cast, calendar and shocks; and every
    event the cast and calendar declare is emitted by some run (a misspelt declaration
    would accept a misspelt target)."""
    seen: set[tuple[str, str]] = set()
    for m in emitted_runs():
        m.run()
        pairs = {(e.actor, e.event) for e in m.timeline}
        assert pairs <= vocabulary(m.cast.actors, m.exogenous).pairs(), m.name
        seen |= {(e.actor, e.event) for e in m.timeline if not e.extra.get("exogenous")}
    assert vocabulary().pairs() == seen


def test_the_vocabulary_is_read_from_the_cast_classes():
    from agents.tokyo import Tokyo

    class QuietTokyo(Tokyo):
        events: ClassVar[Mapping[str, tuple[str, ...]]] = {"tokyo": ("talks_offer",)}

    default = vocabulary()
    names = vocabulary(["agents.seoul:Seoul", QuietTokyo])
    assert ("tokyo", "whitelist_removal") in default.pairs()
    assert ("tokyo", "whitelist_removal") not in names.pairs()
    assert ("tokyo", "talks_offer") in names.pairs() and ("tokyo", "protest") in names.pairs()
    assert set(CALENDAR_EVENTS["both"]) <= names.events["both"]


# ---- targets ------------------------------------------------------------------------------------
def targets_file(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "targets.toml"
    text = TINY.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    shutil.copy(FIXTURES / "tiny_2019.toml", tmp_path / "tiny_2019.toml")
    return path


EXTRA_TARGETS = {
    "absent": '[[target]]\nname = "x"\nscenario = "tiny_2019.toml"\nkind = "absent"\n'
    'actor = "seoul"\nevent = "termination_notcie"\n',
    "sequence": '[[target]]\nname = "x"\nscenario = "tiny_2019.toml"\nkind = "sequence"\n'
    'steps = [{actor = "tokyo", event = "targeted_export_controls", month = "2019-07"},\n'
    '  {actor = "seoul", event = ["termination_notice", "wto_complaitn"], month = "2019-08"}]\n',
    "not_followed": '[[target]]\nname = "x"\nscenario = "tiny_2019.toml"\n'
    'kind = "event_not_followed"\nactor = "tokyo"\nevent = "targeted_export_controls"\n'
    'month = "2019-07"\nnot_followed_by = {actor = "seol", event = "termination_notice",'
    " within_months = 3}\n",
}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'actor = "seoul"',
            'actor = "seol"',
            "unknown actor 'seol' for 'actor' (did you mean 'seoul'?)",
        ),
        (
            'event = "termination_notice"',
            'event = "termination_notcie"',
            "unknown event 'termination_notcie' for 'event' (did you mean 'termination_notice'?)",
        ),
        (
            'event = "targeted_export_controls"',
            'event = "wto_complaint"',
            "invalid value 'wto_complaint' for 'event' (tokyo never has it; it is seoul's)",
        ),
    ],
    ids=["actor", "event", "another_actors_event"],
)
def test_a_misspelt_name_in_a_target_exits_2_naming_the_nearest(
    old, new, expected, tmp_path, capsys
):
    path = targets_file(tmp_path, old, new)
    out = tmp_path / "fit"
    code, _, err = run_cli(["fit", path, "--out", out], capsys)
    assert code == 2, err
    assert expected in err and str(path) in err and "allowed" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("absent", "unknown event 'termination_notcie' for 'event'"),
        ("sequence", "unknown event 'wto_complaitn' for 'steps[1].event' (did you mean 'wto_"),
        ("not_followed", "unknown actor 'seol' for 'not_followed_by.actor' (did you mean"),
    ],
)
def test_every_kind_of_target_checks_its_names(kind, expected, tmp_path):
    path = targets_file(
        tmp_path, '[[target]]\nname = "curbs', EXTRA_TARGETS[kind] + '\n[[target]]\nname = "curbs'
    )
    with pytest.raises(ConfigError, match="x") as err:
        load_targets(path)
    assert expected in str(err.value)


def test_a_target_may_name_the_scenarios_shocks_and_the_calendars_events(tmp_path):
    extra = (
        '[[target]]\nname = "ruling"\nscenario = "tiny_2019.toml"\nkind = "event"\n'
        'actor = "seoul_court"\nevent = "forced_labour_ruling"\nmonth = "2018-10"\n\n'
        '[[target]]\nname = "no_lapse"\nscenario = "tiny_2019.toml"\nkind = "absent"\n'
        'actor = "both"\nevent = "pact_terminated"\n\n[[target]]\nname = "curbs'
    )
    ts = load_targets(targets_file(tmp_path, '[[target]]\nname = "curbs', extra))
    assert [t.name for t in ts.targets][:2] == ["ruling", "no_lapse"]


def test_shipped_targets_pass_the_check():
    for name in ("evidence_2019", "smoke"):
        load_targets(name)


# ---- timelines ----------------------------------------------------------------------------------
def test_a_misspelt_timeline_event_exits_2_naming_its_line(tmp_path, capsys):
    from experiments.calibration import DEFAULT_TIMELINE

    lines = DEFAULT_TIMELINE.read_text().splitlines()
    assert lines[11].startswith("2019-08-23,seoul,termination_notice,")
    lines[11] = lines[11].replace("termination_notice", "terminaton_notice")
    path = tmp_path / "timeline.csv"
    path.write_text("\n".join(lines) + "\n")
    code, _, err = run_cli(["calibrate", "--seeds", "1", "--timeline", path], capsys)
    assert code == 2, err
    assert f"{path}: line 12: unknown event 'terminaton_notice'" in err
    assert "(did you mean 'termination_notice'?)" in err


def test_the_shipped_timeline_passes_the_check_for_every_scenario():
    from experiments.calibration import DEFAULT_TIMELINE, read_timeline, timeline_vocabulary

    for name in list_scenarios():
        m = GSOMIAModel.from_config(name, rng=0, **SMALL)
        assert read_timeline(DEFAULT_TIMELINE, timeline_vocabulary(m))


# ---- shocks -------------------------------------------------------------------------------------
def test_a_shock_before_the_start_is_an_error_not_dropped(tmp_path, capsys):
    text = (REPO / "configs" / "baseline_2019.toml").read_text()
    path = tmp_path / "late.toml"
    path.write_text(text.replace("start = 2018-10-01", "start = 2018-11-01"))
    code, _, err = run_cli(["run", "--config", path], capsys)
    assert code == 2
    assert f"{path}: [[exogenous]] 'forced_labour_ruling' of 2018-10-30" in err
    assert "invalid value '2018-10-30' for 'date' (before the scenario's start" in err
    code, _, err = run_cli(["run", "--set", "start=2019-01-01"], capsys)
    assert code == 2 and "constructor: [[exogenous]] 'forced_labour_ruling'" in err
    # a shock in the start's month applies (the model starts on the month's first day)
    m = GSOMIAModel.from_config("baseline_2019", rng=0, start=date(2018, 10, 31), **SMALL)
    m.run()
    assert "forced_labour_ruling" in {e.event for e in m.timeline}


def test_a_sweep_starting_after_its_scenarios_shocks_exits_2_before_running(tmp_path, capsys):
    """Every run would have failed on the shock: the spec is refused, naming it."""
    text = (REPO / "configs" / "sweeps" / "smoke.toml").read_text()
    spec = tmp_path / "late.toml"
    spec.write_text(
        text.replace('"../baseline_2019.toml"', '"baseline_2019"').replace(
            "[fixed]\n", "[fixed]\nstart = 2019-06-01\n"
        )
    )
    code, _, err = run_cli(["sweep", spec, "--out", tmp_path / "out"], capsys)
    assert code == 2, err
    assert f"{spec}: [[exogenous]] 'forced_labour_ruling' of 2018-10-30" in err
    assert not (tmp_path / "out").exists()


def test_a_shock_named_as_a_governments_move_is_an_error():
    shock = {"date": date(2019, 7, 4), "actor": "tokyo", "event": "targeted_export_controls"}
    with pytest.raises(ConfigError, match="tokyo emits it as a move of the model"):
        GSOMIAModel(rng=0, exogenous=[shock])
    GSOMIAModel(rng=0, exogenous=[shock | {"actor": "exogenous"}])  # another actor's: fine


# ---- analyze: outcomes, parameters, format ---------------------------------------------------
@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    spec = tmp_path_factory.mktemp("spec") / "smoke.toml"
    text = (REPO / "configs" / "sweeps" / "smoke.toml").read_text()
    text = text.replace('"../baseline_2019.toml"', '"baseline_2019"')
    spec.write_text(text.replace("n_citizens = 300", "n_citizens = 50\nend = 2019-03-31"))
    out = tmp_path_factory.mktemp("sweep") / "smoke"
    run_sweep(spec, out=out, workers=1, progress=False)
    return out


def damaged(sweep: Path, tmp_path: Path, edit) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(sweep, out)
    df = pd.read_parquet(out / "runs.parquet")
    edit(df)
    df.to_parquet(out / "runs.parquet", index=False)
    return out


def _nan_outcome(df):
    df.loc[[1, 4], "outcome"] = None


def _all_null(df):
    df["outcome"] = None


def _unknown_outcome(df):
    df.loc[2, "outcome"] = "renewd"


def _nan_parameter(df):
    df.loc[3, "audience_cost"] = float("nan")


def _bad_status(df):
    df.loc[0, "status"] = "okay"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_nan_outcome, "2 ok run(s) without an outcome (null in column 'outcome' at run ids 1, 4)"),
        (_all_null, "8 ok run(s) without an outcome"),
        (
            _unknown_outcome,
            "unknown outcome 'renewd' in column 'outcome' (run ids 2) (did you mean 'renewed'?)",
        ),
        (_nan_parameter, "invalid value nan in column 'audience_cost' (run ids 3)"),
        (_bad_status, "invalid value 'okay' in column 'status' (run ids 0) (did you mean 'ok'?)"),
    ],
    ids=["nan_outcomes", "all_null_outcomes", "unknown_outcome", "nan_parameter", "bad_status"],
)
def test_analyze_refuses_rows_a_sweep_cannot_have_written(edit, expected, sweep, tmp_path, capsys):
    out = damaged(sweep, tmp_path, edit)
    code, _, err = run_cli(["analyze", out], capsys)
    assert code == 2, err
    assert f"{out / 'runs.parquet'}: {expected}" in err and "Traceback" not in err
    assert not (out / "report.md").exists()


@pytest.mark.parametrize("fmt", [0, None, "1"])
def test_analyze_refuses_a_meta_format_resume_refuses(fmt, sweep, tmp_path, capsys):
    from experiments.storage import read_meta, write_meta

    out = tmp_path / "copy"
    shutil.copytree(sweep, out)
    meta = read_meta(out)
    meta["format"] = fmt
    write_meta(out, meta)  # a consistent file, of another format
    code, _, err = run_cli(["analyze", out], capsys)
    assert code == 2, err
    assert f"{out / 'meta.json'}: invalid value {fmt!r} for 'format'" in err
    assert not (out / "report.md").exists()
    meta["status"] = "running"
    write_meta(out, meta)
    spec = json.loads((out / "meta.json").read_text())["spec_file"]
    code, _, err = run_cli(["sweep", spec, "--out", out, "--resume"], capsys)
    assert code == 2 and f"invalid value {fmt!r} for 'format'" in err


def test_analyze_names_the_format_of_an_older_unsealed_meta(sweep, tmp_path, capsys):
    """A meta.json of format 1 (before checksums) is refused for its format, not as edited."""
    out = tmp_path / "copy"
    shutil.copytree(sweep, out)
    meta = json.loads((out / "meta.json").read_text())
    del meta["checksum"]
    (out / "meta.json").write_text(json.dumps(meta | {"format": 1}))
    code, _, err = run_cli(["analyze", out], capsys)
    assert code == 2 and "invalid value 1 for 'format' (written by another version" in err
