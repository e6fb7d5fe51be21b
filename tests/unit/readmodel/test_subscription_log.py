"""Sealing webhook secrets for ``cs.subscriptions.v1``: round trip, rotation, errors."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from services.readmodel.subscription_log import SealError, SecretSealer, from_record, to_record

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "sub_1",
        "channel": "webhook",
        "target": "https://cs.example.com/hook",
        "secret": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
        "filters": {"types": ["io.healthscore.alert."], "segments": [], "owners": [],
                    "min_arr_cents": None},
        "description": None,
        "created_at": "2026-12-05T10:00:00+00:00",
        "active": True,
        **overrides,
    }  # fmt: skip


def sealer(keys: str) -> SecretSealer:
    found = SecretSealer.from_setting(SecretStr(keys))
    assert found is not None
    return found


def test_round_trip_gives_back_the_secret_and_never_writes_it_in_clear() -> None:
    value = to_record(stored(), sealer(OLD))
    assert b"whsec_" not in value
    back = from_record(value, sealer(OLD))
    assert back["secret"] == stored()["secret"]
    assert back["filters"] == stored()["filters"] and back["target"] == stored()["target"]


def test_a_rotated_key_list_opens_what_the_old_key_sealed() -> None:
    value = to_record(stored(), sealer(OLD))
    assert from_record(value, sealer(f"{NEW},{OLD}"))["secret"] == stored()["secret"]


def test_a_wrong_or_missing_key_is_a_clear_error() -> None:
    value = to_record(stored(), sealer(OLD))
    with pytest.raises(SealError, match="no key of HEALTHSCORE_SUBSCRIPTION_KEYS opens"):
        from_record(value, sealer(NEW))
    with pytest.raises(SealError, match="sub_1 has a sealed secret"):
        from_record(value, None)
    with pytest.raises(SealError, match="cannot be stored"):
        to_record(stored(), None)


def test_channels_without_a_secret_need_no_key() -> None:
    value = to_record(stored(channel="email", target="csm@example.com", secret=None), None)
    assert from_record(value, None)["secret"] is None


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(SealError, match="not a subscription record"):
        from_record(b'{"id": 1}', None)
