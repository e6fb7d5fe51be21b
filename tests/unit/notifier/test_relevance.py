"""Band changes, touchpoints and lifecycle changes reach subscriptions; a score
change that keeps its band does not."""

from __future__ import annotations

import orjson
import pytest
from aiokafka import ConsumerRecord  # type: ignore[import-untyped]

from schemas import topics
from services.notifier.dispatch import TOPICS, plan_batch
from services.notifier.matching import plan_deliveries
from services.notifier.relevance import is_band_change
from services.notifier.render import build_notice
from streams.domain.scoring.model import BandThresholds
from tests.api.factories import health_event, lifecycle_event, touchpoint_event
from tests.unit.notifier.factories import make_subscription

EVERYTHING = make_subscription("sub_all")
CRM = make_subscription("sub_crm", types=["io.healthscore.health.changed"])


@pytest.mark.parametrize(
    ("score", "previous", "delivered"),
    [
        (55.0, 66.0, True),  # neutral -> at risk
        (55.0, 58.0, False),  # still at risk
        (76.0, 74.9, True),  # neutral -> healthy
        (60.0, 59.9, True),  # at risk -> neutral at the edge
        (70.0, None, True),  # first score: the CRM learns the band
    ],
)
def test_health_change_is_delivered_only_on_a_band_change(
    score: float, previous: float | None, delivered: bool
) -> None:
    raw = health_event("acme", score, previous=previous)
    planned = plan_deliveries(raw, [CRM, EVERYTHING])
    # Band changes are opt-in: the subscription without a type filter gets none.
    assert [p.subscription_id for p in planned] == (["sub_crm"] if delivered else [])


def test_bands_come_from_the_model() -> None:
    strict = BandThresholds(healthy=90, at_risk=70)
    data = {"score": 65.0, "previous_score": 68.0, "band": "at_risk"}
    assert not is_band_change(data, strict)  # 68 is already at risk under this model
    assert is_band_change(data, BandThresholds())  # 68 is neutral under the default


def test_touchpoints_go_to_the_owner_subscription() -> None:
    mine = make_subscription("sub_mine", owners=["CSM@example.com"])
    theirs = make_subscription("sub_theirs", owners=["other@example.com"])
    planned = plan_deliveries(touchpoint_event("acme", "renewal_in_90d"), [mine, theirs])
    assert [(p.subscription_id, p.event_type) for p in planned] == [
        ("sub_mine", "io.healthscore.touchpoint.renewal_in_90d")
    ]


def test_lifecycle_changes_are_routed_by_type_and_segment() -> None:
    churn = make_subscription("sub_churn", types=["io.healthscore.account."], segments=["smb"])
    planned = plan_deliveries(lifecycle_event("acme", segment="smb"), [churn, CRM, EVERYTHING])
    assert [p.subscription_id for p in planned] == ["sub_churn", "sub_all"]


def test_dispatcher_reads_the_new_topics_and_skips_tombstones() -> None:
    assert {topics.HEALTH, topics.TOUCHPOINTS, topics.LIFECYCLE} <= set(TOPICS)
    tombstone = ConsumerRecord(topics.HEALTH, 0, 0, 0, 0, b"acme", None, None, 1, 0, [])
    assert plan_batch([tombstone], [EVERYTHING]) == []


@pytest.mark.parametrize(
    ("raw", "headline"),
    [
        (health_event("acme", 55, previous=66), "Acme is now at risk (score 55, was 66)"),
        (touchpoint_event("acme", "milestone_90d"), "Time to reach out to acme: milestone 90d"),
        (lifecycle_event("acme", kind="involuntary"), "acme churned (involuntary)"),
    ],
)
def test_notices_say_what_happened(raw: bytes, headline: str) -> None:
    assert build_notice(orjson.loads(raw)).headline == headline
