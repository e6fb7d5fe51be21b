"""The input contract: the brief's examples are accepted, and every kind of bad
input is rejected with a reason a producer can act on. Pure, no servers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from schemas import topics
from schemas.common import MAX_EVENT_BYTES
from schemas.errors import InvalidEventError
from schemas.inputs import (
    TOPIC_MODELS,
    TYPE_TO_TOPIC,
    decode_any,
    decode_event,
    model_types,
    validate_python,
)

SAMPLES = [
    line
    for line in (Path(__file__).parent / "samples" / "valid.jsonl").read_bytes().splitlines()
    if line.strip()
]


def _event(**fields: object) -> bytes:
    base: dict[str, object] = {
        "id": "u-1",
        "account_id": "acme",
        "type": "login",
        "time": "2026-11-02T09:15:00Z",
    }
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize("raw", SAMPLES, ids=lambda raw: orjson.loads(raw)["type"])
def test_every_valid_sample_decodes_on_its_topic(raw: bytes) -> None:
    obj = orjson.loads(raw)
    event = decode_event(TYPE_TO_TOPIC[obj["type"]], raw)
    assert event.id == obj["id"]
    assert event.account_id == "acme"
    assert event.time.tzinfo is not None


def test_samples_cover_every_input_type() -> None:
    covered = {orjson.loads(raw)["type"] for raw in SAMPLES}
    assert covered == set(TYPE_TO_TOPIC)


@pytest.mark.parametrize("given", ["usd", "Usd", "USD"])
def test_currency_in_any_case_is_stored_upper_case(given: str) -> None:
    """Stripe sends ``"usd"``: the same currency as ``"USD"``, so it is accepted
    and normalised rather than dead-lettered."""
    raw = _event(type="payment_succeeded", invoice_id="in_1", amount_cents=100, currency=given)
    event = decode_event(topics.BILLING, raw)
    assert event.currency == "USD"  # type: ignore[attr-defined]
    assert validate_python(orjson.loads(raw)) == event


def test_round_trip_is_stable() -> None:
    for raw in SAMPLES:
        event = decode_any(raw)
        again = decode_any(event.model_dump_json(exclude_none=True))
        assert again == event


def test_offsets_are_normalised_to_utc() -> None:
    event = decode_event(topics.USAGE, _event(time="2026-11-02T10:15:00+01:00"))
    assert event.time == datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
    assert event.time.utcoffset() is not None
    assert event.time.tzinfo == UTC


@pytest.mark.parametrize(
    ("topic", "raw", "reason"),
    [
        (topics.USAGE, b"not json", "not valid JSON"),
        (topics.USAGE, b"\xff\xfe", "not valid JSON"),
        (topics.USAGE, b"[1, 2]", "event must be a JSON object"),
        (topics.USAGE, _event(type="logout"), "unknown type 'logout' on cs.usage.v1"),
        (topics.USAGE, _event(type="payment_failed"), "unknown type 'payment_failed'"),
        (topics.USAGE, _event(type=None), "type: field required"),
        (topics.USAGE, _event(account_id=None), "account_id: field required"),
        (topics.USAGE, _event(account_id=""), "account_id: String should have at least 1"),
        (topics.USAGE, _event(account_id="x" * 129), "account_id: String should have at most"),
        (topics.USAGE, _event(time="2026-11-02T09:15:00"), "time: Input should have timezone"),
        (topics.USAGE, _event(time="yesterday"), "time: Input should be a valid datetime"),
        (topics.USAGE, _event(time="0001-01-01T00:15:00+01:00"), "time: Value error, timestamp"),
        (topics.USAGE, _event(time="9999-12-31T23:59:59-01:00"), "outside the representable"),
        (topics.USAGE, _event(user_id=42), "user_id: Input should be a valid string"),
        (topics.USAGE, _event(usr_id="u1"), "usr_id: unknown field"),
        (topics.USAGE, _event(type="records_changed"), "quantity: field required"),
        (topics.USAGE, _event(type="records_changed", quantity="5"), "quantity: Input should"),
        (topics.USAGE, _event(type="feature_used", feature=""), "feature: String should"),
        (
            topics.TICKETS,
            _event(type="ticket_opened", ticket_id="T", priority="critical"),
            "priority: Input should be 'low', 'normal', 'high' or 'urgent'",
        ),
        (topics.TICKETS, _event(type="ticket_solved", ticket_id="T", csat=6), "csat: Input"),
        (
            topics.BILLING,
            _event(
                type="payment_failed",
                invoice_id="i",
                amount_cents=-1,
                currency="USD",
                decline_code="x",
            ),
            "amount_cents: Input should be greater than or equal to 0",
        ),
        (
            topics.BILLING,
            _event(
                type="payment_failed",
                invoice_id="i",
                amount_cents=1,
                currency="us$",
                decline_code="x",
            ),
            "currency: String should match pattern",
        ),
        (
            topics.BILLING,
            _event(type="payment_failed", invoice_id="i", amount_cents=1, currency="USD"),
            "decline_code: field required",
        ),
        (topics.FEEDBACK, _event(type="nps_response", score=11), "score: Input should be less"),
        (
            topics.ACCOUNTS,
            _event(type="account_upserted", name="A", segment="giant"),
            "segment: Input should be",
        ),
        (
            topics.ACCOUNTS,
            _event(type="account_upserted", name="A", segment="smb", owner="nobody"),
            "owner: String should match pattern",
        ),
        (topics.USAGE, b" " * (MAX_EVENT_BYTES + 1), "over the 65536-byte limit"),
        ("cs.unknown.v1", _event(), "not an input topic"),
    ],
)
def test_bad_input_is_rejected_with_a_readable_reason(topic: str, raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidEventError) as caught:
        decode_event(topic, raw)
    assert reason in caught.value.reason
    assert caught.value.errors


def test_hundred_kib_payload_is_rejected_before_parsing() -> None:
    raw = _event(user_id="u" * 100, feature="x" * (100 * 1024))
    with pytest.raises(InvalidEventError, match="bytes, over the"):
        decode_event(topics.USAGE, raw)


def test_decode_any_routes_by_type_and_validate_python_matches_json_rules() -> None:
    event = validate_python(orjson.loads(SAMPLES[8]))
    assert TYPE_TO_TOPIC[event.type] == topics.BILLING  # type: ignore[attr-defined]
    with pytest.raises(InvalidEventError, match="amount_cents"):
        validate_python({**orjson.loads(SAMPLES[8]), "amount_cents": "49900"})


def test_every_input_topic_has_models() -> None:
    assert set(TOPIC_MODELS) == set(topics.INPUT_TOPICS)


def test_type_table_matches_the_models() -> None:
    assert model_types() == TYPE_TO_TOPIC
