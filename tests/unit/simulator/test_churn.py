"""Churn ground truth: every kind of churn (and of non-churn) the backtest needs,
played out over a long history with its outcome in ``subscription_canceled``."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import pytest

from services.simulator import (
    ABRUPT_CHURN,
    DISENGAGING,
    HARD_DECLINE,
    NEVER_ONBOARDS,
    NEW_ACCOUNT,
    SEASONAL,
    Simulation,
)
from services.simulator.churn import INVOLUNTARY_REASON, NEVER_ONBOARDED_REASON
from services.simulator.clock import DAY
from services.simulator.usage import FADE

from .conftest import END, decode

USAGE = {"login", "feature_used", "records_changed"}


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def active_days(events: list[dict[str, Any]], since: int, until: int) -> int:
    return len(
        {epoch(e["time"]) // DAY for e in events if e["type"] in USAGE}
        & set(range(since // DAY, until // DAY))
    )


@pytest.fixture(scope="module")
def long_sim() -> Simulation:
    return Simulation.create(accounts=160, days=240, seed=7, end=END)


@pytest.fixture(scope="module")
def grouped(long_sim: Simulation) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, _, event in decode(long_sim):
        out[event["account_id"]].append(event)
    return out


def cancellations(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "subscription_canceled"]


def test_every_cancel_is_the_accounts_last_event_and_matches_the_plan(long_sim, grouped):
    churned = [a for a in long_sim.accounts if a.cancel_at is not None]
    assert len(churned) >= 0.1 * len(long_sim.accounts)
    for account in long_sim.accounts:
        events = grouped[account.account_id]
        canceled = cancellations(events)
        if account.cancel_at is None:
            assert canceled == [], account.account_id
            continue
        [cancel] = canceled
        assert epoch(cancel["time"]) == account.cancel_at
        assert cancel["reason"] == account.cancel_reason
        assert max(epoch(e["time"]) for e in events) == account.cancel_at


def test_churn_is_spread_over_the_history_after_a_warm_up(long_sim):
    canceled = [a.cancel_at for a in long_sim.accounts if a.cancel_at]
    months = {(at - long_sim.start) // (30 * DAY) for at in canceled}
    assert len(months) >= 4
    assert min(canceled) > long_sim.start + 30 * DAY


def test_involuntary_churn_follows_a_failed_payment_dunning_did_not_recover(long_sim, grouped):
    hard = [a for a in long_sim.with_persona(HARD_DECLINE) if a.cancel_at]
    assert hard
    for account in hard:
        events = grouped[account.account_id]
        [failed] = [e for e in events if e["type"] == "payment_failed"]
        [cancel] = cancellations(events)
        assert cancel["reason"] == INVOLUNTARY_REASON
        assert cancel["invoice_id"] == failed["invoice_id"]
        # Involuntary churners keep using the product until the end.
        assert active_days(events, account.cancel_at - 7 * DAY, account.cancel_at) >= 2


def test_disengaged_churners_fade_before_they_cancel(long_sim, grouped):
    fading = [a for a in long_sim.with_persona(DISENGAGING) if a.cancel_at]
    assert fading
    for account in fading:
        events = grouped[account.account_id]
        assert account.silent_from is not None
        assert active_days(events, account.silent_from, account.cancel_at) == 0
        fade_from = account.silent_from - FADE
        assert fade_from - 14 * DAY >= long_sim.start
        before = active_days(events, fade_from - 14 * DAY, fade_from)
        late = active_days(events, account.silent_from - 14 * DAY, account.silent_from)
        assert late < before, account.account_id


def test_abrupt_churners_stay_active_until_they_cancel(long_sim, grouped):
    abrupt = [a for a in long_sim.with_persona(ABRUPT_CHURN) if a.cancel_at]
    assert abrupt
    for account in abrupt:
        events = grouped[account.account_id]
        assert active_days(events, account.cancel_at - 14 * DAY, account.cancel_at) >= 5
        assert cancellations(events)[0]["reason"] != INVOLUNTARY_REASON


def test_never_onboarded_accounts_try_a_few_days_then_close(long_sim, grouped):
    accounts = long_sim.with_persona(NEVER_ONBOARDS)
    assert accounts
    for account in accounts:
        events = grouped[account.account_id]
        [profile] = [e for e in events if e["type"] == "account_upserted"]
        assert epoch(profile["created_at"]) == account.created_at > long_sim.start
        assert min(epoch(e["time"]) for e in events) >= account.created_at
        assert 1 <= active_days(events, account.created_at, long_sim.end) <= 9
        if account.cancel_at:
            assert cancellations(events)[0]["reason"] == NEVER_ONBOARDED_REASON


def test_new_accounts_ramp_up_and_stay(long_sim, grouped):
    accounts = long_sim.with_persona(NEW_ACCOUNT)
    assert accounts
    for account in accounts:
        events = grouped[account.account_id]
        assert account.cancel_at is None
        assert min(epoch(e["time"]) for e in events) >= account.created_at > long_sim.start
        assert active_days(events, long_sim.end - 14 * DAY, long_sim.end) >= 5


def test_seasonal_accounts_go_quiet_for_weeks_and_come_back(long_sim, grouped):
    accounts = long_sim.with_persona(SEASONAL)
    assert accounts
    checked = 0
    for account in accounts:
        assert account.lull is not None and account.cancel_at is None
        lo, hi = account.lull
        if hi + 21 * DAY > long_sim.end:
            continue  # the history ends before the comeback
        checked += 1
        events = grouped[account.account_id]
        during = active_days(events, lo, lo + 21 * DAY)
        before = active_days(events, lo - 21 * DAY, lo)
        after = active_days(events, hi, hi + 21 * DAY)
        assert during < before and during < after, account.account_id
    assert checked


def test_a_short_history_still_shows_abrupt_churn_near_its_end():
    sim = Simulation.create(accounts=60, days=30, seed=42, end=END)
    abrupt = sim.with_persona(ABRUPT_CHURN)
    assert abrupt and all(a.cancel_at and a.cancel_at > END - 10 * DAY for a in abrupt)
