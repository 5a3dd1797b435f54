"""Progress of a long job: a tqdm bar on a terminal, a quiet line every 30 s otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any

from experiments.boundary import raise_lost_interrupt

QUIET_PROGRESS_EVERY_S = 30.0


class Progress:
    """A tqdm bar (rate, ETA) on a terminal; a quiet line every 30 s otherwise."""

    def __init__(
        self, total: int, done: int, enabled: bool | None, label: str, unit: str = "run"
    ) -> None:
        self.total, self.done, self.label, self.unit = total, done, label, unit
        self.enabled = enabled is not False
        self.tty = sys.stderr.isatty()
        self.bar: Any = None
        self.t0 = time.monotonic()
        self.start_done = done
        self.last = self.t0
        if self.enabled and self.tty:
            from tqdm import tqdm

            # No monitor thread (it only tunes the refresh of stalled bars): a process
            # pool forks its workers only while no other thread runs (experiments.backends).
            tqdm.monitor_interval = 0
            self.bar = tqdm(total=total, initial=done, unit=unit, desc=label, smoothing=0.05)
        elif self.enabled:
            self._line()

    def _line(self) -> None:
        elapsed = time.monotonic() - self.t0
        new = self.done - self.start_done
        rate = new / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = f"{left / rate:.0f} s" if rate > 0 else "?"
        print(
            f"{self.label}: {self.done}/{self.total} {self.unit}s "
            f"({self.done / max(1, self.total):.0%}), {rate:.1f} {self.unit}s/s, ETA {eta}",
            file=sys.stderr,
            flush=True,
        )

    def update(self, n: int) -> None:
        """Count ``n`` more finished runs; stop here on a Ctrl-C a finaliser swallowed
        (``experiments.boundary.raise_lost_interrupt``)."""
        raise_lost_interrupt()
        self.done += n
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if now - self.last >= QUIET_PROGRESS_EVERY_S:
            self.last = now
            self._line()

    def close(self) -> None:
        """Final line / close the bar."""
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            self._line()
