"""Output envelopes: CloudEvents attributes are present and strict."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas.alerts import AlertEvent, RiskAlertRaised, alert_event_type
from schemas.health import HEALTH_CHANGED, DimensionScore, HealthChanged, HealthEvent

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def _health() -> HealthChanged:
    return HealthChanged(
        account_id="acme",
        score=58.5,
        band="at_risk",
        model_version="default-1",
        as_of=NOW,
        dimensions=[
            DimensionScore(
                name="usage_frequency", raw_value=3, score=20, weight=50, contribution=10
            )
        ],
    )


def test_health_event_round_trips_as_cloudevent() -> None:
    event = HealthEvent(id="h-1", type=HEALTH_CHANGED, subject="acme", time=NOW, data=_health())
    wire = event.model_dump_json()
    again = HealthEvent.model_validate_json(wire)
    assert again == event
    assert again.specversion == "1.0"


def test_alert_type_names_follow_the_contract() -> None:
    assert alert_event_type("health_below_threshold") == (
        "io.healthscore.alert.health_below_threshold"
    )
    alert = RiskAlertRaised(
        account_id="acme", alert="sudden_drop", score=40, band="at_risk", caused_at=NOW
    )
    AlertEvent(id="a", type=alert_event_type("sudden_drop"), subject="acme", time=NOW, data=alert)


def test_output_rejects_unknown_fields_and_bad_types() -> None:
    with pytest.raises(ValidationError):
        HealthChanged.model_validate({**_health().model_dump(), "surprise": 1})
    with pytest.raises(ValidationError):
        HealthEvent(id="h", type="health.changed", subject="acme", time=NOW, data=_health())
