"""Alerts end to end, through every real process (see ``tests/e2e/conftest.py``).

- Issue 6: events POSTed to the API drive an account under 60; the alert
  reaches a real webhook receiver exactly once, with a valid Standard Webhooks
  signature. Measured: POST of the causing event -> receipt.
- Issue 4: a simulated customer base is produced to Kafka, one account is
  forced into decline, and its alert is readable from the Redis read model
  within 5 s of the causing event (the issue's functional bound).

What each scenario must produce is computed first by the worker's own engine
in-process (``scenarios.expected_outputs``), and the live alert must carry the
same deterministic id. The worker reads its five input topics independently,
so events of several topics produced at once are not applied in event-time
order (a replay is): a history converges to the same state (windows are
event-time buckets), but which event crosses a threshold may differ. The
tests therefore feed the pipeline in steps - history, the storm, then the one
causing event - and let it settle in between (``Pipeline.settle``).
Measured delays go to the test report (``record_property``; ``--junitxml``
with ``-o junit_family=legacy``) and to the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from schemas.inputs import topic_of, validate_python
from services.simulator import Simulation
from tests.e2e.pipeline import Pipeline
from tests.e2e.receiver import webhook_receiver
from tests.e2e.scenarios import (
    Event,
    alert_flow_events,
    alerts_of,
    decline_events,
    detractor_event,
    expected_outputs,
    make_profile,
    storm_events,
)

log = logging.getLogger(__name__)

BELOW = "health_below_threshold"
BELOW_TYPE = f"io.healthscore.alert.{BELOW}"
#: Issue 4: the forced account's alert is readable within this many seconds.
ALERT_READABLE_WITHIN_S = 5.0
DAY = 86_400
Record = tuple[str, bytes, bytes]  # topic, key, value


def histogram_count(text: str, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == f"{name}_count" and labels.items() <= sample.labels.items():
                return sample.value
    return 0.0


def the_one_alert(predicted: Iterable[Any], account: str, since: str) -> dict[str, Any]:
    """The single below-threshold alert the replay raises at or after ``since``."""
    found = [a for a in alerts_of(list(predicted), account, BELOW) if a["time"] >= since]
    assert len(found) == 1, f"the scenario must raise exactly one alert, replay gives {found}"
    return found[0]


async def post_events(pipeline: Pipeline, events: Sequence[Event]) -> float:
    """POST a batch; returns the wall time just before the request was sent."""
    async with pipeline.async_client() as client:
        sent_at = time.time()
        response = await client.post("/v1/events", json=list(events))
    assert response.status_code == 202, response.text
    return sent_at


async def test_alert_is_delivered_once_to_a_signed_webhook(
    pipeline: Pipeline, record_property: Callable[[str, object], None]
) -> None:
    account = f"acme-{uuid.uuid4().hex[:6]}"
    owner = f"{account}@example.com"
    steps = alert_flow_events(account, datetime.fromtimestamp(pipeline.reserve(3600), UTC))
    steps[0][0]["owner"] = owner  # the profile: the subscription filters on it
    *setup, cause = steps
    everything = [event for step in steps for event in step]
    predicted = expected_outputs(everything, pipeline.partitions)
    expected = the_one_alert(predicted, account, since=cause[0]["time"])

    async with webhook_receiver() as receiver, pipeline.async_client() as client:
        created = await client.post("/v1/subscriptions", json={
            "channel": "webhook", "target": receiver.url,
            "filters": {"types": [BELOW_TYPE], "owners": [owner]},
        })  # fmt: skip
        assert created.status_code == 201, created.text
        receiver.secret = created.json()["secret"]
        for step in setup:
            consumed = await asyncio.to_thread(pipeline.consumed)
            await post_events(pipeline, step)
            await asyncio.to_thread(pipeline.settle, consumed + len(step))
        posted_at = await post_events(pipeline, cause)
        (first,) = await receiver.wait_for(1, timeout=30)
        latency = first.at - posted_at
        # A second delivery would come from a retry or a duplicate dispatch:
        # give either time to show (retries are 0.2 s apart here).
        await asyncio.sleep(2.0)

    bodies = [r.json() for r in receiver.received]
    assert len(bodies) == 1, [(b["type"], b["time"], b["data"]["score"]) for b in bodies]
    assert first.verified
    assert (bodies[0]["type"], bodies[0]["subject"]) == (BELOW_TYPE, account)
    # Same id and score as the replay: the live run crossed at the same event.
    assert bodies[0]["id"] == expected["id"]
    assert bodies[0]["data"]["score"] == expected["data"]["score"]
    record_property("post_to_webhook_seconds", round(latency, 3))
    log.warning("POST /v1/events -> signed webhook received: %.3f s", latency)
    metrics = await asyncio.to_thread(pipeline.metrics_text, "notifier")
    assert histogram_count(metrics, "healthscore_delivery_latency_seconds", channel="webhook") == 1


def simulated_history(end: int, forced: str) -> list[Record]:
    """19 simulated accounts (14 days) plus one healthy account whose card was
    declined (hard decline, never recovers) 6 days before ``end``, after 24
    days of steady use; merged in event-time order."""
    crowd = Simulation.create(accounts=19, days=14, seed=11, end=end)
    lone = Simulation.forced_decline(
        account_id=forced, decline_at=end - 6 * DAY, days=30, end=end, segment="enterprise"
    )
    return sorted([*crowd.events(), *lone.events()], key=lambda e: orjson.loads(e[2])["time"])


def forced_steps(forced: str, end: int) -> tuple[list[Event], Event]:
    """The storm on the day after the history (the declined invoice 7 days open:
    the urgent tickets cap the score at 70, a sudden drop, still above 60), and
    the cause, a detractor answer the next day: the first event of the day the
    invoice is 8 days open, whose payment cap (55) takes the account under 60.
    The alert is the day change's, so it is stamped at that midnight."""
    storm = storm_events(forced, datetime.fromtimestamp(end + 7200, UTC))
    return storm, detractor_event(forced, datetime.fromtimestamp(end + DAY + 7200, UTC))


