"""Print the newest dead letters: which producer sent what, and why it was rejected.

    KAFKA_BOOTSTRAP_SERVERS=broker:9092 .venv/bin/python docs/examples/read_deadletters.py --last 20

Reads ``cs.deadletter.v1`` without joining a consumer group (it commits
nothing and moves no one's offsets). Each line is the original topic,
partition and offset, the reason, and the start of the original message.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os

from aiokafka import AIOKafkaConsumer

TOPIC = "cs.deadletter.v1"


async def newest(bootstrap: str, last: int) -> list[dict[str, object]]:
    # No group_id: every partition is assigned to this consumer, nothing is committed.
    consumer = AIOKafkaConsumer(TOPIC, bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = sorted(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, max(0, ends[tp] - last))
        letters: list[dict[str, object]] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000)
            letters += [json.loads(m.value) for ms in batches.values() for m in ms if m.value]
    finally:
        await consumer.stop()
    letters.sort(key=lambda letter: str(letter.get("rejected_at", "")))
    return letters[-last:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--last", type=int, default=20, help="how many (newest first)")
    args = parser.parse_args()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    for letter in reversed(asyncio.run(newest(bootstrap, args.last))):
        original = base64.b64decode(str(letter["value_b64"])).decode(errors="replace")
        where = f"{letter['topic']}[{letter['partition']}]@{letter['offset']}"
        print(f"{letter['rejected_at']} {where}: {letter['reason']}\n    {original[:200]}")


if __name__ == "__main__":
    main()
