"""GET /v1/analytics/churn: rates computed from the projected outcomes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.factories import (
    dunning_event,
    health_event,
    lifecycle_event,
    payment_event,
    seed,
)
from tests.api.support import READ

ACCOUNTS = [f"acct{i}" for i in range(10)]


def _history() -> list[bytes]:
    values = [health_event(a, 70, day=-40, arr_cents=100_000) for a in ACCOUNTS]  # 2026-09
    values.append(health_event("acct0", 72, day=-20, previous=70, arr_cents=150_000))  # 2026-10
    values += [
        lifecycle_event("acct1", day=3, reason="Too  expensive", kind="voluntary", plan="pro"),
        lifecycle_event("acct2", day=4, reason=None, kind="involuntary", plan="basic"),
        payment_event(1, failed=False, day=1),
        payment_event(2, failed=True, day=2),
        payment_event(3, failed=False, day=3),
        payment_event(4, failed=False, day=4),
        dunning_event("acct3", "payment_failed_notice", invoice_id="in_1", day=2),
        dunning_event("acct3", "retry_scheduled", invoice_id="in_1", day=3),
        dunning_event("acct3", "recovered", invoice_id="in_1", day=5),
        dunning_event("acct4", "payment_failed_notice", invoice_id="in_2", day=6),
    ]
    return values


@pytest.mark.parametrize("replays", [1, 2])
def test_monthly_churn_nrr_and_payment_rates(
    client: TestClient, redis_url: str, replays: int
) -> None:
    for _ in range(replays):  # a replay of every topic changes no figure
        seed(redis_url, _history())
    params = {"from": "2026-10", "to": "2026-11", "dimension": "kind"}
    body = client.get("/v1/analytics/churn", params=params, headers=READ).json()
    october, november = body["months"]
    assert (october["month"], october["active_at_start"], october["churned"]) == ("2026-10", 10, 0)
    assert october["start_arr_cents"] == 1_000_000 and october["expansion_arr_cents"] == 50_000
    assert october["nrr"] == pytest.approx(1.05)
    assert (november["active_at_start"], november["churned"]) == (10, 2)
    assert november["churn_rate"] == pytest.approx(0.2)
    assert november["start_arr_cents"] == 1_050_000
    assert november["churned_arr_cents"] == 200_000
    assert november["nrr"] == pytest.approx(850_000 / 1_050_000)
    assert (november["payment_attempts"], november["payment_failures"]) == (4, 1)
    assert (november["dunning_opened"], november["dunning_recovered"]) == (2, 1)
    assert body["churn_rate"] == pytest.approx(0.2)
    assert body["nrr"] == pytest.approx(0.85)
    assert body["payment_failure_rate"] == pytest.approx(0.25)
    assert body["dunning_recovery_rate"] == pytest.approx(0.5)
    assert {(s["value"], s["churned"]) for s in body["breakdown"]} == {
        ("voluntary", 1),
        ("involuntary", 1),
    }
    reasons = client.get(
        "/v1/analytics/churn", params={**params, "dimension": "reason"}, headers=READ
    ).json()["breakdown"]
    assert {s["value"] for s in reasons} == {"too expensive", "unknown"}


def test_default_range_ends_with_the_latest_month(client: TestClient, redis_url: str) -> None:
    seed(redis_url, _history())
    body = client.get("/v1/analytics/churn", headers=READ).json()
    assert (body["from"], body["to"], len(body["months"])) == ("2025-12", "2026-11", 12)
    assert body["months"][-1]["churned"] == 2


def test_reactivation_returns_the_account(client: TestClient, redis_url: str) -> None:
    seed(redis_url, [*_history(), lifecycle_event("acct1", "reactivated", day=35)])  # 2026-12
    params = {"from": "2026-12", "to": "2027-01"}
    december, january = client.get("/v1/analytics/churn", params=params, headers=READ).json()[
        "months"
    ]
    assert (december["active_at_start"], december["reactivated"]) == (8, 1)
    assert january["active_at_start"] == 9


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "2026-11", "to": "2026-10"}, 400),
        ({"from": "2020-01", "to": "2026-10"}, 400),
        ({"from": "2026-13"}, 422),
        ({"dimension": "colour"}, 422),
        ({"period": "week"}, 422),
    ],
)
def test_bad_ranges_are_rejected(client: TestClient, params: dict[str, str], status: int) -> None:
    assert client.get("/v1/analytics/churn", params=params, headers=READ).status_code == status


def test_nrr_before_any_arr_is_null_with_a_reason(client: TestClient, redis_url: str) -> None:
    seed(redis_url, _history())  # the first ARR arrives in 2026-09: 2026-10 starts with some
    params = {"from": "2026-08", "to": "2026-11"}
    body = client.get("/v1/analytics/churn", params=params, headers=READ).json()
    assert body["nrr"] is None
    assert body["nrr_reason"] == (
        "no starting ARR in this range (the first month with starting ARR is 2026-10)"
    )
    august, september = body["months"][:2]
    assert august["nrr"] is None and august["nrr_reason"] == "no starting ARR in this month"
    assert september["nrr"] is None and september["start_arr_cents"] == 0
    november = body["months"][-1]
    assert november["nrr"] is not None and november["nrr_reason"] is None
    # A range with starting ARR has a figure and no reason.
    later = client.get("/v1/analytics/churn", params={"from": "2026-10", "to": "2026-11"},
                       headers=READ).json()  # fmt: skip
    assert later["nrr"] == pytest.approx(0.85) and later["nrr_reason"] is None
    page = client.get("/app/churn", params=params, headers=READ).text
    assert 'id="kpi-nrr-reason">no starting ARR in this range' in page
    assert 'title="no starting ARR in this month"' in page
