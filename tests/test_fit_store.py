"""A fit's store is as robust as a sweep's (issue 23, class 1): a full disk at any point
leaves the last whole generation (one line, exit 1, and ``--resume`` gives the
uninterrupted posterior); a damaged history (truncated, garbage, half-created, changed) is
named with the command that recovers, and ``--resume --repair`` restarts from the last
whole generation it can verify, or from scratch; fit.json is sealed."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.fit import run_fit
from experiments.fit_store import HISTORY, PREVIOUS, STAGING, read_meta, write_meta
from model.version import __version__

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny_targets.toml"
SEED = 3
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fit") / "ref"
    run_fit(TINY, out, workers=1, seed=SEED, progress=False, command="test")
    return out


def posterior(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "posterior.parquet")


def fit_cli(out: Path, *extra: str) -> list[str]:
    return ["fit", str(TINY), "--out", str(out), "--workers", "1", "--seed", str(SEED), *extra]


def run_cli(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def copy_of(reference: Path, tmp_path: Path) -> Path:
    out = tmp_path / "fit"
    shutil.copytree(reference, out)
    (out / "posterior.parquet").unlink()  # so a resume must write it again
    return out


# ---- a damaged history --------------------------------------------------------------------------
def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 100)


def _half_created(path: Path) -> None:
    """What a full disk left while pyabc created a database: tables, no version row."""
    path.unlink()
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE version (version_num VARCHAR(32) NOT NULL)")
        con.execute("CREATE TABLE abc_smc (id INTEGER PRIMARY KEY)")


def _changed(path: Path) -> None:
    """A weight of the last generation changed (a whole, consistent database)."""
    with sqlite3.connect(path) as con:
        con.execute(
            "UPDATE particles SET w = w * 2 WHERE id = (SELECT max(pa.id) FROM particles pa)"
        )


DAMAGE = {
    "truncated": (_truncate, "SQLite"),
    "garbage": (_garbage, "not an SQLite database"),
    "half_created": (_half_created, "pyabc schema version none"),
    "changed": (_changed, "generation 1 does not match its checksum in fit.json"),
}


@pytest.mark.parametrize("case", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_history_is_named_and_repair_restarts_from_the_last_whole_generation(
    case, reference, tmp_path, capsys
):
    damage, why = DAMAGE[case]
    out = copy_of(reference, tmp_path)
    damage(out / HISTORY)
    code, _, err = run_cli(fit_cli(out, "--resume"), capsys)
    assert code == 1, err
    assert f"{out / HISTORY} is damaged (" in err and why in err
    assert "--resume --repair" in err and "Traceback" not in err
    assert f"it restarts from generation 1 ({out / PREVIOUS}" in err
    assert not (out / "posterior.parquet").exists()
    code, _, err = run_cli(fit_cli(out, "--resume", "--repair"), capsys)
    assert code == 0, err
    assert f"restarted from {out / PREVIOUS} (1 whole generations)" in err
    pd.testing.assert_frame_equal(posterior(out), posterior(reference))


def test_with_no_history_left_to_verify_repair_restarts_from_scratch(reference, tmp_path, capsys):
    out = copy_of(reference, tmp_path)
    _garbage(out / HISTORY)
    _truncate(out / PREVIOUS)
    code, _, err = run_cli(fit_cli(out, "--resume"), capsys)
    assert code == 1 and "it restarts from scratch" in err
    code, _, err = run_cli(fit_cli(out, "--resume", "--repair"), capsys)
    assert code == 0, err
    assert "no earlier history verifies; restarted from scratch" in err
    pd.testing.assert_frame_equal(posterior(out), posterior(reference))


def test_repair_needs_resume(tmp_path, capsys):
    code, _, err = run_cli(fit_cli(tmp_path / "x", "--repair"), capsys)
    assert code == 2 and "--repair: only with --resume" in err
    assert not (tmp_path / "x").exists()


# ---- what a kill leaves -------------------------------------------------------------------------
def test_a_kill_mid_generation_or_mid_commit_resumes_to_the_same_posterior(reference, tmp_path):
    """A kill during a generation leaves its staging copy (and SQLite's journal); one
    between recording a generation and storing it leaves a record the history lacks."""
    out = copy_of(reference, tmp_path)
    shutil.copyfile(out / PREVIOUS, out / HISTORY)  # generation 1 not stored yet...
    (out / STAGING).write_bytes(b"half a generation")
    (out / f"{STAGING}-journal").write_bytes(b"journal")
    meta = read_meta(out)
    assert len(meta["generations"]) == 2  # ... but recorded
    run_fit(TINY, out, workers=1, seed=SEED, resume=True, progress=False, command="test")
    pd.testing.assert_frame_equal(posterior(out), posterior(reference))
    assert not list(out.glob(f"{STAGING}*"))
    assert len(read_meta(out)["generations"]) == 2


# ---- fit.json -----------------------------------------------------------------------------------
def test_an_edited_fit_json_exits_2_naming_it(reference, tmp_path, capsys):
    out = copy_of(reference, tmp_path)
    meta = json.loads((out / "fit.json").read_text())
    meta["sessions"] = [1]
    (out / "fit.json").write_text(json.dumps(meta))
    code, _, err = run_cli(fit_cli(out, "--resume"), capsys)
    assert code == 2, err
    assert f"{out / 'fit.json'}: changed since gsomia wrote it" in err


def test_a_fit_json_of_an_older_format_is_named_as_such(reference, tmp_path, capsys):
    out = copy_of(reference, tmp_path)
    meta = json.loads((out / "fit.json").read_text())
    (out / "fit.json").write_text(json.dumps(meta | {"format": 1}))
    code, _, err = run_cli(fit_cli(out, "--resume"), capsys)
    assert code == 2 and f"{out / 'fit.json'}: invalid value 1 for 'format'" in err


def test_fit_json_and_report_record_the_models_version(reference):
    """fit.json names the version of the model the fit ran (and each session's), and so
    does report.md."""
    meta = read_meta(reference)
    assert meta["version"] == __version__
    assert [s["version"] for s in meta["sessions"]] == [__version__]
    assert meta["sessions"][0]["versions"]["gsomia"] == __version__
    assert f"; gsomia {__version__})" in (reference / "report.md").read_text()


def test_fit_json_records_each_generations_checksum(reference):
    from experiments.fit_store import inspect_history

    meta = read_meta(reference)
    k, sums, problem = inspect_history(reference / HISTORY, 6)
    assert (k, problem) == (2, "") and [g["sha256"] for g in meta["generations"]] == sums
    assert inspect_history(reference / PREVIOUS, 6)[:2] == (1, sums[:1])
    write_meta(reference, meta)  # sealing again changes nothing
    assert read_meta(reference) == meta


# ---- a full disk --------------------------------------------------------------------------------
IN_NAMESPACE = textwrap.dedent(
    """
    import json, shutil, subprocess, sys
    size, mnt, keep, *fit = sys.argv[1:]
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mnt], check=True)
    out = f"{mnt}/fit"
    cmd = [sys.executable, "-m", "experiments.cli", "fit", *fit, "--out", out]
    first = subprocess.run(cmd, capture_output=True, text=True)
    subprocess.run(["mount", "-o", "remount,size=64m", mnt], check=True)
    second = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    shutil.copy(f"{out}/posterior.parquet", keep)
    print(json.dumps([first.returncode, first.stderr, second.returncode, second.stderr]))
    """
)


def footprint(reference: Path) -> int:
    return sum(f.stat().st_size for f in reference.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("share", [0.05, 0.35, 0.8])
def test_a_full_disk_gives_one_line_and_resume_gives_the_same_posterior(share, reference, tmp_path):
    """In a tmpfs of a share of the finished fit's size (in a mount namespace of its own),
    the disk fills at a different point for each share: the first write, pyabc creating
    the history, a generation, storing one."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a small tmpfs")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    size = int(share * footprint(reference)) // 4096 * 4096 or 4096
    keep = tmp_path / "posterior.parquet"
    argv = [str(TINY), "--workers", "1", "--seed", str(SEED)]
    inside = [sys.executable, "-c", IN_NAMESPACE, str(size), str(mnt), str(keep), *argv]
    res = subprocess.run(
        ["unshare", "-rm", *inside],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    if not res.stdout.strip():  # the helper did not get to run both fits
        if "unshare" in res.stderr or "mount" in res.stderr:
            pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()[-200:]}")
        pytest.fail(res.stderr[-2000:])
    first_code, first_err, second_code, second_err = json.loads(res.stdout)
    lines = [line for line in first_err.splitlines() if not line.startswith("fit tiny_targets")]
    assert first_code == 1, first_err
    assert len(lines) == 1 and lines[0].startswith(
        "gsomia fit: failed: no space left on the device"
    )
    assert "--resume" in lines[0] and "Traceback" not in first_err
    assert second_code == 0, second_err
    pd.testing.assert_frame_equal(pd.read_parquet(keep), posterior(reference))
