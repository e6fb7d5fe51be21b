"""Glue between Faust and the pure engines: one ``PartitionEngine`` per owned
partition, restored from the table on first use. ``streams.pipeline`` writes
the dirty records before a batch is acked, so a crash re-processes at most the
last batch against the state saved before it - and the steps are idempotent
(duplicate ids are dropped, output ids are deterministic).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, MutableMapping
from typing import Any

from streams.config import Rules
from streams.engine import PartitionEngine
from streams.ingest import Accepted
from streams.outputs import Emit
from streams.partitioning import partition_for


class Runtime:
    def __init__(
        self,
        rules: Rules,
        partitions: int,
        table: MutableMapping[bytes, Any],
    ) -> None:
        self.rules = rules
        self.partitions = partitions
        self.table = table
        self.engines: dict[int, PartitionEngine] = {}

    def engine(self, partition: int) -> PartitionEngine:
        engine = self.engines.get(partition)
        if engine is None:
            engine = PartitionEngine(partition, self.rules.model, self.rules.policies)
            engine.restore(self._stored(partition))
            self.engines[partition] = engine
        return engine

    def process(self, accepted: Iterable[Accepted], *, defer_wakes: bool = False) -> list[Emit]:
        """The batch's outputs; see ``PartitionEngine.process`` for ``defer_wakes``."""
        by_partition: defaultdict[int, list[Any]] = defaultdict(list)
        for item in accepted:
            by_partition[item.partition].append(item.event)
        out: list[Emit] = []
        for partition, events in by_partition.items():
            out.extend(self.engine(partition).process(events, defer_wakes=defer_wakes))
        return out

    def tick(self, now_s: float, *, defer_wakes: bool = False) -> list[Emit]:
        """Advance every owned partition to wall-clock time (live mode only)."""
        out: list[Emit] = []
        for engine in self.engines.values():
            out.extend(engine.advance(now_s, defer_wakes=defer_wakes))
        return out

    @property
    def overdue(self) -> bool:
        """Whether deferred wakes are waiting for ``catch_up``."""
        return any(engine.overdue for engine in self.engines.values())

    def catch_up(self, deadline: float | None) -> list[Emit]:
        """Fire deferred wakes until ``deadline`` (a ``time.perf_counter``
        time; None: all of them) and return their outputs."""
        out: list[Emit] = []
        for engine in list(self.engines.values()):
            while engine.overdue:
                out.extend(engine.fire_overdue(_WAKE_STEP))
                if deadline is not None and time.perf_counter() >= deadline:
                    return out
        return out

    def take_dirty(self) -> list[tuple[int, str]]:
        """(partition, account) for every account changed since the last call;
        ``record`` gives each one's stored form when it is written."""
        return [
            (partition, account_id)
            for partition, engine in self.engines.items()
            for account_id in engine.take_dirty_ids()
        ]

    def record(self, partition: int, account_id: str) -> dict[str, Any] | None:
        """The account's stored form now; None once its partition was revoked
        (the new owner writes it from then on)."""
        engine = self.engines.get(partition)
        return None if engine is None else engine.record(account_id)

    def forget(self, partitions: Iterable[int]) -> None:
        """Drop engines of revoked partitions; their state lives on in the table."""
        for partition in partitions:
            self.engines.pop(partition, None)

    def _stored(self, partition: int) -> Iterable[tuple[str, Any]]:
        for key, value in list(self.table.items()):
            if value is not None and partition_for(key, self.partitions) == partition:
                yield key.decode(), value


#: Wakes fired between two looks at the clock in ``catch_up`` (~5-15 ms).
_WAKE_STEP = 64
