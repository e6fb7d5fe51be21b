"""How far event time may run ahead of the wall clock.

A partition's clock is the largest event time applied, and it fires every
timer due by then: one valid event dated 2099 walked every account of its
partition through 70 years of timers (inactivity alerts, dunning retries,
grace and cancellation, all sent to customers), and the clock, stored with
the state, kept it there. So an input more than ``max_future_s`` ahead of
the wall clock is dead-lettered (reason ``future_time``), never applied, and
the live tick moves clocks to the wall clock, never past it.

The wall clock itself is guarded: after the first reading it may run ahead
of the monotonic clock by at most ``max_future_s`` (a host whose clock jumps
a year ahead must not do through the tick what the 2099 event did). A
replay has no wall clock of its own: it bounds by the time it runs at (or
``--now``), which is past every event of a real history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

#: The default tolerance: producers' clocks and batching never put a genuine
#: event an hour ahead; anything further is a bug or an attack.
DEFAULT_MAX_FUTURE_SECONDS = 3600.0


@dataclass
class Horizon:
    max_future_s: float = DEFAULT_MAX_FUTURE_SECONDS
    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    _anchor: tuple[float, float] | None = field(default=None, repr=False)

    def now(self) -> float:
        """The wall clock, at most ``max_future_s`` ahead of the wall clock at
        the first call plus the monotonic time since."""
        wall, steady = self.wall(), self.monotonic()
        if self._anchor is None:
            self._anchor = (wall, steady)
        bound = self._anchor[0] + (steady - self._anchor[1]) + self.max_future_s
        return min(wall, bound)

    def limit(self) -> datetime:
        """The latest event time an input may have now."""
        return datetime.fromtimestamp(min(self.now() + self.max_future_s, _LATEST_S), UTC)


#: The last second a ``datetime`` holds: a tolerance of centuries means "no bound".
_LATEST_S = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
