"""One version, in model/version.py: the wheel's (pyproject reads it), `gsomia --version`'s,
the golden runs' (recorded under it), CHANGELOG.md's latest and CITATION.cff's. It moves
with every change of behaviour: tests/golden/record.py refuses to record changed runs under
the version they were recorded with."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import yaml
from golden.record import MANIFEST, file_digest, path_for, read_manifest, refusal, scenarios

from model import __version__

REPO = Path(__file__).resolve().parents[1]
SECTION = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?$", re.M)


def changelog_sections() -> list[tuple[str, str | None, str]]:
    """(version, date, body) of each ``## [...]`` section of CHANGELOG.md, in file order."""
    text = (REPO / "CHANGELOG.md").read_text()
    heads = list(SECTION.finditer(text))
    ends = [h.start() for h in heads[1:]] + [len(text)]
    return [(h["version"], h["date"], text[h.end() : e]) for h, e in zip(heads, ends, strict=True)]


def as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def test_version_is_written_once():
    """pyproject.toml has no version of its own: it reads model/version.py's."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "model.version.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_gsomia_version_prints_the_models_version():
    res = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert res.returncode == 0 and res.stdout.strip() == f"gsomia {__version__}"


def test_golden_runs_were_recorded_under_the_current_version():
    """After a change of behaviour the golden runs are recorded again, under a new version;
    a version moved without recording them (or files changed by hand) fails here."""
    manifest = read_manifest()
    assert manifest["version"] == __version__, (
        f"{MANIFEST.name} says the golden runs were recorded under {manifest['version']}, the "
        f"model is {__version__}: record them again (tests/golden/record.py)"
    )
    assert manifest["files"] == {c.stem: file_digest(path_for(c)) for c in scenarios()}


def test_changed_runs_are_refused_under_the_version_they_were_recorded_with():
    assert refusal("0.5.0", "0.5.0", []) is None  # unchanged runs: nothing to refuse
    assert refusal("0.5.0", "0.6.0", ["baseline_2019"]) is None  # the version moved
    assert refusal(None, "0.5.0", ["baseline_2019"]) is None  # nothing recorded before
    why = refusal("0.5.0", "0.5.0", ["baseline_2019", "china_pull"])
    assert why is not None
    assert "baseline_2019, china_pull" in why and "model/version.py" in why
    assert "CHANGELOG.md" in why


def test_changelog_keeps_a_changelog_with_the_current_version_on_top():
    """Unreleased first, then released versions newest first, dated, each with entries; the
    newest is the model's version."""
    sections = changelog_sections()
    assert sections[0][:2] == ("Unreleased", None)
    released = sections[1:]
    assert released and released[0][0] == __version__
    versions = [as_tuple(v) for v, _, _ in released]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    dates = [date.fromisoformat(d) for _, d, _ in released]
    assert dates == sorted(dates, reverse=True)
    for version, _, body in released:
        assert re.search(r"^### (Added|Changed|Fixed|Removed)$", body, re.M), version
        assert re.search(r"^- ", body, re.M), version


def test_citation_names_the_current_version_and_license():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    dates = {v: d for v, d, _ in changelog_sections()}
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["version"] == __version__
    assert str(cff["date-released"]) == dates[__version__]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert cff["license"] == project["license"] == "Apache-2.0"
    license_text = (REPO / "LICENSE").read_text()
    assert license_text.lstrip().startswith("Apache License\n")
    assert "Version 2.0, January 2004" in license_text


def test_run_json_carries_the_version(capsys):
    from experiments.cli import main

    code = main(["run", "--set", "end=2018-11-30", "--set", "n_citizens=50", "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["version"] == __version__
