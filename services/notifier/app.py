"""Wiring: build the parts from settings and run them until told to stop.

One process runs the dispatcher and N delivery workers by default; either role
alone scales separately (``--dispatcher-only`` for one per Kafka partition set,
``--workers-only`` for as many as the receivers can take). Every worker in every
process has its own consumer name in the ``notifiers`` group.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Coroutine, Mapping
from typing import Any

import httpx
from redis.asyncio import Redis

from services.notifier.channels import Channel
from services.notifier.channels.email import EmailChannel, SmtpConfig
from services.notifier.channels.slack import SlackChannel
from services.notifier.channels.webhook import WebhookChannel
from services.notifier.dispatch import KafkaConfig, run_dispatcher
from services.notifier.handling import DeliveryHandler
from services.notifier.queue import DeliveryQueue
from services.notifier.reclaimer import Reclaimer
from services.notifier.scheduler import run_scheduler
from services.notifier.settings import NotifierSettings
from services.notifier.subscriptions import SubscriptionCache
from services.notifier.worker import DeliveryWorker
from services.redis_client import restart_tolerant_redis
from streams.processing.rules import load_rules

log = logging.getLogger(__name__)


def consumer_name(index: int) -> str:
    """Unique per process start: a restarted process must not inherit the dead
    one's pending entries by name (they are reclaimed by idle time instead)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}-{index}"


def build_channels(settings: NotifierSettings) -> Mapping[str, Channel]:
    timeout = httpx.Timeout(settings.timeout_seconds, connect=min(settings.timeout_seconds, 5.0))
    limits = httpx.Limits(max_connections=max(1, settings.workers) * settings.concurrency)

    def client() -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)

    smtp = SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout_seconds=settings.timeout_seconds,
    )
    return {
        "webhook": WebhookChannel(client()),
        "slack": SlackChannel(client()),
        "email": EmailChannel(smtp),
    }


def _worker_tasks(
    settings: NotifierSettings,
    queue: DeliveryQueue,
    redis: Redis,
    channels: Mapping[str, Channel],
    workers: int,
    stop: asyncio.Event,
) -> list[Coroutine[Any, Any, None]]:
    cache = SubscriptionCache(redis, settings.subscription_refresh_seconds, time.monotonic)
    handler = DeliveryHandler(queue, cache, channels, settings.retry_policy, random.random)
    jobs: list[Coroutine[Any, Any, None]] = [
        run_scheduler(queue, settings.scheduler_interval_seconds, stop)
    ]
    for index in range(workers):
        name = consumer_name(index)
        reclaimer = Reclaimer(
            queue, name, settings.reclaim_idle_ms, settings.reclaim_interval_seconds
        )
        worker = DeliveryWorker(queue, handler, reclaimer, name, settings.concurrency)
        jobs.append(worker.run(stop, settings.stop_grace_seconds))
    return jobs


async def run(
    settings: NotifierSettings, *, dispatcher: bool, workers: int, stop: asyncio.Event
) -> None:
    """Run until ``stop`` is set; a crashed part stops the whole process (the
    supervisor restarts it) rather than leaving half a notifier running."""
    redis = restart_tolerant_redis(settings.redis_url)
    queue = DeliveryQueue(redis)
    channels = build_channels(settings) if workers else {}
    jobs: list[Coroutine[Any, Any, None]] = []
    if dispatcher:
        kafka = KafkaConfig(
            settings.kafka_bootstrap_servers,
            settings.group_id,
            settings.offset_reset,
            security=settings,
            bands=load_rules(settings.model_path).model.bands,
        )
        cache = SubscriptionCache(redis, settings.subscription_refresh_seconds, time.monotonic)
        jobs.append(run_dispatcher(kafka, queue, cache, stop))
    if workers:
        jobs += _worker_tasks(settings, queue, redis, channels, workers, stop)
    log.info(
        "notifier starting: dispatcher=%s workers=%d concurrency=%d",
        dispatcher,
        workers,
        settings.concurrency,
    )
    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(job)
    finally:
        for channel in channels.values():
            await channel.aclose()
        await redis.aclose()
