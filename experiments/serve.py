"""``gsomia ui``: serve the browser UI (``app.py``, the package ``gsomia_ui``) with offline
assets; ``--mesa`` serves the same panels in Mesa's SolaraViz (``gsomia_ui.viz``), and
``--config PATH`` opens any scenario file first.

Solara's page loads its JavaScript and CSS through Solara's CDN proxy; on these machines
that proxy must read them from a local directory (``make ui-assets`` fetches them from the
npm registry into ``.solara-assets``; see docs/ui-offline.md). Telemetry is switched off.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASSETS_DIR = REPO / ".solara-assets"
ASSETS_ENV = "SOLARA_ASSETS_PROXY_CACHE_DIR"
EXIT_MISSING_ASSETS = 2
MESA_PAGE = "gsomia_ui.viz"
"""The SolaraViz page, served by module name (``solara run gsomia_ui.viz``)."""
CONFIG_ENV = "GSOMIA_UI_CONFIG"
"""The scenario file ``--config`` names, for the page (``gsomia_ui.scenarios``)."""
REQUIRED_ASSETS = (
    "@widgetti/solara-vuetify-app@*",
    "requirejs@*",
    "font-awesome@*",
    "@widgetti/vue-grid-layout@*",
)
"""Packages every page of the app asks the proxy for (docs/ui-offline.md, "The assets")."""


def app_path() -> Path:
    """``app.py``: the source tree's (a clone, an editable install) or the copy a wheel
    installs beside the shipped configs (``share/gsomia/``), which it reads as its
    ``configs/``."""
    source = REPO / "app.py"
    if source.is_file():
        return source
    from model.config import data_dir

    return data_dir().parent / "app.py"


def missing_assets(directory: Path) -> list[str]:
    """The required asset packages (glob patterns) not present in ``directory``."""
    if not directory.is_dir():
        return list(REQUIRED_ASSETS)
    return [pattern for pattern in REQUIRED_ASSETS if not any(directory.glob(pattern))]


def ui_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment: ``base`` (default: ours) with the asset cache directory
    (``<repo>/.solara-assets`` unless already set, made absolute) and telemetry off."""
    env = dict(os.environ if base is None else base)
    env[ASSETS_ENV] = str(Path(env.get(ASSETS_ENV) or ASSETS_DIR).resolve())
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    return env


def solara_command(host: str, port: int, mesa: bool = False) -> list[str]:
    """The ``solara run`` command line for the app (``mesa``: the SolaraViz page)."""
    exe = Path(sys.executable).with_name("solara")
    prefix = [str(exe)] if exe.exists() else [sys.executable, "-m", "solara"]
    return [
        *prefix,
        "run",
        MESA_PAGE if mesa else str(app_path()),
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
        "--production",
    ]


def scenario_file(ref: str) -> Path:
    """``--config``: a scenario file (or a shipped scenario's name), checked as ``gsomia
    run`` checks it; ConfigError naming the file, key and what is allowed."""
    from model.config import list_scenarios, load_config, resolve_path

    path = resolve_path(ref, "scenario", list_scenarios(), "--config").resolve()
    load_config(path)
    return path


def cli_ui(args: argparse.Namespace) -> int:
    """Run the Solara server in the foreground until it stops; the exit status.

    ``args.host`` (default 127.0.0.1), ``args.port``, ``args.config`` (a scenario file
    the page opens first) and ``args.mesa`` (serve the SolaraViz page). Exits 2 with a
    message when the offline assets are missing or the config is invalid.
    """
    from model.parameters import ConfigError

    port = getattr(args, "port", None)
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"--port: invalid value {port!r}; allowed: an integer from 1 to 65535")
    config = getattr(args, "config", None)
    scenario = scenario_file(config) if config is not None else None
    env = ui_env()
    if scenario is not None:
        env[CONFIG_ENV] = str(scenario)
    assets = Path(env[ASSETS_ENV])
    missing = missing_assets(assets)
    if missing:
        print(
            f"gsomia ui: error: the offline UI assets are missing from {assets} "
            f"({', '.join(missing)}); run `make ui-assets` (or set {ASSETS_ENV} to a "
            "directory holding them). See docs/ui-offline.md.",
            file=sys.stderr,
        )
        return EXIT_MISSING_ASSETS
    app = app_path()
    if not app.is_file():
        print(f"gsomia ui: error: the UI app is missing ({app}); reinstall gsomia", file=sys.stderr)
        return EXIT_MISSING_ASSETS
    host = getattr(args, "host", None) or "127.0.0.1"
    port = int(getattr(args, "port", None) or 8765)
    mesa = bool(getattr(args, "mesa", False))
    cmd = solara_command(host, port, mesa)
    page = "Mesa's SolaraViz page" if mesa else "the page"
    print(f"gsomia ui: serving {page} at http://{host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
    with subprocess.Popen(cmd, cwd=app.parent, env=env) as proc:
        # A SIGTERM/SIGHUP to `gsomia ui` stops the server too (Ctrl-C reaches both).
        previous = {}
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                previous[sig] = signal.signal(sig, lambda signum, _frame: proc.send_signal(signum))
            except ValueError:  # not the main thread: leave the handlers alone
                break
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            try:
                return proc.wait(timeout=10) or 130
            except subprocess.TimeoutExpired:
                proc.kill()
                return 130
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
