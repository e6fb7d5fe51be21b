"""The naive baseline: the Faust agent a team writes first, doing the same scoring.

Stock Faust, one event at a time, with healthscore's own domain: validate the
message with the pydantic contract (``schemas.inputs.decode_event``), read the
account's state from a table, take the domain's step
(``streams.domain.account.step_event``, the one the worker takes, event time as
the clock), write the state back (one changelog record per event), and send
what it decided, one ``topic.send`` each, to output topics of its own
(``<app id>-cs.health.v1``, ...) so the pipeline's topics stay its own.
Invalid messages are skipped. It does less than the pipeline - no timers, no
dead letters, no metrics - so the ratio is, if anything, kind to it.

Nothing here is slowed on purpose, and nothing is tuned beyond what it takes
to run at all: the partition count of the inputs (Faust refuses a table whose
changelog is partitioned unlike its source), consuming from the earliest
offset, and the three group-join timeouts that cut the first join from ~31 s
to ~6 s (startup only, outside the measured window; they do not touch the
per-event path).

Run: ``python -m services.bench.naive_app worker -l warn`` with the worker's
env (``KAFKA_BOOTSTRAP_SERVERS``, ``HEALTHSCORE_APP_ID``, ``HEALTHSCORE_DATA_DIR``,
``HEALTHSCORE_WORKER_WEB_PORT``, ``HEALTHSCORE_PARTITIONS``).
"""

from __future__ import annotations

import os
from typing import Any

# The naive baseline scores with the same build of the domain as the pipeline
# (compiled when built), so the loader goes in before the domain is imported.
from streams.speedups import native

native.install()

import faust  # noqa: E402

from schemas import topics  # noqa: E402
from schemas.errors import InvalidEventError  # noqa: E402
from schemas.inputs import decode_event  # noqa: E402
from streams.domain.account import Account, Decision, step_event  # noqa: E402
from streams.domain.errors import TooOldError  # noqa: E402
from streams.domain.events import DomainEvent  # noqa: E402
from streams.processing.convert import to_domain  # noqa: E402
from streams.processing.encode import Emit, encode  # noqa: E402
from streams.processing.rules import load_rules  # noqa: E402

PARTITIONS = int(os.environ.get("HEALTHSCORE_PARTITIONS", "4"))
APP_ID = os.environ.get("HEALTHSCORE_APP_ID", "healthscore-naive")

app = faust.App(
    APP_ID,
    broker=f"kafka://{os.environ.get('KAFKA_BOOTSTRAP_SERVERS', '127.0.0.1:9092')}",
    store="memory://",
    datadir=os.environ.get("HEALTHSCORE_DATA_DIR", ".run/naive"),
    topic_partitions=PARTITIONS,
    consumer_auto_offset_reset="earliest",
    broker_rebalance_timeout=5,
    broker_session_timeout=10,
    broker_heartbeat_interval=1,
    web_host="127.0.0.1",
    web_port=int(os.environ.get("HEALTHSCORE_WORKER_WEB_PORT", "6067")),
)

inputs = app.topic(
    *topics.INPUT_TOPICS,
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
)
#: One output per topic the domain's decisions encode to (the dead letters are
#: the pipeline's own: invalid messages are skipped here).
outputs = {
    name: app.topic(f"{APP_ID}-{name}", key_serializer="raw", value_serializer="raw")
    for name in topics.OUTPUT_TOPICS
    if name != topics.DEADLETTER
}
accounts = app.Table("account_state", default=dict, partitions=PARTITIONS)
RULES = load_rules()


def step(stored: dict[str, Any], event: DomainEvent) -> tuple[dict[str, Any], list[Emit]]:
    """One event through the domain: the new stored state and what to send."""
    model = RULES.model
    account = Account.from_dict(event.account_id, stored, model)
    decided: list[Decision] = []
    at_s = event.at.timestamp()
    try:
        step_event(account, event, at_s, at_s, model, RULES.policies, decided)
    except TooOldError:
        return stored, []  # refused before it changed anything; the worker dead-letters it
    return account.to_dict(), encode(decided, model.alerts.threshold)


@app.task  # type: ignore[untyped-decorator]  # Faust's app.task is untyped
async def declare_outputs() -> None:
    for topic in outputs.values():
        await topic.maybe_declare()


@app.agent(inputs)
async def track(stream: Any) -> None:
    async for message in stream.events():
        try:
            event = to_domain(decode_event(message.message.topic, message.value))
        except InvalidEventError:
            continue
        account = event.account_id
        accounts[account], out = step(accounts[account], event)
        for record in out:
            await outputs[record.topic].send(key=record.key, value=record.value)


if __name__ == "__main__":
    app.main()
