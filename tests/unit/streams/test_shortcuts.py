"""The engine's shortcuts (repeated usage skips ``apply_usage``'s full path; the
duplicate check is a hash lookup) must not change a single output or stored
byte: a simulated run with the shortcut disabled gives the same records and the
same stored states."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from schemas.inputs import decode_event
from services.simulator import Simulation
from streams.config import load_rules
from streams.convert import to_domain
from streams.domain import apply
from streams.domain.events import DomainEvent
from streams.domain.state import AccountState
from streams.engine import PartitionEngine

RULES = load_rules()
END = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture(scope="module")
def simulated() -> list[DomainEvent]:
    sim = Simulation.create(accounts=10, days=20, seed=5, end=int(END.timestamp()))
    return [to_domain(decode_event(topic, value)) for topic, _key, value in sim.events()]


def _run(events: list[DomainEvent]) -> tuple[list[tuple[str, bytes]], str]:
    engine = PartitionEngine(0, RULES.model, RULES.policies)
    out = [(e.topic, e.value) for e in engine.process(events)]
    out += [(e.topic, e.value) for e in engine.advance((END + timedelta(days=20)).timestamp())]
    stored = {k: v.to_dict() for k, v in sorted(engine.accounts.items())}
    return out, json.dumps(stored, sort_keys=True)


def test_repeated_usage_shortcut_changes_nothing(
    simulated: list[DomainEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    hits: list[bool] = []
    shortcut = apply._repeats_today

    def counted(*args: object) -> bool:
        hits.append(shortcut(*args))  # type: ignore[arg-type]
        return hits[-1]

    monkeypatch.setattr(apply, "_repeats_today", counted)
    fast = _run(simulated)
    monkeypatch.setattr(apply, "_repeats_today", lambda *args: False)
    full = _run(simulated)
    assert any(hits), "the run never took the shortcut: the test proves nothing"
    assert fast[0] and fast == full


@pytest.mark.parametrize("stored", [(), (b"a", b"a"), tuple(bytes([i]) for i in range(32))])
def test_recent_ids_forget_the_oldest_like_the_list_they_index(stored: tuple[bytes, ...]) -> None:
    draft = apply.StateDraft(AccountState("acc", recent_ids=stored))
    for i in range(100, 140):
        draft.remember(bytes([i]))
        kept = draft.recent
        assert len(kept) <= apply.RECENT_IDS
        for digest in {*stored, *(bytes([j]) for j in range(100, i + 1))}:
            assert draft.is_duplicate(digest) == (digest in kept)
