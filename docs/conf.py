"""Sphinx configuration of the gsomia documentation (``make docs``; see docs/README.md).

Mesa's stack: Sphinx with MyST Markdown pages, myst-nb for the tutorial notebook (executed
at build time, cached between builds), pydata-sphinx-theme, and autodoc/autosummary for
the API reference. ``make docs`` builds with warnings as errors and nitpicky references,
so a broken cross-reference, a failing notebook cell, a stale generated table or a path
that names no file of the repository fails the build (``_ext/gsomia_docs.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(DOCS / "_ext"))

from model.version import __version__  # noqa: E402

project = "gsomia"
author = "The gsomia authors"
copyright = "the gsomia authors; Apache-2.0"
version = release = __version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "gsomia_docs",
]

exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# --- MyST -----------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "substitution"]
myst_substitutions = {"version": __version__}
myst_heading_anchors = 4  # links to sections (#the-fit) resolve, and are checked

# --- myst-nb: the tutorial is executed at build time; its outputs are cached (jupyter-cache)
# and reused until the notebook changes, or the model's version does (jupyter-cache keys on
# the notebook alone: one cache per version). A failing cell fails the build.
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache" / __version__)
nb_execution_timeout = 300
nb_execution_in_temp = True  # not in docs/, whose model/ folder of pages would shadow the package
nb_execution_raise_on_error = True
nb_execution_show_tb = True

# --- API reference ----------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
# every public member of a module where it is defined (as autosummary's tables list them),
# whatever its __all__ says; re-exports (model.GSOMIAModel) are documented once, at home
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
    "ignore-module-all": True,
}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"

# Nitpicky: every reference must resolve. Without network access (no intersphinx), the
# names of other packages cannot resolve; they are listed here, so that a reference to one
# of gsomia's own objects that resolves nowhere still fails the build.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|pd|pandas|scipy|networkx|nx|mesa|pyarrow|pa|dask|distributed)\..*"),
    (r"py:.*", r"(solara|ipyvuetify|ipywidgets|matplotlib|altair|pyabc|SALib|ema_workbench)\..*"),
    (r"py:.*", r"(concurrent|multiprocessing|argparse|pathlib|datetime|collections|typing)\..*"),
    (r"py:.*", r"(subprocess|threading|io|os|random|types|contextlib|enum|fcntl|abc)\..*"),
    (r"py:class", r"(np\.)?(ndarray|generic|floating|integer|bool_|float64|int64|dtype)"),
    (r"py:class", r"(Path|PathLike|DataFrame|Series|Figure|Axes|Model|Agent|CellAgent)"),
    (r"py:class", r"(ArrayLike|NDArray|SeedSequence|Generator|Future|Executor|Client)"),
    (r"py:class", r"(Callable|Iterable|Iterator|Mapping|Sequence|Hashable|Any|Self)"),
    (r"py:class", r"(TextIO|BinaryIO|Namespace|ArgumentParser|Popen|Lock|Event|Thread)"),
    (r"py:class", r"(optional|default|callable|array|array-like|scalar|sparse matrix)"),
    (r"py:class", r"[a-z_]+\s?.*"),  # numpy-style prose types ("list of str", "int or None")
    (r"py:class", r"[A-Z]"),  # type variables
    (r"py:class", r"Cell"),  # mesa.discrete_space.Cell, as the annotations name it
    (r"py:class", r"Point"),  # experiments.designs.Point, a type alias autodoc cannot link
]

# --- HTML -----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"gsomia {__version__}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path: list[str] = []
html_show_sourcelink = False
