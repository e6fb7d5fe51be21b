"""Glue between Faust and the pure engines: one ``PartitionEngine`` per owned
partition, restored from the table on first use. ``streams.processing.pipeline`` writes
the dirty records before a batch is acked, so a crash re-processes at most the
batches since the last commit against state saved since - and the steps are
idempotent (duplicate ids are dropped, output ids are deterministic), with
the partition clock restored to where reading resumes (``streams.processing.clock``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Collection, Container, Iterable, Mapping, MutableMapping
from typing import Any

from schemas.errors import InvalidEventError
from streams.domain.account import Decision
from streams.domain.events import DomainEvent
from streams.processing.clock import ClockHistory, clock_key, is_clock_key
from streams.processing.decode import decode_domain
from streams.processing.encode import Emit, encode
from streams.processing.engine import PartitionEngine
from streams.processing.ingest import Accepted, RawMessage, ReadSpans
from streams.processing.partitioning import partition_for
from streams.processing.reread import Window, ahead, stamp, windows
from streams.processing.rules import Rules


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
        #: Per owned partition: the clock at its last takes, and how far it was read.
        self._clocks: dict[int, ClockHistory] = {}
        self._positions: dict[int, dict[str, int]] = {}
        #: Per owned partition, the next offset per input topic after the last
        #: one read; ``_positions`` is that, or less where alignment still
        #: holds inputs read (``hold_back``).
        self._read_to: dict[int, dict[str, int]] = {}
        #: Per (input topic, partition) being read again after a restore: the
        #: accounts whose records already hold some of it (``streams.processing.reread``).
        self._rereads: dict[tuple[str, int], Window] = {}
        #: Per owned partition: account -> the stamp its record was restored
        #: with, where that is past where reading resumed (``streams.processing.reread``).
        self._restored: dict[int, dict[str, list[int]]] = {}
        #: The accounts with inputs read and held unapplied (``hold_back``).
        self._unsettled: Container[str] = frozenset()
        #: Where reading starts, per owned partition and input topic (the
        #: committed offsets), asked when a batch brings a partition with no
        #: engine (``read``); None: only the batch's own offsets are known.
        self.resume: Callable[[], Mapping[int, Mapping[str, int]]] | None = None

    def engine(self, partition: int, starts: dict[str, int] | None = None) -> PartitionEngine:
        """The partition's engine; restored from the table on first use, its
        clock the one that goes with ``starts``, the first offset read per
        topic (None: the latest stored)."""
        engine = self.engines.get(partition)
        if engine is None:
            engine = PartitionEngine(partition, self.rules.model, self.rules.policies)
            accounts, clocks = self._stored(partition)
            entry = clocks.entry_at(starts)
            engine.restore(accounts, clock_s=0.0 if entry is None else entry[0])
            floor: dict[str, int] = {}
            if starts is not None:
                # Where a topic's first batch is yet to come, the take's
                # position bounds where it starts (offsets are committed at takes).
                floor = {**(entry[1] if entry is not None else {}), **starts}
                for topic, window in windows(accounts, floor).items():
                    self._rereads[(topic, partition)] = window
            self._restored[partition] = ahead(accounts, floor)
            self.engines[partition] = engine
            self._clocks[partition] = clocks
            # Its takes go with where it starts until a batch moves it on.
            self._positions[partition] = dict(starts or {})
            self._read_to[partition] = dict(starts or {})
        return engine

    def adopt(self, owned: Mapping[int, Mapping[str, int]]) -> list[int]:
        """Restore every owned partition that has no engine yet, each with the
        clock of where it starts reading (the committed offset per input
        topic); return the ones restored. Engines otherwise appear with a
        partition's first batch, so after a restart or a hand-over the live
        tick never reached a partition whose accounts had all gone quiet -
        the very accounts the tick exists for (the design brief's "Time")."""
        adopted = [partition for partition in owned if partition not in self.engines]
        for partition in adopted:
            self.engine(partition, dict(owned[partition]))
        return adopted

    def read(self, spans: ReadSpans) -> None:
        """Note where a batch read each input partition: new partitions are
        restored with the clock of where they start, before anything is
        processed: where this batch starts them, and for the topics it did not
        read, where ``resume`` says they start. Restored from the batch's
        topics alone, the newest clock entry not ahead of *those* was taken,
        which could be ahead of where another topic is read again from: that
        topic's re-read inputs then settled at a later clock, and its re-read
        window began past where reading did."""
        starts: defaultdict[int, dict[str, int]] = defaultdict(dict)
        for (topic, partition), (first, _) in spans.items():
            if partition not in self.engines:
                starts[partition][topic] = first
        resume = self.resume() if starts and self.resume is not None else {}
        for partition, first_offsets in starts.items():
            # The topics this batch did not read start where they were committed:
            # the clock and the re-read windows must go with all of them.
            self.engine(partition, {**resume.get(partition, {}), **first_offsets})
        for (topic, partition), (_, following) in spans.items():
            read_to = self._read_to[partition]
            if read_to.get(topic, -1) < following:
                read_to[topic] = following
                self._positions[partition][topic] = following

    def hold_back(
        self, unapplied: Mapping[tuple[str, int], int], accounts: Container[str] = frozenset()
    ) -> None:
        """Where inputs read are still held unapplied (``streams.processing.
        align``), the position stored with the state is the first held batch's
        offset there, not the end of what was read: reading resumes there.
        ``accounts``: those with inputs held (a live view); the records of the
        others hold every input read of them (``stored_form``)."""
        self._unsettled = accounts
        for partition, read_to in self._read_to.items():
            positions = self._positions[partition]
            for topic, following in read_to.items():
                positions[topic] = min(following, unapplied.get((topic, partition), following))

    @property
    def rereading(self) -> bool:
        """Whether some input partition is being read again past stored records."""
        return bool(self._rereads)

    def held(self, messages: Iterable[RawMessage]) -> set[tuple[str, str]]:
        """(account, input id) of the messages, read again after a restore,
        that their account's stored record already holds (``streams.processing.reread``);
        call after ``read``. Decodes only messages below a window's end, and
        drops the windows read past."""
        rereads, positions = self._rereads, self._positions
        held: set[tuple[str, str]] = set()
        for msg in messages:
            window = rereads.get((msg.topic, msg.partition))
            if window is None or msg.offset >= window.end:
                continue
            try:
                event = decode_domain(msg.topic, msg.value or b"")
            except InvalidEventError:
                continue  # dead-lettered again, as it was the first time
            if window.holds(event.account_id, msg.offset):
                held.add((event.account_id, event.id))
        for (topic, partition), window in list(rereads.items()):
            if positions.get(partition, {}).get(topic, -1) >= window.end:
                del rereads[(topic, partition)]
        return held

    def process(
        self,
        accepted: Iterable[Accepted],
        *,
        defer_wakes: bool = False,
        held: Collection[tuple[str, str]] | None = None,
    ) -> list[Emit]:
        """The batch's outputs; see ``PartitionEngine.process`` for
        ``defer_wakes`` and ``held`` (from ``held``)."""
        by_partition: defaultdict[int, list[Any]] = defaultdict(list)
        for item in accepted:
            by_partition[item.partition].append(item.event)
        decided: list[Decision] = []
        for partition, events in by_partition.items():
            engine = self.engine(partition)
            decided.extend(engine.process(events, defer_wakes=defer_wakes, held=held))
        return self._encode(decided)

    def take_failed(self) -> list[tuple[int, DomainEvent, str, str]]:
        """(partition, input, error, kind) of every input whose step raised
        since the last call (``PartitionEngine.failed``)."""
        return [
            (partition, *failure)
            for partition, engine in self.engines.items()
            for failure in engine.take_failed()
        ]

    def tick(self, now_s: float, *, defer_wakes: bool = False) -> list[Emit]:
        """Advance every owned partition to wall-clock time (live mode only)."""
        decided: list[Decision] = []
        for engine in self.engines.values():
            decided.extend(engine.advance(now_s, defer_wakes=defer_wakes))
        return self._encode(decided)

    @property
    def overdue(self) -> bool:
        """Whether deferred wakes are waiting for ``catch_up``."""
        return any(engine.overdue for engine in self.engines.values())

    def catch_up(self, deadline: float | None) -> list[Emit]:
        """Fire deferred wakes until ``deadline`` (a ``time.perf_counter``
        time; None: all of them) and return their outputs."""
        decided: list[Decision] = []
        for engine in list(self.engines.values()):
            while engine.overdue:
                decided.extend(engine.fire_overdue(_WAKE_STEP))
                if deadline is not None and time.perf_counter() >= deadline:
                    return self._encode(decided)
        return self._encode(decided)

    def _encode(self, decided: list[Decision]) -> list[Emit]:
        """The one place the worker's decisions become output records."""
        return encode(decided, self.rules.model.alerts.threshold) if decided else []

    def take_dirty(self) -> list[tuple[int, str | None]]:
        """(partition, account) for every account changed since the last call,
        and (partition, None) for every partition whose clock or read position
        moved (its clock record); ``stored_form`` gives each one's key and
        record when it is written. The clock is the one at this call: the
        inputs read so far are the ones acked when the writes are done. None
        is noted while alignment holds inputs read (``hold_back``): reading
        resumes at the first batch holding some, behind inputs the clock
        already includes, and a new owner starting there with it would settle
        the inputs it reads again later than they were; it takes the last
        clock noted before then (``ClockHistory.entry_at``: the newest not ahead)."""
        slots: list[tuple[int, str | None]] = []
        for partition, engine in self.engines.items():
            positions = self._positions[partition]
            settled = positions == self._read_to[partition]
            if settled and self._clocks[partition].push(engine.watermark_s, positions):
                slots.append((partition, None))
            slots.extend((partition, account_id) for account_id in engine.take_dirty_ids())
        return slots

    def record(self, partition: int, account_id: str) -> dict[str, Any] | None:
        """The account's stored form now; None once its partition was revoked
        (the new owner writes it from then on)."""
        engine = self.engines.get(partition)
        return None if engine is None else engine.record(account_id)

    def stored_form(self, partition: int, account_id: str | None) -> tuple[bytes, Any] | None:
        """Table key and record of a ``take_dirty`` slot (None: revoked since)."""
        if account_id is not None:
            record = self.record(partition, account_id)
            if record is None:
                return None
            # Stamped where reading resumes only if some input read of it is
            # still held; never below the stamp it was restored with.
            held = account_id in self._unsettled
            positions = (self._positions if held else self._read_to)[partition]
            restored = self._restored[partition].get(account_id)
            return account_id.encode(), stamp(record, positions, restored)
        clocks = self._clocks.get(partition)
        return None if clocks is None else (clock_key(partition, self.partitions), clocks.to_dict())

    def forget(self, partitions: Iterable[int]) -> None:
        """Drop engines of revoked partitions; their state lives on in the table."""
        gone = set(partitions)
        for partition in gone:
            self.engines.pop(partition, None)
            self._clocks.pop(partition, None)
            self._positions.pop(partition, None)
            self._read_to.pop(partition, None)
            self._restored.pop(partition, None)
        self._rereads = {key: w for key, w in self._rereads.items() if key[1] not in gone}

    def _stored(self, partition: int) -> tuple[list[tuple[str, Any]], ClockHistory]:
        """The partition's account records, and its clock record."""
        accounts: list[tuple[str, Any]] = []
        clocks = ClockHistory()
        for key, value in list(self.table.items()):
            if value is None or partition_for(key, self.partitions) != partition:
                continue
            if is_clock_key(key):
                clocks = ClockHistory.from_dict(value)
            else:
                accounts.append((key.decode(), value))
        return accounts, clocks


#: Wakes fired between two looks at the clock in ``catch_up`` (~5-15 ms).
_WAKE_STEP = 64
