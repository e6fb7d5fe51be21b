"""The pure mappings' edges: fallbacks, bounds and what is skipped. No servers."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.inputs import validate_python
from services.api.sources import segment, stripe
from services.api.sources.common import Skipped, derived_id


def test_long_native_ids_are_hashed_to_fit_the_contract() -> None:
    long = derived_id("segment", "m" * 200)
    assert len(long) <= 128 and long == derived_id("segment", "m" * 200)
    assert derived_id("stripe", "evt_1") == "stripe:evt_1"


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [(2026, 12, "2027-01-01T00:00:00Z"), (2027, 2, "2027-03-01T00:00:00Z"), (2026, 13, None)],
)
def test_a_card_expires_when_its_month_ends(year: int, month: int, expected: str | None) -> None:
    assert stripe.card_expires_at(year, month) == expected


@pytest.mark.parametrize(
    ("invoice", "code"),
    [
        (
            {"last_finalization_error": {"code": "card_declined", "decline_code": "do_not_honor"}},
            "do_not_honor",
        ),
        ({"charge": {"failure_code": "expired_card", "outcome": {"reason": None}}}, "expired_card"),
        ({"charge": {"outcome": {"reason": "stolen_card"}}}, "stolen_card"),
        ({"charge": "ch_1", "payment_intent": "pi_1"}, "unknown"),
    ],
)
def test_decline_code_comes_from_where_the_payload_has_it(
    invoice: dict[str, Any], code: str
) -> None:
    assert stripe.decline_code(invoice) == code


def test_a_stripe_object_without_customer_or_account_is_skipped() -> None:
    event = {"id": "evt_1", "type": "invoice.paid", "created": 1, "data": {"object": {}}}
    assert stripe.map_event(event) == Skipped(
        "unknown_type", "Stripe event type 'invoice.paid' is not mapped"
    )
    event["type"] = "invoice.payment_succeeded"
    assert isinstance(mapped := stripe.map_event(event), Skipped) and mapped.reason == "no_account"


def test_an_expanded_customer_s_metadata_names_the_account() -> None:
    customer = {"id": "cus_1", "object": "customer", "metadata": {"account_id": "acme"}}
    assert stripe.account_of({"object": "invoice", "customer": customer}) == "acme"
    assert stripe.account_of({"object": "customer", "id": "cus_2", "metadata": {}}) == "cus_2"


def test_segment_company_trait_and_numeric_ids() -> None:
    identify = {
        "type": "identify",
        "messageId": 7,
        "timestamp": "2026-11-02T09:15:00Z",
        "traits": {"name": "Jane", "company": {"id": 42, "name": "Acme", "segment": "Enterprise"}},
    }
    mapped = segment.map_call(identify, frozenset())
    assert not isinstance(mapped, Skipped)
    event = validate_python(mapped)
    assert (event.id, event.account_id) == ("segment:7", "42")
    assert (mapped["name"], mapped["segment"]) == ("Acme", "enterprise")


@pytest.mark.parametrize("payload", [None, "x", 3, {"batch": "no"}])
def test_odd_bodies_are_one_call_that_is_skipped(payload: Any) -> None:
    [only] = segment.calls_of(payload)
    assert segment.map_call(only, frozenset()) == Skipped(
        "unknown_type", "Segment '?' calls are not mapped"
    )
