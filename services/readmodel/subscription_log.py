"""Subscriptions on ``cs.subscriptions.v1``: the durable copy of ``hs:subscriptions``.

Redis keeps the working copy the notifier reads (JSON with the signing secret
in clear, ``services/api/subscription_store.py``); the topic keeps every
subscription so ``healthscore readmodel rebuild`` can put them back when Redis
has lost them. Every consumer of the topic can read it, so the secret goes on
it sealed with a Fernet key from ``HEALTHSCORE_SUBSCRIPTION_KEYS``, never in
clear. Keeping only a reference to the secret would not do: the point of the
topic is to outlive Redis, and a receiver cannot be asked to accept a new secret.
Several comma-separated keys rotate: the first seals, any of them opens.
"""

from __future__ import annotations

from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr, ValidationError

from schemas.subscriptions import SubscriptionRecord

KEYS_ENV: Final = "HEALTHSCORE_SUBSCRIPTION_KEYS"
#: The Redis hash of the working copy (field = id), shared by the API and the notifier.
REDIS_KEY: Final = "hs:subscriptions"
_MAKE_KEY: Final = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class SealError(ValueError):
    """A record cannot be written or read back: no key, a malformed key, a key
    that did not seal it, or not a subscription record. The message names what
    to fix, never the secret."""


class SecretSealer:
    """Seals webhook secrets for the topic and opens them on a rebuild."""

    def __init__(self, keys: list[str]) -> None:
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode()))
            except (ValueError, TypeError):
                raise SealError(
                    f"{KEYS_ENV}: key {position} is not a Fernet key (32 url-safe "
                    f"base64-encoded bytes); make one with: {_MAKE_KEY}"
                ) from None
        if not fernets:
            raise SealError(f"{KEYS_ENV} is empty; make a key with: {_MAKE_KEY}")
        self._fernet = MultiFernet(fernets)

    @classmethod
    def from_setting(cls, value: SecretStr) -> SecretSealer | None:
        """None when the setting is empty (webhook subscriptions are then refused)."""
        keys = [k.strip() for k in value.get_secret_value().split(",") if k.strip()]
        return cls(keys) if keys else None

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SealError(f"no key of {KEYS_ENV} opens this secret") from None


def to_record(stored: dict[str, Any], sealer: SecretSealer | None) -> bytes:
    """The topic's value for a subscription as Redis stores it."""
    secret = stored.get("secret")
    if secret and sealer is None:
        raise SealError(f"{KEYS_ENV} is not set: a webhook secret cannot be stored")
    fields = {k: v for k, v in stored.items() if k != "secret"}
    sealed = sealer.seal(secret) if secret and sealer is not None else None
    return (
        SubscriptionRecord.model_validate({**fields, "sealed_secret": sealed})
        .model_dump_json(exclude_none=True)
        .encode()
    )


def from_record(value: bytes, sealer: SecretSealer | None) -> dict[str, Any]:
    """The Redis JSON of a topic record; ``SealError`` when it cannot be read."""
    try:
        record = SubscriptionRecord.model_validate_json(value)
    except ValidationError as exc:
        raise SealError(f"not a subscription record: {exc.errors(include_input=False)}") from None
    secret = None
    if record.sealed_secret is not None:
        if sealer is None:
            raise SealError(f"{KEYS_ENV} is not set: subscription {record.id} has a sealed secret")
        secret = sealer.open(record.sealed_secret)
    stored = record.model_dump(mode="json", exclude={"sealed_secret"})
    return {**stored, "secret": secret}
