"""The Faust application: configuration only, no processing.

Agents, topics and tables live in their own modules and register themselves on
``app``; ``streams/__main__.py`` imports them and runs the worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CollectorRegistry

from streams.observability.logging import logging_dict_config
from streams.speedups import faust_patches
from streams.speedups.faust_monitor import install_monitor
from streams.worker.kafka_security import faust_credentials
from streams.worker.settings import WorkerSettings


class App(faust.App):
    """``faust.App`` with one hook: ``before_wait_empty``, callbacks that run
    before Faust waits for every in-flight message to be acked, at a
    rebalance and at shutdown. The fast path acks a batch only once the state
    it changed is written, normally in slices or from its idle timer; at
    shutdown the timer took no persist during that wait, so the worker
    waited there, its last batches unacked and uncommitted, until it was
    killed (20 s in the tests, the orchestrator's grace period in a
    deployment). The hook writes and acks them at once instead
    (``FastIngest.drain``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_wait_empty: list[Callable[[], Awaitable[None]]] = []

    async def _consumer_wait_empty(self, consumer: Any, logger: Any) -> None:
        for hook in self.before_wait_empty:
            await hook()
        await super()._consumer_wait_empty(consumer, logger)


def create_app(settings: WorkerSettings) -> App:
    """Build the app with settings measured to matter on this workload."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.fast_drain:
        faust_patches.install()
    faust_patches.set_fetch_max_wait(settings.fetch_max_wait_ms)
    app = App(
        settings.app_id,
        broker=settings.broker_urls,
        # TLS/SASL from KAFKA_SECURITY_PROTOCOL and friends, as every other process.
        broker_credentials=faust_credentials(settings),
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        autodiscover=False,
        # Replays and fresh deployments start from the beginning of history.
        consumer_auto_offset_reset="earliest",
        # First group join took 31 s with the defaults, 6 s with these.
        broker_rebalance_timeout=5,
        broker_session_timeout=10,
        broker_heartbeat_interval=1,
        # A deep buffer keeps the agent fed between fetches (1.6x measured).
        stream_buffer_maxsize=131072,
        producer_linger_ms=20,
        producer_max_batch_size=262144,
        web_host="127.0.0.1",
        web_port=settings.web_port,
        web_enabled=True,
        table_cleanup_interval=60.0,
        # JSON lines like every other process, installed when Faust sets up
        # logging at worker start (its banner still goes to stdout as text).
        logging_config=logging_dict_config(settings.log_level),
    )
    faust_registry = CollectorRegistry()
    # Faust's own worker metrics (rebalances, commit latency, table sizes...)
    # on Faust's web port (/metrics), in a registry of their own: some of
    # Faust's names (``*_runtime_ms``) fail ``promtool check metrics``, ours must not.
    setup_prometheus_sensors(app, pattern="/metrics", registry=faust_registry, name_prefix="faust")
    install_monitor(app)
    return app


settings = WorkerSettings()
app = create_app(settings)
