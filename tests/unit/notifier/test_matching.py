"""The subscription filter table: which events reach which subscription."""

from __future__ import annotations

from typing import Any

import pytest

from services.notifier.matching import is_type_match, matches, plan_deliveries
from services.notifier.model import RoutableEvent
from tests.unit.notifier.factories import event_bytes, make_alert, make_dunning, make_subscription

ALERT = "io.healthscore.alert.health_below_threshold"


def routable(**overrides: Any) -> RoutableEvent:
    fields: dict[str, Any] = {
        "id": "e1",
        "type": ALERT,
        "segment": "enterprise",
        "owner": "csm@example.com",
        "arr_cents": 1_000_000,
    }
    fields.update(overrides)
    return RoutableEvent(**fields)


@pytest.mark.parametrize(
    ("filters", "event", "expected"),
    [
        ({}, routable(), True),
        ({"types": [ALERT]}, routable(), True),
        ({"types": ["io.healthscore.alert.sudden_drop"]}, routable(), False),
        ({"types": ["io.healthscore.alert."]}, routable(), True),
        ({"types": ["io.healthscore.alert"]}, routable(), True),
        ({"types": ["io.healthscore.alert.*"]}, routable(), True),
        ({"types": ["io.healthscore.al"]}, routable(), False),  # prefix only at a dot
        ({"types": ["io.healthscore.dunning."]}, routable(), False),
        ({"types": ["io.healthscore.dunning.", ALERT]}, routable(), True),
        ({"segments": ["enterprise"]}, routable(), True),
        ({"segments": ["smb", "free"]}, routable(), False),
        ({"segments": ["enterprise"]}, routable(segment=None), False),
        ({"owners": ["CSM@example.com"]}, routable(), True),
        ({"owners": ["other@example.com"]}, routable(), False),
        ({"owners": ["csm@example.com"]}, routable(owner=None), False),
        ({"min_arr_cents": 1_000_000}, routable(), True),
        ({"min_arr_cents": 1_000_001}, routable(), False),
        ({"min_arr_cents": 0}, routable(arr_cents=None), False),
        ({"min_arr_cents": None}, routable(arr_cents=None), True),
        (
            {
                "types": ["io.healthscore.alert."],
                "segments": ["enterprise"],
                "owners": ["csm@example.com"],
                "min_arr_cents": 5,
            },
            routable(),
            True,
        ),
        ({"types": ["io.healthscore.alert."], "segments": ["smb"]}, routable(), False),
    ],
)
def test_matches(filters: dict[str, Any], event: RoutableEvent, expected: bool) -> None:
    assert matches(make_subscription(**filters), event) is expected


def test_inactive_subscription_matches_nothing() -> None:
    assert not matches(make_subscription(active=False), routable())


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("a.b", "a.b", True),
        ("a.b", "a.bc", False),
        ("a.b", "a.b.c", True),
        ("a.b.", "a.b.c", True),
        ("a.b.", "a.b", False),
        ("a.b.*", "a.b.c", True),
    ],
)
def test_is_type_match(pattern: str, event_type: str, expected: bool) -> None:
    assert is_type_match(pattern, event_type) is expected


def test_plan_deliveries_one_per_matching_subscription() -> None:
    subs = [
        make_subscription("sub_all"),
        make_subscription("sub_ent", segments=["enterprise"]),
        make_subscription("sub_dun", types=["io.healthscore.dunning."]),
    ]
    raw = event_bytes(make_alert("a-9"))
    planned = plan_deliveries(raw, subs)
    assert [p.delivery_id for p in planned] == ["a-9:sub_all", "a-9:sub_ent"]
    assert all(p.event == raw and p.event_type == ALERT for p in planned)


def test_plan_reads_dunning_routing_fields() -> None:
    sub = make_subscription(segments=["smb"], min_arr_cents=600_000)
    assert len(plan_deliveries(event_bytes(make_dunning()), [sub])) == 1


@pytest.mark.parametrize("raw", [b"not json", b"[1]", b'{"type": "x"}', b'{"id": 1, "type": "x"}'])
def test_plan_rejects_unroutable(raw: bytes) -> None:
    with pytest.raises(ValueError):
        plan_deliveries(raw, [make_subscription()])
