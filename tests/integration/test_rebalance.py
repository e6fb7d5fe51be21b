"""A second worker joining mid-stream loses no output: the fast path's batched
drain, its deferred acks and the changelog hand partitions over without a gap.

Worker A takes a history alone; worker B joins the same consumer group
while the rest of the history is being produced, so partitions move between
them mid-stream (B restores their state from the changelog). Every health,
alert and dunning record a file replay of the history emits must appear,
with the replay's content; no other id may appear; re-deliveries after the
hand-over may repeat an id with the same content.

Every field must match, ``as_of`` included. This test found two defects
that showed in a few runs in ten: day-rollover rescores after a hand-over
stamped with a later ``as_of``, or lost. First, the new owner took its clock
from state written after the committed offsets; the clock now goes with the
offsets (``streams.processing.clock``; deterministic version:
``tests/unit/streams/test_handover_clock.py``), and every partition's clock
record must be on its own changelog partition. Then, when the consumer
delivered a batch again while the midnight wakes it had passed were still
deferred, its (duplicate) events settled their accounts at the partition
clock before those wakes fired; an account's wakes due by the clock now
fire first (``tests/unit/streams/test_deferred_wakes.py``).

All five input topics, whose partitions the worker fetches independently and
applies in event-time order (``streams.processing.align``): the hand-over
happens while inputs are held, so it also covers the batches a rebalance's
drain lets go and the chunks fetched before the rebalance that reach the
fast path after it (faust-streaming #502, duplicates after a scale-out
rebalance; here, with a drain letting held batches go, those chunks wrote
state past inputs never applied, and the new owner lost them:
``tests/unit/streams/test_fastpath_rebalance.py`` is the step-by-step case).
Traced with per-step logs, three more: records fetched while the rebalance
was under way, before Faust's seek to the committed offsets (applied ahead
of the inputs it delivered again) or after it (let go past the position:
lost), and a partition whose high-water mark came from an older fetch
response than its sibling's looked caught up (``test_faust_patches_rebalance``,
``test_fastpath_rebalance``, ``test_backlog_freshness``). Apache Kafka, as
for every test that restores tables (Tansu reports high-water marks short)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from schemas import topics
from services.stack.topics import ensure_topics
from streams.processing.clock import is_clock_key
from streams.processing.partitioning import partition_for
from tests.integration.kafka_io import Record, produce, read_until
from tests.integration.replaying import PARTITIONS, full_history, replay_outputs
from tests.integration.worker_process import running_worker

GROUP = "rebalance"

#: Scores, and what reaches customers and operators.
COMPARED = (topics.HEALTH, topics.ALERTS, topics.DUNNING)


async def _members(bootstrap: str) -> int:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([GROUP])
        (group,) = response.groups
        return len(group[5])  # (error, id, state, protocol_type, protocol, members, ...)
    finally:
        await admin.close()


@pytest.mark.timeout(300)
@pytest.mark.xfail(
    strict=False,
    reason="open: of 8 runs with this branch's fixes 7 were exact (the last 5, on the merged"
    " code); in 1, 1 health record (of 3,150) had an as_of 5 s later than replay's: a login was"
    " applied before a ticket produced and acked before it on a sibling topic of its partition,"
    " which a fetch response no older (to the millisecond) than the login's reported caught up"
    " without it. A broker reads a fetch's partitions one after another, so their high-water"
    " marks are no single snapshot; only waiting for a later response (Kafka Streams'"
    " max.task.idle.ms) closes that, at a latency cost on every live input",
)
async def test_second_worker_joining_mid_stream_loses_no_output(
    fresh_apache_kafka_bootstrap: str, tmp_path: Path
) -> None:
    events = full_history(seed=11)
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(value + b"\n" for _topic, _key, value in events))
    replayed = replay_outputs(path)
    expected = {
        orjson.loads(value)["id"]: value for topic in COMPARED for value in replayed[topic]
    }  # fmt: skip
    assert len(expected) > 1000, "scenario must score"
    assert replayed[topics.ALERTS] and replayed[topics.DUNNING], "alerts and dunning must be in it"

    bootstrap = fresh_apache_kafka_bootstrap
    await ensure_topics(bootstrap, PARTITIONS)
    first, rest = events[: len(events) // 3], events[len(events) // 3 :]
    await produce(bootstrap, first)
    seen: dict[str, bytes] = {}
    repeated: list[str] = []

    def keep(record: Record) -> bool:
        event_id = orjson.loads(record.value)["id"]
        if event_id in seen:
            repeated.append(event_id)
            assert not _diff(record.value, seen[event_id]), event_id
        seen[event_id] = record.value
        return True

    def complete(_kept: list[Record]) -> bool:
        return expected.keys() <= seen.keys()

    with running_worker(bootstrap, GROUP, tmp_path / "a", HEALTHSCORE_PERSIST_SECONDS="2"):
        await read_until(bootstrap, topics.HEALTH, done=lambda kept: len(kept) > 0, timeout=90)
        with running_worker(bootstrap, GROUP, tmp_path / "b", HEALTHSCORE_PERSIST_SECONDS="2"):
            # While B joins and the group rebalances, one by one: event-time
            # alignment holds an input only while a sibling partition has an
            # earlier one at the broker (``streams.processing.align``), so the
            # rest must reach the broker in event-time order across partitions.
            await produce(bootstrap, rest, one_by_one=True)
            await read_until(
                bootstrap, list(COMPARED), done=complete, keep=keep,
                timeout=150, settle=3.0,
            )  # fmt: skip
            members = await _members(bootstrap)

    assert members == 2, "worker B never joined the group"
    missing = expected.keys() - seen.keys()
    lost = f"{len(missing)} of {len(expected)} outputs lost, e.g. {sorted(missing)[:3]}"
    assert not missing, lost
    extra = seen.keys() - expected.keys()
    assert not extra, f"{len(extra)} outputs the replay does not emit, e.g. {sorted(extra)[:3]}"
    differ = {event_id: _diff(seen[event_id], value) for event_id, value in expected.items()}
    differ = {k: v for k, v in differ.items() if v}
    assert not differ, f"{len(differ)} with the same id, other content: {list(differ.items())[:3]}"
    print(f"{len(repeated)} repeated of {len(expected)} outputs")
    clocks = await read_until(
        bootstrap, f"{GROUP}-accounts-changelog",
        done=lambda kept: {r.partition for r in kept} == set(range(PARTITIONS)),
        keep=lambda r: is_clock_key(r.key or b""), timeout=30,
    )  # fmt: skip
    assert all(r.partition == partition_for(r.key, PARTITIONS) for r in clocks)
    assert {r.partition for r in clocks} == set(range(PARTITIONS)), "a partition clock unwritten"


def _diff(live: bytes, replayed: bytes) -> dict[str, tuple[object, object]]:
    """The fields that differ (live, replayed)."""
    a, b = orjson.loads(live), orjson.loads(replayed)
    a_data, b_data = a.pop("data"), b.pop("data")
    a.update({f"data.{k}": v for k, v in a_data.items()})
    b.update({f"data.{k}": v for k, v in b_data.items()})
    return {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
