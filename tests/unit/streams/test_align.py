"""Event-time alignment (``streams.processing.align``): inputs of one partition
come out in event-time order across topics however they were fetched, held
inputs keep their batch unacknowledged, and the cap bounds what is held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas import topics
from streams.domain.events import UsageEvent
from streams.processing.align import Aligner, Ticket, never_behind
from streams.processing.ingest import Accepted

T0 = datetime(2026, 9, 1, tzinfo=UTC)
USAGE, ACCOUNTS = topics.USAGE, topics.ACCOUNTS


def item(day: float, name: str, partition: int = 0, account: str = "a") -> Accepted:
    at = T0 + timedelta(days=day)
    return Accepted(partition, UsageEvent(id=name, account_id=account, kind="login", at=at), None)


def frontier(topic: str, day: float, partition: int = 0) -> dict[tuple[str, int], datetime]:
    return {(topic, partition): T0 + timedelta(days=day)}


def ids(items: list[Accepted]) -> list[str]:
    """In the engine's order: it sorts what it is given by (event time, id)."""
    return [i.event.id for i in sorted(items, key=lambda i: (i.event.at, i.event.id))]


def test_a_topic_still_behind_holds_later_inputs_of_its_partition_only() -> None:
    aligner = Aligner((USAGE, ACCOUNTS))
    behind = {(ACCOUNTS, 0)}  # the profiles of partition 0 are not read yet

    def is_behind(topic: str, partition: int) -> bool:
        return (topic, partition) in behind

    ticket = Ticket({(USAGE, 0): (0, 3)})
    batch = [item(1, "u1"), item(2, "u2"), item(3, "u3"), item(2, "other", partition=1)]
    out = aligner.align(batch, frontier(USAGE, 3), is_behind, ticket)
    assert ids(out) == ["other"]  # partition 1 has nothing behind
    assert ticket.held == 3
    assert aligner.unapplied_from() == {(USAGE, 0): 0}

    # The profiles arrive up to day 2: the usage before day 2 may go, in order.
    out = aligner.align([item(0.5, "p1"), item(2, "p2")], frontier(ACCOUNTS, 2), is_behind)
    assert ids(out) == ["p1", "u1"]
    assert ticket.held == 2

    behind.clear()  # the profiles are caught up: nothing bounds partition 0
    out = aligner.align([], {}, is_behind)
    assert ids(out) == ["p2", "u2", "u3"]
    assert ticket.held == 0 and aligner.holding == 0
    assert aligner.unapplied_from() == {}


def test_a_behind_partition_never_read_holds_everything_of_its_partition() -> None:
    aligner = Aligner((USAGE, ACCOUNTS))
    out = aligner.align([item(1, "u1")], frontier(USAGE, 1), lambda t, p: t == ACCOUNTS, Ticket({}))
    assert out == [] and aligner.holding == 1


def test_nothing_behind_passes_everything_through_unchanged() -> None:
    aligner = Aligner((USAGE, ACCOUNTS))
    batch = [item(3, "u3"), item(1, "u1")]
    assert aligner.align(batch, frontier(USAGE, 3), never_behind) == batch


def test_the_cap_applies_everything_held() -> None:
    aligner = Aligner((USAGE, ACCOUNTS), max_held=2)
    ticket = Ticket({(USAGE, 0): (0, 3)})
    out = aligner.align(
        [item(1, "u1"), item(2, "u2"), item(3, "u3")],
        frontier(USAGE, 3),
        lambda t, p: t == ACCOUNTS,
        ticket,
    )
    assert ids(out) == ["u1", "u2", "u3"]
    assert ticket.held == 0 and aligner.overflows == 1


def test_drop_forgets_held_inputs_and_reports_their_partitions() -> None:
    aligner = Aligner((USAGE, ACCOUNTS))
    ticket = Ticket({(USAGE, 2): (5, 6)})
    aligner.align([item(1, "u1", 2)], frontier(USAGE, 1, 2), lambda t, p: t == ACCOUNTS, ticket)
    assert aligner.drop() == {2}
    assert aligner.holding == 0 and aligner.unapplied_from() == {}
    assert ticket.held == 1  # never applied: its batch must not be acknowledged


def test_held_accounts_are_the_ones_with_an_input_held_now() -> None:
    aligner = Aligner((USAGE, ACCOUNTS))
    held = aligner.held_accounts  # a live view

    def profiles_behind(topic: str, partition: int) -> bool:
        return topic == ACCOUNTS

    batch = [item(1, "a1"), item(3, "a3"), item(2, "b2", account="b")]
    aligner.align(batch, frontier(USAGE, 3), profiles_behind, Ticket({}))
    assert "a" in held and "b" in held and "c" not in held

    # The profiles arrive up to day 2.5: a1 and b2 go, a3 is still held.
    out = aligner.align([], frontier(ACCOUNTS, 2.5), profiles_behind)
    assert ids(out) == ["a1", "b2"]
    assert "a" in held and "b" not in held

    aligner.drop()
    assert "a" not in held
