"""Every subscription change also reaches ``cs.subscriptions.v1`` (the copy a
Redis rebuild restores), before Redis, and with the webhook secret sealed."""

from __future__ import annotations

import orjson
import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from schemas import topics
from services.api.errors import BrokerUnavailableError
from services.api.subscription_store import SUBSCRIPTIONS
from services.readmodel.subscription_log import SecretSealer, from_record
from tests.api.support import ADMIN, SUBSCRIPTION_KEY, FakeProducer, make_app, make_settings
from tests.api.test_subscriptions import create

SEALER = SecretSealer.from_setting(SecretStr(SUBSCRIPTION_KEY))


def test_create_produces_the_subscription_with_its_secret_sealed(
    client: TestClient, producer: FakeProducer
) -> None:
    created = create(client).json()
    [sent] = producer.sent
    assert (sent.topic, sent.key) == (topics.SUBSCRIPTIONS, created["id"].encode())
    assert sent.value is not None and created["secret"].encode() not in sent.value
    record = orjson.loads(sent.value)
    assert "secret" not in record and record["sealed_secret"]
    assert from_record(sent.value, SEALER)["secret"] == created["secret"]


def test_delete_produces_a_tombstone(client: TestClient, producer: FakeProducer) -> None:
    sub_id = create(client, channel="email", target="csm@example.com").json()["id"]
    assert client.delete(f"/v1/subscriptions/{sub_id}", headers=ADMIN).status_code == 204
    tombstone = producer.sent[-1]
    assert (tombstone.topic, tombstone.key, tombstone.value) == (
        topics.SUBSCRIPTIONS,
        sub_id.encode(),
        None,
    )


def test_a_failed_produce_changes_nothing(
    client: TestClient, producer: FakeProducer, redis_url: str
) -> None:
    kept = create(client).json()["id"]
    producer.failure = BrokerUnavailableError("Kafka did not acknowledge")
    assert create(client).status_code == 503
    assert client.delete(f"/v1/subscriptions/{kept}", headers=ADMIN).status_code == 503
    assert redis.Redis.from_url(redis_url).hkeys(SUBSCRIPTIONS) == [kept.encode()]


def test_without_a_key_webhooks_are_refused_and_other_channels_work(redis_url: str) -> None:
    app = make_app(redis_url, FakeProducer(), HEALTHSCORE_SUBSCRIPTION_KEYS="")
    with TestClient(app) as bare:
        refused = create(bare)
        assert refused.status_code == 503
        assert "HEALTHSCORE_SUBSCRIPTION_KEYS" in refused.json()["detail"]
        assert create(bare, channel="slack", target="https://hooks.slack.com/x").status_code == 201


def test_a_malformed_key_stops_the_api_at_start(redis_url: str) -> None:
    with pytest.raises(ValidationError, match="key 2 is not a Fernet key"):
        make_settings(redis_url, HEALTHSCORE_SUBSCRIPTION_KEYS=f"{SUBSCRIPTION_KEY},nope")
