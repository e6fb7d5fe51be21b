"""How late do the bench's live inputs reach *any* consumer? (a dev tool)

    .venv/bin/python -m bench.feed_latency [--accounts 50000] [--rate 5000] [--seconds 15]

Separates the harness from the worker: one broker, a plain aiokafka consumer
in its own process reading the input topics from their end, and the bench's
live feed produced at ``--rate``. Prints p50/p99 of (receive time - the
record's producer timestamp). If these are seconds, the latency phase's
seconds are not the worker's.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import uuid

from aiokafka import AIOKafkaConsumer

from schemas.topics import INPUT_TOPICS
from services.bench.produce import LiveFeed, produce_feed
from services.bench.run import start_broker
from services.simulator import Simulation
from services.stack.topics import ensure_topics


async def consume(bootstrap: str, seconds: float) -> None:
    consumer = AIOKafkaConsumer(
        *INPUT_TOPICS, bootstrap_servers=bootstrap, auto_offset_reset="latest",
        group_id=f"feed-latency-{uuid.uuid4().hex[:6]}",
    )  # fmt: skip
    await consumer.start()
    lags: list[float] = []
    try:
        await consumer.getmany(timeout_ms=2000)  # join, position at the end
        print("ready", flush=True)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            batch = await consumer.getmany(timeout_ms=500)
            now_ms = time.time() * 1000
            lags.extend(now_ms - r.timestamp for rs in batch.values() for r in rs)
    finally:
        await consumer.stop()
    lags.sort()
    if lags:
        p = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]  # noqa: E731
        print(
            f"received {len(lags):,}: p50 {p(0.5):.0f} ms p99 {p(0.99):.0f} ms "
            f"max {lags[-1]:.0f} ms"
        )


async def produce(bootstrap: str, args: argparse.Namespace) -> None:
    await ensure_topics(bootstrap, 4)
    sim = Simulation.create(accounts=args.accounts, days=1, seed=42, end=int(time.time()))
    child = subprocess.Popen(  # noqa: ASYNC220 - a dev script: the child runs for the whole feed
        [sys.executable, "-m", "bench.feed_latency", "--consume", bootstrap,
         "--seconds", str(args.seconds + 5)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    child.stdout.readline()  # "ready"
    feed = LiveFeed(sim, int(args.rate * args.seconds), 0, "feed")
    produced = await produce_feed(bootstrap, feed, partitions=4, rate=args.rate)
    print(f"produced {produced.events:,} at {produced.rate:,.0f}/s", flush=True)
    print(child.stdout.read().strip())
    child.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=5000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--consume", metavar="BOOTSTRAP")
    args = parser.parse_args()
    if args.consume:
        asyncio.run(consume(args.consume, args.seconds))
        return
    server = start_broker("apache")
    try:
        asyncio.run(produce(server.address, args))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
