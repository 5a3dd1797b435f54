"""Waits on another process end (issue 23, class 4): a Dask scheduler without workers, at the
start or later, and a scheduler killed mid-fit stop the command with a message naming the
scheduler, instead of waiting forever or a bare "FutureCancelledError ... reason: unknown".
Every scheduler and worker here listens on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

import experiments.backends as backends
from experiments.boundary import Failed

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "fixtures" / "tiny_targets.toml"
SMOKE = REPO / "configs" / "sweeps" / "smoke.toml"
DASK = Path(sys.executable).with_name("dask")
LOOPBACK_HTTP = ["--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
"""Dask's HTTP server (health, metrics) binds every interface unless told otherwise."""
GSOMIA_PATCHED = textwrap.dedent(
    """
    import sys
    import experiments.backends as b
    b.DASK_NO_WORKERS_S = float(sys.argv[1])
    from experiments.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def dask_process(*args: str):
    proc = subprocess.Popen(
        [str(DASK), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@contextlib.contextmanager
def scheduler():
    port = free_port()
    args = ["scheduler", "--host", "127.0.0.1", "--port", str(port), *LOOPBACK_HTTP]
    with dask_process(*args) as proc:
        deadline = time.monotonic() + 60
        while not listening(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert listening(port), "the test's scheduler did not start"
        yield f"tcp://127.0.0.1:{port}", proc


def worker(address: str):
    args = ["worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1"]
    return dask_process(*args, *LOOPBACK_HTTP)


def gsomia(no_workers_s: float, *argv) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", GSOMIA_PATCHED, str(no_workers_s), *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def finish(proc: subprocess.Popen, timeout: float = 90) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"still waiting after {timeout} s: {err[-2000:]}")
    return proc.returncode, err


@pytest.mark.parametrize("command", ["sweep", "fit"])
def test_a_scheduler_without_workers_is_named_within_the_timeout(command, tmp_path):
    out = tmp_path / "out"
    spec = {"sweep": SMOKE, "fit": TINY}[command]
    with scheduler() as (address, _):
        t0 = time.monotonic()
        proc = gsomia(2, command, spec, "--out", out, "--backend", "dask", "--scheduler", address)
        code, err = finish(proc)
        elapsed = time.monotonic() - t0
    assert code == 1, err
    assert f"the Dask scheduler at '{address}' has no workers" in err
    assert f"dask worker {address}" in err and "Traceback" not in err
    assert elapsed < 60
    assert not out.exists()  # nothing was written


def in_thread(fn, timeout: float = 60):
    """Run ``fn`` in a thread; its exception (or a failure if it is still waiting)."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"still waiting after {timeout} s")
    return box.get("error")


@pytest.fixture
def no_worker_client(monkeypatch):
    from distributed import Client, LocalCluster

    monkeypatch.setattr(backends, "DASK_NO_WORKERS_S", 1.0)
    monkeypatch.setattr(backends, "DASK_POLL_S", 0.2)
    cluster = LocalCluster(
        n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None
    )
    client = Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_sweep_results_stop_waiting_when_the_scheduler_has_no_workers(no_worker_client):
    error = in_thread(
        lambda: list(backends.imap_dask(time.sleep, iter([0.01] * 4), no_worker_client))
    )
    assert isinstance(error, Failed)
    assert "has had no workers for 1 s" in str(error)
    assert no_worker_client.scheduler.address in str(error) and "--resume" in str(error)


def test_fit_map_stops_waiting_when_the_scheduler_has_no_workers(no_worker_client):
    from experiments.fit_sampler import dask_map

    map_ = dask_map(no_worker_client)
    error = in_thread(lambda: list(map_(time.sleep, [0.01] * 3)))
    assert isinstance(error, Failed)
    assert "has had no workers for 1 s" in str(error) and "--resume" in str(error)


def test_a_worker_lost_mid_fit_stops_it_naming_the_scheduler(tmp_path):
    out = tmp_path / "out"
    with scheduler() as (address, _), worker(address) as w:
        proc = gsomia(3, "fit", TINY, "--out", out, "--backend", "dask", "--scheduler", address)
        deadline = time.monotonic() + 90
        while not (out / "fit.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        w.send_signal(signal.SIGKILL)
        code, err = finish(proc)
    assert code == 1, err
    assert f"the Dask scheduler at {address} has had no workers for 3 s" in err
    assert "--resume" in err and "Traceback" not in err


def test_a_scheduler_killed_mid_fit_is_named(tmp_path):
    out = tmp_path / "out"
    with scheduler() as (address, sched), worker(address):
        proc = gsomia(30, "fit", TINY, "--out", out, "--backend", "dask", "--scheduler", address)
        deadline = time.monotonic() + 90
        while not (out / "fit.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(sched.pid, signal.SIGKILL)
        code, err = finish(proc)
    assert code == 1, err
    assert f"lost the Dask scheduler at {address}" in err
    assert "--resume" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("gsomia fit")]) == 1
    assert err.strip().splitlines()[-1].startswith("gsomia fit: failed: lost the Dask")