def records(events: Sequence[Event]) -> list[Record]:
    return [(topic_of(validate_python(e)), e["account_id"].encode(), orjson.dumps(e))
            for e in events]  # fmt: skip


async def produce(producer: AIOKafkaProducer, batch: Sequence[Record]) -> float:
    """Send and wait for every ack; returns the wall time before the first send."""
    started = time.time()
    futures = [await producer.send(topic, value, key=key) for topic, key, value in batch]
    await asyncio.gather(*futures)
    return started


async def latest_alert(pipeline: Pipeline, account: str) -> dict[str, Any] | None:
    """The newest threshold alert (below or recovered) in the read model."""
    async with pipeline.async_client() as client:
        page = await client.get("/v1/alerts", params={"account_id": account})
    items = [a for a in page.json()["items"] if a["data"]["alert"] in (BELOW, "health_recovered")]
    return items[0] if items else None


async def wait_for_alert(pipeline: Pipeline, account: str, alert_id: str) -> dict[str, Any]:
    async with pipeline.async_client() as client, asyncio.timeout(30):
        while True:
            page = await client.get("/v1/alerts", params={"account_id": account, "type": BELOW})
            assert page.status_code == 200, page.text
            for alert in page.json()["items"]:
                if alert["id"] == alert_id:
                    return dict(alert)
            await asyncio.sleep(0.02)


async def test_forced_decline_alert_is_readable_within_5_s(
    pipeline: Pipeline, record_property: Callable[[str, object], None]
) -> None:
    forced = f"acct-forced-{uuid.uuid4().hex[:6]}"
    # Day-aligned, so the simulated plan does not depend on the time of day.
    end = int(pipeline.reserve(31 * DAY + 7200, align_s=DAY)) + 30 * DAY
    history = simulated_history(end, forced)
    storm, cause = forced_steps(forced, end)
    predicted = expected_outputs([v for _, _, v in history] + [*storm, cause], pipeline.partitions)
    expected = the_one_alert(predicted, forced, since=cause["time"][:10] + "T00:00:00Z")

    producer = AIOKafkaProducer(bootstrap_servers=pipeline.bootstrap, linger_ms=5)
    await producer.start()
    try:
        for step in [history, records(storm)]:
            consumed = await asyncio.to_thread(pipeline.consumed)
            await produce(producer, step)
            await asyncio.to_thread(pipeline.settle, consumed + len(step))
        armed = await latest_alert(pipeline, forced)
        assert armed is None or armed["data"]["alert"] != BELOW, "forced account already alerted"
        caused_at = await produce(producer, records([cause]))
    finally:
        await producer.stop()
    alert = await wait_for_alert(pipeline, forced, expected["id"])
    delay = time.time() - caused_at

    # Same id: the live run crossed under 60 at the same event as the replay.
    assert (alert["subject"], alert["type"]) == (forced, BELOW_TYPE)
    record_property("event_to_redis_alert_seconds", round(delay, 3))
    log.warning("causing event produced -> alert readable from Redis: %.3f s", delay)
    assert delay <= ALERT_READABLE_WITHIN_S


def test_recipes_are_contract_valid() -> None:
    """The e2e recipes must be valid input: the API would reject them with 422."""
    now = datetime.now(UTC)
    for event in [make_profile("a", now), *decline_events("a", now - timedelta(hours=1))]:
        validate_python(event)
