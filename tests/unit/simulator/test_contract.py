"""Every simulated event has exactly the contract's fields and types for its type.

A hand-written table of ARCHITECTURE.md's "Event contract (inputs)" until the
pydantic schemas land; then a test validating against ``schemas/`` joins it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from schemas import topics
from schemas.topics import TYPE_TO_TOPIC, topic_of_type

Check = Callable[[Any], bool]

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def is_time(value: Any) -> bool:
    return (
        isinstance(value, str)
        and bool(RFC3339_Z.match(value))
        and bool(datetime.fromisoformat(value))
    )


def is_text(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 128


def is_int(low: int | None = None, high: int | None = None) -> Check:
    def check(value: Any) -> bool:
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        return (low is None or value >= low) and (high is None or value <= high)

    return check


def one_of(*choices: str) -> Check:
    return lambda value: value in choices


PRIORITY = one_of("low", "normal", "high", "urgent")
MONEY = {
    "invoice_id": is_text,
    "amount_cents": is_int(0),
    "currency": re.compile(r"^[A-Z]{3}$").match,
}
TICKET = ({"ticket_id": is_text, "priority": PRIORITY}, {})

#: type -> (required extra fields, optional extra fields)
CONTRACT: dict[str, tuple[dict[str, Check], dict[str, Check]]] = {
    "login": ({}, {"user_id": is_text}),
    "feature_used": ({"feature": is_text}, {"user_id": is_text}),
    "records_changed": ({"quantity": is_int()}, {"user_id": is_text}),
    "seats_changed": ({"quantity": is_int(0)}, {"user_id": is_text}),
    "ticket_opened": TICKET,
    "ticket_updated": TICKET,
    "ticket_reopened": TICKET,
    "ticket_solved": (TICKET[0], {"csat": is_int(1, 5)}),
    "payment_failed": ({**MONEY, "decline_code": is_text}, {}),
    "payment_succeeded": (MONEY, {}),
    "card_expiring": ({"card_expires_at": is_time}, {}),
    "renewal_scheduled": ({"renewal_at": is_time}, MONEY),
    "subscription_canceled": ({"reason": is_text}, MONEY),
    "nps_response": ({"score": is_int(0, 10)}, {"comment": is_text}),
    "csat_response": ({"score": is_int(1, 5)}, {"comment": is_text}),
    "account_upserted": (
        {
            "name": is_text,
            "segment": one_of("free", "smb", "mid_market", "enterprise"),
            "arr_cents": is_int(0),
            "owner": lambda v: is_text(v) and v.endswith("@example.com"),
            "industry": is_text,
            "plan": is_text,
            "created_at": is_time,
        },
        {"renewal_at": is_time},
    ),
}
COMMON: dict[str, Check] = {"id": is_text, "account_id": is_text, "type": is_text, "time": is_time}


def contract_violations(event: dict[str, Any]) -> list[str]:
    required, optional = CONTRACT[event["type"]]
    problems = [f"missing {name}" for name in {**COMMON, **required} if name not in event]
    for name, value in event.items():
        check = COMMON.get(name) or required.get(name) or optional.get(name)
        if check is None:
            problems.append(f"unexpected field {name}")
        elif not check(value):
            problems.append(f"bad {name}={value!r}")
    return problems


def test_every_event_matches_the_contract(events):
    bad = [(event, problems) for _, _, event in events if (problems := contract_violations(event))]
    assert bad == []


def test_every_event_type_of_the_contract_is_simulated(events):
    assert {event["type"] for _, _, event in events} == set(CONTRACT)


def test_topic_and_key_follow_the_type_and_account(events):
    for topic, key, event in events:
        assert topic == topic_of_type(event["type"])
        assert key == event["account_id"].encode()


def test_type_table_covers_exactly_the_input_topics():
    assert set(TYPE_TO_TOPIC) == set(CONTRACT)
    assert set(TYPE_TO_TOPIC.values()) == set(topics.INPUT_TOPICS)


@pytest.mark.parametrize(
    "event, problem",
    [
        (
            {"id": "x", "account_id": "a", "type": "login", "time": "2026-01-01T00:00:00"},
            "bad time",
        ),
        (
            {"id": "x", "account_id": "a", "type": "seats_changed", "time": "2026-01-01T00:00:00Z"},
            "missing quantity",
        ),
        (
            {"id": "x", "account_id": "a", "type": "login", "time": "2026-01-01T00:00:00Z", "z": 1},
            "unexpected field z",
        ),
    ],
)
def test_the_contract_check_can_fail(event, problem):
    assert any(p.startswith(problem) for p in contract_violations(event))
