"""The sweep runner: spec validation, determinism across workers and backends, resume after
a kill, failing runs, bad input through the CLI, and mesa.batch_run on the model."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from experiments import designs
from experiments.cli import main
from experiments.runner import (
    METRICS,
    Chunk,
    run_chunk,
    run_many,
    run_one,
    run_seed,
    run_sweep,
    schema,
)
from experiments.spec import load_spec
from experiments.storage import default_chunk_size, read_meta, write_meta
from model import OUTCOMES, GSOMIAModel, __version__
from model.config import load_config
from model.parameters import PARAMETERS, ConfigError

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "configs" / "sweeps" / "smoke.toml"
BASELINE = REPO / "configs" / "baseline_2019.toml"


def read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path / "runs.parquet")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The smoke sweep, run in this process (workers=1)."""
    out = tmp_path_factory.mktemp("sweeps") / "smoke"
    run_sweep(SMOKE, out=out, workers=1, progress=False)
    return out


def write_spec(path: Path, body: str, config: Path = BASELINE) -> Path:
    path.write_text(f'[sweep]\nconfig = "{config}"\n' + body)
    return path


# ---- end to end -----------------------------------------------------------------------------
def test_smoke_sweep_writes_runs_spec_and_meta(reference):
    spec = load_spec(SMOKE)
    df = read(reference)
    pts = designs.points(spec)
    assert len(df) == len(pts) * spec.replications == 8
    assert list(df["run_id"]) == list(range(8))
    assert list(df.columns) == schema(spec).names
    assert set(df["status"]) == {"ok"}
    assert df["error"].isna().all()
    assert set(df["outcome"]) <= set(OUTCOMES)
    for name in ("peak_opinion_share", "peak_us_pressure_seoul", "final_curb_level"):
        assert df[name].notna().all()
    # each row: its point's parameter values and the seed derived from its position
    for _, row in df.iterrows():
        pid, rep = divmod(int(row["run_id"]), spec.replications)
        assert (row["point_id"], row["replication"]) == (pid, rep)
        assert row["seed"] == run_seed(spec.seed, pid, rep)
        for k, v in pts[pid].items():
            assert row[k] == v
    # a row can be reproduced by a single run with the stored seed
    row = df.iloc[5]
    params = {k: row[k] for k in spec.names} | spec.fixed
    m = GSOMIAModel.from_config(BASELINE, rng=int(row["seed"]), **params)
    assert m.run() == row["outcome"]
    assert (reference / "spec.toml").read_text() == SMOKE.read_text()
    meta = json.loads((reference / "meta.json").read_text())
    assert meta["status"] == "complete"
    assert meta["counts"]["runs"] == 8 and meta["counts"]["ok"] == 8
    assert meta["packages"]["mesa"] and meta["packages"]["numpy"]
    # the model's version: the code that ran (not an editable install's stale metadata)
    assert meta["version"] == meta["packages"]["gsomia"] == __version__
    assert {"commit", "dirty"} <= set(meta["git"])
    assert meta["started"] and meta["finished"] and meta["host"]
    (session,) = meta["sessions"]  # who ran which runs, where, with which code
    assert session["host"] == socket.gethostname() and session["runs"] == 8
    assert session["git"] == meta["git"] and session["workers"] == 1
    assert session["version"] == __version__
    assert not (reference / "chunks").exists()


def test_seeds_differ_between_runs_and_depend_on_spec_seed():
    seeds = {run_seed(7, p, r) for p in range(20) for r in range(5)}
    assert len(seeds) == 100
    assert all(0 <= s < 2**63 for s in seeds)
    assert run_seed(7, 3, 1) != run_seed(8, 3, 1)


@pytest.mark.parametrize("spec_seed, point, rep", [(0, 0, 0), (0, 3, 1), (7, 0, 2), (2019, 5, 0)])
def test_run_seed_is_the_documented_seed_sequence(spec_seed, point, rep):
    """``SeedSequence([spec_seed, point, replication])`` folded to 63 bits; seed 0 is a
    seed like any other (not dropped as falsy, not confused with "no seed")."""
    state = np.random.SeedSequence([spec_seed, point, rep]).generate_state(1, np.uint64)[0]
    assert run_seed(spec_seed, point, rep) == int(state) >> 1
    assert run_seed(spec_seed, point, rep) != run_seed(spec_seed + 1, point, rep)


def test_worker_count_does_not_change_results(reference, tmp_path):
    out = run_sweep(SMOKE, out=tmp_path / "two", workers=2, progress=False)
    pd.testing.assert_frame_equal(read(out), read(reference), check_exact=True)
    assert (out / "runs.parquet").read_bytes() == (reference / "runs.parquet").read_bytes()


def test_dask_local_cluster_matches_local_backend(reference, tmp_path):
    out = run_sweep(SMOKE, out=tmp_path / "dask", workers=2, backend="dask", progress=False)
    pd.testing.assert_frame_equal(read(out), read(reference), check_exact=True)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["sessions"][-1]["backend"] == "dask"


# ---- resume ---------------------------------------------------------------------------------
RESUME_SPEC = """
name = "resume"
design = "lhs"
samples = 12
replications = 2
seed = 11
chunk_size = 1

[parameters.us_pressure_weight]
low = 0.0
high = 1.5

[parameters.trade_damage]
low = 0.0
high = 2.0
"""


