"""The naive baseline: the Faust agent a team writes first.

Stock Faust, one event at a time: decode with orjson, read the account's
state from a table, update a few counters, compute a score, write the state
back (one changelog record per event). Nothing here is slowed on purpose, and
nothing is tuned beyond what it takes to run at all: the partition count of
the inputs (Faust refuses a table whose changelog is partitioned unlike its
source), consuming from the earliest offset, and the three group-join
timeouts that cut the first join from ~31 s to ~6 s (startup only, outside the
measured window; they do not touch the per-event path).

Run: ``python -m services.bench.naive_app worker -l warn`` with the worker's
env (``KAFKA_BOOTSTRAP_SERVERS``, ``HEALTHSCORE_APP_ID``, ``HEALTHSCORE_DATA_DIR``,
``HEALTHSCORE_WORKER_WEB_PORT``, ``HEALTHSCORE_PARTITIONS``).
"""

from __future__ import annotations

import os
from typing import Any

import faust
import orjson

from schemas.topics import INPUT_TOPICS

PARTITIONS = int(os.environ.get("HEALTHSCORE_PARTITIONS", "4"))

app = faust.App(
    os.environ.get("HEALTHSCORE_APP_ID", "healthscore-naive"),
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
    *INPUT_TOPICS, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
)
accounts = app.Table("account_state", default=dict, partitions=PARTITIONS)

_WEIGHTS = {
    "login": 1,
    "feature_used": 1,
    "ticket_opened": -3,
    "ticket_reopened": -5,
    "payment_failed": -10,
    "payment_succeeded": 5,
}


def update(state: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """Count the event, and score: 70 plus a capped sum of weighted event counts."""
    kind = event.get("type", "")
    counts = state.setdefault("counts", {})
    counts[kind] = counts.get(kind, 0) + 1
    state["events"] = state.get("events", 0) + 1
    state["last_time"] = event.get("time")
    raw = 70 + sum(_WEIGHTS.get(k, 0) * min(n, 10) for k, n in counts.items())
    state["score"] = max(0, min(100, raw))
    return state


@app.agent(inputs)
async def track(stream: Any) -> None:
    async for value in stream:
        event = orjson.loads(value)
        account = event["account_id"]
        accounts[account] = update(accounts[account], event)


if __name__ == "__main__":
    app.main()
