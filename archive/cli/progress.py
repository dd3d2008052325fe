"""A one-line progress display on stderr for long operations (exports, rebuilds).

Nothing is shown for the first second, so short runs stay quiet. On a
terminal the line is redrawn in place a few times a second; in a log
(stderr redirected) a line is written every few seconds instead.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Seconds before the first display, and between displays on a terminal and in a log.
DELAY = 1.0
TTY_INTERVAL = 0.2
LOG_INTERVAL = 5.0


class Progress:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.shown = False
        self._last = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def rate(self, count: int) -> float:
        """Items per second since the start."""
        return count / self.elapsed if self.elapsed > 0 else 0.0

    def show(self, message: str) -> None:
        """Display the message, if the run is long enough and the last display old enough."""
        now = time.monotonic()
        interval = TTY_INTERVAL if self.tty else LOG_INTERVAL
        if now - self.started < DELAY or (self.shown and now - self._last < interval):
            return
        self._last, self.shown = now, True
        self.stream.write(f"\r\033[K{message}" if self.tty else f"{message}\n")
        self.stream.flush()

    def close(self) -> None:
        """End the redrawn line, if one was drawn."""
        if self.shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()
