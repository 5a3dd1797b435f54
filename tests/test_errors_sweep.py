"""Sweep faults (issue 11): a second writer, a killed parent, SIGTERM, a full disk, damaged
chunks, a long design, too many workers, an unreachable Dask scheduler, runs that all fail.
Finished runs are never lost or doubled, and a resume completes the sweep."""

from __future__ import annotations

import atexit
import contextlib
import errno
import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import experiments.runner as runner
from experiments.boundary import Failed
from experiments.cli import main
from experiments.runner import run_sweep
from experiments.spec import load_spec
from experiments.storage import chunk_path, merge_chunks, writer_lock

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "configs" / "sweeps" / "smoke.toml"
GSOMIA = [sys.executable, "-m", "experiments.cli"]


def _fast_smoke(folder: Path) -> Path:
    """The smoke spec (8 runs, chunks of 1) on a shorter horizon and a smaller public."""
    text = SMOKE.read_text().replace('"../baseline_2019.toml"', '"baseline_2019"')
    text = text.replace("n_citizens = 300", "n_citizens = 50\nend = 2019-03-31")
    path = folder / "smoke.toml"
    path.write_text(text)
    return path


_FAST_DIR = tempfile.mkdtemp(prefix="gsomia-fast-smoke-")
atexit.register(shutil.rmtree, _FAST_DIR, True)
FAST = _fast_smoke(Path(_FAST_DIR))


