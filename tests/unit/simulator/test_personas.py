"""The personas show up in the events the way the scoring and dunning tests need."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest

from services.simulator import (
    CARD_EXPIRING,
    DISENGAGING,
    HARD_DECLINE,
    PERSONAS,
    RENEWING_SOON,
    SOFT_DECLINE,
    TICKET_STORM,
    Simulation,
)
from services.simulator.clock import DAY
from services.simulator.population import HARD_DECLINE_CODES, SOFT_DECLINE_CODES

from .conftest import END


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def active_days(events, since: float, until: float) -> int:
    return len(
        {
            e["time"][:10]
            for e in events
            if e["type"] == "login" and since <= epoch(e["time"]) < until
        }
    )


def of_type(events, *types):
    return [e for e in events if e["type"] in types]


@pytest.mark.parametrize("accounts", [12, 60])
def test_every_persona_is_played_even_by_a_small_population(accounts):
    sim = Simulation.create(accounts=accounts, days=30, seed=3, end=END)
    assert {p for a in sim.accounts for p in a.personas} == set(PERSONAS)


def test_disengaging_accounts_are_less_active_in_the_last_week(sim, by_account):
    fading = sim.with_persona(DISENGAGING)
    assert fading
    start = END - 30 * DAY
    for account in fading:
        events = by_account[account.account_id]
        first = active_days(events, start, start + 7 * DAY)
        last = active_days(events, END - 7 * DAY, END)
        assert last < first, account.account_id


def test_healthy_accounts_stay_active_to_the_end(sim, by_account):
    healthy = [a for a in sim.accounts if a.personas == frozenset({"healthy"})]
    active = [a for a in healthy if active_days(by_account[a.account_id], END - 7 * DAY, END) >= 3]
    assert len(active) >= 0.8 * len(healthy)


def test_ticket_storms_bring_urgent_tickets_reopens_and_low_csat(sim, by_account):
    for account in sim.with_persona(TICKET_STORM):
        events = by_account[account.account_id]
        hot = {
            e["ticket_id"]
            for e in of_type(events, "ticket_opened")
            if e["priority"] in ("high", "urgent") and epoch(e["time"]) >= account.storm_at
        }
        assert len(hot) >= 4
        low_csat = [e for e in of_type(events, "ticket_solved") if e.get("csat", 5) <= 2]
        assert low_csat


def test_soft_declines_fail_then_succeed_for_the_same_invoice(sim, by_account):
    accounts = sim.with_persona(SOFT_DECLINE)
    assert accounts
    for account in accounts:
        events = by_account[account.account_id]
        failed = of_type(events, "payment_failed")
        assert failed and {e["decline_code"] for e in failed} <= set(SOFT_DECLINE_CODES)
        invoice = failed[0]["invoice_id"]
        later = [
            e
            for e in of_type(events, "payment_succeeded")
            if e["invoice_id"] == invoice and e["time"] > failed[-1]["time"]
        ]
        assert later, account.account_id
        # Recovered: whatever else ends the subscription, it is not this payment.
        canceled = of_type(events, "subscription_canceled")
        assert all(e["reason"] != "payment_failed" for e in canceled)


def test_hard_declines_never_recover_and_end_canceled(sim, by_account):
    accounts = sim.with_persona(HARD_DECLINE)
    assert accounts
    for account in accounts:
        events = by_account[account.account_id]
        [failed] = of_type(events, "payment_failed")
        assert failed["decline_code"] in HARD_DECLINE_CODES
        assert not [
            e
            for e in of_type(events, "payment_succeeded")
            if e["invoice_id"] == failed["invoice_id"]
        ]
        [canceled] = of_type(events, "subscription_canceled")
        assert canceled["time"] > failed["time"] and canceled["reason"]
        after = [e for e in events if e["time"] > canceled["time"] and e["type"] == "login"]
        assert after == []


def test_cards_expiring_soon_are_announced(sim, by_account):
    for account in sim.with_persona(CARD_EXPIRING):
        [notice] = of_type(by_account[account.account_id], "card_expiring")
        assert END < epoch(notice["card_expires_at"]) <= END + 21 * DAY


def test_some_renewals_fall_within_a_week_of_the_end(sim, by_account):
    soon = []
    for account in sim.with_persona(RENEWING_SOON):
        [profile] = of_type(by_account[account.account_id], "account_upserted")
        renewal = epoch(profile["renewal_at"])
        assert END + 2 * DAY <= renewal <= END + 10 * DAY
        assert of_type(by_account[account.account_id], "renewal_scheduled")
        soon.append(renewal <= END + 7 * DAY)
    assert any(soon)


@pytest.mark.parametrize(
    "code, recovers",
    [("insufficient_funds", True), ("expired_card", False), ("stolen_card", False)],
)
def test_forced_decline_account(code, recovers):
    sim = Simulation.forced_decline(decline_code=code, account_id="acme", end=END)
    events = [orjson.loads(v) for _, _, v in sim.events()]
    assert {e["account_id"] for e in events} == {"acme"}
    failed = of_type(events, "payment_failed")
    assert failed and failed[0]["decline_code"] == code
    succeeded = [
        e
        for e in of_type(events, "payment_succeeded")
        if e["invoice_id"] == failed[0]["invoice_id"]
    ]
    assert bool(succeeded) is recovers


def test_forced_decline_at_a_chosen_time():
    at = END - 2 * DAY + 3600
    sim = Simulation.forced_decline(decline_code="do_not_honor", decline_at=at, end=END)
    [failed] = [orjson.loads(v) for _, _, v in sim.events() if b"payment_failed" in v]
    assert epoch(failed["time"]) == at
