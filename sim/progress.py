"""Progress bars: one over the jobs of a sweep or the runs of a batch, one over the days of a run.

Both are drawn on stderr with tqdm, and only when stderr is a terminal: logs, CI and notebooks
stay clean. ``cfg.progress`` chooses for a single run: ``null`` (default) draws the bar on a
terminal; ``true`` also prints a line per simulated month when not on a terminal (cluster logs);
``false`` never shows anything. Jobs of a sweep never draw their own bar: the command draws one
bar for the whole sweep.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["SweepProgress", "day_bar", "run_bar"]

MONTH_DAYS = 30


class _Lines:
    """The non-terminal fallback of ``progress=true``: a line per simulated month."""

    def __init__(self, total: int, desc: str):
        self.n, self.total, self.desc = 0, total, desc

    def update(self, k: int = 1) -> None:
        self.n += k
        if self.n % MONTH_DAYS == 0 or self.n == self.total:
            print(f"  {self.desc}day {self.n}/{self.total}", file=sys.stderr, flush=True)


class _Off:
    def update(self, k: int = 1) -> None:
        pass


@contextmanager
def day_bar(total: int, setting: bool | None, desc: str = ""):
    """A progress object with ``update(k)`` over ``total`` days, as ``setting`` asks."""
    tty = sys.stderr.isatty()
    if setting is False or (setting is None and not tty):
        yield _Off()
    elif tty:
        from tqdm import tqdm

        with tqdm(total=total, desc=desc or None, unit="day", file=sys.stderr,
                  leave=False) as bar:
            yield bar
    else:
        yield _Lines(total, desc)


def run_bar(total: int, initial: int = 0, enabled: bool | None = None):
    """A bar over a batch's runs (``initial`` already done), drawn by the batch's process."""
    from tqdm import tqdm

    on = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, initial=initial, desc="batch", unit="run", file=sys.stderr,
                disable=not on)


class SweepProgress:
    """A progress bar over a sweep's jobs, drawn by the command while the launcher works.

    It watches the sweep directory for fresh ``job_status.json`` records, so it works with any
    launcher whose jobs write to a file system the command can see. Off when stderr is not a
    terminal (logs and CI stay clean).
    """

    def __init__(self, sweep_dir: Path, total: int, enabled: bool | None = None,
                 interval_s: float = 0.5):
        self.sweep_dir, self.total, self.interval_s = Path(sweep_dir), total, interval_s
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.since = time.time()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _done(self) -> int:
        n = 0
        for f in self.sweep_dir.glob("*/job_status.json"):
            try:
                n += f.stat().st_mtime >= self.since - 1.0
            except OSError:
                pass
        return n

    def _loop(self) -> None:
        from tqdm import tqdm

        with tqdm(total=self.total, desc="sweep", unit="job", file=sys.stderr) as bar:
            while True:
                stopping = self._stop.wait(self.interval_s)
                bar.update(min(self.total, self._done()) - bar.n)
                if stopping:
                    break

    def __enter__(self):
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
        return False
