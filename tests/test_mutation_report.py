"""scripts/mutation_report.py: the sample ``make mutate MUTATE_SAMPLE=N`` draws and the
score the report gives a sampled module (mutmut itself is not run here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mutation_report.py"


@pytest.fixture
def report(tmp_path, monkeypatch):
    """The script's module, pointed at a repository in tmp_path whose mutants/ holds a
    calendar with 50 mutants: the first 10 killed, the next 5 survived, the rest not run."""
    spec = importlib.util.spec_from_file_location("mutation_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = [f"model.calendar.x_month__mutmut_{i}" for i in range(1, 51)]
    codes = {n: (1 if i < 10 else 0 if i < 15 else None) for i, n in enumerate(names)}
    meta = tmp_path / "mutants" / "model" / "calendar.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    monkeypatch.setattr(module, "REPO", tmp_path)
    monkeypatch.setattr(module, "OUT", tmp_path / "results" / "mutation")
    monkeypatch.setattr(module, "EQUIVALENT", tmp_path / "results" / "mutation" / "eq.toml")
    monkeypatch.setattr(module, "diff_of", lambda name: "")
    monkeypatch.setattr(module, "generate_mutants", lambda: None)  # mutants/ is above
    module.names = names
    return module


def test_a_sample_is_seeded_without_repeats_and_recorded(report, tmp_path):
    first = report.sample(["calendar"], 12, seed=3)
    assert first == report.sample(["calendar"], 12, seed=3)
    assert first != report.sample(["calendar"], 12, seed=4)
    assert len(first) == len(set(first)) == 12 and set(first) <= set(report.names)
    record = json.loads((tmp_path / "mutants" / "sample.json").read_text())
    assert record["calendar"]["of"] == 50 and record["calendar"]["seed"] == 4


def test_a_sample_larger_than_the_module_takes_every_mutant(report):
    assert sorted(report.sample(["calendar"], 80, seed=0)) == sorted(report.names)


def test_draws_reach_the_whole_module(report):
    """Uniform over all mutants, not the first ones in file order (where an interrupted
    full run stops): over many seeds every mutant is drawn."""
    drawn = {n for seed in range(60) for n in report.sample(["calendar"], 5, seed=seed)}
    assert drawn == set(report.names)


def test_a_sampled_module_is_scored_on_its_sample_alone(report, tmp_path):
    """Mutants checked outside the sample (an earlier run in file order) do not count."""
    sample = {"seed": 0, "size": 4, "of": 50, "names": report.names[8:12]}  # 2 killed, 2 not
    (tmp_path / "mutants" / "sample.json").write_text(json.dumps({"calendar": sample}))
    calendar = report.summarise()["modules"]["calendar"]
    assert calendar["checked"] == 4 and calendar["mutants"] == 50
    assert calendar["score"] == 0.5
    low, high = calendar["interval_95"]
    assert low < 0.5 < high and high - low > 0.5  # four mutants say little
    assert {s["mutant"] for s in calendar["survivors"]} == set(report.names[10:12])


def test_an_unsampled_module_is_scored_on_every_checked_mutant(report):
    calendar = report.summarise()["modules"]["calendar"]
    assert calendar["checked"] == 15 and calendar["score"] == round(10 / 15, 4)
    assert calendar["sample"] is None


def test_generating_mutants_prints_nothing_on_stdout(tmp_path, monkeypatch, capfd):
    """stdout carries the sampled names to `mutmut run` (make mutate); mutmut's own
    progress lines during generation ("also copying ...", file names) must not join them."""
    pytest.importorskip("mutmut")
    import mutmut.__main__
    import mutmut.utils.file_utils

    spec = importlib.util.spec_from_file_location("mutation_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "REPO", tmp_path)
    monkeypatch.setattr(mutmut.utils.file_utils, "copy_src_dir", lambda: print("model/x.py"))
    monkeypatch.setattr(
        mutmut.utils.file_utils, "copy_also_copy_files", lambda: print("also copying configs/")
    )
    monkeypatch.setattr(mutmut.__main__, "create_mutants", lambda n: print("agents/seoul.py"))
    module.generate_mutants()
    out, err = capfd.readouterr()
    assert out == "" and "also copying" in err and (tmp_path / "mutants").is_dir()
