"""Where a sweep's chunks run: in this process, on a local process pool, or on Dask.

Each backend is ``imap(task, items) -> iterator of results`` (completion order). Workers
of the process pool watch their parent and exit when it is gone, whatever signal killed it
(``kill -9`` included), so a dead sweep leaves no process behind.

The pool forks its workers where that is safe (Linux, no other Python thread running):
a forked worker starts in milliseconds with everything the parent imported, where a
spawned one re-imports numpy, pandas, pyarrow, Mesa and the model (over a second each,
which was most of a small sweep's time). Elsewhere it spawns them.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from experiments.boundary import Failed
from model.parameters import ConfigError

BACKENDS = ("local", "dask")
SCHEDULER_TIMEOUT_S = 5
DASK_NO_WORKERS_S = 30.0
"""A Dask scheduler without a worker for this long (at the start or later) stops the
command: its tasks would wait forever."""
DASK_POLL_S = 1.0
"""How often a wait on Dask results checks that the scheduler answers and has workers."""
MAX_POOL_RESTARTS = 2
WATCHDOG_EVERY_S = 0.5


class SweepAborted(Failed):
    """The sweep stopped before the end (a dead worker, a lost cluster); finished chunks
    are on disk and ``--resume`` completes the rest."""


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# ---- worker watchdog ----------------------------------------------------------------------
def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)  # orphaned: the sweep is gone, so is our work
        time.sleep(WATCHDOG_EVERY_S)


HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Blocked while workers are forked, until each worker's initializer has set its own."""


