"""scripts/mutation_report.py: the sample ``make mutate MUTATE_SAMPLE=N`` draws, the score
the report gives a sampled module, the two passes (behavioural, then every test) and their
two scores, and the tests a behavioural pass leaves out (mutmut itself is not run here)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "mutation_report.py"
GOLDEN = sorted(p.stem for p in (REPO / "configs").glob("*.toml"))


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


# ---- the two passes: behavioural kills, then every test ---------------------------------------
def set_codes(tmp_path, codes: dict) -> None:
    """Rewrite the calendar's mutmut results (as a `mutmut run` leaves them)."""
    meta = tmp_path / "mutants" / "model" / "calendar.py.meta"
    data = json.loads(meta.read_text())
    data["exit_code_by_key"] |= codes
    meta.write_text(json.dumps(data))


def test_the_behavioural_pass_is_kept_and_its_survivors_rerun(report, tmp_path):
    """After the behavioural pass (10 killed, 5 survived of the 15 run; here one of those
    left without tests by the deselection, exit 5, and one no test reaches, 33), the second
    pass reruns the survivors a test reaches; only the named mutants are recorded."""
    names = report.names
    set_codes(tmp_path, {names[13]: 5, names[14]: 33})
    assert report.record_behavioural(["model.calendar.*"]) == 15
    kept = json.loads((tmp_path / "mutants" / "behavioural.json").read_text())
    assert kept == {n: (1 if i < 10 else 0) for i, n in enumerate(names[:13])} | {
        names[13]: 5,
        names[14]: 33,
    }
    assert report.behavioural_survivors(["model.calendar.*"]) == names[10:14]
    assert report.behavioural_survivors([names[11], names[2]]) == [names[11]]
    # a later behavioural pass of one mutant updates only its own result
    set_codes(tmp_path, {names[12]: 1})
    assert report.record_behavioural([names[12]]) == 1
    assert report.behavioural_survivors(["model.calendar.*"]) == [names[10], names[11], names[13]]


def test_two_scores_and_the_mutants_only_recorded_tests_kill(report, tmp_path):
    """Behavioural pass: 10 killed, 5 survived. Second pass: 2 of the 5 killed (by the
    golden runs, say), 1 judged equivalent, 2 survive. All tests: 12 / (15 - 1); behavioural:
    10 / (15 - 1); the 2 are listed as killed only by recorded tests."""
    names = report.names
    report.record_behavioural(["model.calendar.*"])
    set_codes(tmp_path, {names[10]: 1, names[11]: 1})
    (tmp_path / "results" / "mutation").mkdir(parents=True)
    report.EQUIVALENT.write_text(f'"{names[12]}" = "as the original on every input"\n')
    calendar = report.summarise()["modules"]["calendar"]
    assert calendar["checked"] == 15 and calendar["equivalent"] == 1
    assert calendar["score"] == round(12 / 14, 4)
    behavioural = calendar["behavioural"]
    assert (behavioural["checked"], behavioural["killed"], behavioural["equivalent"]) == (15, 10, 1)
    assert behavioural["score"] == round(10 / 14, 4)
    low, high = behavioural["interval_95"]
    assert low < 10 / 14 < high and calendar["interval_95"][0] > low
    only = [m["mutant"] for m in behavioural["killed_only_by_recorded"]]
    assert only == names[10:12]
    assert {s["mutant"] for s in calendar["survivors"]} == set(names[12:15])
    text = report.markdown(report.summarise())
    assert (
        f"| 85.7% | {calendar['interval_95'][0]:.1%} – {calendar['interval_95'][1]:.1%} | 71.4% |"
        in text
    )
    assert "## Killed only by recorded-output tests: calendar" in text
    assert f"- `{names[10]}`" in text


def test_a_module_without_a_behavioural_pass_says_so(report):
    calendar = report.summarise()["modules"]["calendar"]
    assert calendar["behavioural"] is None and calendar["score"] == round(10 / 15, 4)
    assert "| 66.7% |" in report.markdown(report.summarise())
    assert "not measured" in report.markdown(report.summarise()).split("| calendar |")[1]


def test_the_two_pass_commands_print_what_make_mutate_reads(report, tmp_path, capsys):
    names = report.names
    assert report.main(["--record-behavioural", "model.calendar.*"]) == 0
    assert "15 mutants" in capsys.readouterr().out
    assert report.main(["--survivors", "model.calendar.*"]) == 0
    assert capsys.readouterr().out.split() == [f"'{n}'" for n in names[10:15]]


def run_collect(*args: str, **env: str) -> subprocess.CompletedProcess:
    """pytest --collect-only on the repository's tests, as a mutant's run sees them."""
    environ = {k: v for k, v in os.environ.items() if k not in ("MUTANT_UNDER_TEST",)}
    environ.pop("GSOMIA_MUTATION_TESTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        env=environ | env,
        capture_output=True,
        text=True,
    )


MUTANT = "model.calendar.x_month__mutmut_1"
RECORDED = [
    "tests/test_calibration.py::test_docs_fit_block_is_the_committed_fit_report",
    "tests/test_calibration.py::test_baseline_shares_are_within_their_binomial_error_of_the_committed_values",
    "tests/test_calibration.py::test_docs_calibration_table_is_regenerated_by_its_command",
    *(f"tests/test_golden.py::test_golden_runs_reproduced[{c}]" for c in GOLDEN),
]


def test_the_recorded_tests_are_the_comparisons_with_committed_outputs():
    res = run_collect("-m", "recorded", "tests/test_golden.py", "tests/test_calibration.py")
    got = [ln for ln in res.stdout.splitlines() if "::" in ln]
    assert sorted(got) == sorted(RECORDED), res.stdout + res.stderr


def test_a_behavioural_mutant_run_leaves_out_the_recorded_tests():
    """A mutant's run with GSOMIA_MUTATION_TESTS=behavioural deselects the golden runs and
    keeps the rest; outside a mutant's run the variable changes nothing; a misspelt value
    is refused naming the variable."""
    golden = [r for r in RECORDED if "test_golden" in r]
    behavioural = run_collect(
        "tests/test_golden.py", MUTANT_UNDER_TEST=MUTANT, GSOMIA_MUTATION_TESTS="behavioural"
    )
    kept = [ln for ln in behavioural.stdout.splitlines() if "::" in ln]
    assert kept == ["tests/test_golden.py::test_differences_detects_changes"], behavioural.stdout
    assert f"{len(golden)} deselected" in behavioural.stdout
    outside = run_collect("tests/test_golden.py", GSOMIA_MUTATION_TESTS="behavioural")
    assert set(golden) <= {ln for ln in outside.stdout.splitlines() if "::" in ln}
    bad = run_collect("tests/test_golden.py", GSOMIA_MUTATION_TESTS="behavioral")
    assert bad.returncode == 4
    assert "GSOMIA_MUTATION_TESTS: invalid value 'behavioral'; allowed: all or behavioural" in (
        bad.stderr
    )
