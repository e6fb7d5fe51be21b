"""The Kafka producer behind ``POST /v1/events``: one per process, shared.

``EventProducer`` is the port the route needs (send a batch, say if the broker
answers); tests swap in a recording fake through ``dependency_overrides``.
The real one connects in the background, so the API starts (and ``/readyz``
says why it is not ready) while the broker is still coming up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.api.errors import BrokerUnavailableError
from streams.worker.kafka_security import (
    KafkaLoginError,
    KafkaSecurity,
    client_kwargs,
    start_client,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    key: bytes
    value: bytes | None  # None: a tombstone (a delete on a compacted topic)


class EventProducer(Protocol):
    async def send_all(self, messages: Sequence[Outgoing]) -> None:
        """Produce every message and wait until the broker acknowledged all."""

    async def check(self, within_s: float) -> str | None:
        """None when the broker answers, else why not."""


class KafkaEventProducer:
    def __init__(
        self,
        bootstrap_servers: str,
        security: KafkaSecurity | None = None,
        retry_seconds: float = 2.0,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._security = security
        self._retry_seconds = retry_seconds
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_error = "connecting"

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect(), name="kafka-producer-connect")

    async def _connect(self) -> None:
        while True:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap,
                acks="all",
                linger_ms=5,
                enable_idempotence=False,  # Tansu has no transactions/idempotence support
                **client_kwargs(self._security),
            )
            try:
                await start_client(producer, self._bootstrap, self._security)
            except KafkaLoginError as exc:
                if str(exc) != self._last_error:  # once, not on every retry
                    log.error("%s", exc)
                self._last_error = str(exc)
            except (KafkaError, OSError) as exc:
                self._last_error = f"{type(exc).__name__}: {exc}"
            else:
                self._producer = producer
                log.info("Kafka producer connected to %s", self._bootstrap)
                return
            await producer.stop()
            await asyncio.sleep(self._retry_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._producer is not None:
            await self._producer.stop()

    async def send_all(self, messages: Sequence[Outgoing]) -> None:
        if self._producer is None:
            raise BrokerUnavailableError(f"Kafka is not connected ({self._last_error})")
        try:
            pending = [await self._producer.send(m.topic, m.value, key=m.key) for m in messages]
            await asyncio.gather(*pending)
        except KafkaError as exc:
            reason = f"Kafka did not acknowledge: {type(exc).__name__}"
            raise BrokerUnavailableError(reason) from exc

    async def check(self, within_s: float) -> str | None:
        if self._producer is None:
            return self._last_error
        try:
            await asyncio.wait_for(self._producer.client.fetch_all_metadata(), within_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None
