"""A sweep's results without leaving the page: pick a sweep folder (or type one) and read
``gsomia analyze``'s report, its figures and tables, the deadline effect first. A finished
sweep without a report gets one written by ``experiments.analysis.analyze`` (what
``gsomia analyze DIR`` runs); nothing here recomputes the analysis."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solara
import solara.lab

from gsomia_ui.widgets import EnterField, downloads, image
from model import ConfigError

REPO = Path(__file__).resolve().parents[2]
REPORT = "report.md"
REPORT_TITLE = "# Sweep report"
FIRST_SECTIONS = ("The deadline effect", "Phase maps")
"""Shown first: the deadline effect (reversal timing), then the phase maps (the map of
P(last-minute suspension) over the varied parameters)."""
IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)\s*$")


def sweep_roots() -> list[Path]:
    """Folders whose sub-folders may hold sweeps: the clone's results/ and docs/, and
    ./results."""
    roots = [REPO / "results", REPO / "docs", Path.cwd() / "results"]
    return list(dict.fromkeys(r.resolve() for r in roots if r.is_dir()))


def is_sweep(d: Path) -> bool:
    """A sweep's folder: a finished sweep's files, or a sweep report."""
    if (d / "meta.json").is_file() and (d / "runs.parquet").is_file():
        return True
    report = d / REPORT
    if not report.is_file():
        return False
    with report.open(encoding="utf-8", errors="replace") as fh:
        return fh.readline().startswith(REPORT_TITLE)


def find_sweeps(roots: list[Path] | None = None) -> list[Path]:
    """Every sweep folder directly under ``roots`` (default ``sweep_roots()``)."""
    found = []
    for root in sweep_roots() if roots is None else roots:
        found += [d for d in sorted(root.iterdir()) if d.is_dir() and is_sweep(d)]
    return found


@dataclass(frozen=True)
class Report:
    """A sweep report cut into its header and its ``## `` sections, in reading order
    (``FIRST_SECTIONS`` first, the file list last)."""

    folder: Path
    header: str
    sections: tuple[tuple[str, str], ...]
    files: tuple[str, ...]


def read_report(folder: Path) -> Report:
    """The report of the sweep in ``folder``; ConfigError naming the folder when it has
    none (``analyze`` writes one)."""
    path = folder / REPORT
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{folder}: no readable {REPORT} ({type(exc).__name__}); allowed: a sweep folder "
            "`gsomia analyze` has written a report into"
        ) from exc
    header, *parts = re.split(r"^## ", text, flags=re.M)
    sections = []
    files: list[str] = []
    for part in parts:
        title, _, body = part.partition("\n")
        if title.strip() == "Files":
            files = re.findall(r"^- `([^`]+)`", body, flags=re.M)
        else:
            sections.append((title.strip(), body.strip()))
    first = [s for name in FIRST_SECTIONS for s in sections if s[0] == name]
    rest = [s for s in sections if s[0] not in FIRST_SECTIONS]
    return Report(folder, header.strip(), tuple(first + rest), tuple(files))


def blocks(body: str) -> list[tuple[str, str]]:
    """A section as ``("md", text)`` and ``("img", file name)`` blocks, in order."""
    out: list[tuple[str, str]] = []
    text: list[str] = []
    for line in body.splitlines():
        found = IMAGE.match(line.strip())
        if found:
            if any(t.strip() for t in text):
                out.append(("md", "\n".join(text).strip()))
            text = []
            out.append(("img", found.group(2)))
        else:
            text.append(line)
    if any(t.strip() for t in text):
        out.append(("md", "\n".join(text).strip()))
    return out


def _file(folder: Path, name: str) -> Path | None:
    """A file the report names, inside its folder (never outside it)."""
    path = (folder / name).resolve()
    return path if path.parent == folder.resolve() and path.is_file() else None


@solara.component
def ReportView(report: Report) -> None:
    """The report: header, sections with their figures, downloads of its tables."""
    solara.Markdown(report.header)
    for title, body in report.sections:
        solara.Markdown(f"### {title}")
        for kind, content in blocks(body):
            if kind == "md":
                solara.Markdown(content)
                continue
            path = _file(report.folder, content)
            if path is not None:
                image(path.read_bytes(), "gsomia-sweep-figure", fmt=path.suffix.lstrip("."))
    tables = [(n, _file(report.folder, n)) for n in report.files if n.endswith(".csv")]
    downloads(
        [(p.read_bytes, n, n, "text/csv") for n, p in tables if p is not None],
        "gsomia-sweep-tables",
    )


@solara.component
def SweepPanel(folder: solara.Reactive[str]) -> None:
    """Pick or type a sweep folder; its report, or a button that writes one."""
    found = solara.use_memo(find_sweeps, [])
    written = solara.use_reactive(0)

    def analyze(path: str) -> str:
        from experiments.analysis import analyze as write_report

        write_report(path)
        written.set(written.value + 1)
        return path

    task = solara.lab.use_task(analyze, dependencies=None, raise_error=False)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        if found:
            solara.Select(
                "Sweep folder",
                values=[str(d) for d in found],
                value=folder.value if folder.value in map(str, found) else None,
                on_value=folder.set,
                classes=["gsomia-sweep-pick"],
            )
        EnterField(
            "Sweep folder (any path)",
            folder.value,
            folder.set,
            classes=["gsomia-sweep-path"],
            style="min-width: 420px",
        )
    d = Path(folder.value).expanduser() if folder.value else None
    report, problem = solara.use_memo(
        lambda: _load(d) if d is not None else (None, ""), [str(d), written.value]
    )
    if d is None:
        solara.Text(
            "Pick a sweep folder (a `gsomia sweep --out` folder, or one holding its report).",
            classes=["gsomia-sweep-empty"],
        )
        return
    if report is None and problem is None:
        solara.Text(f"{d} holds a finished sweep with no report yet.")
        solara.Button(
            "Write its report (gsomia analyze)",
            on_click=lambda: task(str(d)),
            disabled=task.pending,
            color="primary",
        )
        if task.pending:
            solara.ProgressLinear(True)
        if task.error:
            solara.Error(f"{task.exception}", classes=["gsomia-sweep-error"])
        return
    if problem is not None:
        solara.Error(problem, classes=["gsomia-sweep-error"])
        return
    with solara.Column(classes=["gsomia-sweep-report"]):
        ReportView(report)


def _load(d: Path) -> tuple[Report | None, Any]:
    """(the report, None); (None, None) for a finished sweep with no report; (None, why)."""
    if not d.is_dir():
        return None, f"{d}: no such folder; allowed: a sweep's --out folder"
    if not (d / REPORT).is_file():
        if (d / "meta.json").is_file() and (d / "runs.parquet").is_file():
            return None, None
        return None, (
            f"{d}: not a sweep (no {REPORT}, no meta.json and runs.parquet); allowed: a "
            "`gsomia sweep --out` folder"
        )
    try:
        return read_report(d), None
    except ConfigError as exc:
        return None, str(exc)
