"""A 90-day billing history replayed with daily ticks: exact decision sequence,
byte-identical output across runs (also under another hash seed, in a child
interpreter), idempotent ticks, and restart from serialized state.

Needs nothing but the domain package; the hash-seed check starts one short-lived
``python -c`` child and no servers.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.domain.dunning.advance import advance_dunning, process_billing
from streams.domain.dunning.decision import DunningDecision
from streams.domain.dunning.state import DunningState
from streams.domain.events import BillingEvent
from tests.unit.domain.dunning_factories import (
    POLICY,
    billing,
    canceled,
    card_expiring,
    day,
    failed,
    renewal,
    replay_daily,
    run,
    succeeded,
    summarize,
)

HORIZON_DAYS = 90


def history() -> list[BillingEvent]:
    """Four invoices (soft recovered, hard canceled by the ladder, soft->hard recovered,
    soft canceled by the customer), a renewal that moves, a card that is replaced."""
    return [
        card_expiring(day(0), day(80)),
        renewal(day(1), day(40)),
        failed(day(2.25), "in_1"),
        failed(day(4.5), "in_1", code="card_declined"),
        succeeded(day(6), "in_1"),
        failed(day(10.5), "in_2", code="stolen_card"),
        renewal(day(35.1), day(45)),
        failed(day(41.2), "in_3"),
        failed(day(42.6), "in_3", code="do_not_honor"),
        succeeded(day(46), "in_3"),
        card_expiring(day(55), day(420)),
        failed(day(60.5), "in_4"),
        canceled(day(76), reason="too_expensive"),
        renewal(day(80), day(88)),
    ]


EXPECTED = [
    ("payment_failed_notice", "in_1", 1, day(2.25)),
    ("retry_scheduled", "in_1", 2, day(2.25)),
    ("retry_scheduled", "in_1", 3, day(3.25)),
    ("retry_scheduled", "in_1", 4, day(5.25)),
    ("recovered", "in_1", 2, day(6)),
    ("update_card_requested", "in_2", 1, day(10.5)),
    ("grace_started", "in_2", 1, day(17.5)),
    ("escalated", "in_2", 1, day(24.5)),
    ("canceled", "in_2", 1, day(31.5)),
    ("renewal_reminder", None, None, day(33)),  # 7 days before day 40
    ("renewal_reminder", None, None, day(38)),  # moved to day 45: 7 days before
    ("payment_failed_notice", "in_3", 1, day(41.2)),
    ("retry_scheduled", "in_3", 2, day(41.2)),
    ("renewal_reminder", None, None, day(42)),  # 3 days before day 45
    ("retry_scheduled", "in_3", 3, day(42.2)),
    ("update_card_requested", "in_3", 2, day(42.6)),
    ("renewal_reminder", None, None, day(43)),  # 2 days before day 45
    ("recovered", "in_3", 2, day(46)),
    ("card_expiry_reminder", None, None, day(50)),  # 30 days before day 80; day 73 never
    ("payment_failed_notice", "in_4", 1, day(60.5)),
    ("retry_scheduled", "in_4", 2, day(60.5)),
    ("retry_scheduled", "in_4", 3, day(61.5)),
    ("retry_scheduled", "in_4", 4, day(63.5)),
    ("retry_scheduled", "in_4", 5, day(65.5)),
    ("grace_started", "in_4", 1, day(67.5)),
    ("escalated", "in_4", 1, day(74.5)),
    ("canceled", "in_4", 1, day(76)),
    ("renewal_reminder", None, None, day(81)),
    ("renewal_reminder", None, None, day(85)),
    ("renewal_reminder", None, None, day(86)),
]


def encode(decisions: list[DunningDecision]) -> bytes:
    return json.dumps([d.to_dict() for d in decisions], sort_keys=True).encode()


def replay_digest() -> str:
    """SHA-256 of the whole replay's JSON output; the child interpreter calls this too."""
    return hashlib.sha256(encode(replay_daily(history(), HORIZON_DAYS)[1])).hexdigest()


def test_ninety_day_history_gives_the_exact_decision_sequence() -> None:
    _, decisions = replay_daily(history(), HORIZON_DAYS)
    assert summarize(decisions) == EXPECTED
    assert decisions[-4].reason == "too_expensive"
    renewal_days = [d.days_before for d in decisions if d.step == "renewal_reminder"]
    assert renewal_days == [7, 7, 3, 2, 7, 3, 2]
    assert len({d.id for d in decisions}) == len(decisions)


