"""Reminders before a scheduled renewal (7, 3, 2 days) and before a card expires (30, 7).

Each target date is a ``ReminderTrack``: the date, when we learned it, and which
"days before" reminders are still pending (copied from the policy when the date is
learned, so a track needs no policy to say when it is next due). A track is keyed
by its date, so a reminder is sent at most once per renewal date / card expiry.

Rules, all pure and decided on event time:

- A new date (renewal moved, new card) replaces the track: the old date's pending
  reminders are dropped and never sent; the new date starts with all pending. The same
  date announced again changes nothing. An announcement older than the one the track
  was learned from is stale and ignored.
- **Only the nearest due reminder is sent.** When several reminders of one track are
  due at once (the date was learned late, or the clock jumped), the one closest to
  the target is sent and the earlier ones are dropped without sending: "renewal
  in 7 days" two days before the renewal would be wrong, and two reminders in one
  burst is spam. A reminder learned late is stamped with the moment we learned it.
- Nothing is sent once the target moment itself has passed.
- A card update stops the old card's reminders: ``card_expiring`` (or a
  ``payment_succeeded`` carrying ``card_expires_at``) with another date, or a plain
  ``payment_succeeded`` once the card's first reminder moment has passed (a success
  after the customer was reminded is taken to mean the card was fixed).
- ``subscription_canceled`` stops both tracks.

Unlike the invoice cases (``dunning.py``), where every rung is an action that must
happen even late, reminders are messages whose value expires, hence the collapse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, NamedTuple

from streams.domain.dunning.codec import (
    read_ints,
    read_opt_int,
    read_opt_str,
    read_time,
    to_iso,
)
from streams.domain.dunning.days import days_after
from streams.domain.dunning.decision import DunningDecision, DunningStepName, decision_id
from streams.domain.dunning.policy import DunningPolicy
from streams.domain.events import BillingEvent

TrackKind = Literal["renewal", "card"]


@dataclass(frozen=True, slots=True)
class ReminderTrack:
    """Reminders before one target date; ``pending`` holds the days-before values still
    to handle, largest (earliest) first."""

    target_at: datetime
    known_at: datetime
    pending: tuple[int, ...] = ()
    amount_cents: int | None = None
    currency: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "target": to_iso(self.target_at),
            "known": to_iso(self.known_at),
            "pending": list(self.pending),
            "amount": self.amount_cents,
            "cur": self.currency,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ReminderTrack:
        return cls(
            target_at=read_time(raw, "target"),
            known_at=read_time(raw, "known"),
            pending=read_ints(raw, "pending"),
            amount_cents=read_opt_int(raw, "amount"),
            currency=read_opt_str(raw, "cur"),
        )


@dataclass(frozen=True, slots=True)
class ReminderState:
    """The account's two reminder tracks (None until a date is known)."""

    renewal: ReminderTrack | None = None
    card: ReminderTrack | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "renewal": None if self.renewal is None else self.renewal.to_dict(),
            "card": None if self.card is None else self.card.to_dict(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ReminderState:
        renewal, card = raw.get("renewal"), raw.get("card")
        return cls(
            renewal=None if renewal is None else ReminderTrack.from_dict(renewal),
            card=None if card is None else ReminderTrack.from_dict(card),
        )


class ReminderStep(NamedTuple):
    reminders: ReminderState
    decisions: tuple[DunningDecision, ...]


def apply_reminder_event(
    state: ReminderState, event: BillingEvent, policy: DunningPolicy
) -> ReminderState:
    """Update the tracks from one billing event. Never emits: a reminder that became due
    by learning its date is sent by the ``fire_reminders`` call that follows the event."""
    if event.kind == "renewal_scheduled" and event.renewal_at is not None:
        renewal = _learn(state.renewal, event.renewal_at, event, policy.renewal_reminder_days)
        return replace(state, renewal=renewal)
    if event.kind == "card_expiring" and event.card_expires_at is not None:
        card = _learn(state.card, event.card_expires_at, event, policy.card_reminder_days)
        return replace(state, card=card)
    if event.kind == "payment_succeeded":
        if event.card_expires_at is not None:
            card = _learn(state.card, event.card_expires_at, event, policy.card_reminder_days)
            return replace(state, card=card)
        if _is_card_sequence_started(state.card, event.at, policy):
            return replace(state, card=_stop(state.card))
        return state
    if event.kind == "subscription_canceled":
        return ReminderState(renewal=_stop(state.renewal), card=_stop(state.card))
    return state


def fire_reminders(
    state: ReminderState, account_id: str, policy: DunningPolicy, clock: datetime
) -> ReminderStep:
    """Send (at most) one reminder per track for everything due at or before ``clock``."""
    renewal, sent_renewal = _fire_track(state.renewal, "renewal", account_id, policy, clock)
    card, sent_card = _fire_track(state.card, "card", account_id, policy, clock)
    decisions = tuple(d for d in (sent_renewal, sent_card) if d is not None)
    return ReminderStep(ReminderState(renewal=renewal, card=card), decisions)


def next_reminder_due(state: ReminderState) -> datetime | None:
    """Earliest pending reminder moment of either track (may already be past)."""
    dues = [_next_due(track) for track in (state.renewal, state.card) if track is not None]
    return min((due for due in dues if due is not None), default=None)


def _learn(
    track: ReminderTrack | None, target_at: datetime, event: BillingEvent, days: tuple[int, ...]
) -> ReminderTrack:
    """Start a track for a new date; keep the old one for the same date or a stale event."""
    if track is not None and (track.target_at == target_at or event.at < track.known_at):
        return track
    return ReminderTrack(
        target_at=target_at,
        known_at=event.at,
        pending=tuple(sorted(set(days), reverse=True)),
        amount_cents=event.amount_cents,
        currency=event.currency,
    )


def _is_card_sequence_started(
    card: ReminderTrack | None, at: datetime, policy: DunningPolicy
) -> bool:
    """A success counts as "card updated" once the first card reminder moment has passed;
    decided on the policy's days and event time, so ticks cannot change the outcome."""
    if card is None or not card.pending or not policy.card_reminder_days:
        return False
    first_due = days_after(card.target_at, -max(policy.card_reminder_days))
    return at >= max(first_due, card.known_at)


def _stop(track: ReminderTrack | None) -> ReminderTrack | None:
    """Drop the pending reminders; the date is kept so that re-announcing the same date
    cannot restart them."""
    return None if track is None else replace(track, pending=())


def _due_times(track: ReminderTrack) -> list[tuple[datetime, int]]:
    """(due time, days before) of the pending reminders, earliest first."""
    return [(days_after(track.target_at, -d), d) for d in track.pending]


def _next_due(track: ReminderTrack) -> datetime | None:
    due = _due_times(track)
    return due[0][0] if due else None


def _fire_track(
    track: ReminderTrack | None,
    kind: TrackKind,
    account_id: str,
    policy: DunningPolicy,
    clock: datetime,
) -> tuple[ReminderTrack | None, DunningDecision | None]:
    """Handle every reminder of the track due by ``clock``; send only the nearest one."""
    if track is None:
        return None, None
    due = [(at, d) for at, d in _due_times(track) if at <= clock]
    if not due:
        return track, None
    track = replace(track, pending=track.pending[len(due) :])
    due_at, nearest = due[-1]
    if clock >= track.target_at:
        return track, None
    sent_at = max(due_at, track.known_at)
    return track, _remind(track, kind, account_id, nearest, sent_at, policy)


def _remind(
    track: ReminderTrack,
    kind: TrackKind,
    account_id: str,
    days_before: int,
    at: datetime,
    policy: DunningPolicy,
) -> DunningDecision:
    """The id is the cause: account, kind of reminder, target date and days before."""
    step: DunningStepName = "renewal_reminder" if kind == "renewal" else "card_expiry_reminder"
    return DunningDecision(
        id=decision_id(account_id, step, track.target_at, days_before),
        account_id=account_id,
        step=step,
        at=at,
        attempt=None,
        next_due_at=_next_due(track),
        amount_cents=track.amount_cents,
        currency=track.currency,
        payment_link=policy.card_link(account_id),
        target_at=track.target_at,
        days_before=days_before,
    )
