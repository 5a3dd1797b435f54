"""Checks of the gsomia documentation that Sphinx does not make itself (warnings, so errors
under ``make docs``):

- every quick generated block of a page is its command's output (``scripts/docs_tables.py``;
  the slow ones are checked by the tests);
- docstrings are prose with ``literals``: a lone ``*`` (``(..., A, *rest)``) is not reST
  emphasis, and only a docstring with NumPy sections (``Parameters`` over dashes) goes
  through napoleon (its attribute parsing would read "The poll's shares: ..." as a type);
- every repository path a page names in inline code (``model/calendar.py``,
  ``configs/sweeps/*.toml``) exists, so a moved or renamed file does not leave the docs
  pointing at nothing.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
TOP = ("model", "agents", "experiments", "gsomia_ui", "configs", "scripts", "tests", "docs")
TOP += ("benchmarks", "results/fit", "results/mutation", ".ci")
INLINE_PATH = re.compile(r"(?<![`}])`((?:" + "|".join(map(re.escape, TOP)) + r")(?:/[^`\s]*)?)`")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def docs_tables() -> ModuleType:
    """scripts/docs_tables.py (scripts/ is no package: imported from its folder)."""
    if str(REPO / "scripts") not in sys.path:
        sys.path.insert(0, str(REPO / "scripts"))
    return importlib.import_module("docs_tables")


def check_generated_blocks(app: Sphinx) -> None:
    """Warn for every quick generated block that is not its command's output."""
    tables = docs_tables()
    for name, block in tables.BLOCKS.items():
        if block.quick:
            try:
                why = tables.stale(name)
            except SystemExit as bad_markers:
                why = str(bad_markers)
            if why:
                logger.warning(why, location=str(Path(app.srcdir, block.page)))


def missing_paths(text: str) -> list[str]:
    """Repository paths named in the inline code of ``text`` (not in fenced blocks) that
    name no file or folder; placeholders (``agents/<actor>.py``) are skipped, globs must
    match something."""
    out = []
    for path in INLINE_PATH.findall(FENCE.sub("", text)):
        path = path.rstrip(".,;:")
        if any(c in path for c in "<>{}$"):
            continue
        if any(c in path for c in "*?["):
            found = any(REPO.glob(path))
        else:  # a file, a folder, a test id (file::test) or an object (module.Name)
            candidates = (path, path.split("::")[0], path.rsplit(".", 1)[0] + ".py")
            found = any((REPO / c).exists() for c in candidates)
        if not found:
            out.append(path)
    return out


def check_paths(app: Sphinx) -> None:
    """Warn for every repository path a page names that does not exist (every page, on
    every build: an unchanged page can name a file another change moved)."""
    src = Path(app.srcdir)
    for page in sorted(src.rglob("*.md")):
        if {"_build", "generated"} & set(page.relative_to(src).parts):
            continue
        for path in missing_paths(page.read_text()):
            logger.warning(
                f"`{path}` names no file or folder of the repository", location=str(page)
            )


LONE_STAR = re.compile(r"(?<![*\\])\*(?![*\s])")  # not a bullet, not strong
LITERAL = re.compile(r"(``.+?``)")
NUMPY_SECTION = re.compile(r"^\s*-{3,}\s*$")


def prose_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Escape lone asterisks outside literals; NumPy sections through napoleon."""
    for i, line in enumerate(lines):
        parts = LITERAL.split(line)
        lines[i] = "".join(p if j % 2 else LONE_STAR.sub(r"\\*", p) for j, p in enumerate(parts))
    if any(NUMPY_SECTION.match(line) for line in lines):
        from sphinx.ext.napoleon import Config, NumpyDocstring

        config = Config(napoleon_use_param=True, napoleon_use_rtype=True)
        known = {k.lower() for k in NumpyDocstring(["x"], config)._sections}
        for i in range(len(lines) - 1):  # a section napoleon does not know: a rubric
            title = lines[i].strip()
            if NUMPY_SECTION.match(lines[i + 1]) and title and title.lower() not in known:
                lines[i], lines[i + 1] = f".. rubric:: {title}", ""
        lines[:] = NumpyDocstring(lines, config, app, what, name, obj, options).lines()


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", check_generated_blocks)
    app.connect("autodoc-process-docstring", prose_docstring)
    app.connect("builder-inited", check_paths)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
