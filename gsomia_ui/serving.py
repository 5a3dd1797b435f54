"""Serving the page offline, also under a bare ``solara run app.py``.

Imported by a Solara server, the entry point calls ``configure_offline_serving``: Solara's
CDN proxy reads the repository's ``.solara-assets`` (``make ui-assets``) unless
``SOLARA_ASSETS_PROXY_CACHE_DIR`` is set, telemetry is off and the development-mode call
home is skipped, so the page renders with no outside request either way.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

TITLE = "GSOMIA 2019: Seoul, Tokyo, Washington, Beijing"
ASSETS_DIR = Path(__file__).resolve().parents[1] / ".solara-assets"
ASSETS_ENV = "SOLARA_ASSETS_PROXY_CACHE_DIR"
SAMESITE_WARNING = "Cookies with samesite=none require https"
"""Start of the UserWarning Solara logs for every page served over plain http on an address
other than ``localhost`` (127.0.0.1 included). Its fallback (a ``lax`` cookie) is what a
local server needs, so the warning says nothing actionable; it is silenced."""


def configure_offline_serving(assets: Path = ASSETS_DIR, title: str = TITLE) -> list[str]:
    """Make a Solara server that imports the page serve it with no outside request: its
    CDN proxy reads ``assets`` (unless ``SOLARA_ASSETS_PROXY_CACHE_DIR`` is set), its
    telemetry is off and the development-mode check (an iframe to solara.dev) is skipped.
    Also: no "runs on Solara" banner over the content, and no samesite warning per
    session. Returns warnings (e.g. assets missing) for the server log. Harmless outside a
    server."""
    problems: list[str] = []
    warnings.filterwarnings("ignore", message=SAMESITE_WARNING, category=UserWarning)
    try:
        import solara.checks
        import solara.server.settings as settings
    except ImportError:  # solara-server not installed: nothing to configure
        return problems
    settings.telemetry.mixpanel_enable = False
    # Solara's "This website runs on Solara" banner sits over the page's bottom-right corner
    # (and is unreadable in dark mode).
    settings.theme.show_banner = False
    settings.theme.title = title
    # The check page is an <iframe> to solara.dev in development mode; never phone home.
    solara.checks.should_perform_solara_check = lambda: False
    configured = os.environ.get(ASSETS_ENV)
    directory = Path(configured).resolve() if configured else assets
    if not configured:
        settings.assets.proxy_cache_dir = directory
    if not (directory / "requirejs@2.3.6").is_dir():
        problems.append(
            f"gsomia app: the offline UI assets are missing from {directory}; run "
            "`make ui-assets` (see docs/ui-offline.md), or the page stays blank offline."
        )
    return problems
