"""OpenAPI examples of the workspace endpoints (validated by ``tests/api/test_openapi.py``)."""

from __future__ import annotations

from typing import Any, Final

HISTORY: Final[dict[str, Any]] = {
    "account_id": "acme",
    "days": 90,
    "points": [
        {"day": "2026-11-01", "score": 71.0, "band": "neutral", "as_of": "2026-11-01T18:00:00Z"},
        {"day": "2026-11-02", "score": 57.5, "band": "at_risk", "as_of": "2026-11-02T09:00:00Z"},
    ],
}

TIMELINE: Final[dict[str, Any]] = {
    "account_id": "acme",
    "items": [
        {
            "id": "alert:acme:health_below_threshold:1",
            "kind": "alert",
            "type": "io.healthscore.alert.health_below_threshold",
            "time": "2026-11-02T09:00:00Z",
            "title": "Alert: health below threshold (score 57)",
            "detail": "payment failed (insufficient_funds)",
        }
    ],
}

PROFILE: Final[dict[str, Any]] = {
    "account_id": "acme",
    "name": "Acme",
    "segment": "enterprise",
    "arr_cents": 12000000,
    "owner": "csm@example.com",
    "industry": "retail",
    "plan": "pro",
    "renewal_at": "2027-01-01T00:00:00Z",
    "created_at": "2025-01-01T00:00:00Z",
    "stage": "active",
    "lifecycle": None,
}

CHURN: Final[dict[str, Any]] = {
    "period": "month",
    "dimension": "segment",
    "from": "2026-10",
    "to": "2026-11",
    "months": [
        {
            "month": "2026-11",
            "active_at_start": 200,
            "churned": 4,
            "reactivated": 1,
            "new": 10,
            "churn_rate": 0.02,
            "start_arr_cents": 240000000,
            "churned_arr_cents": 4800000,
            "expansion_arr_cents": 1200000,
            "contraction_arr_cents": 0,
            "nrr": 0.985,
            "nrr_reason": None,
            "payment_attempts": 180,
            "payment_failures": 9,
            "dunning_opened": 9,
            "dunning_recovered": 6,
        }
    ],
    "breakdown": [{"value": "smb", "churned": 3, "churned_arr_cents": 1800000}],
    "churned": 4,
    "churn_rate": 0.02,
    "nrr": 0.985,
    "nrr_reason": None,
    "payment_failure_rate": 0.05,
    "dunning_recovery_rate": 0.667,
}
