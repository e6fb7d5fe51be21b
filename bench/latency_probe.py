"""Latency at a fixed offered load under different worker settings (a dev tool).

    .venv/bin/python -m bench.latency_probe [--events 200000] [--accounts 50000]
        [--rate 5000] [--seconds 15] --env HEALTHSCORE_PERSIST_SECONDS=5 --env ...

One Apache Kafka (or Tansu), one produced history; then for each ``--env``
setting (``K=V`` or ``K=V,K2=V2``) a fresh pipeline worker catches up and the
bench's latency phase runs against it. Prints p50/p99 per setting.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from bench.profile_worker import produce, start_spy
from services.bench.contenders import Contender
from services.bench.latency import measure_latency
from services.bench.run import start_broker
from services.bench.runner import wait_consumed
from services.simulator.clock import DAY


async def probe(bootstrap: str, args: argparse.Namespace) -> None:
    end = None
    if args.midnight_after is not None:  # the live phase crosses an event-time midnight
        end = int(time.time()) // DAY * DAY - int(args.midnight_after)
    sim, counts = await produce(bootstrap, args.events, args.accounts, 4, end)
    for setting in args.env:
        env = dict(pair.split("=", 1) for pair in setting.split(",") if pair)
        contender = Contender("pipeline", bootstrap, 4, extra_env=env)
        spy = None
        worker = contender.spawn()
        try:
            caught = await wait_consumed(worker, bootstrap, contender.app_id, counts)
            spy = (
                start_spy(worker.pid, args.spy, idle=True, seconds=args.seconds - 2)
                if args.spy
                else None
            )
            latency, counts = await measure_latency(
                bootstrap, sim, worker, contender.app_id, counts,
                partitions=4, rate=args.rate, seconds=args.seconds,
            )  # fmt: skip
        finally:
            lines = worker.log_text().splitlines()
            stalls = [line for line in lines if "persisted at once" in line]
            print(f"   {len(stalls)} persists at once; last: {stalls[-3:]}", flush=True)
            pauses = [line for line in lines if "garbage collection" in line]
            print(
                f"   {len(pauses)} GC lines (long pauses, full collections): {pauses[-5:]}",
                flush=True,
            )
            if spy is not None:
                spy.send_signal(2)
                spy.wait(timeout=60)
            worker.stop()
            contender.cleanup()
        out = latency["output"]
        print(
            f"{setting or '(defaults)':45} catch-up {caught.events_per_s:8,.0f} ev/s "
            f"{caught.cpu_per_million:6.1f} CPU-s/1M | at {args.rate:,.0f}/s: "
            f"p50 {out['p50_ms']} ms p99 {out['p99_ms']} ms max {out['max_ms']} ms",
            flush=True,
        )
        print("   p50 by second:", latency["output_p50_by_second"], flush=True)
        print("   p99 by second:", latency["output_p99_by_second"], flush=True)
        print(f"   offered {latency['produced_rate']:,.0f}/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=5000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--broker", choices=("tansu", "apache"), default="apache")
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument(
        "--midnight-after",
        type=float,
        help="end the history this many seconds before a midnight, so the live "
        "phase's event time crosses it (every account wakes; default: noon)",
    )
    parser.add_argument("--spy", type=Path, help="py-spy the latency phase into this file")
    args = parser.parse_args()
    args.env = args.env or [""]
    server = start_broker(args.broker)
    try:
        asyncio.run(probe(server.address, args))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