def watchdog_initializer(parent: int) -> None:
    """Process-pool initializer: a daemon thread that ends this worker as soon as its
    parent ``parent`` is gone (re-parented: getppid changes), whatever killed the parent.
    Ctrl-C is left to the parent, which stops the pool (no traceback from every worker);
    SIGTERM and SIGHUP end the worker (a forked worker inherited the parent's handlers,
    which would raise inside a run instead). Then the signals the fork held are let in."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watchdog").start()


def start_method() -> str:
    """'fork' on Linux while this process runs no other Python thread (a thread holding a
    lock at the fork would leave it held in the child), else 'spawn'."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def process_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A process pool (forked where safe, see ``start_method``) whose workers die with us.

    Every worker is started here, with SIGINT ignored, so it inherits the ignored SIGINT
    from its first instant: a Ctrl-C while a worker is still importing the package (before
    its initializer runs) must not print that worker's traceback. A forked worker is
    started with SIGINT, SIGTERM and SIGHUP blocked and unblocks them in its initializer,
    once its handlers are its own; the parent's signals that arrive meanwhile wait and
    then reach the parent. A spawning pool starts workers on demand, one per submission
    while none is idle, and a forking one all at its first: ``workers`` no-op submissions
    start them all."""
    method = start_method()
    held = HELD_SIGNALS if method == "fork" else ()
    # exits in reverse: SIGINT's handler is back before the held signals pass
    with _blocked(held), _sigint_ignored(), _frozen(method == "fork"), warnings.catch_warnings():
        # Python 3.12 warns about a fork whenever the process has other OS threads; ours
        # are numpy's BLAS and Arrow's pools, which re-create theirs in a forked child
        # (start_method forks only when no other Python thread runs).
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(method),
            initializer=watchdog_initializer,
            initargs=(os.getpid(),),
        )
        for _ in range(workers):
            pool.submit(os.getpid)
    return pool


@contextlib.contextmanager
def _frozen(fork: bool) -> Iterator[None]:
    """While workers are forked, keep this process's objects out of garbage collection
    (``gc.freeze``): the workers' collectors then leave their pages shared instead of
    copying them (Python's ``gc`` documentation, on fork without exec). A process whose
    objects are frozen already (a Solara server freezes its start-up state) is left as
    it is: ``gc.unfreeze`` would release those too."""
    if not fork or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def _blocked(signals: tuple[signal.Signals, ...]) -> Iterator[None]:
    """Block ``signals`` in this thread while inside (pending ones arrive on exit)."""
    if not signals:
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# ---- backends -----------------------------------------------------------------------------
def imap_inprocess[T, R](task: Callable[[T], R], items: Iterator[T]) -> Iterator[R]:
    """Run every item here, in order."""
    for item in items:
        yield task(item)


def imap_pool[T, R](
    task: Callable[[T], R], items: Iterator[T], workers: int, warm: bool = False
) -> Iterator[R]:
    """Process pool, at most 2*workers items in flight so memory stays flat; a broken
    pool (a worker killed) is restarted and its items resubmitted, at most
    MAX_POOL_RESTARTS times.

    ``warm=False``: a pool of its own, stopped (workers terminated) when the iteration ends
    or is closed. ``warm=True``: the process's shared pool of ``workers`` processes
    (``warm_pool``), kept for the next call; closing the iteration early (a cancel) drops
    the queued items and lets the running ones finish, so the workers are idle within one
    item's time and the next call starts without spawning anything."""
    window = 2 * workers
    pending: dict[cf.Future[Any], T] = {}
    retry: list[T] = []
    restarts = 0
    pool = warm_pool(workers) if warm else process_pool(workers)
    try:
        while True:
            while len(pending) < window:
                item = retry.pop() if retry else next(items, None)
                if item is None:
                    break
                pending[pool.submit(task, item)] = item
            if not pending:
                return
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            broken = False
            for fut in done:
                item = pending.pop(fut)
                try:
                    result = fut.result()
                except cf.process.BrokenProcessPool:
                    broken = True
                    retry.append(item)
                    continue
                yield result
            if broken:
                restarts += 1
                retry.extend(pending.values())
                pending.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                if restarts > MAX_POOL_RESTARTS:
                    raise SweepAborted(
                        f"a worker process died {restarts} times (killed, out of memory or a "
                        "crash in a run); finished chunks are kept; run the same command "
                        "with --resume"
                    )
                print("gsomia sweep: a worker died; restarting the pool", file=sys.stderr)
                if warm:
                    pool = _replace_warm_pool(workers, pool)
                else:
                    _stop_pool(pool)
                    pool.shutdown(wait=True)  # its threads end: the next pool can fork
                    pool = process_pool(workers)
    finally:
        if warm:
            for fut in pending:
                fut.cancel()  # queued items are dropped; running ones finish on their own
        else:
            _stop_pool(pool)


_WARM: dict[int, cf.ProcessPoolExecutor] = {}
_WARM_LOCK = threading.Lock()


def warm_pool(workers: int) -> cf.ProcessPoolExecutor:
    """This process's shared pool of ``workers`` processes (``process_pool``), started on
    first use and kept: a server that runs many short ensembles (the browser UI) pays
    the workers' start-up once. A broken pool is replaced; ``close_warm_pools`` stops
    them (the workers also exit with this process, through their watchdog)."""
    with _WARM_LOCK:
        pool = _WARM.get(workers)
        if pool is None or getattr(pool, "_broken", False):
            if pool is not None:
                _stop_pool(pool)
            pool = _WARM[workers] = process_pool(workers)
        return pool


def _replace_warm_pool(workers: int, broken: cf.ProcessPoolExecutor) -> cf.ProcessPoolExecutor:
    """A fresh shared pool of ``workers`` processes in place of the ``broken`` one (or the
    one another caller has already put in its place)."""
    with _WARM_LOCK:
        current = _WARM.get(workers)
        if current is not None and current is not broken:
            return current
        _stop_pool(broken)
        pool = _WARM[workers] = process_pool(workers)
        return pool


def close_warm_pools() -> None:
    """Stop every shared pool (their workers are terminated)."""
    with _WARM_LOCK:
        pools = list(_WARM.values())
        _WARM.clear()
    for pool in pools:
        _stop_pool(pool)


def _stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Shut the pool down now: cancel what is queued, terminate running workers (on
    Ctrl-C or an error the parent does not wait for their chunks)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # None once shut down
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5)


