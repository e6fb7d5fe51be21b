"""One queue entry, start to finish: look up, de-duplicate, try, decide, record.

The order matters for exactly-once as far as it can go over HTTP:

1. skip if ``hs:delivery:done:{id}`` exists (delivered before, e.g. re-driven);
2. one attempt through the channel;
3. ``retry.decide`` (pure) picks delivered / retry / dead;
4. one atomic Redis step records it (done marker + XACK + XDEL, or ZADD retry +
   XACK + XDEL, or HSET dead + XACK + XDEL).

A process killed between 2 and 4 leaves the entry pending; another worker
reclaims it and tries again, so the receiver may see that delivery twice with the
same ``webhook-id``. That window (one response plus one Redis round trip) cannot
be closed from the sender's side; receivers de-duplicate on ``webhook-id``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from services.notifier import metrics
from services.notifier.channels import Channel, safe_target
from services.notifier.model import Delivery, Subscription
from services.notifier.queue import DeliveryQueue
from services.notifier.retry import AttemptResult, Decision, RetryPolicy, decide
from services.notifier.subscriptions import SubscriptionCache

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DeliveryHandler:
    def __init__(
        self,
        queue: DeliveryQueue,
        subscriptions: SubscriptionCache,
        channels: Mapping[str, Channel],
        policy: RetryPolicy,
        rand: Callable[[], float],
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._queue = queue
        self._subscriptions = subscriptions
        self._channels = channels
        self._policy = policy
        self._rand = rand
        self._clock = clock

    async def handle(self, delivery: Delivery) -> metrics.Outcome:
        subscription = await self._subscriptions.get(delivery.subscription_id)
        if subscription is None or not subscription.active:
            log.info(
                "subscription %s gone; dropping %s", delivery.subscription_id, delivery.delivery_id
            )
            return await self._skip(delivery, "unknown", "skipped_unsubscribed")
        if await self._queue.is_done(delivery.delivery_id):
            return await self._skip(delivery, subscription.channel, "skipped_duplicate")
        now = self._clock()
        result = await self._attempt(subscription, delivery, now)
        decision = decide(result, delivery.attempt, self._policy, now, self._rand())
        return await self._apply(decision, result, subscription, delivery, now)

    async def _attempt(
        self, subscription: Subscription, delivery: Delivery, now: datetime
    ) -> AttemptResult:
        started = time.perf_counter()
        result = await self._channels[subscription.channel].send(subscription, delivery, now)
        metrics.DELIVERY_DURATION.labels(subscription.channel).observe(
            time.perf_counter() - started
        )
        return result

    async def _skip(
        self, delivery: Delivery, channel: str, outcome: metrics.Outcome
    ) -> metrics.Outcome:
        await self._queue.discard(delivery)
        metrics.DELIVERIES.labels(channel, outcome).inc()
        return outcome

    async def _apply(
        self,
        decision: Decision,
        result: AttemptResult,
        subscription: Subscription,
        delivery: Delivery,
        now: datetime,
    ) -> metrics.Outcome:
        channel = subscription.channel
        outcome: metrics.Outcome
        if decision.action == "delivered":
            await self._queue.complete(delivery)
            outcome = "delivered"
            if delivery.enqueued_at is not None:
                latency = max(0.0, now.timestamp() - delivery.enqueued_at)
                metrics.DELIVERY_LATENCY.labels(channel).observe(latency)
        elif decision.action == "retry":
            due = now.timestamp() + decision.delay_seconds
            await self._queue.schedule_retry(delivery, decision.attempts, due)
            outcome = "retry_scheduled"
            log.info(
                "delivery %s to %s failed (%s); retry %d in %.1fs",
                delivery.delivery_id,
                safe_target(subscription),
                result.error,
                decision.attempts,
                decision.delay_seconds,
            )
        else:
            await self._queue.dead_letter(delivery, decision.attempts, result.error, channel, now)
            outcome = "dead_lettered"
            log.warning(
                "delivery %s to %s dead-lettered after %d tries: %s",
                delivery.delivery_id,
                safe_target(subscription),
                decision.attempts,
                result.error,
            )
        metrics.DELIVERIES.labels(channel, outcome).inc()
        return outcome
