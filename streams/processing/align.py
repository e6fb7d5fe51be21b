"""Event-time alignment: an account's inputs reach its engine in event-time
order, whatever order the consumer fetched its topics in.

A partition's clock is the largest event time it has applied (``streams.
processing.engine``), and an event older than the clock is settled at the
clock, after timers that in event time came later. The five input topics of
one partition are fetched independently: with a backlog (any restart, deploy
or outage) one topic's records arrive days of event time ahead of another's,
so profiles were applied after the usage they precede and the clock fired a
month of inactivity timers before the logins that would have stopped them.

Kafka Streams (``PartitionGroup``) picks the buffered head with the smallest
timestamp and, for a partition with nothing buffered, waits while the broker
still has records for it (KIP-695) or up to ``max.task.idle.ms``. The same
rule here, on the payload's event time rather than the Kafka timestamp:

- each input partition's *frontier* is the event time of the last record read
  from it: the records still to come on it are (producers write a partition
  in time order) no earlier;
- a partition the broker has more of (position below the high-water mark,
  or records of it fetched but not yet handed over) is *behind*;
- an input is applied once it is earlier than every behind partition's
  frontier (a behind partition never read bounds at the start of time);
  the rest is held, in ``(event time, id)`` order, until the frontiers move.

A partition that is caught up does not hold anything back: live input
flows at once, and a backlog is merged as ``healthscore replay`` sorts its
file. Held inputs are looked at again with every batch, and after every
fetch (``FastIngest.on_fetched``): a partition can catch up without a record
(a fetch response that only moves its high-water mark). Held inputs are not
acknowledged (``Ticket``), so a crash re-reads them; the read positions
stored with the state stop at the first held batch (``unapplied_from``).
``MAX_HELD`` bounds the memory: past it everything held is applied in order
(a partition that never catches up, e.g. one paused by the broker, degrades
to the fetch order rather than stalling the rest).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Container, Iterable, Mapping
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.processing.ingest import Accepted, ReadSpans

#: (topic, partition) -> whether the broker has records of it not handed over yet.
Behind = Callable[[str, int], bool]

#: Inputs held at most, across partitions, before all of them are applied.
MAX_HELD = 200_000

#: The order inputs are applied in: the engine's ``(event time, id)``.
ORDER = attrgetter("event.at", "event.id")
_AT = attrgetter("event.at")

_BEFORE_ALL = datetime.min.replace(tzinfo=UTC)


class Ticket:
    """One handed-over batch: how many of its inputs are held, and where it
    read each input partition. Its offsets may be acknowledged only once
    ``held`` is 0."""

    __slots__ = ("held", "read")

    def __init__(self, read: ReadSpans | None = None) -> None:
        self.held = 0
        #: Set by ``Pipeline.handle`` once the batch is decoded.
        self.read: ReadSpans = read if read is not None else {}


#: A batch's held inputs of one partition, sorted, with the batch's ticket.
Run = tuple[Ticket, list["Accepted"]]


def never_behind(topic: str, partition: int) -> bool:
    """No broker to ask (a replay, a test): every partition is caught up."""
    return False


class Aligner:
    """Holds inputs until no behind partition can still bring an earlier one."""

    def __init__(self, topics: Iterable[str], max_held: int = MAX_HELD) -> None:
        self.topics = tuple(topics)
        self.max_held = max_held
        #: Per partition, the held inputs: one run per batch, each sorted by
        #: ``ORDER`` and counted on its batch's ticket (so nothing is re-sorted
        #: or counted again input by input as the frontiers move).
        self._held: dict[int, list[Run]] = {}
        self._count = 0
        #: (topic, partition) -> event time of the last input read from it.
        self._frontier: dict[tuple[str, int], datetime] = {}
        #: Batches with held inputs, in arrival order (an ordered set).
        self._open: dict[Ticket, None] = {}
        #: account -> how many of its inputs are held (``held_accounts``).
        self._accounts: dict[str, int] = {}
        #: Times the cap forced held inputs out (``MAX_HELD``).
        self.overflows = 0

    @property
    def holding(self) -> int:
        """How many inputs are held."""
        return self._count

    @property
    def held_accounts(self) -> Container[str]:
        """The accounts with inputs held (a live view): every input read of
        any other account has been applied."""
        return self._accounts.keys()

    def align(
        self,
        accepted: list[Accepted],
        frontier: Mapping[tuple[str, int], datetime],
        behind: Behind,
        ticket: Ticket | None = None,
    ) -> list[Accepted]:
        """Take a batch's valid inputs (``frontier``: the event time of the
        last one read per input partition) and return every input, of this
        batch or held before, that may be applied now. ``ticket`` counts the
        batch's inputs that stay held."""
        self._frontier.update(frontier)
        bounds = {
            p: self._bound(p, behind) for p in {i.partition for i in accepted} | set(self._held)
        }
        out: list[Accepted] = []
        if not self._held and all(bound is None for bound in bounds.values()):
            return accepted  # live input, nothing behind: the common case costs nothing
        kept: dict[int, list[Accepted]] = {}
        for item in accepted:
            bound = bounds[item.partition]
            if bound is None or item.event.at < bound:
                out.append(item)
            else:
                kept.setdefault(item.partition, []).append(item)
        for partition, runs in list(self._held.items()):
            self._release(runs, bounds[partition], out)
            if not runs:
                del self._held[partition]
        for partition, items in kept.items():
            items.sort(key=ORDER)
            owner = ticket if ticket is not None else Ticket()
            owner.held += len(items)
            self._open[owner] = None
            self._held.setdefault(partition, []).append((owner, items))
            self._count += len(items)
            accounts = self._accounts
            for item in items:
                account_id = item.event.account_id
                accounts[account_id] = accounts.get(account_id, 0) + 1
        if self._count > self.max_held:
            self.overflows += 1
            out.extend(self.release_all())
        if self._open:
            self._open = {t: None for t in self._open if t.held}
        return out

    def release_all(self) -> list[Accepted]:
        """Every held input, to be applied now (the cap, or the caller's choice)."""
        out: list[Accepted] = []
        for runs in self._held.values():
            self._release(runs, None, out)
        self._held.clear()
        self._open.clear()
        self._accounts.clear()
        self._count = 0
        return out

    def drop(self) -> set[int]:
        """Forget every held input, unapplied (a rebalance or a shutdown: the
        consumer reads them again from the committed offsets, which their
        unacknowledged batches kept below them). Returns the partitions that
        had inputs held."""
        had = set(self._held)
        self._held.clear()
        self._frontier.clear()
        self._open.clear()
        self._accounts.clear()
        self._count = 0
        return had

    def unapplied_from(self) -> dict[tuple[str, int], int]:
        """Per input partition with held inputs, the first offset of the
        earliest batch still holding some: reading must resume there."""
        out: dict[tuple[str, int], int] = {}
        for ticket in self._open:
            for tp, (first, _) in ticket.read.items():
                if tp not in out or first < out[tp]:
                    out[tp] = first
        return out

    def _settle(self, released: list[Accepted]) -> None:
        """Count ``released`` off their accounts' held inputs."""
        accounts = self._accounts
        for item in released:
            account_id = item.event.account_id
            left = accounts[account_id] - 1
            if left:
                accounts[account_id] = left
            else:
                del accounts[account_id]

    def _bound(self, partition: int, behind: Behind) -> datetime | None:
        """The event time inputs of ``partition`` must be earlier than to be
        applied (None: no bound, nothing is behind)."""
        bound: datetime | None = None
        for topic in self.topics:
            if not behind(topic, partition):
                continue
            seen = self._frontier.get((topic, partition), _BEFORE_ALL)
            if bound is None or seen < bound:
                bound = seen
        return bound

    def _release(self, runs: list[Run], bound: datetime | None, out: list[Accepted]) -> None:
        """Move the held inputs earlier than ``bound`` (all: None) to ``out``."""
        for ticket, items in runs:
            cut = len(items) if bound is None else bisect_left(items, bound, key=_AT)
            if cut:
                released = items[:cut]
                out.extend(released)
                del items[:cut]
                self._settle(released)
                ticket.held -= cut
                self._count -= cut
        runs[:] = [run for run in runs if run[1]]
