"""A one-line progress bar on stderr: phase, events done/total, rate.

A bench run takes minutes; without feedback it looks hung. On a terminal the
line is redrawn in place (``\\r``); otherwise (CI logs, pytest capture) a line
is written at most every few seconds, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self._stream = stream or sys.stderr
        self._enabled = enabled
        self._tty = self._stream.isatty()
        self._last = 0.0
        self._phase = ""
        self._width = 0

    def update(
        self,
        phase: str,
        done: int | None = None,
        total: int | None = None,
        rate: float | None = None,
    ) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        new_phase = phase != self._phase
        if not new_phase and now - self._last < (0.2 if self._tty else 5.0):
            return
        self._last, self._phase = now, phase
        text = f"bench: {phase}"
        if done is not None and total:
            filled = int(24 * min(done, total) / total)
            text += f" [{'#' * filled}{'.' * (24 - filled)}] {done:,}/{total:,}"
        elif done is not None:
            text += f" {done:,}"
        if rate is not None:
            text += f" {rate:,.0f} events/s"
        if self._tty:
            pad = max(0, self._width - len(text))
            self._stream.write("\r" + text + " " * pad)
            self._width = len(text)
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def note(self, text: str) -> None:
        """A permanent line (a phase's result), above the redrawn bar."""
        if not self._enabled:
            return
        if self._tty and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        self._stream.write(f"bench: {text}\n")
        self._stream.flush()
        self._phase = ""
