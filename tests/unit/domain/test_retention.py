"""Very old events (``streams.domain.account.RETENTION_S``): an input more than
the retention behind the newest event its account has seen is refused with
``TooOldError`` and changes nothing; one within it is applied at its own
event time; profiles are kept by event time whatever their age; and no old
event makes an account look more recently active than it was."""

from __future__ import annotations

from datetime import timedelta

import pytest

from streams.domain.account import RETENTION_S, Account, Decision, retention_s, step_event
from streams.domain.errors import TooOldError
from streams.domain.events import DomainEvent
from streams.domain.scoring.alerts import AlertDecision
from streams.domain.scoring.model import ScoringModel
from streams.domain.scoring.state import AccountState
from streams.domain.scoring.step import new_draft
from tests.unit.domain.factories import (
    ACCOUNT,
    at_day,
    default_model,
    make_login,
    make_model,
    make_nps,
    make_payment_failed,
    make_profile,
    make_ticket,
    model_doc,
)
from tests.unit.domain.stepping import POLICIES

NEWEST_DAY = 200
RETENTION = timedelta(seconds=RETENTION_S)


def _account(*events: DomainEvent, model: ScoringModel | None = None) -> Account:
    model = model or default_model()
    account = Account(ACCOUNT, new_draft(AccountState(ACCOUNT), model))
    for event in events:
        _step(account, event, model)
    return account


def _step(account: Account, event: DomainEvent, model: ScoringModel | None = None) -> list[str]:
    """One step at the account's clock; the kinds of alert it decided."""
    at_s = event.at.timestamp()
    assert account.draft is not None
    clock = max(at_s, float(account.draft.as_of_s or 0))
    out: list[Decision] = []
    step_event(account, event, at_s, clock, model or default_model(), POLICIES, out)
    return [d.type for d in out if isinstance(d, AlertDecision)]


def _stored(account: Account) -> AccountState:
    assert account.draft is not None
    return account.draft.freeze()


def test_retention_is_the_longest_a_model_looks_back() -> None:
    assert timedelta(days=90) == RETENTION
    assert retention_s(default_model()) == RETENTION_S
    long_nps = make_model(dimensions={**model_doc()["dimensions"], "nps": {
        "normalise": {"kind": "linear", "lo": 0, "hi": 10}, "max_age_days": 180}})  # fmt: skip
    assert retention_s(long_nps) == 180 * 86_400
    account = _account(make_login(at=at_day(NEWEST_DAY)), model=long_nps)
    _step(account, make_nps(at=at_day(NEWEST_DAY - 170), score=3), long_nps)  # it still counts
    assert _stored(account).nps == (3, int(at_day(NEWEST_DAY - 170).timestamp()))
    with pytest.raises(TooOldError, match="more than 180 days"):
        _step(account, make_nps(at=at_day(NEWEST_DAY - 181)), long_nps)


def test_an_event_at_the_retention_boundary_is_applied_and_one_second_older_refused() -> None:
    account = _account(make_login(at=at_day(NEWEST_DAY)))
    boundary = at_day(NEWEST_DAY) - RETENTION
    applied = make_ticket(at=boundary)
    _step(account, applied)
    assert _stored(account).tickets.open != ()  # applied, in the bucket of its day

    before = _stored(account)
    with pytest.raises(TooOldError, match="more than 90 days before the newest event"):
        _step(account, make_ticket(at=boundary - timedelta(seconds=1)))
    assert _stored(account) == before  # nothing changed, not even the ids remembered


@pytest.mark.parametrize(
    "old",
    [
        make_ticket(at=at_day(NEWEST_DAY - 91)),  # would count as open now
        make_payment_failed(at=at_day(NEWEST_DAY - 120)),  # would be unpaid for 120 days
        make_login(at=at_day(NEWEST_DAY - 365)),
    ],
    ids=["ticket", "payment_failed", "login"],
)
def test_events_older_than_the_retention_are_refused_and_decide_nothing(old: DomainEvent) -> None:
    account = _account(make_login(at=at_day(NEWEST_DAY)))
    before = _stored(account)
    with pytest.raises(TooOldError):
        _step(account, old)
    assert _stored(account) == before
    assert account.dunning is None


def test_a_profile_is_kept_by_event_time_whatever_its_age() -> None:
    """The newest profile a compacted topic holds may be years old."""
    account = _account(make_login(at=at_day(NEWEST_DAY)))
    _step(account, make_profile(at=at_day(NEWEST_DAY - 400), segment="enterprise"))
    profile = _stored(account).profile
    assert profile is not None and profile.segment == "enterprise"
    _step(account, make_profile(at=at_day(NEWEST_DAY - 500), segment="mid_market"))
    profile = _stored(account).profile
    assert profile is not None and profile.segment == "enterprise"  # the newer one is kept


def test_a_new_account_takes_history_of_any_age() -> None:
    """Retention counts back from the account's own newest event: a backfill
    of an account not seen before, in time order, is all applied."""
    account = _account()
    for day in range(0, NEWEST_DAY, 30):
        _step(account, make_login(at=at_day(day)))
    assert _stored(account).last_activity_s == int(at_day(180).timestamp())


def test_an_old_event_never_moves_an_accounts_recency_forward() -> None:
    newest = at_day(NEWEST_DAY)
    account = _account(make_login(at=newest))
    last = _stored(account).last_activity_s
    _step(account, make_login(at=newest - timedelta(days=30)))  # late, within retention
    assert _stored(account).last_activity_s == last
    with pytest.raises(TooOldError):
        _step(account, make_login(at=newest - timedelta(days=100)))
    assert _stored(account).last_activity_s == last

    # An account whose newest event is a payment has no activity yet: a login
    # older than its retention does not give it one.
    paying = _account(make_payment_failed(at=newest))
    with pytest.raises(TooOldError):
        _step(paying, make_login(at=newest - timedelta(days=100)))
    assert _stored(paying).last_activity_s is None


def test_a_late_event_within_retention_is_applied_at_its_own_time() -> None:
    """It lands in the bucket of its own day, not the clock's."""
    newest = at_day(NEWEST_DAY)
    account = _account(make_login(at=newest))
    late = newest - timedelta(days=10)
    _step(account, make_ticket(at=late, kind="ticket_opened"))
    opened = _stored(account).tickets.opened
    assert [day for day, _ in opened] == [int(late.timestamp()) // 86_400]


def test_a_late_login_fires_inactivity_only_for_an_account_with_no_usage_before_it() -> None:
    newest = at_day(NEWEST_DAY)
    silent = _account(make_login(at=newest - timedelta(days=60)))
    assert "inactivity" in _step(silent, make_payment_failed(at=newest))  # silent 60 days
    assert _step(silent, make_login(at=newest - timedelta(days=70))) == []  # an older login

    paying = _account(make_payment_failed(at=newest))
    assert _step(paying, make_login(at=newest - timedelta(days=50))) == ["inactivity"]