def run_cli(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_ids(out: Path) -> list[int]:
    return pq.read_table(out / "runs.parquet", columns=["run_id"]).column("run_id").to_pylist()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "smoke"
    run_sweep(FAST, out=out, workers=1, progress=False)
    return pq.read_table(out / "runs.parquet")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def wait_until(cond, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


# ---- lock ---------------------------------------------------------------------------------
def test_second_writer_is_refused_while_the_first_runs(tmp_path, capsys):
    out = tmp_path / "out"
    with writer_lock(out):
        code, _, err = run_cli(["sweep", FAST, "--out", out, "--workers", "1"], capsys)
        assert code == 1
        assert "another gsomia sweep" in err and f"pid {os.getpid()}" in err
        assert "Traceback" not in err
        assert not (out / "meta.json").exists()


def test_stale_lock_of_a_dead_process_does_not_block(tmp_path, reference, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text("999999\n")  # left by a writer that was kill -9ed
    code, _, err = run_cli(["sweep", FAST, "--out", out, "--workers", "1"], capsys)
    assert code == 0, err
    assert pq.read_table(out / "runs.parquet").equals(reference)


# ---- full disk ------------------------------------------------------------------------------
def test_full_disk_one_message_nothing_lost_resume_completes(
    tmp_path, reference, capsys, monkeypatch
):
    out = tmp_path / "out"
    real = runner.write_table_atomic
    writes = []

    def fill_up(table, path):
        writes.append(path)
        if len(writes) == 4:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(table, path)

    monkeypatch.setattr(runner, "write_table_atomic", fill_up)
    code, _, err = run_cli(["sweep", FAST, "--out", out, "--workers", "1"], capsys)
    assert code == 1
    messages = [line for line in err.splitlines() if not line.startswith("sweep smoke: ")]
    assert len(messages) == 1, err  # one line besides the progress lines
    assert "no space left on the device" in err and "--resume" in err
    assert "Traceback" not in err
    kept = sorted(p.name for p in (out / "chunks").iterdir())
    assert kept == [chunk_path(out, c).name for c in range(3)]
    monkeypatch.undo()
    code, _, err = run_cli(["sweep", FAST, "--out", out, "--workers", "1", "--resume"], capsys)
    assert code == 0, err
    assert pq.read_table(out / "runs.parquet").equals(reference)


# ---- chunk coverage -------------------------------------------------------------------------
def _interrupted(out: Path, monkeypatch, after: int) -> None:
    real = runner.write_table_atomic
    writes = []

    def stop(table, path):
        real(table, path)
        writes.append(path)
        if len(writes) == after:
            raise KeyboardInterrupt

    monkeypatch.setattr(runner, "write_table_atomic", stop)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(FAST, out=out, workers=1, progress=False)
    monkeypatch.undo()


def test_resume_recomputes_a_chunk_replaced_by_its_neighbour(tmp_path, reference, monkeypatch):
    out = tmp_path / "out"
    _interrupted(out, monkeypatch, after=4)
    shutil.copy(chunk_path(out, 1), chunk_path(out, 2))  # duplicated ids 2, missing id 2
    run_sweep(FAST, out=out, workers=1, progress=False, resume=True)
    assert run_ids(out) == list(range(8))
    assert pq.read_table(out / "runs.parquet").equals(reference)


def test_merge_refuses_chunks_that_do_not_cover_every_run_once(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _interrupted(out, monkeypatch, after=8)  # every chunk written, merge not reached
    shutil.copy(chunk_path(out, 5), chunk_path(out, 6))
    spec = load_spec(FAST)
    with pytest.raises(Failed, match=r"part-00006.*run ids 5\.\.5.*--resume"):
        merge_chunks(out, spec, 8, 1, 8)
    assert not chunk_path(out, 6).exists()  # removed, so a resume recomputes it
    assert not (out / "runs.parquet").exists()


# ---- long designs, too many workers, all runs failing ---------------------------------------
def test_long_sweep_needs_yes_off_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "estimate_seconds", lambda spec, runs, workers: 7200.0 * 24)
    spec = tmp_path / "big.toml"
    spec.write_text(
        FAST.read_text().replace("replications = 2", "replications = 50")
    )  # 200 runs: large enough to be estimated
    code, _, err = run_cli(["sweep", spec, "--out", tmp_path / "out"], capsys)
    assert code == 2
    assert "estimated 2.0 days" in err and "--yes" in err
    assert not (tmp_path / "out").exists()


def test_workers_above_the_core_count_warn(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "default_workers", lambda: 1)
    code, _, err = run_cli(["sweep", FAST, "--out", tmp_path / "out", "--workers", "2"], capsys)
    assert code == 0
    assert "warning: --workers 2 is more than the 1 cores" in err


def test_a_sweep_whose_runs_all_failed_exits_1(tmp_path, capsys, monkeypatch):
    from model import GSOMIAModel

    def boom(self):
        raise RuntimeError("every run breaks")

    monkeypatch.setattr(GSOMIAModel, "run", boom)
    code, out, err = run_cli(["sweep", FAST, "--out", tmp_path / "out", "--workers", "1"], capsys)
    assert code == 1
    assert "every one of the 8 runs failed" in err
    assert "0 ok, 8 error" in out  # the runs are still recorded


# ---- signals and dead parents ---------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


@pytest.mark.slow
def test_pool_workers_exit_when_the_parent_is_killed(tmp_path):
    script = textwrap.dedent(
        """
        import sys, time
        from experiments.backends import process_pool
        pool = process_pool(2)
        futures = [pool.submit(time.sleep, 60) for _ in range(2)]
        time.sleep(2)
        print("ready", flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        workers = _children(proc.pid)
        assert workers  # the pool's processes (and the resource tracker)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert wait_until(lambda: not any(pid_alive(p) for p in workers), 15), workers
    finally:
        proc.kill()


@pytest.mark.slow
def test_sigterm_stops_a_sweep_with_a_message_and_resume_completes(tmp_path):
    out = tmp_path / "out"
    spec = tmp_path / "longer.toml"  # 48 runs: still running when the signal comes
    spec.write_text(FAST.read_text().replace("replications = 2", "replications = 12"))
    reference = tmp_path / "reference"
    run_sweep(spec, out=reference, workers=1, progress=False)
    proc = subprocess.Popen(
        [*GSOMIA, "sweep", str(spec), "--out", str(out), "--workers", "2"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert wait_until(lambda: (out / "chunks").is_dir() and any((out / "chunks").iterdir()), 60)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "--resume" in err
    assert "Traceback" not in err
    assert wait_until(lambda: not any(pid_alive(p) for p in workers), 15)
    code = subprocess.run(
        [*GSOMIA, "sweep", str(spec), "--out", str(out), "--workers", "1", "--resume"],
        cwd=REPO,
        capture_output=True,
    ).returncode
    assert code == 0
    assert pq.read_table(out / "runs.parquet").equals(pq.read_table(reference / "runs.parquet"))


# ---- Dask scheduler connection (loopback only) ----------------------------------------------
def _silent_listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    return sock


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _garbage_listener():
    """Accepts and answers every connection with bytes that are no Dask message (a length
    prefix of exbibytes, once a MemoryError in the client)."""
    sock = _silent_listener()

    def serve():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with contextlib.suppress(OSError):
                conn.sendall(b"\xff" * 64)
            conns.append(conn)

    conns: list[socket.socket] = []
    threading.Thread(target=serve, daemon=True).start()
    return sock


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["silent_listener", "garbage_listener", "closed_port"])
def test_unreachable_scheduler_fails_within_the_timeout(kind, tmp_path):
    pytest.importorskip("distributed")
    make = {"silent_listener": _silent_listener, "garbage_listener": _garbage_listener}
    sock = make[kind]() if kind in make else None
    port = sock.getsockname()[1] if sock else _closed_port()
    try:
        t0 = time.monotonic()
        res = subprocess.run(
            [
                *GSOMIA,
                "sweep",
                str(FAST),
                "--out",
                str(tmp_path / "out"),
                "--backend",
                "dask",
                "--scheduler",
                f"tcp://127.0.0.1:{port}",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        elapsed = time.monotonic() - t0
    finally:
        if sock:
            sock.close()
    assert res.returncode == 1, res.stderr
    assert "cannot reach a Dask scheduler" in res.stderr
    assert "Traceback" not in res.stderr and "__del__" not in res.stderr, res.stderr
    assert elapsed < 60
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "dask"])
def test_ctrl_c_to_the_process_group_prints_one_line_and_no_worker_traceback(backend, tmp_path):
    if backend == "dask":
        pytest.importorskip("distributed")
    out = tmp_path / "out"
    spec = tmp_path / "longer.toml"
    spec.write_text(FAST.read_text().replace("replications = 2", "replications = 12"))
    proc = subprocess.Popen(
        [*GSOMIA, "sweep", str(spec), "--out", str(out), "--workers", "2", "--backend", backend],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert wait_until(lambda: (out / "chunks").is_dir() and any((out / "chunks").iterdir()), 90)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "interrupted" in err and "--resume" in err
    res = subprocess.run(
        [*GSOMIA, "sweep", str(spec), "--out", str(out), "--workers", "1", "--resume"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert run_ids(out) == list(range(48))


# ---- the forked pool ---------------------------------------------------------------------------
def _open_files() -> set[str]:
    """The files this process has open (Linux)."""
    folder = Path("/proc/self/fd")
    out = set()
    for entry in folder.iterdir():
        with contextlib.suppress(OSError):
            out.add(os.readlink(entry))
    return out


def test_pools_fork_only_while_no_other_thread_runs():
    from experiments.backends import start_method

    fresh = subprocess.run(  # a process of its own: no thread an earlier test left
        [sys.executable, "-c", "from experiments.backends import start_method as s; print(s())"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert fresh.stdout.strip() == ("fork" if sys.platform == "linux" else "spawn")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert start_method() == "spawn"
    finally:
        stop.set()
        thread.join()


@pytest.mark.skipif(sys.platform != "linux", reason="the pool forks on Linux only")
def test_a_forked_worker_holds_no_writer_lock_and_the_parents_objects_frozen(tmp_path):
    """The writer lock's descriptor is closed in the forked workers: the lock is the
    parent's alone and goes with it, not with the last worker."""
    from experiments import storage
    from experiments.backends import _stop_pool, process_pool

    lock = str((tmp_path / "out" / storage.LOCK_NAME).resolve())
    frozen = gc.get_freeze_count() > 0  # objects another part of this process froze
    with writer_lock(tmp_path / "out"):
        assert lock in _open_files()
        pool = process_pool(2)
        try:
            for _ in range(4):
                assert lock not in pool.submit(_open_files).result(timeout=60)
            # the parent's objects were frozen for the fork (kept out of the workers'
            # collections, so their pages stay shared), and are as they were here
            assert pool.submit(gc.get_freeze_count).result(timeout=60) > 0
            assert (gc.get_freeze_count() > 0) == frozen
        finally:
            _stop_pool(pool)


@pytest.mark.skipif(sys.platform != "linux", reason="the pool forks on Linux only")
def test_a_forked_worker_ends_on_sigterm_under_the_clis_handler():
    """The CLI turns SIGTERM into an exception; a forked worker inherits that handler and
    must drop it, or terminating the pool would only interrupt the worker's run."""
    import concurrent.futures as cf

    from experiments.backends import _stop_pool, process_pool
    from experiments.boundary import termination_as_interrupt

    with termination_as_interrupt():
        before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        pool = process_pool(1)
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before  # nothing left blocked
        try:
            future = pool.submit(time.sleep, 60)
            (proc,) = pool._processes.values()
            wait_until(future.running, 30)
            proc.terminate()
            proc.join(timeout=10)
            assert proc.exitcode == -signal.SIGTERM
            with pytest.raises(cf.process.BrokenProcessPool):
                future.result(timeout=30)
        finally:
            _stop_pool(pool)


@pytest.mark.skipif(sys.platform != "linux", reason="the pool forks on Linux only")
def test_a_pool_leaves_objects_frozen_elsewhere_frozen():
    """A process that froze its objects itself (a Solara server does) keeps them frozen
    after a pool forks its workers."""
    from experiments.backends import _stop_pool, process_pool

    gc.freeze()
    try:
        pool = process_pool(1)
        _stop_pool(pool)
        assert gc.get_freeze_count() > 0  # (frozen objects freed meanwhile leave the count)
    finally:
        gc.unfreeze()


def test_a_progress_bar_starts_no_thread_that_would_stop_the_pool_forking(monkeypatch):
    """tqdm's monitor thread outlives its bar: on a terminal the sweep's bar would turn
    every later pool into a spawning one (``start_method``)."""
    from experiments.progress import Progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    before = set(threading.enumerate())
    bar = Progress(10, 0, None, "test")
    try:
        bar.update(3)
        assert bar.bar is not None and set(threading.enumerate()) == before
    finally:
        bar.close()
