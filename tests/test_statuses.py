"""Exit statuses and messages (issue 23, class 5): a pool that gives up, ``gsomia ui``'s port,
host and signals, ``--out`` a dangling link, configs with a byte-order mark, and inputs that
are not regular files or are too large (class 4: they blocked or ran out of memory)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from experiments import serve
from experiments.backends import SweepAborted, imap_pool
from experiments.cli import main
from model import GSOMIAModel
from model.config import MAX_INPUT_BYTES

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
TINY_TARGETS = Path(__file__).parent / "fixtures" / "tiny_targets.toml"
GSOMIA = [sys.executable, "-m", "experiments.cli"]


def run_cli(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---- a pool whose workers keep dying -------------------------------------------------------
def test_a_pool_that_gives_up_says_a_worker_died_not_attribute_error():
    """Every item kills its worker (``os._exit``): the pool is restarted twice, then the
    documented message; ``_stop_pool`` used to read the shut-down pool's ``_processes``
    (None) and raise AttributeError instead."""
    with pytest.raises(SweepAborted, match="a worker process died 3 times"):
        list(imap_pool(os._exit, iter([3] * 8), 1))


# ---- configs: byte-order mark, FIFO, device, size ---------------------------------------------
def test_a_config_with_a_utf8_byte_order_mark_is_read_as_without(tmp_path, capsys):
    text = (CONFIGS / "baseline_2019.toml").read_text()
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    plain = tmp_path / "plain.toml"
    plain.write_text(text)
    assert GSOMIAModel.from_config(bom).parameters == GSOMIAModel.from_config(plain).parameters
    code, out, err = run_cli(["run", "--config", bom, "--set", "end=2018-12-31"], capsys)
    assert code == 0, err
    assert "outcome:" in out


def test_a_timeline_with_a_byte_order_mark_is_read_as_without(tmp_path):
    from experiments.calibration import DEFAULT_TIMELINE, read_timeline

    bom = tmp_path / "timeline.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + DEFAULT_TIMELINE.read_bytes())
    assert read_timeline(bom) == read_timeline(DEFAULT_TIMELINE)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "config.toml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--config", "{fifo}"],
        ["run", "--config", "/dev/zero"],
        ["calibrate", "--seeds", "1", "--timeline", "{fifo}"],
        ["sweep", "/dev/zero"],
    ],
    ids=["config_fifo", "config_dev_zero", "timeline_fifo", "spec_dev_zero"],
)
def test_an_input_that_is_not_a_regular_file_exits_2_at_once(argv, fifo):
    """A FIFO blocked forever and /dev/zero was read until memory ran out: both are
    refused, naming the file (in a subprocess, so a regression times out, not hangs)."""
    named = str(fifo) if "{fifo}" in argv else "/dev/zero"
    argv = [a.format(fifo=fifo) for a in argv]
    res = subprocess.run([*GSOMIA, *argv], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert named in res.stderr and "not a regular file" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("command", ["run", "sweep", "fit", "calibrate"])
def test_an_input_over_the_size_limit_exits_2_naming_the_limit(command, tmp_path, capsys):
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * MAX_INPUT_BYTES + "\n")
    argv = {
        "run": ["run", "--config", big],
        "sweep": ["sweep", big, "--out", tmp_path / "out"],
        "fit": ["fit", big, "--out", tmp_path / "out"],
        "calibrate": ["calibrate", "--seeds", "1", "--timeline", big],
    }[command]
    code, _, err = run_cli(argv, capsys)
    assert code == 2, err
    assert str(big) in err and "too large" in err and str(MAX_INPUT_BYTES) in err
    assert not (tmp_path / "out").exists()


# ---- --out a symbolic link to nothing ----------------------------------------------------------
@pytest.mark.parametrize("command", ["run", "sweep", "fit"])
def test_out_a_dangling_symlink_is_named_as_such(command, tmp_path, capsys):
    link = tmp_path / "results"
    link.symlink_to(tmp_path / "gone" / "results")
    argv = {
        "run": ["run", "--out", link, "--set", "end=2018-12-31"],
        "sweep": ["sweep", CONFIGS / "sweeps" / "smoke.toml", "--out", link],
        "fit": ["fit", TINY_TARGETS, "--out", link],
    }[command]
    code, _, err = run_cli(argv, capsys)
    assert code == 2, err
    assert f"--out: {link} is a symbolic link to {tmp_path / 'gone' / 'results'}" in err
    assert "does not exist" in err and "File exists" not in err and "--resume" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_out_under_a_file_is_bad_input(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(["run", "--out", tmp_path / "file" / "out"], capsys)
    assert code == 2 and f"{tmp_path / 'file'} (in {tmp_path / 'file' / 'out'})" in err


# ---- gsomia ui -----------------------------------------------------------------------------------
@pytest.fixture
def assets(tmp_path, monkeypatch):
    """A stand-in for the offline assets (the check only looks for the package folders)."""
    folder = tmp_path / "assets"
    for pattern in serve.REQUIRED_ASSETS:
        (folder / pattern.replace("*", "1.0.0")).mkdir(parents=True)
    monkeypatch.setenv(serve.ASSETS_ENV, str(folder))
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ui_port_in_use_exits_1_before_serving(assets, capsys, monkeypatch):
    def no_server(*args, **kwargs):
        raise AssertionError("the server must not start")

    monkeypatch.setattr(serve.subprocess, "Popen", no_server)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run_cli(["ui", "--port", port], capsys)
    assert code == 1, err
    assert f"port {port} on 127.0.0.1 is in use" in err and "--port" in err
    assert "serving" not in err and "Traceback" not in err


def test_ui_host_not_of_this_machine_exits_2(assets, capsys, monkeypatch):
    monkeypatch.setattr(
        serve, "solara_command", lambda h, p, mesa=False: pytest.fail("must not start")
    )
    code, _, err = run_cli(["ui", "--host", "no-such-host.invalid", "--port", "8765"], capsys)
    assert code == 2 and "--host: invalid value 'no-such-host.invalid'" in err


@pytest.mark.parametrize(
    ("host", "warned"),
    [("127.0.0.1", False), ("localhost", False), ("::1", False), ("0.0.0.0", True)],
)
def test_ui_warns_when_the_page_is_open_to_the_network(host, warned, assets, capsys, monkeypatch):
    monkeypatch.setattr(
        serve, "check_port", lambda h, p, mesa=False: None
    )  # no bind beyond loopback
    monkeypatch.setattr(
        serve, "solara_command", lambda h, p, mesa=False: [sys.executable, "-c", "pass"]
    )
    code, _, err = run_cli(["ui", "--host", host, "--port", "8765"], capsys)
    assert code == 0, err
    assert ("open to anyone on the network" in err) is warned
    assert ("warning" in err) is warned
    assert serve.is_loopback(host) is not warned


def test_ui_server_stopping_on_its_own_with_an_error_exits_1(assets, capsys, monkeypatch):
    """uvicorn exits 3 when it cannot start (a port taken between the check and its bind)."""
    monkeypatch.setattr(
        serve,
        "solara_command",
        lambda h, p, mesa=False: [sys.executable, "-c", "raise SystemExit(3)"],
    )
    code, _, err = run_cli(["ui", "--port", free_port()], capsys)
    assert code == 1
    assert "the Solara server stopped on its own (status 3" in err


FAKE_SERVER = textwrap.dedent(
    """
    import signal, sys, time
    # a server whose own shutdown gives odd statuses, as Solara's did (241, 255, 1)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(241))
    signal.signal(signal.SIGHUP, lambda *a: sys.exit(255))
    signal.signal(signal.SIGINT, lambda *a: sys.exit(1))
    open(sys.argv[1], "w").close()
    time.sleep(60)
    """
)

UI_WITH_FAKE_SERVER = textwrap.dedent(
    """
    import sys
    from experiments import serve
    from experiments.cli import main
    fake, ready = sys.argv[1], sys.argv[2]
    serve.solara_command = lambda host, port, mesa=False: [sys.executable, fake, ready]
    sys.exit(main(["ui", "--port", sys.argv[3]]))
    """
)


@pytest.mark.parametrize(
    ("signum", "status", "word"),
    [
        (signal.SIGTERM, 143, "terminated (SIGTERM)"),
        (signal.SIGHUP, 129, "terminated (SIGHUP)"),
        (signal.SIGINT, 130, "interrupted"),
    ],
    ids=["SIGTERM", "SIGHUP", "SIGINT"],
)
def test_ui_exit_status_is_the_signal_not_the_servers(signum, status, word, assets, tmp_path):
    fake = tmp_path / "fake_server.py"
    fake.write_text(FAKE_SERVER)
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", UI_WITH_FAKE_SERVER, str(fake), str(ready), str(free_port())],
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=os.environ | {"PYTHONPATH": str(REPO)},
        # SIGINT as a terminal's foreground job has it: a test worker may run with SIGINT
        # ignored, and a child that inherits that ignores the Ctrl-C this test sends (the
        # other Ctrl-C tests start their commands the same way)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), proc.stderr.read() if proc.poll() is not None else "no start"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == status, err
    assert f"gsomia ui: {word}" in err and "Traceback" not in err
