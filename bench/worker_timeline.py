"""One worker run's timeline as ``healthscore bench`` samples it (a dev tool).

    .venv/bin/python -m bench.worker_timeline [--contender pipeline|naive] \\
        [--events 1000000] [--accounts 50000] [--broker apache|tansu]

Produces the bench's feed unpaced, runs one worker and prints every sample the
bench takes (every 0.25 s): the CPU rate since the last, the committed events
and, where the worker was asked, its consumed counter; then the measured
window (``services.bench.runner.summarize``). It shows where a run's wall
time goes that its CPU does not: start-up, commits, and the idle tail after
the input ran out (``Consumption.tail_idle_seconds``).
"""

from __future__ import annotations

import argparse
import asyncio

from bench.profile_worker import produce
from services.bench.contenders import Contender
from services.bench.run import start_broker
from services.bench.runner import Consumption, Sample, cpu_rate, wait_consumed


async def timeline(bootstrap: str, args: argparse.Namespace) -> tuple[list[Sample], Consumption]:
    _, counts = await produce(bootstrap, args.events, args.accounts, args.partitions)
    contender = Contender(args.contender, bootstrap, args.partitions)
    worker = contender.spawn()
    samples: list[Sample] = []
    try:
        result = await wait_consumed(worker, bootstrap, contender.app_id, counts, samples=samples)
    finally:
        worker.stop()
        contender.cleanup()
    return samples, result


def render(samples: list[Sample], spawned: float) -> list[str]:
    rows = ["     t   cpu%   committed   consumed"]
    for j, sample in enumerate(samples[1:], start=1):
        rate = 100 * (cpu_rate(samples, j) or 0.0)
        consumed = "" if sample.processed is None else f"{sample.processed:,}"
        rows.append(f"{sample.t - spawned:6.2f} {rate:6.0f} {sample.committed:11,} {consumed:>10}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contender", choices=("pipeline", "naive"), default="pipeline")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--broker", choices=("tansu", "apache"), default="apache")
    args = parser.parse_args()
    server = start_broker(args.broker)
    try:
        samples, result = asyncio.run(timeline(server.address, args))
    finally:
        server.stop()
    print("\n".join(render(samples, samples[0].t if samples else 0.0)))
    print(result.to_json())


if __name__ == "__main__":
    main()
