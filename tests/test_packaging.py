"""gsomia installs as a wheel and runs from an empty directory: the shipped scenarios, sweep
specs and the UI app come with it (issue 11, "Packaging").

The wheel is built from this tree and installed (without dependencies, no network) into a
fresh venv that sees this environment's installed dependencies through a path entry, so
the test needs neither the network nor a second copy of numpy, Mesa and friends.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from model.version import __version__

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert res.returncode == 0, f"{cmd}\n{res.stdout}\n{res.stderr}"
    return res


# Built from a copy of the tree: setuptools builds in the source tree's build/, which the
# editable install and any concurrent build (another test worker) also use.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".venv-cff",
    "_build",
    "build",
    "dist",
    "mutants",
    "results",
    ".solara-assets",
    "*.egg-info",
    "__pycache__",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
    "*.so",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "gsomia"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(dist),
            str(source),
        ],
        cwd=dist,
    )
    (found,) = dist.glob("gsomia-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel; returns its bin/ folder."""
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    fresh_python = venv / "bin" / "python"
    purelib = _run(
        [str(fresh_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    # Dependencies from this environment; a plain path entry (its .pth files, such as the
    # editable install of gsomia itself, are not processed).
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(fresh_python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ]
    )
    return venv / "bin"


def test_wheel_carries_the_models_version_and_license(wheel):
    """The wheel's version is model/version.py's (pyproject reads it), and it ships the
    Apache-2.0 license its metadata declares."""
    assert wheel.name.startswith(f"gsomia-{__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    info = next(n for n in names if n.endswith(".dist-info/METADATA"))
    metadata = zipfile.ZipFile(wheel).read(info).decode()
    assert f"\nVersion: {__version__}\n" in metadata
    assert "\nLicense-Expression: Apache-2.0\n" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_wheel_holds_the_shipped_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    data = [n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n]
    assert "share/gsomia/app.py" in data
    for module in ("page", "components", "viz", "panels/run", "panels/ensemble"):
        assert f"gsomia_ui/{module}.py" in names
    for f in ("baseline_2019.toml", "timeline_2019.csv", "sweeps/smoke.toml", "targets/README.md"):
        assert f"share/gsomia/configs/{f}" in data


def _in_empty_dir(tmp_path, bin_dir, *args, **kw):
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


def test_installed_commands_run_from_an_empty_directory(installed, tmp_path):
    res = _in_empty_dir(tmp_path, installed, "gsomia", "--version")
    assert res.returncode == 0 and res.stdout.strip() == f"gsomia {__version__}"
    res = _in_empty_dir(tmp_path, installed, "gsomia", "scenarios")
    assert res.returncode == 0 and "baseline_2019" in res.stdout and "smoke" in res.stdout
    res = _in_empty_dir(
        tmp_path, installed, "gsomia", "run", "--set", "end=2019-02-28", "--set", "n_citizens=50"
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("baseline_2019: seed 0, 2018-10 to 2019-02")
    res = _in_empty_dir(tmp_path, installed, "gsomia", "run", "--config", "china_pull", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["parameters"]["name"] == "china_pull"
    assert json.loads(res.stdout)["version"] == __version__
    res = _in_empty_dir(
        tmp_path, installed, "gsomia", "sweep", "smoke", "--out", "s", "--workers", "1"
    )
    assert res.returncode == 0, res.stderr
    assert "8 runs (8 ok, 0 error)" in res.stdout
    assert (tmp_path / "empty" / "s" / "runs.parquet").is_file()


def test_installed_api_loads_a_shipped_scenario_from_the_wheel(installed, tmp_path):
    code = (
        "import model, sys\n"
        "from model import GSOMIAModel\n"
        "m = GSOMIAModel.from_config('baseline_2019', rng=2, n_citizens=50)\n"
        "print(model.__file__)\n"
        "print(m.start, len(m.exogenous) if hasattr(m, 'exogenous') else '')\n"
    )
    res = _in_empty_dir(tmp_path, installed, "python", "-c", code)
    assert res.returncode == 0, res.stderr
    assert str(installed.parent) in res.stdout.splitlines()[0]  # the wheel's copy, not the tree
    assert res.stdout.splitlines()[1].startswith("2018-10-01")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(
    not (REPO / ".solara-assets").is_dir(), reason="offline UI assets not fetched (make ui-assets)"
)
def test_installed_ui_serves_the_app(installed, tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(REPO / ".solara-assets")
    # The Jupyter config the UI dependencies install into their prefix (a real install of
    # the wheel with its [ui] extra puts it in the fresh venv; the path entry does not).
    env["JUPYTER_CONFIG_PATH"] = str(Path(sys.prefix) / "etc" / "jupyter")
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.Popen(
        [str(installed / "gsomia"), "ui", "--port", str(port)],
        cwd=empty,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(1)
        assert "solara" in body.lower(), proc.stdout.read() if proc.poll() is not None else body
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