def connect_dask(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    """A Dask client: joined to ``scheduler`` (``Failed`` within SCHEDULER_TIMEOUT_S when
    it is unreachable or not a Dask scheduler) or to a new LocalCluster on 127.0.0.1 with
    ``workers`` processes. Returns (client, cluster or None)."""
    try:
        import logging

        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(
            "--backend dask: dask.distributed is not installed; allowed: install the sweep "
            "extra (pip install 'gsomia[sweep]')"
        ) from exc
    if scheduler is None:
        # The cluster's processes inherit an ignored SIGINT: Ctrl-C reaches the whole
        # process group, and only this process should act on it (it closes the cluster);
        # otherwise every Dask worker prints a KeyboardInterrupt traceback.
        with _sigint_ignored():
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # CRITICAL, not ERROR: on Ctrl-C the scheduler closes while a worker's
                # heartbeat is in flight and the worker logs a CommClosedError traceback
                # (seen in CI). A failed run still reaches the sweep through its future.
                silence_logs=logging.CRITICAL,
            )
        try:
            client = Client(cluster, set_as_default=False)
        except BaseException:
            cluster.close()
            raise
        return client, cluster
    check_address(scheduler)
    client = _connect_scheduler(scheduler, Client)
    try:
        client.wait_for_workers(1, timeout=DASK_NO_WORKERS_S)
    except TimeoutError as exc:  # distributed's WorkerStartTimeoutError
        client.close()
        raise Failed(
            f"the Dask scheduler at {scheduler!r} has no workers (none joined within "
            f"{DASK_NO_WORKERS_S:g} s); start some (`dask worker {scheduler}`) and run the "
            "same command again"
        ) from exc
    except BaseException:
        client.close()
        raise
    return client, None


