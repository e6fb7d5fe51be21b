"""Table recovery time: how long a worker with no local state takes to be back.

The measured worker is stopped, and a new one starts with the same app id
(so the same consumer group and changelogs) and an empty data directory, so
every table must be rebuilt from its changelog before processing resumes,
which is what a crashed pod rescheduled on a new node goes through. It runs
with ``-l info`` to see Faust's recovery log lines, timestamped here as they
appear: "Restoring state from changelog topics..." and "Done reading from
changelog topics" bound the restore; "Worker ready" ends recovery (the
worker resumes its streams). Reported: spawn -> ready (total, including
imports and the group join) and the restore part alone when logged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from services.bench.runner import BenchError, WorkerProcess

RESTORE_START = "Restoring state from changelog topics"
RESTORE_DONE = "Done reading from changelog topics"
READY = "Worker ready"


async def time_recovery(
    spawn: Callable[[], WorkerProcess], max_wait: float = 300.0, interval: float = 0.05
) -> tuple[dict[str, Any], WorkerProcess]:
    """Start a worker via ``spawn`` and time its recovery; returns the report and
    the (running) worker, which the caller stops."""
    worker = spawn()
    marks: dict[str, float] = {}
    deadline = worker.started + max_wait
    try:
        while READY not in marks:
            worker.check_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"no '{READY}' within {max_wait:.0f} s:\n{worker.log_tail()}")
            text = worker.log_text()
            now = time.monotonic()
            for line in (RESTORE_START, RESTORE_DONE, READY):
                if line not in marks and line in text:
                    marks[line] = now
            await asyncio.sleep(interval)
    except BaseException:
        worker.stop()
        raise
    restore = None
    if RESTORE_START in marks and RESTORE_DONE in marks:
        restore = round(marks[RESTORE_DONE] - marks[RESTORE_START], 3)
    return {
        "recovery_seconds": round(marks[READY] - worker.started, 3),
        "restore_seconds": restore,
    }, worker
