"""The ceiling: raw aiokafka ``getmany`` + ``orjson.loads`` of the input topics.

No framework, no state, no output: the fastest a single Python process can
take these events off this broker and decode them. Nothing doing real work
can beat it, so "pipeline / ceiling" says how much of the possible the
pipeline gets. Run as its own process (``python -m services.bench.ceiling``)
so its CPU and memory are its own; it reports them itself as JSON on stdout,
over the window from its first fetch to the last event, because at ~300k
events/s a whole run is shorter than a useful polling interval from outside.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.bench.produce import Counts
from services.bench.runner import BenchError, Consumption, peak_rss_mb


def _cpu() -> float:
    """Process CPU seconds at nanosecond resolution: ``os.times`` counts clock
    ticks (10 ms), and the smoke test's 3,000 events take less than one."""
    return time.process_time()


async def consume_all(bootstrap: str, counts: Counts) -> dict[str, Any]:
    """Read every produced event once; returns the measured window."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        wanted = {TopicPartition(t, p): n for (t, p), n in counts.items() if n > 0}
        consumer.assign(list(wanted))
        await consumer.seek_to_beginning(*wanted)
        remaining, total, decoded = dict(wanted), sum(wanted.values()), 0
        t0, cpu0 = time.monotonic(), _cpu()
        loads = orjson.loads
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10000)
            for tp, records in batches.items():
                for record in records:
                    loads(record.value)
                decoded += len(records)
                if tp in remaining and records[-1].offset + 1 >= remaining[tp]:
                    del remaining[tp]
        seconds, cpu = time.monotonic() - t0, _cpu() - cpu0
    finally:
        await consumer.stop()
    return {
        "events": total,
        "decoded": decoded,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak_rss_mb(os.getpid()),
    }


def run_ceiling(bootstrap: str, counts: Counts, cwd: Path, timeout: float = 600.0) -> Consumption:
    """Run the ceiling in its own process and return its measurement."""
    spec = json.dumps([[t, p, n] for (t, p), n in counts.items()])
    argv = [sys.executable, "-m", "services.bench.ceiling", "--bootstrap", bootstrap]
    started = time.monotonic()
    done = subprocess.run(
        argv, input=spec, capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"the ceiling consumer failed ({done.returncode}):\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout)
    return Consumption(
        out["events"],
        out["seconds"],
        out["cpu_seconds"],
        out["peak_rss_mb"],
        time.monotonic() - started - out["seconds"],
        "steady",
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m services.bench.ceiling")
    parser.add_argument("--bootstrap", required=True)
    args = parser.parse_args()
    counts: Counts = {(t, p): n for t, p, n in json.load(sys.stdin)}
    result = asyncio.run(consume_all(args.bootstrap, counts))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
