"""OpenAPI examples, kept in one place so models and routes stay readable.

They are real shapes: ``tests/api/test_openapi.py`` validates each against its model.
"""

from __future__ import annotations

from typing import Any, Final

HEALTH_PUBLIC: Final[dict[str, Any]] = {
    "account_id": "acme",
    "score": 57.5,
    "band": "at_risk",
    "previous_score": 66.0,
    "model_version": "default-2026.11",
    "as_of": "2026-11-03T00:00:00Z",
    "dimensions": [
        {
            "name": "usage_frequency",
            "raw_value": 3,
            "score": 40.0,
            "weight": 30.0,
            "contribution": 12.0,
            "detail": "active 3 of the last 30 days",
        },
        {
            "name": "payment_status",
            "raw_value": 1,
            "score": 50.0,
            "weight": 20.0,
            "contribution": 10.0,
            "detail": "1 open payment failure",
        },
    ],
    "changes": [{"name": "payment_status", "previous": 100.0, "current": 50.0, "delta": -50.0}],
    "reasons": ["payment failed (insufficient_funds)", "logins down 60% vs 90-day average"],
    "segment": "enterprise",
    "owner": "csm@example.com",
    "name": "Acme",
    "arr_cents": 12000000,
    "event_id": "health:acme:2026-11-03T00:00:00Z",
    "event_time": "2026-11-03T00:00:00Z",
}

ACCOUNT_SUMMARY: Final[dict[str, Any]] = {
    k: HEALTH_PUBLIC[k]
    for k in (
        "account_id",
        "score",
        "band",
        "segment",
        "owner",
        "name",
        "arr_cents",
        "model_version",
        "as_of",
    )
}

ALERT_PUBLIC: Final[dict[str, Any]] = {
    "specversion": "1.0",
    "id": "alert:acme:health_below_threshold:2026-11-03T00:00:00Z",
    "source": "/healthscore/streams",
    "type": "io.healthscore.alert.health_below_threshold",
    "subject": "acme",
    "time": "2026-11-03T00:00:00Z",
    "datacontenttype": "application/json",
    "data": {
        "account_id": "acme",
        "alert": "health_below_threshold",
        "score": 57.5,
        "previous_score": 66.0,
        "band": "at_risk",
        "threshold": 60.0,
        "reasons": ["payment failed (insufficient_funds)"],
        "owner": "csm@example.com",
        "segment": "enterprise",
        "name": "Acme",
        "arr_cents": 12000000,
        "caused_at": "2026-11-03T00:00:00Z",
    },
    "cursor": "1764000000000-0",
}

DUNNING_CASE: Final[dict[str, Any]] = {
    "invoice_id": "in_77",
    "state": "retrying",
    "last_step": "retry_scheduled",
    "next_step": None,
    "next_due_at": "2026-11-06T00:00:00Z",
    "attempt": 1,
    "amount_cents": 49900,
    "currency": "USD",
    "decline_code": "insufficient_funds",
    "update_payment_url": "https://billing.example.com/update/in_77",
    "updated_at": "2026-11-03T00:00:00Z",
    "event_id": "dunning:acme:in_77:retry:1",
}

EVENTS: Final[list[dict[str, Any]]] = [
    {
        "id": "u-1",
        "account_id": "acme",
        "type": "login",
        "time": "2026-11-02T09:15:00Z",
        "user_id": "u42",
    },
    {
        "id": "b-3",
        "account_id": "acme",
        "type": "payment_failed",
        "time": "2026-11-03T00:00:00Z",
        "invoice_id": "in_77",
        "amount_cents": 49900,
        "currency": "USD",
        "decline_code": "insufficient_funds",
    },
]

EVENTS_REJECTED: Final[dict[str, Any]] = {
    "detail": "1 of 2 events are invalid; nothing was accepted",
    "errors": [{"index": 1, "id": "b-3", "errors": ["amount_cents: field required"]}],
}

SUBSCRIPTION_CREATE: Final[dict[str, Any]] = {
    "channel": "webhook",
    "target": "https://cs.example.com/hooks/healthscore",
    "filters": {
        "types": ["io.healthscore.alert."],
        "segments": ["enterprise"],
        "owners": [],
        "min_arr_cents": 1000000,
    },
    "description": "Enterprise risk alerts to the CS platform",
}

SUBSCRIPTION_PUBLIC: Final[dict[str, Any]] = {
    "id": "sub_0123456789abcdef01234567",
    **SUBSCRIPTION_CREATE,
    "created_at": "2026-11-23T12:00:00Z",
    "active": True,
}

SUBSCRIPTION_CREATED: Final[dict[str, Any]] = {
    **SUBSCRIPTION_PUBLIC,
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}

DEAD_DELIVERY: Final[dict[str, Any]] = {
    "delivery_id": (
        "alert:acme:health_below_threshold:2026-11-03T00:00:00Z:sub_0123456789abcdef01234567"
    ),
    "subscription_id": "sub_0123456789abcdef01234567",
    "channel": "webhook",
    "attempts": 8,
    "last_error": "HTTP 502 from cs.example.com",
    "failed_at": "2026-11-03T02:14:00Z",
    "event": {k: v for k, v in ALERT_PUBLIC.items() if k != "cursor"},
}

SOURCE_ACCEPTED: Final[list[dict[str, Any]]] = [
    {"accepted": 1, "ids": ["stripe:evt_1QxYz2LkdIwHu7ix"], "duplicate": False, "skipped": []},
    {"accepted": 0, "ids": [], "duplicate": True, "skipped": []},
    {
        "accepted": 1,
        "ids": ["segment:ajs-next-7f3c"],
        "duplicate": False,
        "skipped": [
            {
                "index": 1,
                "reason": "no_account",
                "detail": "track: no groupId, context.groupId or traits.account_id",
            }
        ],
    },
]

#: A Stripe event as Stripe posts it (trimmed to the fields the mapping reads).
STRIPE_EVENT: Final[dict[str, Any]] = {
    "id": "evt_1QxYz2LkdIwHu7ix",
    "object": "event",
    "api_version": "2024-06-20",
    "created": 1793750400,
    "type": "invoice.payment_failed",
    "livemode": False,
    "data": {
        "object": {
            "id": "in_1QxYyzLkdIwHu7ixAbCdEf",
            "object": "invoice",
            "customer": "cus_R5tGmG0dJ9Yb2p",
            "amount_due": 49900,
            "amount_paid": 0,
            "currency": "usd",
            "status": "open",
            "metadata": {"account_id": "acme"},
            "last_finalization_error": None,
        }
    },
}

SEGMENT_TRACK: Final[dict[str, Any]] = {
    "type": "track",
    "messageId": "ajs-next-7f3c",
    "timestamp": "2026-11-02T09:15:00.000Z",
    "userId": "u42",
    "event": "Report Exported",
    "properties": {"quantity": 3},
    "context": {"groupId": "acme"},
}

SEGMENT_BATCH: Final[dict[str, Any]] = {
    "batch": [
        SEGMENT_TRACK,
        {
            "type": "group",
            "messageId": "ajs-next-7f3d",
            "timestamp": "2026-11-02T09:16:00.000Z",
            "groupId": "acme",
            "traits": {"name": "Acme", "segment": "enterprise", "plan": "pro"},
        },
    ]
}
