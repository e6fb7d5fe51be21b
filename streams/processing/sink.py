"""Where the pipeline hands its records: the interface it needs of a producer.

The worker's implementation is ``streams.speedups.batching.BatchingSink`` on
Faust's own aiokafka producer; the pipeline names only this protocol, so the
Faust-free path does not depend on the machinery that makes producing fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeAlias

from streams.processing.binding import Headers

#: (topic, key, value) - the key decides the partition (murmur2) - or
#: (topic, key, value, headers) for a record with headers: the CloudEvents
#: outputs carry their binding's (``streams.processing.binding``); dead
#: letters and changelog records carry none.
Record: TypeAlias = tuple[str, bytes, bytes] | tuple[str, bytes, bytes, Headers]


class Sink(Protocol):
    """Takes records in order and tells how far their delivery has come."""

    #: Batches handed to the producer so far (for ``delivered``).
    shipped: int

    async def send(self, events: Sequence[Record]) -> None:
        """Queue ``events`` for their topic-partitions."""

    async def ship_all(self) -> None:
        """Hand every queued record to the producer now, without waiting for
        delivery: called before a batch is acked, so the producer flush that
        precedes each offset commit covers everything the batch produced."""

    def delivered(self, through: int) -> bool:
        """Whether the first ``through`` batches shipped have been delivered;
        raises the failure of one that could not be."""

    async def wait_delivered(self, through: int) -> None:
        """Wait until the first ``through`` batches shipped are delivered;
        raises the first that failed."""
