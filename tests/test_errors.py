"""Bad input, at every entry point: exit status 2 and one message naming the file, key, value
and what is allowed; no traceback; nothing written. Faults of the operating system: exit 1
and one line. (Issue 11: each crash found by trying gsomia as a new user would.)"""

from __future__ import annotations

import errno
import json
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.atomic import write_files_atomic
from experiments.cli import main
from model import GSOMIAModel
from model.parameters import ConfigError

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "configs" / "sweeps" / "smoke.toml"
BASELINE = REPO / "configs" / "baseline_2019.toml"
SHORT = ["--set", "end=2019-01-31", "--set", "n_citizens=50"]


def run_cli(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def _write(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


# ---- gsomia run -------------------------------------------------------------------------------
# (argv given tmp_path, substrings the message must contain)
RUN_BAD = {
    "datetime_for_date": (
        lambda t: ["run", "--set", "start=2018-10-01T00:00:00"],
        ["start", "2018, 10, 1", "date-time", "YYYY-MM-DD"],
    ),
    "toml_datetime_in_scenario": (
        lambda t: [
            "run",
            "--config",
            _write(t / "c.toml", "[scenario]\nstart = 2018-10-01T00:00:00\n"),
        ],
        ["c.toml", "start", "date-time"],
    ),
    "binary_config": (
        lambda t: ["run", "--config", _write(t / "c.toml", bytes(range(256)))],
        ["c.toml", "not a text file", "UTF-8"],
    ),
    "latin1_config": (
        lambda t: [
            "run",
            "--config",
            _write(t / "c.toml", '[scenario]\nname = "S\xe9oul"\n'.encode("latin-1")),
        ],
        ["c.toml", "0xe9", "UTF-8"],
    ),
    "directory_config": (lambda t: ["run", "--config", t], ["is a directory"]),
    "empty_path_config": (lambda t: ["run", "--config", ""], ["config", "empty", "baseline_2019"]),
    "empty_file_config": (
        lambda t: ["run", "--config", _write(t / "c.toml", "# nothing\n")],
        ["c.toml", "empty"],
    ),
    "unknown_shipped_name": (
        lambda t: ["run", "--config", "baseline_2091"],
        ["baseline_2091", "did you mean 'baseline_2019'", "shipped name"],
    ),
    "missing_file": (lambda t: ["run", "--config", t / "nope.toml"], ["nope.toml", "no such"]),
    "rng_as_parameter": (lambda t: ["run", "--set", "rng=5"], ["'rng'", "--seed"]),
    "year_1": (lambda t: ["run", "--set", "start=0001-01-01"], ["start", "1900-01-01"]),
    "year_9999": (lambda t: ["run", "--set", "end=9999-12-31"], ["end", "2100-12-31"]),
    "horizon_too_long": (
        lambda t: ["run", "--set", "end=2068-12-31"],
        ["end", "2068-12-31", "at most 120 months"],
    ),
    "odd_citizen_degree": (
        lambda t: ["run", "--set", "citizen_degree=7"],
        ["citizen_degree", "even"],
    ),
    "degree_above_citizens": (
        lambda t: ["run", "--set", "n_citizens=10", "--set", "citizen_degree=20"],
        ["citizen_degree", "n_citizens"],
    ),
    "notice_date_ignored": (
        lambda t: ["run", "--set", "notice_date=2019-03-01"],
        ["notice_date", "pact_state", "'active'"],
    ),
    "out_is_a_file": (
        lambda t: ["run", *SHORT, "--out", _write(t / "f", "x")],
        ["--out", "not a directory"],
    ),
    "explain_bogus_before_writing": (
        lambda t: ["run", "--out", t / "out", "--explain", "bogus"],
        ["--explain", "bogus", "seoul"],
    ),
}


@pytest.mark.parametrize("case", RUN_BAD, ids=list(RUN_BAD))
def test_run_bad_input_exits_2_naming_the_key(case, tmp_path, capsys):
    make_argv, expected = RUN_BAD[case]
    argv = make_argv(tmp_path)
    before = files_under(tmp_path)
    code, out, err = run_cli(argv, capsys)
    assert code == 2, err
    assert err.count("\n") == 1, err  # one message
    assert "Traceback" not in err
    for s in expected:
        assert s in err, (s, err)
    assert files_under(tmp_path) == before  # nothing written
    assert out == ""


def test_unreadable_config_exits_2(tmp_path, capsys, monkeypatch):
    path = _write(tmp_path / "c.toml", "[scenario]\n")

    def deny(self):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    code, _, err = run_cli(["run", "--config", path], capsys)
    assert code == 2
    assert "c.toml" in err and "permission denied" in err


def test_write_files_atomic_is_all_or_none(tmp_path, monkeypatch):
    import experiments.atomic as atomic

    files = {"a.csv": "1\n", "b.json": "{}\n", "c.json": "[]\n", "d.json": "[]\n"}
    real_fdopen = os.fdopen
    opened = []

    def fdopen(fd, mode="r", *args, **kw):
        opened.append(fd)
        if len(opened) == 3:  # the disk fills up while writing the third file
            os.close(fd)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fdopen(fd, mode, *args, **kw)

    monkeypatch.setattr(atomic.os, "fdopen", fdopen)
    with pytest.raises(OSError):
        write_files_atomic(tmp_path / "out", files)
    assert files_under(tmp_path / "out") == []
    monkeypatch.undo()
    write_files_atomic(tmp_path / "out", files)
    assert files_under(tmp_path / "out") == sorted(files)
    assert (tmp_path / "out" / "b.json").read_text() == "{}\n"


def test_run_out_on_a_full_disk_exits_1_and_writes_nothing(tmp_path, capsys, monkeypatch):
    import experiments.atomic as atomic

    real_fdopen = os.fdopen
    count = []

    def fdopen(fd, mode="r", *args, **kw):
        count.append(fd)
        if len(count) == 2:
            os.close(fd)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fdopen(fd, mode, *args, **kw)

    monkeypatch.setattr(atomic.os, "fdopen", fdopen)
    code, _, err = run_cli(["run", *SHORT, "--out", tmp_path / "out"], capsys)
    assert code == 1
    assert err.count("\n") == 1 and "no space left" in err and "run the same command" in err
    assert "Traceback" not in err
    assert files_under(tmp_path / "out") == []


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(ConfigError, match="rng"):
        main(["run", "--set", "rng=5", "--debug"])


def test_unexpected_error_is_one_line_without_traceback(capsys, monkeypatch):
    def boom(self, *a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(GSOMIAModel, "run", boom)
    code, _, err = run_cli(["run", *SHORT], capsys)
    assert code == 1
    assert "RuntimeError: kaboom" in err and "--debug" in err and "Traceback" not in err


def test_version_and_scenarios(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("gsomia ")
    code, out, _ = run_cli(["scenarios"], capsys)
    assert code == 0
    assert "baseline_2019" in out and "smoke" in out
    assert "Two levels each of US pressure weight and audience cost." in out


def test_run_accepts_a_shipped_scenario_name(capsys):
    code, out, _ = run_cli(["run", "--config", "baseline_2019", *SHORT], capsys)
    assert code == 0
    assert out.startswith("baseline_2019: seed 0")
    model = GSOMIAModel.from_config("baseline_2019", rng=3, end=date(2019, 1, 31), n_citizens=50)
    assert model.start == date(2018, 10, 1)


# ---- the Python API ---------------------------------------------------------------------------
API_BAD = {
    "rng_float": ({"rng": 1.5}, "rng"),
    "rng_list": ({"rng": [1, 2]}, "rng"),
    "rng_negative": ({"rng": -1}, "rng"),
    "array_param": ({"audience_cost": np.array([1, 2])}, "audience_cost"),
    "datetime_start": ({"start": datetime(2018, 10, 1)}, "start"),
    "timestamp_start": ({"start": pd.Timestamp("2018-10-01")}, "start"),
    "year_1": ({"start": date(1, 1, 1)}, "start"),
    "year_9998": ({"end": date(9998, 1, 1)}, "end"),
    "horizon": ({"end": date(2040, 1, 1)}, "end"),
    "notice_with_active": ({"notice_date": date(2019, 5, 1)}, "notice_date"),
    "suspension_with_active": ({"suspension_date": date(2019, 5, 1)}, "suspension_date"),
    "odd_degree": ({"citizen_degree": 9}, "citizen_degree"),
    "degree_too_large": ({"n_citizens": 20, "citizen_degree": 30}, "citizen_degree"),
}


@pytest.mark.parametrize("case", API_BAD, ids=list(API_BAD))
def test_api_bad_input_is_a_config_error_naming_the_key(case):
    kwargs, key = API_BAD[case]
    with pytest.raises(ConfigError, match=f"'{key}'"):
        GSOMIAModel(**kwargs)


def test_api_numpy_scalars_still_accepted():
    m = GSOMIAModel(rng=np.int64(4), audience_cost=np.float64(3.0), n_citizens=50)
    assert m.to_dict(decisions=False)["parameters"]["audience_cost"] == 3.0
    assert m.seed == 4


# ---- gsomia sweep: bad specs ------------------------------------------------------------------
def _spec(tmp_path: Path, body: str, name: str = "s.toml") -> Path:
    text = (
        f'[sweep]\nconfig = "{BASELINE}"\ndesign = "grid"\nreplications = 1\n'
        "[parameters.audience_cost]\nlow = 1.0\nhigh = 2.0\nlevels = 2\n"
    )
    return _write(tmp_path / name, text + body)


SWEEP_BAD = {
    "datetime_in_fixed": (
        lambda t: ["sweep", _spec(t, "[fixed]\nstart = 2018-10-01T00:00:00\n")],
        ["fixed", "start", "date-time"],
    ),
    "absurd_levels": (
        lambda t: [
            "sweep",
            _write(
                t / "s.toml",
                f'[sweep]\nconfig = "{BASELINE}"\nreplications = 1\n'
                "[parameters.audience_cost]\nlow = 1.0\nhigh = 2.0\n"
                "levels = 9000000000000000000\n",
            ),
        ],
        ["levels", "9000000000000000000", "10000"],
    ),
    "binary_spec": (lambda t: ["sweep", _write(t / "s.toml", b"\x00\xff\xfe")], ["not a text"]),
    "directory_spec": (lambda t: ["sweep", t], ["is a directory"]),
    "unknown_spec_name": (lambda t: ["sweep", "smok"], ["smok", "did you mean 'smoke'"]),
    "bad_backend": (lambda t: ["sweep", SMOKE, "--backend", "dusk"], ["--backend", "dask"]),
    "zero_workers": (lambda t: ["sweep", SMOKE, "--workers", "0"], ["--workers", ">= 1"]),
    "scheduler_port_not_a_number": (
        lambda t: ["sweep", SMOKE, "--backend", "dask", "--scheduler", "tcp://127.0.0.1:notaport"],
        ["--scheduler", "notaport", "tcp://host:8786"],
    ),
    "scheduler_broken_ipv6": (
        lambda t: ["sweep", SMOKE, "--backend", "dask", "--scheduler", "tcp://[::1:8786"],
        ["--scheduler", "[::1:8786"],
    ),
    "malformed_scheduler": (
        lambda t: ["sweep", SMOKE, "--backend", "dask", "--scheduler", "nonsense"],
        ["--scheduler", "tcp://"],
    ),
}


@pytest.mark.parametrize("case", SWEEP_BAD, ids=list(SWEEP_BAD))
def test_sweep_bad_input_exits_2(case, tmp_path, capsys):
    make_argv, expected = SWEEP_BAD[case]
    argv = [*make_argv(tmp_path), "--out", tmp_path / "out"]
    before = files_under(tmp_path)
    code, _, err = run_cli(argv, capsys)
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    for s in expected:
        assert s in err, (s, err)
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("meta", ["[1, 2]", "", "{not json", '"text"'])
def test_resume_with_malformed_meta_exits_2(meta, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    _write(out / "meta.json", meta)
    code, _, err = run_cli(["sweep", SMOKE, "--out", out, "--resume"], capsys)
    assert code == 2
    assert "meta.json" in err and "Traceback" not in err
    assert files_under(out) == ["meta.json"]


# ---- gsomia calibrate ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, expected",
    [
        (["calibrate", "--seeds", "0"], ["--seeds", "0", ">= 1"]),
        (["calibrate", "--seeds", "-3"], ["--seeds", "-3"]),
        (
            ["calibrate", "--seeds", "2", "--timeline", "/nonexistent/t.csv"],
            ["--timeline", "no such"],
        ),
        (["calibrate", "--seeds", "2", "--config", "nope"], ["nope", "shipped name"]),
    ],
    ids=["seeds_0", "seeds_negative", "missing_timeline", "unknown_config"],
)
def test_calibrate_bad_input_exits_2(argv, expected, capsys):
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert out == "" and "Traceback" not in err
    for s in expected:
        assert s in err


# ---- gsomia analyze -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    from experiments.runner import run_sweep

    out = tmp_path_factory.mktemp("sweep") / "smoke"
    run_sweep(SMOKE, out=out, workers=1, progress=False)
    return out


def _damage_truncate(d):
    data = (d / "runs.parquet").read_bytes()
    (d / "runs.parquet").write_bytes(data[: len(data) // 2])


def _damage_garbage(d):
    (d / "runs.parquet").write_bytes(os.urandom(2000))


def _damage_empty_meta(d):
    (d / "meta.json").write_text("")


def _damage_malformed_meta(d):
    (d / "meta.json").write_text('{"spec": [1, 2]')


def _damage_meta_list(d):
    (d / "meta.json").write_text("[1, 2]")


def _damage_meta_no_params(d):
    meta = json.loads((d / "meta.json").read_text())
    meta["spec"]["parameters"] = "audience_cost"
    (d / "meta.json").write_text(json.dumps(meta))


def _damage_zero_rows(d):
    df = pd.read_parquet(d / "runs.parquet")
    df.iloc[:0].to_parquet(d / "runs.parquet")


def _damage_all_failed(d):
    df = pd.read_parquet(d / "runs.parquet")
    df["status"] = "error"
    df["error"] = "RuntimeError: boom"
    df.to_parquet(d / "runs.parquet")


ANALYZE_BAD = {
    "truncated_parquet": (_damage_truncate, "runs.parquet"),
    "garbage_parquet": (_damage_garbage, "runs.parquet"),
    "empty_meta": (_damage_empty_meta, "meta.json"),
    "malformed_meta": (_damage_malformed_meta, "meta.json"),
    "meta_is_a_list": (_damage_meta_list, "meta.json"),
    "meta_without_parameters": (_damage_meta_no_params, "spec.parameters"),
    "zero_rows": (_damage_zero_rows, "0 rows"),
    "all_failed": (_damage_all_failed, "every one of the 8 runs failed"),
}


@pytest.mark.parametrize("case", ANALYZE_BAD, ids=list(ANALYZE_BAD))
def test_analyze_bad_input_exits_2_and_writes_nothing(case, finished_sweep, tmp_path, capsys):
    damage, expected = ANALYZE_BAD[case]
    d = tmp_path / "sweep"
    shutil.copytree(finished_sweep, d)
    damage(d)
    before = files_under(d)
    code, _, err = run_cli(["analyze", d], capsys)
    assert code == 2, err
    assert expected in err and "Traceback" not in err and err.count("\n") == 1, err
    assert files_under(d) == before


def test_analyze_failing_midway_leaves_no_half_report(
    finished_sweep, tmp_path, capsys, monkeypatch
):
    import experiments.analysis as analysis

    d = tmp_path / "sweep"
    shutil.copytree(finished_sweep, d)
    before = files_under(d)

    def boom(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(analysis, "plot_marginals", boom)
    code, _, err = run_cli(["analyze", d], capsys)
    assert code == 1 and "no space left" in err
    assert files_under(d) == before  # no CSV, no PNG, no report.md, no staging folder
    monkeypatch.undo()
    code, _, _ = run_cli(["analyze", d], capsys)
    assert code == 0
    assert (d / "report.md").is_file() and (d / "marginals.png").is_file()


def test_run_out_into_a_read_only_directory_exits_1(tmp_path, capsys, monkeypatch):
    import experiments.atomic as atomic

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "ro"))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)  # as a read-only folder does
    code, out, err = run_cli(["run", *SHORT, "--out", tmp_path / "ro"], capsys)
    assert code == 1
    assert err.count("\n") == 1 and "Permission denied" in err and "ro" in err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("port", ["0", "-5", "70000"])
def test_ui_bad_port_exits_2_before_starting_anything(port, capsys, monkeypatch):
    from experiments import serve

    def no_server(*args, **kwargs):
        raise AssertionError("the server must not start")

    monkeypatch.setattr(serve.subprocess, "Popen", no_server)
    code, _, err = run_cli(["ui", "--port", port], capsys)
    assert code == 2
    assert f"--port: invalid value {port}" in err and "65535" in err


class _InterruptedFinaliser:
    """An object whose finaliser a signal interrupts, as a Ctrl-C landing in
    ``ParquetWriter.__del__`` did in CI."""

    def __init__(self, exc: KeyboardInterrupt) -> None:
        self.exc = exc

    def __del__(self) -> None:
        raise self.exc


@pytest.mark.parametrize("signum", [None, 15])
def test_an_interrupt_lost_in_a_finaliser_still_stops_the_command(signum, capsys, monkeypatch):
    """Python only reports an exception raised in a finaliser ("Exception ignored in");
    a Ctrl-C or SIGTERM lost there must still stop the command at its next progress
    update, with its exit status and one line, not let it run on to exit 0."""
    import sys

    from experiments.boundary import Terminated, guarded
    from experiments.progress import Progress

    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)  # guarded replaces it
    progress = Progress(10, 0, False, "sweep smoke")
    finished = []

    def command() -> int:
        obj = _InterruptedFinaliser(KeyboardInterrupt() if signum is None else Terminated(signum))
        del obj  # the finaliser raises; Python reports it and goes on
        progress.update(1)
        finished.append(True)
        return 0

    code = guarded("sweep", command)
    err = capsys.readouterr().err
    assert not finished and progress.done == 0
    assert code == (130 if signum is None else 128 + signum)
    assert "Exception ignored" not in err and "Traceback" not in err
    assert ("interrupted" if signum is None else "terminated (SIGTERM)") in err


def test_an_interrupt_lost_in_a_finaliser_at_the_end_still_exits_interrupted(capsys, monkeypatch):
    """Lost in the last finaliser, after the last progress update: the command has
    finished its work (kept), but exits as interrupted."""
    import sys

    from experiments.boundary import guarded

    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)

    def command() -> int:
        obj = _InterruptedFinaliser(KeyboardInterrupt())
        del obj
        return 0

    assert guarded("sweep", command) == 130
    assert "interrupted" in capsys.readouterr().err
    assert guarded("sweep", lambda: 0) == 0  # nothing lost is carried over