@pytest.mark.slow
def test_resume_after_kill_equals_uninterrupted_sweep(tmp_path):
    spec = write_spec(tmp_path / "resume.toml", RESUME_SPEC)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "experiments.cli", "sweep", str(spec), "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--workers", "2"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    chunks = out / "chunks"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if chunks.is_dir() and len(list(chunks.glob("part-*.parquet"))) >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(ProcessLookupError):  # workers the kill left behind
            os.killpg(proc.pid, signal.SIGKILL)
    written = len(list(chunks.glob("part-*.parquet")))
    assert 3 <= written < 24
    assert not (out / "runs.parquet").exists()
    assert json.loads((out / "meta.json").read_text())["status"] == "running"
    # without --resume the unfinished sweep is refused, untouched
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    assert len(list(chunks.glob("part-*.parquet"))) == written
    # resume (in this process) finishes only the missing chunks
    before = {p.name: p.stat().st_mtime_ns for p in chunks.glob("part-*.parquet")}
    run_sweep(spec, out=out, workers=1, resume=True, progress=False)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "complete"
    assert meta["sessions"][-1]["runs"] == 24 - len(before)
    reference = run_sweep(spec, out=tmp_path / "whole", workers=1, progress=False)
    pd.testing.assert_frame_equal(read(out), read(reference), check_exact=True)
    assert read(out)["run_id"].is_unique


def test_resume_skips_finished_chunks_and_cleans_partial_files(reference, tmp_path):
    """A sweep cut short in-process (Ctrl-C on the 4th chunk) resumes to the same file."""
    out = tmp_path / "cut"
    calls = []

    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMOKE, out=out, workers=1, progress=False, experiment=interrupt_fourth(calls))
    assert len(list((out / "chunks").glob("part-*.parquet"))) == 3
    (out / "chunks" / ".part-00005.parquet.abc.tmp").write_bytes(b"half a file")
    (out / "chunks" / "part-00006.parquet").write_bytes(b"not parquet")  # corrupt: redone
    run_sweep(SMOKE, out=out, workers=1, resume=True, progress=False)
    pd.testing.assert_frame_equal(read(out), read(reference), check_exact=True)
    assert json.loads((out / "meta.json").read_text())["sessions"][-1]["runs"] == 5


def test_finished_chunks_are_found_and_temp_files_of_killed_writes_removed(tmp_path):
    from experiments.storage import chunk_path, chunk_table, done_chunks, write_table_atomic

    def chunk(ids, fingerprint="ours"):
        rows = [{"run_id": i} for i in ids]
        return chunk_table(rows, pa.schema([("run_id", pa.int64())]), fingerprint)

    out = tmp_path / "out"
    (out / "chunks").mkdir(parents=True)
    write_table_atomic(chunk([2, 3]), chunk_path(out, 1))
    (out / "chunks" / ".part-00000.parquet.abc.tmp").write_bytes(b"half a file")
    (out / "chunks" / "notes.tmp").write_text("not hidden: not a write of ours")
    # a chunk numbered past the sweep's last, even one whose (no) run ids fit its range
    write_table_atomic(chunk([]), chunk_path(out, 3))
    # chunk 0 with its own run ids, but another sweep's; chunk 2 unstamped (not ours)
    write_table_atomic(chunk([0, 1], fingerprint="theirs"), chunk_path(out, 0))
    write_table_atomic(pa.table({"run_id": pa.array([4, 5], pa.int64())}), chunk_path(out, 2))
    assert done_chunks(out, n_chunks=3, chunk_size=2, total=6, fingerprint="ours") == {1}
    assert {p.name for p in (out / "chunks").iterdir()} == {chunk_path(out, 1).name, "notes.tmp"}


def test_a_merge_killed_before_its_rename_leaves_a_temp_file_a_resume_removes(
    reference, tmp_path, monkeypatch
):
    """The merge writes runs.parquet through a temporary file; a kill before the rename
    (no ``finally`` runs) leaves it, and it must be one that readers of DIR skip (hidden)
    and that the next resume removes."""
    import experiments.storage as storage

    out = tmp_path / "merge"
    written = []

    def interrupted_writer(path, *args, **kwargs):
        written.append(Path(path))
        raise KeyboardInterrupt  # the merge removes its temp file; a kill would not

    monkeypatch.setattr(storage.pq, "ParquetWriter", interrupted_writer)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMOKE, out=out, workers=1, progress=False)
    monkeypatch.undo()
    (temp,) = written
    assert temp.parent == out and temp.name.startswith(".")
    temp.write_bytes(b"half a merge")  # what the kill left
    run_sweep(SMOKE, out=out, workers=1, resume=True, progress=False)
    assert not temp.exists()
    pd.testing.assert_frame_equal(read(out), read(reference), check_exact=True)


def test_a_resume_warns_when_the_code_changed_since_the_sweep_started(tmp_path, capsys):
    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMOKE, out=out, workers=1, progress=False, experiment=interrupt_fourth([]))
    capsys.readouterr()
    run_sweep(SMOKE, out=out, workers=1, resume=True, progress=False)
    assert "code changed" not in capsys.readouterr().err  # same code: no warning
    meta = read_meta(out)
    # a third session ran other code: the warning names the last session's
    meta["sessions"].append(meta["sessions"][-1] | {"git": {"commit": "0123abc", "dirty": False}})
    meta["status"] = "running"
    write_meta(out, meta)
    run_sweep(SMOKE, out=out, workers=1, resume=True, progress=False)
    err = capsys.readouterr().err
    assert "warning: the code changed since this sweep started" in err and "0123abc" in err


def test_a_chunk_gone_before_the_merge_fails_naming_it(tmp_path):
    from experiments.runner import Failed
    from experiments.storage import chunk_path, merge_chunks

    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMOKE, out=out, workers=1, progress=False, experiment=interrupt_fourth([]))
    chunk_path(out, 1).unlink()
    with pytest.raises(Failed, match=r"chunk part-00001.parquet is missing.*--resume"):
        merge_chunks(out, load_spec(SMOKE), n_chunks=3, chunk_size=1, total=3)
    assert not (out / "runs.parquet").exists()


