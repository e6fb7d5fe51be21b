"""How long each owned input partition has gone without progress while behind.

A consumer can stop making progress without an error: Faust's fetcher
stuck after a rebalance, or a partition left paused (faust-streaming #175).
The worker stays up and heartbeats, so the group keeps the partition;
consumer lag only shows it as slow growth summed with every healthy
partition, and ``HealthscoreNoEventsConsumed`` stays quiet while the other
partitions flow. Seconds since a partition's committed offset last moved
shows the one stuck partition directly, and grows by itself, so an alert
rule needs one threshold and no rate window.

A partition with no lag is not stalled, however long since its last commit
(a quiet topic commits nothing); the count starts at the last look that saw
it caught up.
Series are one per (input topic, owned partition), the same as the lag gauge.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from streams.observability.lag import PartitionKey


class ProgressWatch:
    """Seconds without progress per partition, from successive looks at its
    lag and committed offset (``observe``, called on every lag refresh)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        #: partition -> (committed offset last seen, when progress was last seen)
        self._last: dict[PartitionKey, tuple[int | None, float]] = {}

    def observe(
        self, lag: Mapping[PartitionKey, int], committed: Mapping[PartitionKey, int | None]
    ) -> dict[PartitionKey, float]:
        """Seconds since each partition of ``lag`` last made progress: its
        committed offset moved, or it had no lag. Partitions no longer in
        ``lag`` (revoked) are forgotten: a partition that comes back starts afresh."""
        now = self._clock()
        stalled: dict[PartitionKey, float] = {}
        for key, behind in lag.items():
            done = committed.get(key)
            last = self._last.get(key)
            if behind <= 0 or last is None or last[0] != done:
                self._last[key] = (done, now)
                stalled[key] = 0.0
            else:
                stalled[key] = now - last[1]
        for gone in self._last.keys() - lag.keys():
            del self._last[gone]
        return stalled
