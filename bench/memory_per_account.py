"""What one account costs in a worker's memory, by account age (not a test).

    .venv/bin/python -m bench.memory_per_account [--accounts 2000] [--days 1 7 30 90]

Sizing workers needs bytes per account *in memory*, which the changelog's bytes
per account (``make bench``'s ``state_bytes_per_account``) understate several
times over: the worker keeps every owned account live as Python objects
(``PartitionEngine.accounts``, the wake heap), and with the ``memory://`` store
the table holds each stored record again as a dict. Older accounts hold more:
a bucket per active day, every feature used, tickets, CSAT answers.

For each history length, one simulated run (the hot-path bench's generator,
seed 7) goes through a fresh ``PartitionEngine`` and then, with everything
else collected, the script reports per account:

    engine      live bytes the engine holds (tracemalloc, after a full GC)
    store dict  the stored records as dicts, the ``memory://`` table's values
    changelog   the stored record's JSON, what the changelog and RocksDB hold

The events are generated and encoded before tracing starts, so only what the
engine keeps is counted, not the input.
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc
from typing import Any

import orjson

from bench.bench_hot_path import RULES, messages, polls
from streams.processing.decode import decode_domain
from streams.processing.engine import PartitionEngine


def traced_now() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def measure(accounts: int, days: float) -> dict[str, Any]:
    """One run over ``days`` of history for ``accounts`` accounts."""
    _, feed = messages(accounts, days)
    tracemalloc.start()
    try:
        start = traced_now()
        engine = PartitionEngine(0, RULES.model, RULES.policies)
        for poll in polls(feed):
            engine.process([decode_domain(topic, value) for topic, value in poll])
        engine.take_dirty_ids()
        live = traced_now() - start
        stored = {account_id: engine.record(account_id) for account_id in engine.accounts}
        store_dict = traced_now() - start - live
    finally:
        tracemalloc.stop()
    owned = len(engine.accounts)
    changelog = sum(len(orjson.dumps(record)) for record in stored.values())
    return {
        "days": days,
        "events": len(feed),
        "accounts": owned,
        "engine_bytes": live / owned,
        "store_dict_bytes": store_dict / owned,
        "changelog_bytes": changelog / owned,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--days", type=float, nargs="+", default=[1, 7, 30, 90])
    args = parser.parse_args()
    print(f"{'days':>5} {'events':>10} {'accounts':>8}  per account, bytes: "
          f"{'engine':>8} {'store dict':>10} {'changelog':>9}", flush=True)  # fmt: skip
    for days in args.days:
        row = measure(args.accounts, days)
        print(f"{row['days']:5g} {row['events']:10,} {row['accounts']:8,}  {'':21}"
              f"{row['engine_bytes']:8,.0f} {row['store_dict_bytes']:10,.0f} "
              f"{row['changelog_bytes']:9,.0f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
