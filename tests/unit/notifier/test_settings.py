"""Notifier settings: environment names, defaults and the reclaim invariant."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notifier.retry import RetryPolicy
from services.notifier.settings import NotifierSettings


def test_defaults_and_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:9092")
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/1")
    monkeypatch.setenv("HEALTHSCORE_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("HEALTHSCORE_SMTP_STARTTLS", "true")
    settings = NotifierSettings()
    assert (settings.kafka_bootstrap_servers, settings.redis_url) == ("k:9092", "redis://r:6379/1")
    assert settings.metrics_port == 9103
    assert settings.smtp_starttls is True
    assert "hunter2" not in repr(settings)
    assert settings.retry_policy == RetryPolicy(1.0, 3600.0, 15)


def test_reclaim_timeout_must_exceed_delivery_timeout() -> None:
    with pytest.raises(ValidationError, match="RECLAIM_IDLE_MS"):
        NotifierSettings(timeout_seconds=10, reclaim_idle_ms=12_000)