def test_two_runs_serialize_byte_identically() -> None:
    assert encode(replay_daily(history(), HORIZON_DAYS)[1]) == encode(
        replay_daily(history(), HORIZON_DAYS)[1]
    )


def test_output_does_not_depend_on_the_hash_seed() -> None:
    root = Path(__file__).resolve().parents[3]
    code = "from tests.unit.domain.test_dunning_replay import replay_digest; print(replay_digest())"
    env = {**os.environ, "PYTHONHASHSEED": "4242", "PYTHONPATH": str(root)}
    child = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert child.stdout.strip() == replay_digest()


def test_ticking_twice_with_the_same_now_emits_nothing_the_second_time() -> None:
    state = None
    for k in range(HORIZON_DAYS + 1):
        batch = [e for e in history() if (k == 0 or e.at > day(k - 1)) and e.at <= day(k)]
        state, _ = run(batch, now=day(k), state=state)
        again = advance_dunning(state, POLICY, day(k))
        assert again.decisions == ()
        assert again.state == state


@pytest.mark.parametrize("split_day", [1, 3, 5, 6, 11, 18, 33, 36, 42, 43, 50, 61, 76, 82])
def test_restart_from_serialized_state_continues_without_loss_or_repeat(split_day: int) -> None:
    uninterrupted = replay_daily(history(), HORIZON_DAYS)[1]
    state, before = replay_daily(history(), split_day)
    saved = json.dumps(state.to_dict(), sort_keys=True)
    restored = DunningState.from_dict(json.loads(saved))
    assert restored == state
    _, after = replay_daily(history(), HORIZON_DAYS, state=restored, first_day=split_day + 1)
    assert encode(before + after) == encode(uninterrupted)


@pytest.mark.parametrize("crash_day", [3, 6, 11, 42, 43, 46, 61])
def test_redelivered_batch_after_restart_is_harmless(crash_day: int) -> None:
    """Crash after saving state but before committing offsets: the batch comes again.
    Crash before saving: the batch reruns from the old state and re-emits the same ids."""
    state_before, _ = replay_daily(history(), crash_day - 1)
    batch = [e for e in history() if day(crash_day - 1) < e.at <= day(crash_day)]
    first = process_billing(state_before, batch, POLICY, day(crash_day))
    rerun = process_billing(state_before, batch, POLICY, day(crash_day))
    redelivered = process_billing(first.state, batch, POLICY, day(crash_day))
    assert first.decisions and rerun.decisions == first.decisions
    assert redelivered.decisions == ()


def test_ninety_day_state_stays_small() -> None:
    state, _ = replay_daily(history(), HORIZON_DAYS)
    assert len(json.dumps(state.to_dict())) < 4096
    assert [c.invoice_id for c in state.cases] == ["in_4"]  # older closed cases pruned


# --- tick independence of invoice cases (reminders deliberately collapse, see reminders.py)

KINDS = st.sampled_from(["payment_failed", "payment_succeeded", "subscription_canceled"])
CODES = st.sampled_from(["insufficient_funds", "card_declined", "lost_card", "do_not_honor"])
EVENT = st.tuples(KINDS, st.sampled_from(["in_1", "in_2", "in_3"]), st.integers(0, 60 * 24), CODES)


def _events(raw: list[tuple[str, str, int, str]]) -> list[BillingEvent]:
    return [
        billing(kind, day(hour / 24), invoice_id=inv, decline_code=code, event_id=f"e{i}")  # type: ignore[arg-type]
        for i, (kind, inv, hour, code) in enumerate(raw)
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(EVENT, max_size=12))
def test_case_decisions_do_not_depend_on_how_often_the_clock_ticks(
    raw: list[tuple[str, str, int, str]],
) -> None:
    events = _events(raw)
    one_batch = run(events, now=day(HORIZON_DAYS))[1]
    daily = replay_daily(events, HORIZON_DAYS)[1]
    per_event = _one_event_per_batch(events)
    assert encode(list(one_batch)) == encode(daily) == encode(per_event)


def _one_event_per_batch(events: list[BillingEvent]) -> list[DunningDecision]:
    state = None
    decisions: list[DunningDecision] = []
    for event in sorted(events, key=lambda e: e.at):
        state, emitted = run([event], now=event.at, state=state)
        decisions.extend(emitted)
    state, final = run([], now=day(HORIZON_DAYS), state=state)
    return decisions + list(final)
