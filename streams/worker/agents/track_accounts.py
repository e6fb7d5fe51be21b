"""The one input subscription: every input topic, co-partitioned on account_id.

All five input topics share a partition count, so one subscription gives a
worker every stream of the accounts it owns with no repartition hop, and one
per-account state sees usage, tickets, billing and feedback together.

Two ways in, same ``Pipeline``:
- fast path (default, ``HEALTHSCORE_FAST_PATH=1``): the patched consumer loop
  hands each fetched batch of input messages straight to ``fast_batch``,
  which acks them after the pipeline has handed every output and changelog
  record to the producer (see ``streams.speedups.faust_patches``);
- the stock Faust agent below (``HEALTHSCORE_FAST_PATH=0``), kept as the
  reference path and for comparison in ``healthscore bench``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from schemas import topics as contract
from streams.observability import metrics
from streams.processing.align import Aligner
from streams.processing.deadletter import DeadLetterLimit
from streams.processing.gauges import account_views
from streams.processing.horizon import Horizon
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from streams.speedups import faust_patches, undecodable
from streams.speedups.batching import BatchingSink, fail_flush_on_lost_sends
from streams.speedups.fastpath import FastIngest
from streams.worker import topics
from streams.worker.app import app, settings
from streams.worker.ownership import owned_inputs
from streams.worker.state_writers import changelog_writer, table_writer
from streams.worker.tables import accounts

_pipeline: Pipeline | None = None


def pipeline() -> Pipeline:
    """Built on first use, not at import: settings, the model file and the
    producer are read when the worker runs, not when a test imports this."""
    global _pipeline
    if _pipeline is None:
        runtime = Runtime(load_rules(settings.model_path), settings.partitions, accounts)
        # Faust's own aiokafka producer; ProducerT declares no public handle on it.
        faust_producer: Any = app.producer
        producer = faust_producer._ensure_producer()
        if settings.fast_path:
            changelog = accounts.changelog_topic.get_topic_name()
            writer = changelog_writer(accounts.data, changelog)
        else:
            writer = table_writer(accounts)
        sink = BatchingSink(producer, linger_ms=5)
        fail_flush_on_lost_sends(app.producer, sink)
        limit = DeadLetterLimit(max_ratio=settings.deadletter_max_ratio)
        _pipeline = Pipeline(
            runtime,
            sink,
            writer,
            limit,
            spread_wakes=settings.fast_path,
            # Held inputs stay unacked until applied, which only the fast path's
            # acks can do: Faust's stream acks each event once the agent has it.
            aligner=Aligner(contract.INPUT_TOPICS) if settings.fast_path else None,
            horizon=Horizon(settings.max_future_seconds),
        )
    return _pipeline


fast_ingest = FastIngest(pipeline, persist_every=settings.persist_seconds)
undecodable.install(frozenset(contract.INPUT_TOPICS))
if settings.fast_path:
    app.before_wait_empty.append(fast_ingest.drain)
    faust_patches.install(
        frozenset(contract.INPUT_TOPICS),
        fast_ingest.on_batch,
        divert_max=settings.batch_size,
        after_fetch=fast_ingest.on_fetched,
    )


@app.agent(topics.inputs)
async def track_accounts(stream: Any) -> AsyncIterator[None]:
    """Reference path; with the fast path on, its topics are diverted before
    they reach this stream, and the agent only keeps the subscription."""
    async for events in stream.take_events(settings.batch_size, within=settings.batch_within):
        async with fast_ingest.lock:
            with metrics.BATCH_SECONDS.time():
                await pipeline().handle(event.message for event in events)
        yield None


@app.timer(fast_ingest.timer_seconds)  # type: ignore[untyped-decorator]  # Faust's app.timer is untyped
async def persist_state() -> None:
    """Fast path: persist and ack soon after the batches stop (see ``FastIngest.flush``)."""
    if settings.fast_path:
        await fast_ingest.flush()


# mode types this decorator's handlers with mypy_extensions' VarArg/NamedArg,
# which no function signature matches under mypy: the ignore is for that.
@app.on_partitions_revoked.connect  # type: ignore[arg-type]
async def drop_revoked(sender: Any, revoked: set[Any], **kwargs: Any) -> None:
    """After a rebalance took partitions away, forget their engines: another
    worker may change those accounts, and if a partition comes back its state
    must be restored from the table, not from this worker's stale copy.
    (Faust has already waited for our in-flight messages to be acked, i.e.
    persisted, before sending this signal.)"""
    if _pipeline is None:
        return
    async with fast_ingest.lock:
        await _pipeline.persist()
        _pipeline.runtime.forget({tp.partition for tp in revoked})


@app.timer(settings.tick_seconds)  # type: ignore[untyped-decorator]  # Faust's app.timer is untyped
async def tick_clock() -> None:
    """Restore the owned partitions no batch has brought yet (all quiet since a
    restart or hand-over); live mode: silent accounts lose health as wall-clock
    days pass."""
    async with fast_ingest.lock:
        pipeline().runtime.adopt(owned_inputs(app, contract.INPUT_TOPICS))
        if settings.live_tick:
            # The fast path writes the changed accounts with its next persist
            # (a slice at a time), rather than all at once here.
            await pipeline().tick(persist=not settings.fast_path)


@app.timer(15.0)  # type: ignore[untyped-decorator]  # Faust's app.timer is untyped
async def report_gauges() -> None:
    """Accounts by band and open dunning cases by state, for dashboards."""
    bands, cases = account_views(pipeline().runtime.engines.values())
    for band in ("healthy", "neutral", "at_risk"):
        metrics.ACCOUNTS_BY_BAND.labels(band).set(bands[band])
    for state in ("open", "retrying", "grace", "restricted"):
        metrics.DUNNING_CASES.labels(state).set(cases[state])
    for partition, engine in pipeline().runtime.engines.items():
        metrics.WATERMARK_SECONDS.labels(str(partition)).set(engine.watermark_s)
