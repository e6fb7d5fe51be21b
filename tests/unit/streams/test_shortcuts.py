"""The engine's shortcuts (repeated usage skips ``apply_usage``'s full path; the
duplicate check searches a packed buffer) must not change a single output or stored
byte: a simulated run with the shortcut disabled gives the same records and the
same stored states."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from schemas.inputs import decode_event
from services.simulator import Simulation
from streams.domain.events import DomainEvent
from streams.domain.scoring import apply, usage
from streams.domain.scoring.state import ID_DIGEST_BYTES, RECENT_IDS, AccountState
from streams.processing.convert import to_domain
from streams.processing.rules import load_rules
from streams.speedups import native
from tests.unit.streams.engines import encoding_engine

RULES = load_rules()
END = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture(scope="module")
def simulated() -> list[DomainEvent]:
    sim = Simulation.create(accounts=10, days=20, seed=5, end=int(END.timestamp()))
    return [to_domain(decode_event(topic, value)) for topic, _key, value in sim.events()]


def _run(events: list[DomainEvent]) -> tuple[list[tuple[str, bytes]], str]:
    engine = encoding_engine(RULES)
    out = [(e.topic, e.value) for e in engine.process(events)]
    out += [(e.topic, e.value) for e in engine.advance((END + timedelta(days=20)).timestamp())]
    stored = {k: v.to_dict() for k, v in sorted(engine.accounts.items())}
    return out, json.dumps(stored, sort_keys=True)


@pytest.mark.skipif(
    native.status().active,
    reason="switches the shortcut off by patching a module function, which compiled "
    "code calls directly: runs in make test's pure-Python pass",
)
def test_repeated_usage_shortcut_changes_nothing(
    simulated: list[DomainEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    hits: list[bool] = []
    shortcut = usage._repeats_today

    def counted(*args: object) -> bool:
        hits.append(shortcut(*args))  # type: ignore[arg-type]
        return hits[-1]

    monkeypatch.setattr(usage, "_repeats_today", counted)
    fast = _run(simulated)
    monkeypatch.setattr(usage, "_repeats_today", lambda *args: False)
    full = _run(simulated)
    assert any(hits), "the run never took the shortcut: the test proves nothing"
    assert fast[0] and fast == full


def _digest(n: int) -> bytes:
    return n.to_bytes(ID_DIGEST_BYTES, "big")


@pytest.mark.parametrize(
    "stored", [(), (_digest(1), _digest(1)), tuple(_digest(i) for i in range(RECENT_IDS))]
)
def test_recent_ids_forget_the_oldest_like_a_bounded_list(stored: tuple[bytes, ...]) -> None:
    draft = apply.StateDraft(AccountState("acc", recent_ids=b"".join(stored)))
    kept = list(stored)
    for i in range(100, 140):
        draft.remember(_digest(i))
        kept = [*kept, _digest(i)][-RECENT_IDS:]
        assert draft.freeze().recent_ids == b"".join(kept)
        for digest in {*stored, *(_digest(j) for j in range(100, i + 1))}:
            assert draft.is_duplicate(digest) == (digest in kept)


def test_a_digest_straddling_two_remembered_ones_is_not_a_duplicate() -> None:
    draft = apply.StateDraft(AccountState("acc"))
    first, second = b"abcdef", b"ghijkl"
    draft.remember(first)
    draft.remember(second)
    straddling = (first + second)[3 : 3 + ID_DIGEST_BYTES]  # b"defghi"
    assert not draft.is_duplicate(straddling)
    draft.remember(b"xdefgh")  # the same bytes again, once unaligned, then aligned
    draft.remember(straddling)
    assert draft.is_duplicate(straddling) and draft.is_duplicate(first)


def test_stored_recent_ids_must_be_whole_digests() -> None:
    record = AccountState("acc", recent_ids=_digest(1)).to_dict()
    record["i"] = "AAAA"  # three bytes
    with pytest.raises(ValueError, match="whole"):
        AccountState.from_dict(record)
