"""The projector's settings, read once from the environment at start-up."""

from __future__ import annotations

from pydantic import Field, SecretStr

from streams.worker.connections import KafkaRedisSettings


class ReadModelSettings(KafkaRedisSettings):
    group_id: str = Field(
        "healthscore-readmodel",
        validation_alias="HEALTHSCORE_READMODEL_GROUP",
        description="Consumer group; one per read model (tests use their own).",
    )
    batch_max_records: int = Field(1000, ge=1, validation_alias="HEALTHSCORE_READMODEL_BATCH")
    metrics_port: int = Field(
        9102, ge=0, validation_alias="HEALTHSCORE_READMODEL_METRICS_PORT", description="0 = off"
    )
    metrics_host: str = Field(
        "127.0.0.1",
        validation_alias="HEALTHSCORE_METRICS_HOST",
        description="0.0.0.0 in containers so Prometheus can scrape.",
    )
    alerts_maxlen: int = Field(
        100_000,
        ge=100,
        validation_alias="HEALTHSCORE_ALERTS_MAXLEN",
        description="Alerts kept in the feed (and resumable over SSE).",
    )
    subscription_keys: SecretStr = Field(
        SecretStr(""),
        validation_alias="HEALTHSCORE_SUBSCRIPTION_KEYS",
        description="The API's keys: `rebuild` opens the webhook secrets on cs.subscriptions.v1.",
    )
