"""The whole bench: each requested broker started fresh, benchmarked, stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.bench.floor_app import OracleStore
from services.bench.machine import load_average, machine_facts, source_revision
from services.bench.progress import ProgressLine
from services.bench.report import SCHEMA
from services.bench.runner import BenchError
from services.bench.suite import BenchParams, BrokerBench
from services.stack.process import StackError

log = logging.getLogger(__name__)


def apache_kafka_available() -> bool:
    """True when the Apache Kafka jars resolve and a JVM is on PATH (no start)."""
    try:
        from services.stack.kafka import java_binary, kafka_classpath

        java_binary()
        kafka_classpath()
    except Exception:
        return False
    return True


def start_broker(kind: str, progress: Callable[[str], None] | None = None) -> Any:
    """A fresh ``tansu`` or ``apache`` (Kafka) broker on loopback; ``.stop()`` it."""
    if kind == "tansu":
        from services.stack.tansu import start_tansu

        return start_tansu()
    from services.stack.kafka import start_kafka

    return start_kafka(progress=progress)


def _bench_one(
    kind: str, params: BenchParams, bar: ProgressLine, oracles: OracleStore | None
) -> dict[str, Any]:
    bar.update(f"starting {kind}")
    server = start_broker(kind, bar.note)
    try:
        return asyncio.run(BrokerBench(kind, server.address, params, bar, oracles).run())
    finally:
        server.stop()


def run_bench(params: BenchParams, brokers: list[str], bar: ProgressLine) -> dict[str, Any]:
    """Benchmark ``brokers`` one after another; returns the results document."""
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "parameters": params.to_json(),
        "pipeline_source": source_revision(params.pipeline_dir),
        "brokers": {},
    }
    oracles = None
    if params.with_floor:
        oracles = OracleStore(params.events, params.accounts, params.seed, params.partitions)
    try:
        for kind in brokers:
            try:
                results["brokers"][kind] = _bench_one(kind, params, bar, oracles)
            except Exception as exc:
                # One broker failing (no JVM for Apache Kafka, a broker quirk) must
                # not throw away the other's figures: the error takes their place.
                if not isinstance(exc, BenchError | StackError):
                    log.exception("bench on %s failed", kind)
                bar.note(f"[{kind}] failed: {exc!r}")
                results["brokers"][kind] = {"error": repr(exc)}
    finally:
        if oracles is not None:
            oracles.cleanup()
    results["load_average_at_end"] = load_average()
    return results