def _cut_sweep_with_chunk_0(tmp_path: Path, change, name: str = "cut") -> Path:
    """A smoke sweep cut short after 3 chunks, its chunk 0 rewritten by ``change``."""
    from experiments.storage import chunk_path

    out = tmp_path / name
    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMOKE, out=out, workers=1, progress=False, experiment=interrupt_fourth([]))
    path = chunk_path(out, 0)
    pq.write_table(change(pq.read_table(path)), path)
    return out


def test_a_chunk_in_compatible_types_is_cast_to_the_sweeps_schema(reference, tmp_path):
    """int32 run ids (say, a chunk written by another tool) merge as the declared int64."""

    def narrow(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index("run_id")
        return table.set_column(i, "run_id", table.column("run_id").cast(pa.int32()))

    out = _cut_sweep_with_chunk_0(tmp_path, narrow)
    run_sweep(SMOKE, out=out, workers=1, resume=True, progress=False)
    pd.testing.assert_frame_equal(read(out), read(reference), check_exact=True)


def test_a_chunk_missing_a_column_is_removed_and_the_merge_fails(reference, tmp_path):
    """Read with the sweep's schema, a missing column would silently come back as nulls:
    the merge refuses the chunk, and a resume recomputes it (its rows no longer match
    their checksum)."""
    from experiments.runner import Failed
    from experiments.storage import chunk_path, merge_chunks

    out = _cut_sweep_with_chunk_0(tmp_path, lambda table: table.drop_columns(["outcome"]))
    with pytest.raises(Failed, match=r"part-00000.parquet lacks the columns outcome.*--resume"):
        merge_chunks(out, load_spec(SMOKE), n_chunks=4, chunk_size=1, total=8)
    assert not chunk_path(out, 0).exists() and not (out / "runs.parquet").exists()
    out = _cut_sweep_with_chunk_0(tmp_path, lambda t: t.drop_columns(["outcome"]), "again")
    run_sweep(SMOKE, out=out, workers=1, resume=True, progress=False)
    pd.testing.assert_frame_equal(read(out), read(reference), check_exact=True)


def interrupt_fourth(calls: list[int]):
    def experiment(params, seed):
        calls.append(seed)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return run_one(params, seed)

    return experiment


def test_resume_of_a_finished_sweep_changes_nothing(reference, tmp_path):
    out = tmp_path / "done"
    shutil.copytree(reference, out)
    before = (out / "runs.parquet").read_bytes()
    meta = (out / "meta.json").read_text()
    run_sweep(SMOKE, out=out, workers=1, resume=True, progress=False)
    assert (out / "runs.parquet").read_bytes() == before
    assert (out / "meta.json").read_text() == meta  # no new session: nothing was run


def test_resume_with_another_spec_is_refused(reference, tmp_path):
    out = tmp_path / "other"
    shutil.copytree(reference, out)
    spec = tmp_path / "smoke2.toml"
    spec.write_text(SMOKE.read_text().replace("seed = 2019", "seed = 2020"))
    shutil.copy(BASELINE, tmp_path / "baseline_2019.toml")
    spec.write_text(spec.read_text().replace("../baseline_2019.toml", str(BASELINE)))
    with pytest.raises(ConfigError, match="different spec"):
        run_sweep(spec, out=out, workers=1, resume=True, progress=False)


# ---- chunking ---------------------------------------------------------------------------------
def cheap_experiment(params, seed):
    """A stand-in for run_one that takes microseconds: every value is a function of the
    run's parameters and seed, so a lost, repeated or misplaced run shows in the rows."""
    return {
        "outcome": OUTCOMES[seed % 5],
        "n_events": seed % 1000,
        "peak_threat": float(params["us_pressure_weight"]),
    }


def values_spec(tmp_path: Path, n_values: int, reps: int, chunk_size: int) -> Path:
    values = [round(0.1 * (i + 1), 2) for i in range(n_values)]
    body = (
        f'name = "chunks"\ndesign = "grid"\nreplications = {reps}\nseed = 5\n'
        f"chunk_size = {chunk_size}\n[parameters.us_pressure_weight]\nvalues = {values}\n"
    )
    return write_spec(tmp_path / f"chunks_{n_values}_{reps}_{chunk_size}.toml", body)


def assert_every_run_once(out: Path, n_values: int, reps: int) -> None:
    df = read(out)
    total = n_values * reps
    assert list(df["run_id"]) == list(range(total))
    for _, row in df.iterrows():
        pid, rep = divmod(int(row["run_id"]), reps)
        assert (row["point_id"], row["replication"]) == (pid, rep)
        assert row["seed"] == run_seed(5, pid, rep)
        assert row["outcome"] == OUTCOMES[int(row["seed"]) % 5]
        assert row["us_pressure_weight"] == pytest.approx(0.1 * (pid + 1))
        assert row["peak_threat"] == row["us_pressure_weight"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "complete"
    assert meta["runs_total"] == meta["counts"]["runs"] == meta["counts"]["ok"] == total
    assert meta["chunks"] == -(-total // meta["chunk_size"])


@pytest.mark.parametrize(
    "n_values, reps, chunk_size",
    [(4, 2, 3), (4, 2, 5), (4, 2, 7), (4, 2, 9), (7, 1, 2), (7, 1, 4), (7, 1, 6), (4, 2, 8)],
)
def test_chunk_sizes_that_do_not_divide_the_runs_lose_nothing(tmp_path, n_values, reps, chunk_size):
    """The last, partial chunk is run and merged (8 runs in chunks of 3 give 8 rows)."""
    spec = values_spec(tmp_path, n_values, reps, chunk_size)
    out = run_sweep(
        spec, out=tmp_path / "out", workers=1, progress=False, experiment=cheap_experiment
    )
    assert_every_run_once(out, n_values, reps)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["sessions"][-1]["runs"] == n_values * reps


def test_partial_last_chunk_on_a_process_pool(tmp_path):
    spec = values_spec(tmp_path, 4, 2, 3)
    out = run_sweep(
        spec, out=tmp_path / "out", workers=2, progress=False, experiment=cheap_experiment
    )
    assert_every_run_once(out, 4, 2)
    ref = run_sweep(
        spec, out=tmp_path / "ref", workers=1, progress=False, experiment=cheap_experiment
    )
    assert (out / "runs.parquet").read_bytes() == (ref / "runs.parquet").read_bytes()


def interrupt_at(n: int):
    calls = []

    def experiment(params, seed):
        calls.append(seed)
        if len(calls) == n:
            raise KeyboardInterrupt
        return cheap_experiment(params, seed)

    return experiment


@pytest.mark.parametrize("stop_at", [2, 4, 7, 8])
def test_resume_with_a_partial_last_chunk_equals_an_uninterrupted_sweep(tmp_path, stop_at):
    """Interrupted at run ``stop_at`` of 8 (chunks of 3: 3 + 3 + 2), the resumed sweep
    redoes only the unfinished chunks, the partial one included."""
    spec = values_spec(tmp_path, 4, 2, 3)
    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out=out, workers=1, progress=False, experiment=interrupt_at(stop_at))
    finished = len(list((out / "chunks").glob("part-*.parquet")))
    assert finished == (stop_at - 1) // 3
    run_sweep(spec, out=out, workers=1, resume=True, progress=False, experiment=cheap_experiment)
    ref = run_sweep(
        spec, out=tmp_path / "ref", workers=1, progress=False, experiment=cheap_experiment
    )
    assert (out / "runs.parquet").read_bytes() == (ref / "runs.parquet").read_bytes()
    redone = json.loads((out / "meta.json").read_text())["sessions"][-1]["runs"]
    assert redone == 8 - 3 * finished


def test_a_resume_keeps_the_chunk_size_the_sweep_started_with(tmp_path, monkeypatch):
    """A sweep started under another default chunk size (an older runner) is resumed in
    its own chunks: its finished chunk files count, nothing is redone."""
    from experiments import storage

    spec = tmp_path / "default.toml"
    spec.write_text(values_spec(tmp_path, 4, 2, 1).read_text().replace("chunk_size = 1\n", ""))
    out = tmp_path / "cut"
    monkeypatch.setattr(storage, "CHUNKS_PER_WORKER", 4)  # 8 runs in chunks of 2
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out=out, workers=1, progress=False, experiment=interrupt_at(6))
    assert len(list((out / "chunks").glob("part-*.parquet"))) == 2
    monkeypatch.setattr(storage, "CHUNKS_PER_WORKER", 8)  # the default is now chunks of 1
    run_sweep(spec, out=out, workers=1, resume=True, progress=False, experiment=cheap_experiment)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["chunk_size"] == 2 and meta["sessions"][-1]["runs"] == 4
    assert_every_run_once(out, 4, 2)


def test_the_merge_reads_each_chunks_schema_once(reference, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from experiments import storage

    calls = []
    plain = pq.read_schema
    monkeypatch.setattr(storage.pq, "read_schema", lambda p: calls.append(p) or plain(p))
    out = run_sweep(
        SMOKE, out=tmp_path / "out", workers=1, progress=False, experiment=cheap_experiment
    )
    assert len(calls) == json.loads((out / "meta.json").read_text())["chunks"] == 8


def test_a_short_last_chunk_file_is_redone_on_resume(tmp_path):
    """A chunk file with fewer rows than its chunk holds is not taken as finished, the
    partial last chunk included."""
    spec = values_spec(tmp_path, 4, 2, 3)
    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out=out, workers=1, progress=False, experiment=interrupt_at(8))
    chunks = out / "chunks"
    second = pd.read_parquet(chunks / "part-00001.parquet")
    assert len(second) == 3
    second.iloc[:1].to_parquet(chunks / "part-00002.parquet")  # 1 row where 2 belong
    run_sweep(spec, out=out, workers=1, resume=True, progress=False, experiment=cheap_experiment)
    assert_every_run_once(out, 4, 2)


# ---- failing runs -----------------------------------------------------------------------------
def fail_at_high_audience_cost(params, seed):
    """An experiment whose runs raise at one level of audience_cost (a picklable
    top-level function, so pool workers can import it)."""
    if params["audience_cost"] == 6.0:
        raise FloatingPointError(f"boom at seed {seed}")
    return run_one(params, seed)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_raising_run_is_recorded_and_the_sweep_goes_on(reference, tmp_path, workers):
    out = run_sweep(
        SMOKE,
        out=tmp_path / "errors",
        workers=workers,
        progress=False,
        experiment=fail_at_high_audience_cost,
    )
    df, ref = read(out), read(reference)
    bad = df["audience_cost"] == 6.0
    assert bad.sum() == 4 and len(df) == 8
    assert set(df.loc[bad, "status"]) == {"error"}
    assert df.loc[bad, "error"].str.startswith("FloatingPointError: boom at seed").all()
    assert df.loc[bad, list(METRICS)].isna().all().all()
    pd.testing.assert_frame_equal(df[~bad], ref[~bad], check_exact=True, check_dtype=False)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["counts"]["error"] == 4 and meta["counts"]["ok"] == 4


# ---- designs --------------------------------------------------------------------------------
def test_grid_design_is_the_full_factorial():
    spec = load_spec(SMOKE)
    pts = designs.points(spec)
    assert pts == [
        {"us_pressure_weight": 0.2, "audience_cost": 2.0},
        {"us_pressure_weight": 0.2, "audience_cost": 6.0},
        {"us_pressure_weight": 0.6, "audience_cost": 2.0},
        {"us_pressure_weight": 0.6, "audience_cost": 6.0},
    ]


def test_lhs_design_is_seeded_stratified_and_in_range(tmp_path):
    spec = load_spec(write_spec(tmp_path / "lhs.toml", RESUME_SPEC))
    a, b = designs.points(spec), designs.points(spec)
    assert a == b and len(a) == 12
    u = np.array([p["us_pressure_weight"] for p in a])
    assert u.min() >= 0.0 and u.max() <= 1.5
    # one point in each of the 12 strata of [0, 1.5]
    assert sorted(np.floor(u / 1.5 * 12).astype(int)) == list(range(12))
    other = load_spec(write_spec(tmp_path / "lhs2.toml", RESUME_SPEC.replace("11", "12")))
    assert designs.points(other) != a


def test_saltelli_design_size_and_determinism(tmp_path):
    body = RESUME_SPEC.replace('"lhs"', '"saltelli"').replace("samples = 12", "samples = 8")
    spec = load_spec(write_spec(tmp_path / "s.toml", body))
    pts = designs.points(spec)
    assert len(pts) == 8 * (2 + 2) == designs.n_points(spec)
    assert pts == designs.points(spec)
    assert all(0.0 <= p["trade_damage"] <= 2.0 for p in pts)


def test_integer_parameters_get_integer_levels(tmp_path):
    body = """design = "lhs"
samples = 10
replications = 1
[parameters.lookahead_months]
low = 1
high = 6
[parameters.audience_cost]
low = 0.0
high = 10.0
"""
    spec = load_spec(write_spec(tmp_path / "int.toml", body))
    values = [p["lookahead_months"] for p in designs.points(spec)]
    assert all(isinstance(v, int) and 1 <= v <= 6 for v in values)
    assert schema(spec).field("lookahead_months").type == "int64"


# ---- bad input --------------------------------------------------------------------------------
GOOD_PARAMS = """
[parameters.us_pressure_weight]
low = 0.2
high = 0.6
levels = 2
"""
BAD_SPECS = {
    "unknown parameter": (
        "replications = 1\n[parameters.us_presure_weight]\nlow = 0.1\nhigh = 0.5\nlevels = 2\n",
        "did you mean 'us_pressure_weight'",
    ),
    "not sweepable": (
        "replications = 1\n[parameters.n_citizens]\nlow = 100\nhigh = 500\nlevels = 2\n",
        "'parameters.n_citizens' is not sweepable",
    ),
    "inverted range": (
        "replications = 1\n[parameters.audience_cost]\nlow = 5.0\nhigh = 1.0\nlevels = 2\n",
        "inverted range",
    ),
    "empty range": (
        "replications = 1\n[parameters.audience_cost]\nlow = 3.0\nhigh = 3.0\nlevels = 2\n",
        "empty range",
    ),
    "empty values": ("replications = 1\n[parameters.audience_cost]\nvalues = []\n", "empty range"),
    "out of bounds": (
        "replications = 1\n[parameters.audience_cost]\nlow = 0.0\nhigh = 50.0\nlevels = 2\n",
        "'parameters.audience_cost.high' (outside the model's bounds)",
    ),
    "unknown design": ('design = "gird"\nreplications = 1\n' + GOOD_PARAMS, "did you mean 'grid'"),
    "zero replications": ("replications = 0\n" + GOOD_PARAMS, "'sweep.replications'"),
    "negative replications": ("replications = -2\n" + GOOD_PARAMS, "'sweep.replications'"),
    "unknown sweep key": ("replications = 1\nreplicatoins = 2\n" + GOOD_PARAMS, "'sweep.repl"),
    "unknown parameter key": (
        "replications = 1\n[parameters.audience_cost]\nlow = 0.0\nhigh = 1.0\nlevel = 2\n",
        "did you mean 'levels'",
    ),
    "grid without levels": (
        "replications = 1\n[parameters.audience_cost]\nlow = 0.0\nhigh = 1.0\n",
        "'parameters.audience_cost.levels'",
    ),
    "lhs without samples": ('design = "lhs"\nreplications = 1\n' + GOOD_PARAMS, "sweep.samples"),
    "saltelli not a power of 2": (
        'design = "saltelli"\nsamples = 10\nreplications = 1\n'
        "[parameters.audience_cost]\nlow = 0.0\nhigh = 1.0\n"
        "[parameters.trade_damage]\nlow = 0.0\nhigh = 1.0\n",
        "power of 2",
    ),
    "unknown fixed key": (
        "replications = 1\n" + GOOD_PARAMS + "[fixed]\nrationalty = 3.0\n",
        "did you mean 'rationality'",
    ),
    "fixed out of range": (
        "replications = 1\n" + GOOD_PARAMS + "[fixed]\nrationality = -3.0\n",
        "'rationality'",
    ),
    "unknown table": ("replications = 1\n" + GOOD_PARAMS + "[fixd]\n", "did you mean 'fixed'"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_spec_exits_2_naming_the_key_and_writes_nothing(case, tmp_path, capsys):
    body, expected = BAD_SPECS[case]
    spec = write_spec(tmp_path / "bad.toml", body)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(spec) in err
    assert expected in err
    assert not out.exists()


def test_bad_base_config_path_is_refused(tmp_path, capsys):
    spec = write_spec(tmp_path / "bad.toml", "replications = 1\n" + GOOD_PARAMS, tmp_path / "no")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert "'sweep.config'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--backend", "mpi"], "--backend: invalid value 'mpi'"),
        (["--backend", "dsak"], "did you mean 'dask'"),
        (["--workers", "0"], "--workers"),
        (["--scheduler", "tcp://127.0.0.1:8786"], "only used with --backend dask"),
        (["--backend", "dask", "--scheduler", "nonsense"], "--scheduler: invalid value"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(extra, expected, tmp_path, capsys):
    out = tmp_path / "out"
    extra = [e.replace("PORT", str(closed_port())) for e in extra]
    assert main(["sweep", str(SMOKE), "--out", str(out), *extra]) == 2
    assert expected in capsys.readouterr().err
    assert not out.exists()


def test_missing_spec_file_exits_2(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "no such sweep spec" in capsys.readouterr().err


def test_finished_out_dir_is_not_overwritten(reference, tmp_path, capsys):
    out = tmp_path / "done"
    shutil.copytree(reference, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["sweep", str(SMOKE), "--out", str(out)]) == 2
    assert "finished sweep" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_foreign_non_empty_out_dir_is_refused(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["sweep", str(SMOKE), "--out", str(out)]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_cli_sweep_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["sweep", str(SMOKE), "--out", str(out), "--workers", "1"]) == 0
    stdout = capsys.readouterr().out
    assert "8 runs (8 ok, 0 error)" in stdout
    assert f"gsomia analyze {out}" in stdout


# ---- shipped specs ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["smoke", "deadline_effect", "sobol"])
def test_shipped_specs_are_valid(name):
    spec = load_spec(REPO / "configs" / "sweeps" / f"{name}.toml")
    runs = designs.n_points(spec) * spec.replications
    assert runs >= 8
    for p in spec.parameters:
        assert PARAMETERS[p.name].sweepable
    if name == "deadline_effect":
        assert {"us_pressure_weight", "audience_cost", "japan_resolve", "trade_damage"} <= set(
            spec.names
        )
        assert runs <= 16_000  # ~20 min on 2 cores at 13.7 runs/s


# ---- Mesa's batch_run -------------------------------------------------------------------------
def test_mesa_batch_run_works_on_the_model():
    import mesa

    rows = mesa.batch_run(
        GSOMIAModel,
        parameters={"us_pressure_weight": [0.2, 1.0], "n_citizens": 200},
        rng=[1, 2],
        max_steps=100,
        data_collection_period=-1,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 4
    assert {r["us_pressure_weight"] for r in rows} == {0.2, 1.0}
    assert all(r["outcome"] in OUTCOMES for r in rows)
    assert all("reversal_months_before_expiry" in r for r in rows)
    # the same seed and parameters give the same outcome as a direct run
    assert {r["rng"] for r in rows} == {1, 2}
    for r in rows:
        m = GSOMIAModel(rng=r["rng"], us_pressure_weight=r["us_pressure_weight"], n_citizens=200)
        assert m.run() == r["outcome"]


def test_spec_built_in_code_renders_dates_as_toml():
    """A spec without file text is written to spec.toml by rendering it; a date among
    its fixed values must come out as a TOML date, not crash the sweep."""
    import dataclasses
    import tomllib
    from datetime import date

    from experiments.runner import _spec_toml
    from experiments.spec import load_spec

    spec = load_spec(REPO / "configs" / "sweeps" / "smoke.toml")
    spec = dataclasses.replace(spec, fixed={**spec.fixed, "end": date(2019, 3, 31)}, text="")
    rendered = tomllib.loads(_spec_toml(spec))
    assert rendered["fixed"]["end"] == date(2019, 3, 31)
    assert rendered["fixed"]["n_citizens"] == spec.fixed["n_citizens"]


# ---- chunk sizes and chunk rows ---------------------------------------------------------------
@pytest.mark.parametrize("workers", [1, 2, 7])
@pytest.mark.parametrize("total", [1, 2, 15, 16, 17, 120, 399, 400, 401, 10_000])
def test_default_chunk_size_gives_about_eight_chunks_per_worker(total, workers):
    """The smallest chunk size that keeps the chunk count at or under 8 per worker,
    capped at 50 runs (huge sweeps then get more chunks)."""
    size = default_chunk_size(total, workers)
    assert 1 <= size <= min(50, total)
    assert -(-total // size) <= 8 * workers or size == 50
    if size > 1:  # one run fewer per chunk would give more than 8 per worker
        assert -(-total // (size - 1)) > 8 * workers


def test_default_chunk_size_of_huge_sweeps_is_capped_at_50():
    assert default_chunk_size(10**7) == 50
    assert default_chunk_size(1) == 1


def test_the_chunk_size_follows_the_workers_and_a_resume_keeps_it(tmp_path):
    spec = tmp_path / "default.toml"
    spec.write_text(values_spec(tmp_path, 8, 3, 1).read_text().replace("chunk_size = 1\n", ""))
    runs = {}
    for workers in (1, 2):
        out = run_sweep(
            spec,
            out=tmp_path / f"w{workers}",
            workers=workers,
            progress=False,
            experiment=cheap_experiment,
        )
        meta = json.loads((out / "meta.json").read_text())
        assert meta["chunk_size"] == default_chunk_size(24, workers)
        runs[workers] = (out / "runs.parquet").read_bytes()
    assert default_chunk_size(24, 1) != default_chunk_size(24, 2)
    assert runs[1] == runs[2]


def test_run_chunk_rows_hold_exactly_the_schema_columns(tmp_path):
    """Every row of a chunk, ok or failed, has the id columns, the point's values, the
    metrics and status/error, and nothing else (the merge writes them by name)."""
    spec = load_spec(values_spec(tmp_path, 2, 2, 3))
    sch = schema(spec)
    pts = designs.points(spec)
    runs = tuple(
        (rid, rid // 2, rid % 2, run_seed(5, rid // 2, rid % 2), pts[rid // 2]) for rid in range(3)
    )
    cid, rows = run_chunk(Chunk(4, runs, {}, cheap_experiment))
    assert cid == 4
    assert [set(r) for r in rows] == [set(sch.names)] * 3
    assert [(r["status"], r["error"]) for r in rows] == [("ok", None)] * 3
    assert [r["outcome"] for r in rows] == [OUTCOMES[s % 5] for *_, s, _ in runs]
    _, bad = run_chunk(Chunk(0, runs[:1], {}, fail_at_high_audience_cost))
    assert set(bad[0]) == set(sch.names)
    assert bad[0]["status"] == "error" and bad[0]["error"].startswith("KeyError: ")
    assert all(bad[0][k] is None for k in METRICS)


@pytest.mark.parametrize("chunk_size", [1, 3, 5, 14])
def test_runs_parquet_row_groups_do_not_depend_on_the_chunking(tmp_path, monkeypatch, chunk_size):
    """The merge writes full row groups of MERGE_ROW_GROUP rows (here 4) and one short
    last group, whatever the chunk size, so the file is the same byte for byte."""
    import pyarrow.parquet as pq

    from experiments import storage

    monkeypatch.setattr(storage, "MERGE_ROW_GROUP", 4)
    ref_spec = values_spec(tmp_path, 7, 2, 2)
    ref = run_sweep(
        ref_spec, out=tmp_path / "ref", workers=1, progress=False, experiment=cheap_experiment
    )
    spec = values_spec(tmp_path, 7, 2, chunk_size)
    out = run_sweep(
        spec, out=tmp_path / "out", workers=1, progress=False, experiment=cheap_experiment
    )
    assert_every_run_once(out, 7, 2)
    meta = pq.ParquetFile(out / "runs.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [4, 4, 4, 2]
    assert (out / "runs.parquet").read_bytes() == (ref / "runs.parquet").read_bytes()


def test_sweep_files_are_renamed_into_place_from_their_own_directory(tmp_path, monkeypatch):
    """Chunks and runs.parquet are written to a temporary file next to their target and
    renamed (atomic, one filesystem): no rename comes from another directory."""
    from experiments import storage

    renames = []
    real_replace = os.replace

    def replace(src, dst):
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(storage.os, "replace", replace)
    spec = values_spec(tmp_path, 4, 2, 3)
    out = run_sweep(
        spec, out=tmp_path / "out", workers=1, progress=False, experiment=cheap_experiment
    )
    assert_every_run_once(out, 4, 2)
    assert (out / "runs.parquet") in [dst for _, dst in renames]
    assert all(src.parent == dst.parent for src, dst in renames)


def test_an_interrupted_sweep_has_stopped_its_worker_processes_when_it_raises(
    tmp_path, monkeypatch
):
    """Ctrl-C in the parent: the pool's workers are terminated before run_sweep raises,
    not whenever the garbage collector reaches the results generator."""
    import multiprocessing

    import experiments.runner as runner

    def interrupted_write(table, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "write_table_atomic", interrupted_write)
    with pytest.raises(KeyboardInterrupt) as raised:
        run_sweep(SMOKE, out=tmp_path / "out", workers=2, progress=False)
    assert raised.traceback  # the frames (and the generator) are still referenced here
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("chunk_size", [1, 2])
def test_the_merge_holds_at_most_a_row_group_and_a_chunk_in_memory(
    reference, tmp_path, monkeypatch, chunk_size
):
    """runs.parquet is streamed: row groups of MERGE_ROW_GROUP rows (the last shorter) are
    written as soon as the chunks read fill one, so a merge never buffers a row group's
    worth of rows plus a whole chunk (here with row groups of 3 rows)."""
    import experiments.storage as storage

    monkeypatch.setattr(storage, "MERGE_ROW_GROUP", 3)
    body = SMOKE.read_text().split("[sweep]", 1)[1].replace("chunk_size = 1", "")
    body = body.replace('config = "../baseline_2019.toml"  # relative to this file', "")
    spec = write_spec(tmp_path / "spec.toml", f"chunk_size = {chunk_size}\n" + body)
    assert load_spec(spec).chunk_size == chunk_size and load_spec(spec).replications == 2
    events: list[tuple[str, int]] = []
    real_read, real_writer = storage._read_chunk, storage.pq.ParquetWriter

    def read_chunk(path, sch, ids, fingerprint):
        events.append(("read", len(ids)))
        return real_read(path, sch, ids, fingerprint)

    class Writer(real_writer):
        def write_table(self, table, *args, **kwargs):
            events.append(("write", table.num_rows))
            return super().write_table(table, *args, **kwargs)

    monkeypatch.setattr(storage, "_read_chunk", read_chunk)
    monkeypatch.setattr(storage.pq, "ParquetWriter", Writer)
    out = tmp_path / "out"
    run_sweep(spec, out=out, workers=1, progress=False)
    pd.testing.assert_frame_equal(
        read(out).drop(columns=["run_id"]), read(reference).drop(columns=["run_id"])
    )
    groups = pq.ParquetFile(out / "runs.parquet").metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [3, 3, 2]
    buffered = peak = 0
    for kind, rows in events:
        buffered += rows if kind == "read" else -rows
        peak = max(peak, buffered)
    assert buffered == 0 and peak <= 3 + chunk_size - 1


def test_a_chunk_that_changed_since_the_resume_fails_the_merge_naming_its_run_ids(tmp_path):
    from experiments.runner import Failed
    from experiments.storage import chunk_path, merge_chunks

    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMOKE, out=out, workers=1, progress=False, experiment=interrupt_fourth([]))
    shutil.copy(chunk_path(out, 0), chunk_path(out, 1))  # run 0's row where run 1's belongs
    with pytest.raises(
        Failed,
        match=r"part-00001.parquet holds run ids 0\.\.0 \(1 rows, 1 "
        r"distinct\) instead of 1\.\.1 \(1 rows, 1 distinct\)",
    ):
        merge_chunks(out, load_spec(SMOKE), n_chunks=3, chunk_size=1, total=3)
    assert not chunk_path(out, 1).exists()


# ---- many seeds in one call -------------------------------------------------------------------
def frame_summary(model) -> dict:
    """``summarise`` read through ``model.monthly()`` and pandas' reductions (the plain
    path the collector's lists replace)."""
    from experiments.outcomes import COLUMNS, RunView

    class FrameView(RunView):
        def __init__(self, model) -> None:
            super().__init__(model)
            self.df = model.monthly()

        def column(self, name):
            return self.df[name]

        def peak(self, column):
            return float(self.df[column].max())

        def final(self, column):
            return self.df[column].iloc[-1]

        def total(self, column):
            return float(self.df[column].sum())

    view = FrameView(model)
    return {c.name: c.value(view) for c in COLUMNS}


@pytest.mark.parametrize(
    ("config", "seeds"),
    [(BASELINE, [0, 1, 2, 7]), (REPO / "configs" / "quiet_2017_2018.toml", [3, 4])],
)
def test_run_many_equals_runs_summarised_from_their_dataframes(config, seeds):
    params = load_config(config)
    got = list(run_many(params, seeds, ("opinion_share", "threat")))
    assert len(got) == len(seeds)
    for out, seed in zip(got, seeds, strict=True):
        model = GSOMIAModel(rng=seed, **params)
        model.run()
        df = model.monthly()
        assert {k: out[k] for k in METRICS} == frame_summary(model)
        for name in ("opinion_share", "threat"):
            assert out["series"][name].tolist() == df[name].tolist()
        assert out["dates"] == [str(d) for d in df.index]


def test_run_many_yields_a_failing_runs_exception_and_goes_on(monkeypatch):
    params = load_config(BASELINE) | {"end": "2019-01-31"}
    plain = GSOMIAModel.run

    def run(self):
        if self.seed == 5:
            raise FloatingPointError("boom")
        return plain(self)

    monkeypatch.setattr(GSOMIAModel, "run", run)
    got = list(run_many(params, [4, 5, 6], errors="yield"))
    assert isinstance(got[1], FloatingPointError)
    assert [g["outcome"] for g in (got[0], got[2])] == [
        run_one(params, s)["outcome"] for s in (4, 6)
    ]
    with pytest.raises(FloatingPointError, match="boom"):
        list(run_many(params, [4, 5, 6]))


def run_one_at_a_time(params, seed):
    """run_one behind another name: run_chunk takes its per-run path."""
    return run_one(params, seed)


def test_a_chunk_runs_each_points_replications_together_with_the_same_rows(tmp_path):
    spec = load_spec(SMOKE)
    pts = designs.points(spec)
    base = load_config(spec.config) | spec.fixed
    runs = tuple(
        (rid, rid // 2, rid % 2, run_seed(spec.seed, rid // 2, rid % 2), pts[rid // 2])
        for rid in range(1, 6)  # a point's second replication, two whole points, a first
    )
    _, grouped = run_chunk(Chunk(0, runs, base, run_one))
    _, single = run_chunk(Chunk(0, runs, base, run_one_at_a_time))
    assert grouped == single
    assert [r["run_id"] for r in grouped] == [1, 2, 3, 4, 5]


# ---- a row's parameters are the ones its run used ----------------------------------------------
def scenario_setting(path: Path, **values) -> Path:
    """The baseline scenario with its [parameters] table setting ``values``."""
    lines = "".join(f"{k} = {v!r}\n" for k, v in values.items())
    text = BASELINE.read_text()
    assert "\n[parameters]\n" in text
    path.write_text(text.replace("\n[parameters]\n", "\n[parameters]\n" + lines, 1))
    return path


SENSITIVE = (
    "outcome",
    "payoff_seoul",
    "payoff_tokyo",
    "payoff_washington",
    "peak_us_pressure_seoul",
)
"""Run results that move with audience_cost and us_pressure_weight (continuous payoff sums)."""


@pytest.mark.parametrize("experiment", [run_one, run_one_at_a_time], ids=["grouped", "per_run"])
def test_a_rows_parameters_are_the_ones_its_run_used_when_the_config_sets_them(
    tmp_path, experiment
):
    """The base config sets both parameters the design varies (to values the design never
    takes) and the one [fixed] overrides: every row's results are those of a run with its
    labelled values (the design point over [fixed] over the config), not the config's.
    Both chunk paths: a point's replications through run_many, and one run per call."""
    config = scenario_setting(
        tmp_path / "set.toml", us_pressure_weight=2.5, audience_cost=1.0, n_citizens=2000
    )
    body = (
        'name = "config_sets"\ndesign = "grid"\nreplications = 2\nseed = 11\n'
        "[parameters.us_pressure_weight]\nvalues = [0.0, 1.2]\n"
        "[parameters.audience_cost]\nvalues = [4.0, 9.0]\n"
        "[fixed]\nn_citizens = 300\n"
    )
    spec = write_spec(tmp_path / "config_sets.toml", body, config)
    out = run_sweep(spec, out=tmp_path / "out", workers=1, progress=False, experiment=experiment)
    df = read(out)
    assert len(df) == 8 and set(df["status"]) == {"ok"}
    assert sorted(set(zip(df["us_pressure_weight"], df["audience_cost"], strict=True))) == [
        (0.0, 4.0),
        (0.0, 9.0),
        (1.2, 4.0),
        (1.2, 9.0),
    ]
    base = load_config(config) | {"n_citizens": 300}
    for _, row in df.iterrows():
        labelled = base | {k: float(row[k]) for k in ("us_pressure_weight", "audience_cost")}
        want = run_one(labelled, int(row["seed"]))
        assert {k: row[k] for k in SENSITIVE} == {k: want[k] for k in SENSITIVE}, row["run_id"]
        # the runs the bug would have made give other results: the check above can fail
        for wrong in (base, labelled | {"n_citizens": 2000}):
            assert run_one(wrong, int(row["seed"]))["payoff_seoul"] != want["payoff_seoul"]
