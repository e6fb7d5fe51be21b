"""Gauge views: bands and open dunning cases counted from engine state;
decline codes bounded to a known label set."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from streams.domain.events import BillingEvent, UsageEvent
from streams.processing.engine import PartitionEngine
from streams.processing.gauges import account_views, decline_codes
from streams.processing.rules import load_rules

RULES = load_rules()
T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _failed(account: str, code: str, n: int = 0) -> BillingEvent:
    return BillingEvent(
        id=f"{account}-f{n}",
        account_id=account,
        kind="payment_failed",
        at=T0 + timedelta(hours=n),
        invoice_id=f"in-{account}-{n}",
        amount_cents=100,
        currency="USD",
        decline_code=code,
    )


def test_views_count_bands_and_open_cases() -> None:
    engine = PartitionEngine(0, RULES.model, RULES.policies)
    login = UsageEvent(id="l1", account_id="a", kind="login", at=T0, user_id="u")
    engine.process([login, _failed("b", "insufficient_funds"), _failed("c", "stolen_card")])
    bands, cases = account_views([engine])
    assert sum(bands.values()) >= 1
    assert cases["retrying"] == 1  # soft decline: retries scheduled
    assert sum(cases.values()) == 2


def test_decline_codes_are_bounded() -> None:
    events = [_failed("a", "insufficient_funds"), _failed("a", "made_up_code", 1)]
    assert decline_codes(events) == {"insufficient_funds": 1, "other": 1}


def test_decline_codes_count_only_payment_failures() -> None:
    paid = replace(_failed("a", "insufficient_funds", 2), kind="payment_succeeded")
    login = UsageEvent(id="l1", account_id="a", kind="login", at=T0, user_id="u")
    no_code = replace(_failed("a", "x", 3), decline_code=None)
    assert decline_codes([paid, login, no_code, _failed("b", "expired_card")]) == {
        "other": 1,  # no code: not a known one
        "expired_card": 1,
    }
