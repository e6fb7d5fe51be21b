"""Which input partitions this worker owns, and where it starts reading each.

The runtime restores a partition's engine with its first batch. A partition
whose accounts have all gone quiet sends no batch after a restart or a
hand-over, so without this nothing would restore it and the live tick would
never reach the silent accounts it exists for. ``Runtime.adopt`` restores
every owned partition from what this reports.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from faust.exceptions import ConsumerNotStarted


def owned_starts(
    assigned: Iterable[Any],
    committed: Mapping[Any, int | None],
    topics: Collection[str],
) -> dict[int, dict[str, int]]:
    """Partition -> {input topic: next offset to read} for every assigned
    partition of ``topics``. Reading starts at the committed offset; with none
    committed (Faust keeps ``None`` for "nothing" and for offset 0) a new
    group reads from the beginning, so 0."""
    owned: dict[int, dict[str, int]] = {}
    for tp in assigned:
        if tp.topic in topics:
            owned.setdefault(tp.partition, {})[tp.topic] = committed.get(tp) or 0
    return owned


def owned_inputs(app: Any, topics: Collection[str]) -> dict[int, dict[str, int]]:
    """``owned_starts`` of the worker's consumer; empty while a rebalance or
    its table recovery is under way (the table is not whole yet, and the
    committed offsets are read at the end of it) or before the consumer started."""
    rebalances = app.rebalancing_count
    if app.rebalancing:
        return {}
    consumer = app.consumer
    try:
        assigned = set(consumer.assignment())
    except ConsumerNotStarted:
        return {}
    # Faust keeps the committed offsets per partition (next offset to read),
    # read from the group at the end of each rebalance; no public accessor.
    committed = dict(consumer._committed_offset)
    # The consumer thread starts a rebalance by setting the flag before it
    # changes the assignment: read again, so what we read was the settled one.
    if app.rebalancing or app.rebalancing_count != rebalances:
        return {}
    return owned_starts(assigned, committed, topics)
