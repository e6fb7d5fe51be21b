"""AccountState JSON form: round trip and the per-account size budget."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given, settings

from streams.domain.events import DomainEvent
from streams.domain.scoring.state import AccountState
from tests.unit.domain.factories import run, typical_history
from tests.unit.domain.test_scoring import random_events, state_of

log = logging.getLogger(__name__)

STATE_BUDGET_BYTES = 2048
"""Changelog entry budget per account (see ARCHITECTURE "Hot path shape")."""


def encoded_size(state: AccountState) -> int:
    """Bytes of the compact JSON the table stores (no spaces, like orjson)."""
    return len(json.dumps(state.to_dict(), separators=(",", ":")).encode())


def typical_state() -> AccountState:
    state, _ = run(typical_history(days=90))
    assert state is not None
    return state


def test_typical_active_account_fits_the_budget() -> None:
    state = typical_state()
    size = encoded_size(state)
    log.info("typical 90-day account state: %d bytes of JSON", size)
    assert len(state.usage.active_users) > 55  # it really is an active account
    assert len(state.usage.features) >= 10
    assert size <= STATE_BUDGET_BYTES


def test_typical_state_round_trips_through_json() -> None:
    state = typical_state()
    assert AccountState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


@settings(max_examples=100, deadline=None)
@given(events=random_events())
def test_any_state_round_trips(events: list[DomainEvent]) -> None:
    state = state_of(events)
    assert AccountState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_empty_state_is_tiny() -> None:
    assert encoded_size(AccountState("acme")) < 40


@pytest.mark.parametrize(
    ("data", "message"),
    [({"v": 99, "a": "x", "d": 0}, "unsupported"), ({"v": 1, "d": 0}, "malformed")],
)
def test_from_dict_rejects_what_it_cannot_read(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AccountState.from_dict(data)
