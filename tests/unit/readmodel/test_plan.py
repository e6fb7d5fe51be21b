"""The projector's pure decision: which read-model write a record asks for."""

from __future__ import annotations

import pytest

from schemas import topics
from schemas.errors import InvalidEventError
from services.readmodel.ops import ALL_CASES, PutAlert, PutDunning, PutHealth
from services.readmodel.plan import epoch_us, plan_record
from services.readmodel.store import account_of, is_score_member, score_member
from tests.api.factories import T0, alert_event, dunning_event, health_event


def test_health_record_becomes_a_versioned_put() -> None:
    op = plan_record(topics.HEALTH, health_event("acme", 42.0, day=3, segment="smb"))[0]
    assert isinstance(op, PutHealth)
    assert (op.account_id, op.score, op.band, op.segment) == ("acme", 42.0, "at_risk", "smb")
    assert op.as_of_us == epoch_us(T0) + 3 * 86_400_000_000


def test_alert_keeps_the_exact_bytes() -> None:
    raw = alert_event("acme", "sudden_drop", n=1)
    op = plan_record(topics.ALERTS, raw)[0]
    assert op == PutAlert("alert:acme:sudden_drop:1", "acme", "sudden_drop", raw.decode())


@pytest.mark.parametrize(
    ("step", "invoice_id", "expected"),
    [
        ("payment_failed_notice", "in_1", ("in_1", False)),
        ("recovered", "in_1", ("in_1", True)),
        ("canceled", "in_1", ("in_1", True)),
        ("canceled", None, (ALL_CASES, True)),
        ("renewal_reminder", None, None),
        ("card_expiry_reminder", None, None),
    ],
)
def test_dunning_steps(
    step: str, invoice_id: str | None, expected: tuple[str, bool] | None
) -> None:
    ops = plan_record(topics.DUNNING, dunning_event(step=step, invoice_id=invoice_id))
    cases = [op for op in ops if isinstance(op, PutDunning)]
    if expected is None:
        assert cases == []
    else:
        assert [(op.case_id, op.closes) for op in cases] == [expected]


def test_tombstone_is_no_write() -> None:
    assert plan_record(topics.HEALTH, None) == []


@pytest.mark.parametrize(
    ("topic", "value"),
    [
        (topics.HEALTH, b"{}"),
        (topics.ALERTS, b"not json"),
        (topics.USAGE, b"{}"),
        (topics.LIFECYCLE, b"{}"),
        (topics.ACCOUNTS, b'{"type": "account_upserted"}'),
        (topics.DUNNING, health_event()),
    ],
)
def test_unreadable_records_raise(topic: str, value: bytes) -> None:
    with pytest.raises(InvalidEventError):
        plan_record(topic, value)


@pytest.mark.parametrize(("low", "high"), [(0, 0.001), (9.999, 10), (59.5, 60), (99.999, 100)])
def test_index_members_sort_by_score(low: float, high: float) -> None:
    assert score_member(low, "zzz") < score_member(high, "aaa")


@pytest.mark.parametrize("account", ["acme", "a|b", "with space", "ü"])
def test_index_member_round_trip(account: str) -> None:
    member = score_member(12.5, account)
    assert is_score_member(member) and account_of(member) == account
