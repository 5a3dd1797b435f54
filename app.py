"""The entry point Solara serves: the browser UI of the GSOMIA model.

Serve it with ``gsomia ui`` or ``make ui`` (offline assets, 127.0.0.1), or with
``solara run app.py``: imported by a Solara server, this module points Solara's CDN proxy
at the repository's ``.solara-assets`` (``make ui-assets``), switches telemetry off and
skips the development-mode call home, so the page renders with no outside request either
way. The page itself is the package ``gsomia_ui`` (see its docstring for its parts);
``gsomia ui --mesa`` serves the same panels in Mesa's SolaraViz (``gsomia_ui.viz``).
"""

import sys

from gsomia_ui.serving import configure_offline_serving

for _problem in configure_offline_serving():
    print(_problem, file=sys.stderr)

from gsomia_ui.page import Page  # noqa: E402  (after the server is configured)

__all__ = ["Page"]
