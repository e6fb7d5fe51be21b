"""The notifier's settings, read once from the environment at start-up.

Everything below the entrypoint receives plain values (a ``RetryPolicy``, a
timeout), never this object's environment lookups.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from services.notifier.retry import RetryPolicy
from streams.worker.connections import KafkaRedisSettings

_P = "HEALTHSCORE_NOTIFIER_"


class NotifierSettings(KafkaRedisSettings):
    group_id: str = Field("healthscore-notifier", validation_alias=f"{_P}GROUP_ID")
    offset_reset: Literal["earliest", "latest"] = Field(
        "earliest",
        validation_alias=f"{_P}OFFSET_RESET",
        description="Where a new consumer group starts; earliest so nothing is missed.",
    )
    workers: int = Field(2, ge=0, validation_alias=f"{_P}WORKERS")
    concurrency: int = Field(
        16, ge=1, validation_alias=f"{_P}CONCURRENCY", description="In-flight per worker."
    )
    reclaim_idle_ms: int = Field(
        60_000,
        ge=100,
        validation_alias=f"{_P}RECLAIM_IDLE_MS",
        description="A pending entry idle this long belongs to a dead worker and is reclaimed.",
    )
    reclaim_interval_seconds: float = Field(
        5.0, gt=0, validation_alias=f"{_P}RECLAIM_INTERVAL_SECONDS"
    )
    scheduler_interval_seconds: float = Field(
        0.5, gt=0, validation_alias=f"{_P}SCHEDULER_INTERVAL_SECONDS"
    )
    subscription_refresh_seconds: float = Field(
        2.0, gt=0, validation_alias=f"{_P}SUBSCRIPTION_REFRESH_SECONDS"
    )
    retry_base_seconds: float = Field(1.0, gt=0, validation_alias=f"{_P}RETRY_BASE_SECONDS")
    retry_cap_seconds: float = Field(3600.0, gt=0, validation_alias=f"{_P}RETRY_CAP_SECONDS")
    max_attempts: int = Field(15, ge=1, validation_alias=f"{_P}MAX_ATTEMPTS")
    timeout_seconds: float = Field(10.0, gt=0, validation_alias=f"{_P}TIMEOUT_SECONDS")
    stop_grace_seconds: float = Field(25.0, ge=0, validation_alias=f"{_P}STOP_GRACE_SECONDS")
    metrics_port: int = Field(
        9103, ge=0, validation_alias=f"{_P}METRICS_PORT", description="0 = off"
    )
    metrics_host: str = Field(
        "127.0.0.1",
        validation_alias="HEALTHSCORE_METRICS_HOST",
        description="0.0.0.0 in containers so Prometheus can scrape.",
    )
    smtp_host: str = Field("127.0.0.1", validation_alias="HEALTHSCORE_SMTP_HOST")
    smtp_port: int = Field(25, ge=1, validation_alias="HEALTHSCORE_SMTP_PORT")
    smtp_from: str = Field("healthscore@localhost", validation_alias="HEALTHSCORE_SMTP_FROM")
    smtp_user: str | None = Field(None, validation_alias="HEALTHSCORE_SMTP_USER")
    smtp_password: SecretStr | None = Field(None, validation_alias="HEALTHSCORE_SMTP_PASSWORD")
    smtp_starttls: bool = Field(False, validation_alias="HEALTHSCORE_SMTP_STARTTLS")
    log_level: str = Field("INFO", validation_alias="HEALTHSCORE_LOG_LEVEL")
    model_path: str | None = Field(
        None,
        validation_alias="HEALTHSCORE_MODEL",
        description="The worker's scoring model file: its bands decide what a band change is.",
    )

    @model_validator(mode="after")
    def _reclaim_after_timeout(self) -> NotifierSettings:
        # A live worker's slow delivery must never look idle: otherwise another
        # worker reclaims it while it is still in flight and the receiver gets it twice.
        if self.reclaim_idle_ms <= self.timeout_seconds * 1000 * 1.5:
            raise ValueError(
                "HEALTHSCORE_NOTIFIER_RECLAIM_IDLE_MS must exceed 1.5 x the delivery timeout"
            )
        return self

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            base_seconds=self.retry_base_seconds,
            cap_seconds=self.retry_cap_seconds,
            max_attempts=self.max_attempts,
        )
