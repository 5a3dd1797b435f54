"""``gsomia ui``: serve the browser UI (``app.py``, the package ``gsomia_ui``) with offline
assets; ``--mesa`` serves the same panels in Mesa's SolaraViz (``gsomia_ui.viz``), and
``--config PATH`` opens any scenario file first.

Solara's page loads its JavaScript and CSS through Solara's CDN proxy; on these machines
that proxy must read them from a local directory (``make ui-assets`` fetches them from the
npm registry into ``.solara-assets``; see docs/ui-offline.md). Telemetry is switched off.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import os
import signal
import socket
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


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback interface only (127.0.0.0/8, ::1,
    localhost): a server there is not reachable from the network."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: loopback when every address it resolves to is
        try:
            infos = socket.getaddrinfo(host, None)
        except (OSError, UnicodeError):
            return False
        return bool(infos) and all(
            ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos
        )


def check_port(host: str, port: int) -> None:
    """Refuse a host this machine cannot serve on (exit 2) and a port already in use
    (``Failed``, exit 1) before the server starts: a bind with ``SO_REUSEADDR``, as the
    server (uvicorn) binds."""
    from experiments.boundary import Failed
    from model.parameters import ConfigError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ConfigError(
            f"--host: invalid value {host!r} ({exc}); allowed: an address of this machine "
            "(127.0.0.1, the default; 0.0.0.0 for every interface)"
        ) from exc
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise Failed(
                    f"port {port} on {host} is in use (another server, perhaps another "
                    "gsomia ui); stop it or choose another --port"
                ) from exc
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(
                    f"--host: invalid value {host!r} (not an address of this machine); "
                    "allowed: an address of this machine (127.0.0.1, the default; 0.0.0.0 "
                    "for every interface)"
                ) from exc
            raise


STOP_TIMEOUT_S = 10
"""Seconds the server has to stop after a signal before it is killed."""


def _stop(proc: subprocess.Popen, signum: int) -> None:
    """Pass ``signum`` on to the server and wait for it to stop; kill it after
    STOP_TIMEOUT_S. A Ctrl-C at a terminal reached the server too: it gets a moment to stop
    on that one before it is sent another (a second Ctrl-C makes it skip its clean-up)."""
    if signum == signal.SIGINT:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1)
    if proc.poll() is None:
        proc.send_signal(signum)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cli_ui(args: argparse.Namespace) -> int:
    """Run the Solara server in the foreground until it stops; the exit status.

    ``args.host`` (default 127.0.0.1), ``args.port``, ``args.config`` (a scenario file
    the page opens first) and ``args.mesa`` (serve the SolaraViz page). Exits 2 with a
    message when the offline assets are missing, or the config, port or host is invalid;
    1 when the port is in use or the server stops on its own with an error; Ctrl-C,
    SIGTERM and SIGHUP stop the server and exit 130, 143 and 129 (whatever status the
    server's own shutdown gives). A host other than loopback is served with a warning.
    """
    from experiments.boundary import Failed, Terminated, termination_as_interrupt
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
    check_port(host, port)
    if not is_loopback(host):
        print(
            f"gsomia ui: warning: --host {host} serves beyond this machine: the page, and "
            "the model it runs on this machine's processors, are open to anyone on the "
            f"network who can reach port {port}; use --host 127.0.0.1 (the default) to keep "
            "it local",
            file=sys.stderr,
        )
    mesa = bool(getattr(args, "mesa", False))
    cmd = solara_command(host, port, mesa)
    page = "Mesa's SolaraViz page" if mesa else "the page"
    print(f"gsomia ui: serving {page} at http://{host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
    with termination_as_interrupt():
        proc: subprocess.Popen | None = None
        try:
            proc = subprocess.Popen(cmd, cwd=app.parent, env=env)
            status = proc.wait()
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP as Terminated
            # (also one that lands between the server's start and the wait: it is stopped)
            if proc is not None:
                _stop(proc, exc.signum if isinstance(exc, Terminated) else signal.SIGINT)
            raise
    if status != 0:
        why = f"signal {-status}" if status < 0 else f"status {status}"
        raise Failed(
            f"the Solara server stopped on its own ({why}; its messages are above); fix the "
            "cause and run `gsomia ui` again"
        )
    return 0
