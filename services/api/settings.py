"""The API's settings, read once from the environment by ``create_app``'s caller."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from services.readmodel.subscription_log import SecretSealer
from streams.worker.connections import KafkaRedisSettings


class ApiSettings(KafkaRedisSettings):
    port: int = Field(8000, ge=1, le=65535, validation_alias="HEALTHSCORE_API_PORT")
    api_keys: SecretStr = Field(
        SecretStr(""),
        validation_alias="HEALTHSCORE_API_KEYS",
        description="Comma-separated name:secret:scope1|scope2 (scopes read, ingest, admin).",
    )
    env: Literal["development", "test", "production"] = Field(
        "production", validation_alias="HEALTHSCORE_ENV"
    )
    max_body_bytes: int = Field(1024 * 1024, ge=1024, validation_alias="HEALTHSCORE_API_MAX_BODY")
    max_batch_events: int = Field(1000, ge=1, validation_alias="HEALTHSCORE_API_MAX_BATCH")
    sse_ping_seconds: float = Field(15.0, gt=0, validation_alias="HEALTHSCORE_SSE_PING_SECONDS")
    sse_block_ms: int = Field(
        5000,
        ge=10,
        validation_alias="HEALTHSCORE_SSE_BLOCK_MS",
        description="How long one XREAD waits for a new alert before looping.",
    )
    stripe_webhook_secret: SecretStr = Field(
        SecretStr(""),
        validation_alias="HEALTHSCORE_STRIPE_WEBHOOK_SECRET",
        description="The Stripe endpoint's signing secret (whsec_...); unset: 503.",
    )
    stripe_tolerance_seconds: int = Field(
        300,
        ge=1,
        validation_alias="HEALTHSCORE_STRIPE_TOLERANCE_SECONDS",
        description="Oldest accepted Stripe-Signature timestamp, in seconds (Stripe's default).",
    )
    stripe_dedupe_seconds: int = Field(
        3 * 24 * 3600,
        ge=60,
        validation_alias="HEALTHSCORE_STRIPE_DEDUPE_SECONDS",
        description="How long a Stripe event id is remembered (Stripe retries for 3 days).",
    )
    segment_login_events: str = Field(
        "Signed In,Logged In,Login",
        validation_alias="HEALTHSCORE_SEGMENT_LOGIN_EVENTS",
        description="Comma-separated Segment track names that mean a login (case-insensitive).",
    )
    session_ttl_seconds: int = Field(
        8 * 3600,
        ge=60,
        le=30 * 86400,
        validation_alias="HEALTHSCORE_SESSION_TTL_SECONDS",
        description="How long a web-app sign-in lasts.",
    )
    login_max_failures: int = Field(
        10,
        ge=1,
        le=10_000,
        validation_alias="HEALTHSCORE_LOGIN_MAX_FAILURES",
        description="Failed web-app sign-ins per client address and window before 429.",
    )
    login_window_seconds: int = Field(
        300,
        ge=1,
        le=86_400,
        validation_alias="HEALTHSCORE_LOGIN_WINDOW_SECONDS",
        description="The window of HEALTHSCORE_LOGIN_MAX_FAILURES, from the first failure.",
    )
    subscription_keys: SecretStr = Field(
        SecretStr(""),
        validation_alias="HEALTHSCORE_SUBSCRIPTION_KEYS",
        description="Comma-separated Fernet keys sealing webhook secrets on "
        "cs.subscriptions.v1 (the first seals, any opens); unset: webhook subscriptions 503.",
    )
    ready_timeout_seconds: float = Field(2.0, gt=0, validation_alias="HEALTHSCORE_READY_TIMEOUT")

    @model_validator(mode="after")
    def _require_keys_outside_development(self) -> ApiSettings:
        # An API without keys is an open API: only acceptable on a laptop.
        if not self.api_keys.get_secret_value().strip() and self.env != "development":
            raise ValueError(
                "HEALTHSCORE_API_KEYS is empty: set name:secret:scopes keys, "
                "or HEALTHSCORE_ENV=development to run without authentication"
            )
        return self

    @model_validator(mode="after")
    def _subscription_keys_are_fernet_keys(self) -> ApiSettings:
        SecretSealer.from_setting(self.subscription_keys)  # a SealError (ValueError) says why
        return self