def check_address(scheduler: str) -> None:
    """Refuse a scheduler address that cannot be one (before a Client is built: a Client
    that fails to parse its address leaves a 10 s finaliser behind)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    why = ""
    if "://" not in scheduler and ":" not in scheduler:
        why = "no port"
    else:
        try:
            scheme, location = parse_address(scheduler)
            if scheme in ("tcp", "tls", "ws", "wss"):
                host, port = parse_host_port(location)
                if not host or not 0 < int(port) < 65536:
                    why = "no host, or a port outside 1-65535"
        except (ValueError, TypeError) as exc:
            why = str(exc)
    if why:
        raise ConfigError(
            f"--scheduler: invalid value {scheduler!r} ({why}); allowed: an address like "
            "tcp://host:8786"
        )


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while child processes are started (they keep it ignored)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to change
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _connect_scheduler(scheduler: str, client_cls: Any) -> Any:
    """Connect in a helper thread and give up after the timeout: a listener that accepts
    but never answers (or answers garbage) must not hang or crash the sweep."""
    import logging

    import dask

    timeout = f"{SCHEDULER_TIMEOUT_S}s"
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            with dask.config.set({"distributed.comm.timeouts.connect": timeout}):
                box["client"] = client_cls(scheduler, timeout=timeout, set_as_default=False)
        except BaseException as exc:  # reported by the caller
            box["error"] = exc

    # A failed Client's finaliser logs a traceback from the event loop; not ours to show.
    for name in ("distributed.client", "distributed.comm", "distributed.core"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    thread = threading.Thread(target=connect, daemon=True, name="dask-connect")
    thread.start()
    thread.join(2 * SCHEDULER_TIMEOUT_S)
    if "client" in box:
        return box["client"]
    exc = box.get("error")
    if exc is not None and isinstance(exc, ValueError) and "address" in str(exc).lower():
        raise ConfigError(
            f"--scheduler: invalid value {scheduler!r} ({exc}); allowed: an address like "
            "tcp://host:8786"
        ) from exc
    why = "no answer" if exc is None else type(exc).__name__
    raise Failed(
        f"cannot reach a Dask scheduler at {scheduler!r} within {SCHEDULER_TIMEOUT_S} s "
        f"({why}); start `dask scheduler` there (or drop --scheduler for a local cluster) "
        "and run the same command again"
    )


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line (a message of another library may span several), shortened."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class DaskWatch:
    """Waits on a Dask client's futures without hanging: every DASK_POLL_S it checks that
    the scheduler answers and has workers, and raises ``Failed`` naming the scheduler when
    it stopped (its futures cancelled, "reason: unknown" or "scheduler-connection-lost")
    or has had no worker for DASK_NO_WORKERS_S. ``then`` ends the messages (what was kept,
    how to resume)."""

    def __init__(self, client: Any, then: str) -> None:
        self.client = client
        self.address = getattr(client.scheduler, "address", None) or "?"
        self.then = then
        self.idle_since: float | None = None

    def lost(self, why: str) -> Failed:
        """The error for a scheduler that stopped answering."""
        return Failed(
            f"lost the Dask scheduler at {self.address} ({one_line(why)}); it stopped or "
            f"cannot be reached; {self.then}"
        )

    def check(self) -> None:
        """Raise ``Failed`` when the scheduler is gone or has been without workers too long."""
        try:
            workers = len(self.client.nthreads())
        except Exception as exc:  # a dead scheduler: OSError, CommClosedError...
            raise self.lost(f"{type(exc).__name__}: {exc}") from exc
        if workers:
            self.idle_since = None
            return
        now = time.monotonic()
        self.idle_since = now if self.idle_since is None else self.idle_since
        if now - self.idle_since >= DASK_NO_WORKERS_S:
            raise Failed(
                f"the Dask scheduler at {self.address} has had no workers for "
                f"{DASK_NO_WORKERS_S:g} s, so nothing runs; start some (`dask worker "
                f"{self.address}`); {self.then}"
            )

    def result(self, fut: Any) -> Any:
        """``fut``'s result (a task's own exception is raised as is)."""
        from concurrent.futures import CancelledError

        while True:
            try:
                return fut.result(timeout=DASK_POLL_S)
            except TimeoutError:
                self.check()
            except CancelledError as exc:
                raise self.lost(f"{type(exc).__name__}: {exc}") from exc

    def completed(self, ac: Any) -> Iterator[Any]:
        """The futures of ``as_completed`` ``ac`` as they finish (futures added meanwhile
        included), checking the scheduler while none is ready."""
        last = time.monotonic()
        while not ac.is_empty():
            if ac.has_ready():
                yield from ac.next_batch(block=False)
                last = time.monotonic()
                continue
            time.sleep(0.02)
            if time.monotonic() - last >= DASK_POLL_S:
                self.check()
                last = time.monotonic()


DASK_RESUME = "finished work is kept; run the same command with --resume"


def imap_dask[T, R](task: Callable[[T], R], items: Iterator[T], client: Any) -> Iterator[R]:
    """Submit items to a Dask cluster, at most 2 per worker thread in flight."""
    from distributed import as_completed

    watch = DaskWatch(client, DASK_RESUME)
    window = max(2, 2 * sum(client.nthreads().values()))
    futures = []
    for item in items:
        futures.append(client.submit(task, item, pure=False))
        if len(futures) >= window:
            break
    if not futures:
        return
    ac = as_completed(futures, loop=client.loop)
    for fut in watch.completed(ac):
        try:
            result = watch.result(fut)
        except Failed:
            raise
        except Exception as exc:
            msg = (
                f"the Dask cluster at {watch.address} failed a chunk ("
                f"{one_line(f'{type(exc).__name__}: {exc}')}); finished chunks are kept; run "
                "the same command with --resume"
            )
            raise SweepAborted(msg) from exc
        fut.release()
        yield result
        nxt = next(items, None)
        if nxt is not None:
            ac.add(client.submit(task, nxt, pure=False))
