"""The pure mappings' edges: fallbacks, bounds and what is skipped. No servers."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.inputs import validate_python
from services.api.errors import InvalidBatchError
from services.api.ingest import validate_items
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


# -- hypothesis: any JSON in any field maps or skips, and validation only rejects --------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["usd", "acme", "2026-11-02T09:15:00Z", "Signed In", "smb", "in_1"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
STRIPE_FIELDS = [
    "id",
    "customer",
    "metadata",
    "amount_due",
    "amount_paid",
    "currency",
    "charge",
    "payment_intent",
    "cancellation_details",
    "exp_month",
    "exp_year",
    "next_payment_attempt",
    "period_end",
    "subscription_details",
    "object",
]
SEGMENT_FIELDS = [
    "type",
    "event",
    "messageId",
    "timestamp",
    "originalTimestamp",
    "userId",
    "groupId",
    "context",
    "traits",
    "properties",
]


def _settles(mapped: Any) -> None:
    """A mapping result is a skip, or an item the contract accepts or rejects
    with a reason (never another exception: that would be a 500)."""
    if isinstance(mapped, Skipped):
        return
    with contextlib.suppress(InvalidBatchError):
        validate_items([mapped])


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from([*stripe.EVENT_TYPES, "charge.refunded"]),
    fields=st.dictionaries(st.sampled_from(STRIPE_FIELDS), JSON),
    event_id=JSON,
    created=JSON,
)
def test_any_stripe_object_maps_or_skips(
    kind: str, fields: dict[str, Any], event_id: Any, created: Any
) -> None:
    _settles(
        stripe.map_event(
            {"id": event_id, "type": kind, "created": created, "data": {"object": fields}}
        )
    )


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["track", "identify", "group", "page"]),
    fields=st.dictionaries(st.sampled_from(SEGMENT_FIELDS), JSON),
)
def test_any_segment_call_maps_or_skips(kind: str, fields: dict[str, Any]) -> None:
    _settles(segment.map_call({"type": kind, **fields}, segment.login_names("Signed In")))
