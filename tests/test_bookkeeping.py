"""A sweep's bookkeeping carries checksums (issue 23, class 3): meta.json is sealed, each
chunk is stamped with the sweep's fingerprint and its rows' checksum, runs.parquet's
SHA-256 is recorded; a resume and ``gsomia analyze`` check them. An edited meta.json exits
2 naming it; a chunk of another sweep (or changed since) is recomputed on resume and
refused by the merge; a replaced runs.parquet is refused by analyze."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import experiments.runner as runner
from experiments.boundary import Failed
from experiments.cli import main
from experiments.runner import run_sweep
from experiments.spec import load_spec
from experiments.storage import chunk_path, merge_chunks, read_meta

REPO = Path(__file__).resolve().parents[1]


def fast_spec(folder: Path, seed: int = 2019) -> Path:
    """The smoke spec (8 runs, chunks of 1) on a short horizon with a small public."""
    text = (REPO / "configs" / "sweeps" / "smoke.toml").read_text()
    text = text.replace('"../baseline_2019.toml"', '"baseline_2019"').replace(
        "seed = 2019", f"seed = {seed}"
    )
    path = folder / f"smoke-{seed}.toml"
    path.write_text(text.replace("n_citizens = 300", "n_citizens = 50\nend = 2019-03-31"))
    return path


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("specs")
    return fast_spec(folder), fast_spec(folder, seed=7)


@pytest.fixture(scope="module")
def reference(specs, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "smoke"
    run_sweep(specs[0], out=out, workers=1, progress=False)
    return out


def run_cli(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def cut(spec: Path, out: Path, monkeypatch, after: int = 4) -> None:
    """Run ``spec`` into ``out`` and interrupt it after ``after`` chunks are written."""
    real = runner.write_table_atomic
    writes = []

    def stop(table, path):
        real(table, path)
        writes.append(path)
        if len(writes) == after:
            raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(runner, "write_table_atomic", stop)
        with pytest.raises(KeyboardInterrupt):
            run_sweep(spec, out=out, workers=1, progress=False)


def edit_meta(out: Path, change) -> None:
    """Change meta.json by hand (as a person would: its seal is not updated)."""
    meta = json.loads((out / "meta.json").read_text())
    change(meta)
    (out / "meta.json").write_text(json.dumps(meta, indent=1))


# ---- meta.json ----------------------------------------------------------------------------------
def _replications(meta):
    meta["spec"]["replications"] = 9


def _sessions(meta):
    meta["sessions"] = [1]


@pytest.mark.parametrize("change", [_replications, _sessions], ids=["replications", "sessions"])
def test_an_edited_meta_json_is_refused_on_resume_naming_it(
    change, specs, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "cut"
    cut(specs[0], out, monkeypatch)
    edit_meta(out, change)
    code, _, err = run_cli(["sweep", specs[0], "--out", out, "--resume"], capsys)
    assert code == 2, err
    assert f"{out / 'meta.json'}: changed since gsomia wrote it" in err
    assert "Traceback" not in err and "AttributeError" not in err
    assert sorted(p.name for p in (out / "chunks").iterdir()) == [
        chunk_path(out, c).name for c in range(4)
    ]


def test_an_edited_meta_json_is_refused_by_analyze(reference, tmp_path, capsys):
    out = tmp_path / "done"
    shutil.copytree(reference, out)
    edit_meta(out, _replications)
    code, _, err = run_cli(["analyze", out], capsys)
    assert code == 2, err
    assert f"{out / 'meta.json'}: changed since gsomia wrote it" in err
    assert not (out / "report.md").exists()


def test_meta_json_is_sealed_with_the_checksum_of_the_rest(reference):
    from experiments.integrity import CHECKSUM, digest

    raw = json.loads((reference / "meta.json").read_text())
    rest = {k: v for k, v in raw.items() if k != CHECKSUM}
    assert raw[CHECKSUM] == digest(rest) and read_meta(reference) == rest
    assert rest["runs_sha256"] and rest["format"] == 2


# ---- chunks -------------------------------------------------------------------------------------
def test_a_chunk_of_another_sweep_with_its_run_ids_is_recomputed_on_resume(
    specs, reference, tmp_path, monkeypatch, capsys
):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    cut(specs[0], ours, monkeypatch)
    cut(specs[1], theirs, monkeypatch)
    assert pq.read_table(chunk_path(theirs, 1)).column("run_id").to_pylist() == [1]
    shutil.copy(chunk_path(theirs, 1), chunk_path(ours, 1))  # run id 1, another sweep's row
    with pytest.raises(Failed, match=r"part-00001.parquet was written by another sweep.*--resume"):
        merge_chunks(ours, load_spec(specs[0]), 8, 1, 8)
    shutil.copy(chunk_path(theirs, 1), chunk_path(ours, 1))
    capsys.readouterr()
    run_sweep(specs[0], out=ours, workers=1, progress=False, resume=True)
    assert pq.read_table(ours / "runs.parquet").equals(pq.read_table(reference / "runs.parquet"))
    err = capsys.readouterr().err
    assert "warning: recomputing 1 chunk(s) that are not this sweep's as written" in err
    assert "part-00001.parquet (was written by another sweep (its fingerprint differs))" in err


def test_a_chunk_changed_since_it_was_written_is_recomputed_on_resume(
    specs, reference, tmp_path, monkeypatch
):
    out = tmp_path / "cut"
    cut(specs[0], out, monkeypatch)
    path = chunk_path(out, 2)
    table = pq.read_table(path)  # keeps the chunk's stamp
    outcome = table.schema.get_field_index("outcome")
    other = pc.if_else(pc.equal(table["outcome"], "renewed"), "terminated", "renewed")
    pq.write_table(table.set_column(outcome, "outcome", other), path)
    with pytest.raises(Failed, match=r"part-00002.parquet changed since it was written"):
        merge_chunks(out, load_spec(specs[0]), 8, 1, 8)
    pq.write_table(table.set_column(outcome, "outcome", other), path)
    run_sweep(specs[0], out=out, workers=1, progress=False, resume=True)
    assert pq.read_table(out / "runs.parquet").equals(pq.read_table(reference / "runs.parquet"))


# ---- runs.parquet -------------------------------------------------------------------------------
def test_a_replaced_runs_parquet_is_refused_by_analyze_and_resume(
    specs, reference, tmp_path, capsys
):
    other = tmp_path / "other"
    run_sweep(specs[1], out=other, workers=1, progress=False)
    out = tmp_path / "done"
    shutil.copytree(reference, out)
    shutil.copy(other / "runs.parquet", out / "runs.parquet")  # same columns, other rows
    code, _, err = run_cli(["analyze", out], capsys)
    assert code == 2, err
    assert f"{out / 'runs.parquet'}: changed since the sweep wrote it" in err
    code, _, err = run_cli(["sweep", specs[0], "--out", out, "--resume"], capsys)
    assert code == 2 and "runs.parquet: changed since the sweep wrote it" in err
