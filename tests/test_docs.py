"""The documentation says what the code does: the generated blocks of its pages are their
commands' output, the README's links resolve and its example runs as written, the
headline sweep's report is of the current model, and the docs build's own checks find
what they are meant to find."""

from __future__ import annotations

import re
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

from model import GSOMIAModel, __version__

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "docs" / "_ext")]
import docs_tables  # noqa: E402
import gsomia_docs  # noqa: E402

README = (REPO / "README.md").read_text()
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("name", [n for n, b in docs_tables.BLOCKS.items() if b.quick])
def test_quick_generated_blocks_are_their_commands_output(name):
    assert docs_tables.stale(name) is None


@pytest.mark.slow
def test_counterfactual_table_is_its_commands_output():
    """The counterfactuals of the calibration page are ``gsomia calibrate --config`` of
    each scenario over seeds 0-99 (the 2019 events table is checked in
    tests/test_calibration.py, on the runs of its binomial test)."""
    assert docs_tables.stale("counterfactuals") is None


def test_a_changed_block_is_reported_stale(monkeypatch):
    block = docs_tables.BLOCKS["parameters"]
    changed = docs_tables.Block(block.page, lambda: "| a table |", block.command, True)
    monkeypatch.setitem(docs_tables.BLOCKS, "parameters", changed)
    why = docs_tables.stale("parameters")
    assert why is not None and "docs/parameters.md" in why and "gsomia params" in why


def test_a_stray_marker_is_refused(monkeypatch, tmp_path):
    """A page with a second end marker (text after the block that looks generated but
    is not checked) is refused, as is one without markers."""
    page = (REPO / "docs" / "testing.md").read_text()
    monkeypatch.setattr(docs_tables, "DOCS", tmp_path)
    (tmp_path / "testing.md").write_text(page + "\nmore text\n<!-- mutation:end -->\n")
    with pytest.raises(SystemExit, match=r"docs/testing.md must hold one .* \(found 1 and 2\)"):
        docs_tables.read_block("mutation")
    (tmp_path / "testing.md").write_text("no markers\n")
    with pytest.raises(SystemExit, match=r"found 0 and 0"):
        docs_tables.read_block("mutation")
    (tmp_path / "testing.md").write_text(page)
    assert docs_tables.stale("mutation") is None


def github_anchor(heading: str) -> str:
    """The anchor a repository browser (and MyST) gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {github_anchor(h) for h in re.findall(r"^#+ (.+)$", path.read_text(), re.M)}


def test_readme_links_resolve():
    """Every relative link of the README names a file of the repository (and a heading
    of it, for a link with an anchor); the others are web addresses."""
    links = LINK.findall(README)
    assert any(link.startswith("docs/") for link in links)
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        path, _, anchor = link.partition("#")
        target = REPO / path
        assert target.exists(), f"README.md links to {link}, which does not exist"
        if anchor:
            assert anchor in anchors(target), f"README.md links to {link}: no such heading"


def test_readme_is_a_front_page():
    assert len(README.splitlines()) <= 250


def test_the_readmes_example_runs_as_written():
    """The Python example runs, and the values its comments give are the run's."""
    code = README.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(code, scope)
    m = scope["m"]
    assert isinstance(m, GSOMIAModel)
    said = dict(re.findall(r"^(m\.\w+)  # ([^:\n]+)", code, re.M))
    assert said["m.outcome"] == repr(m.outcome)
    assert said["m.reversal_months_before_expiry"] == str(m.reversal_months_before_expiry)
    assert scope["why"].date.month == 11  # "November"


def test_the_readmes_findings_are_their_sources():
    """The README's headline numbers are those of the committed 1,000-seed baseline shares
    (tests/data/calibration_expected.toml, checked against the model by
    tests/test_calibration.py) and of the headline sweep's report."""
    text = " ".join(README.split())
    expected = tomllib.loads((REPO / "tests" / "data" / "calibration_expected.toml").read_text())
    lms, seeds = expected["outcomes"]["last_minute_suspension"], expected["seeds"]
    assert f"ends {round(100 * lms / seeds)}% of runs ({lms:,} of {seeds:,} seeds)" in text
    report = (REPO / "docs" / "deadline_effect" / "report.md").read_text()
    runs = int(re.search(r"= (\d+) runs", report).group(1))
    near, even = re.search(
        r"Over the whole sweep: .*?\*\*(\d+%)\*\* of the reversals .*? against (\d+%)", report
    ).groups()
    assert f"Over a sweep of {runs:,} runs" in text
    assert f"{near} of them fall in the month of expiry, against {even} if" in text


def test_the_headline_report_is_of_the_current_model():
    """A sweep report names the version of the model it ran; the committed headline report
    must be of the current one (after a change of behaviour: make headline)."""
    report = (REPO / "docs" / "deadline_effect" / "report.md").read_text()
    found = re.search(r"; gsomia (\S+)$", report, re.M)
    assert found is not None, "the headline report names no version"
    assert found.group(1) == __version__


def test_missing_repository_paths_are_found():
    text = (
        "`model/calendar.py`, `configs/sweeps/*.toml`, `agents/<actor>.py`, "
        "`tests/agent_contract.GovernmentContract`, `tests/test_docs.py::test_x`, "
        "`model/no_such_module.py`, `configs/nothing/*.toml`, {doc}`model/payoffs`\n"
        "```\nmodel/in_a_fence.py `model/in_a_fence.py`\n```\n"
    )
    assert gsomia_docs.missing_paths(text) == ["model/no_such_module.py", "configs/nothing/*.toml"]


def test_docstrings_are_prose_with_literals():
    """A lone asterisk is not emphasis (escaped), bullets and ``literals`` are kept, and
    only a docstring with NumPy sections goes through napoleon."""
    lines = ["probs (..., A) with values (..., A, *rest), ``(*batch, a)``", "* a bullet"]
    gsomia_docs.prose_docstring(None, "function", "f", None, {}, lines)
    assert lines == [r"probs (..., A) with values (..., A, \*rest), ``(*batch, a)``", "* a bullet"]
    lines = ["The poll's shares: for ending, keeping, undecided."]
    gsomia_docs.prose_docstring(None, "data", "x", None, {}, lines)
    assert lines == ["The poll's shares: for ending, keeping, undecided."]


@pytest.mark.slow
def test_the_headline_report_and_tables_are_the_analysis_of_its_runs(tmp_path):
    """docs/deadline_effect holds the headline sweep's runs and provenance (make headline
    copies them with the report): gsomia analyze of those runs writes the committed report,
    every committed table, and figures of the same names (their pixels vary with matplotlib)."""
    from experiments.analysis import analyze

    src = REPO / "docs" / "deadline_effect"
    for name in ("runs.parquet", "meta.json"):
        shutil.copy(src / name, tmp_path / name)
    analyze(tmp_path)
    for table in [*sorted(src.glob("*.csv")), src / "report.md"]:
        assert (tmp_path / table.name).read_text() == table.read_text(), table.name
    assert {p.name for p in tmp_path.glob("*.png")} == {p.name for p in src.glob("*.png")}
