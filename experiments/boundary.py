"""The error boundary of every ``gsomia`` command: exceptions -> one line and an exit status.

- ``ConfigError`` (bad input) -> exit 2, the message names the file, key, value and what is
  allowed;
- ``OSError`` and ``Failed`` (disk full, permission, unreachable scheduler, dead worker, a
  sweep whose runs all failed) -> exit 1, one line saying what failed and how to resume;
- ``KeyboardInterrupt`` (Ctrl-C) -> 130, ``Terminated`` (SIGTERM, SIGHUP) -> 128 + signal,
  with the command's resume hint;
- anything else -> exit 1 with the exception's type and message.

With ``debug`` the exception propagates (a traceback) instead.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

from model.parameters import ConfigError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class Failed(RuntimeError):
    """An operation failed for a reason outside the input (exit 1); the message says what
    failed and how to resume."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread so the command unwinds as on Ctrl-C
    (finished work kept, children stopped, a message)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_terminated(signum: int, _frame: Any) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def termination_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise ``Terminated`` (a KeyboardInterrupt)."""
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[sig] = signal.signal(sig, _raise_terminated)
        except ValueError:  # not the main thread
            break
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def describe_os_error(exc: OSError) -> str:
    """One line for an OSError: what (the file) and why (the system's words)."""
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        what = "no space left on the device"
    name = exc.filename
    return f"{what}: {name}" if name else what


RESUME_HINTS = {
    "run": "nothing was written; fix the cause and run the same command again",
    "sweep": "finished chunks are kept; fix the cause and run the same command with --resume",
    "analyze": "no report was written; fix the cause and run `gsomia analyze` again",
    "calibrate": "nothing was written; fix the cause and run the same command again",
    "fit": "finished generations are kept; fix the cause and run the same command with --resume",
    "ui": "fix the cause and run `gsomia ui` again",
}


_LOST_INTERRUPTS: list[KeyboardInterrupt] = []
"""Ctrl-Cs (or SIGTERMs) that landed in a finaliser, where Python only reports them."""


def raise_lost_interrupt() -> None:
    """Raise a Ctrl-C (or SIGTERM) that a finaliser swallowed, if any: called where a long
    command may stop (each progress update) and when a command returns."""
    if _LOST_INTERRUPTS:
        exc = _LOST_INTERRUPTS.pop()
        _LOST_INTERRUPTS.clear()
        raise exc


def _quiet_finalisers(unraisable: Any) -> None:
    """sys.unraisablehook: keep a Ctrl-C (or SIGTERM, SIGHUP) that landed in a finaliser
    (``Exception ignored in: <function ParquetWriter.__del__ ...>``, seen in CI), which
    Python would only print while the command ran on to exit 0, for
    ``raise_lost_interrupt``; drop the finaliser errors of a Dask Client that never
    connected (already reported as one line); show everything else as usual."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        _LOST_INTERRUPTS.append(unraisable.exc_value)
        return
    if getattr(unraisable.object, "__qualname__", "") == "Client.__del__":
        return
    sys.__unraisablehook__(unraisable)


def guarded(command: str, func: Callable[[], int], debug: bool = False) -> int:
    """Run ``func`` inside the boundary; return the exit status."""
    prefix = f"gsomia {command}"
    if not debug:
        sys.unraisablehook = _quiet_finalisers
    hint = RESUME_HINTS.get(command, "run the same command again")
    resumable = command in ("sweep", "fit")
    sweep = "; run the same command with --resume to finish" if resumable else ""
    try:
        with termination_as_interrupt():
            status = int(func() or 0)
            raise_lost_interrupt()
            return status
    except ConfigError as exc:
        if debug:
            raise
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Terminated as exc:
        if debug:
            raise
        print(f"{prefix}: terminated ({exc}){sweep}", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"{prefix}: interrupted{sweep}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Failed as exc:
        if debug:
            raise
        print(f"{prefix}: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        if debug:
            raise
        print(f"{prefix}: failed: {describe_os_error(exc)}; {hint}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        if debug:
            raise
        print(
            f"{prefix}: failed: {type(exc).__name__}: {exc}; {hint} (--debug shows the "
            "traceback; please report it)",
            file=sys.stderr,
        )
        return EXIT_FAILED
