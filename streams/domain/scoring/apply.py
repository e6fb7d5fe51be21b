"""Folding one input event into the account state (no dedupe, no scoring).

Each ``apply_*`` function takes the one part of the state an event touches and
returns the new part; ``StateDraft.apply`` also says which *scored* inputs
changed, as a mask of dimensions. That lets a step skip rescoring when an
event only repeated what the state already knew (the second login of a day, a
seat count), which is most of the traffic of a busy account, and rescore only
the dimensions an event can move otherwise.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from streams.domain.events import (
    AccountProfile,
    BillingEvent,
    DomainEvent,
    FeedbackEvent,
    TicketEvent,
    UsageEvent,
)
from streams.domain.scoring.lifecycle import LifecycleDecision, churn_kind, decision
from streams.domain.scoring.masks import (
    DIM_ALL,
    DIM_NPS,
    DIM_PAYMENT_STATUS,
    DIM_RECENCY,
    DIM_SUPPORT_LOAD,
)
from streams.domain.scoring.series import add
from streams.domain.scoring.state import (
    CSAT_KEEP,
    ID_DIGEST_BYTES,
    OPEN_FAILURE_CAP,
    OPEN_TICKET_CAP,
    RECENT_IDS,
    AccountState,
    BillingView,
    Churn,
    Profile,
    TicketState,
)
from streams.domain.scoring.touchpoints import TouchpointDecision
from streams.domain.scoring.usage import apply_usage
from streams.domain.scoring.windows import DAY_SECONDS, day_index

_RECENT_BYTES = RECENT_IDS * ID_DIGEST_BYTES


def id_digest(event_id: str) -> bytes:
    """The 6-byte digest remembered for duplicate detection (stable across processes)."""
    return hashlib.blake2b(event_id.encode(), digest_size=ID_DIGEST_BYTES).digest()


def epoch_seconds(event: DomainEvent) -> int:
    """Event time as UTC epoch seconds, the unit the state stores."""
    return int(event.at.timestamp())


def apply_event(state: AccountState, event: DomainEvent) -> AccountState:
    """Apply one event to ``state`` (pure). Records its id digest and the
    account watermark; does not drop duplicates or score - the domain's step
    (``streams.domain.account.step_event``) does both."""
    draft = StateDraft(state)
    draft.apply(event, epoch_seconds(event))
    draft.remember(id_digest(event.id))
    return draft.freeze()


class StateDraft:
    """A mutable working copy of one account's state.

    The domain's ``Account`` keeps one for as long as its partition is owned
    and freezes it only when the record is persisted, so a step neither
    copies an 11-field frozen dataclass nor copies the duplicate-id buffer.
    The parts it holds (usage, tickets, ...) are still immutable; only the
    holder and ``recent`` are mutable, and neither is shared. It also carries
    the per-dimension score cache of ``rescore`` (not persisted: rebuilt on
    the first step after a restore).
    """

    __slots__ = (
        "account_id", "alerts", "as_of_s", "billing", "churn", "dim_day", "dim_model",
        "dim_raws", "dim_scores", "feature_window", "last_activity_s", "last_score",
        "lifecycle_out", "nps", "profile", "recent", "tickets", "touchpoints", "usage",
        "watermark_s",
    )  # fmt: skip

    def __init__(self, state: AccountState, feature_window: int = 1) -> None:
        self.feature_window = feature_window
        self.account_id = state.account_id
        self.profile = state.profile
        self.usage = state.usage
        self.tickets = state.tickets
        self.billing = state.billing
        self.nps = state.nps
        self.last_activity_s = state.last_activity_s
        self.watermark_s = state.watermark_s
        self.as_of_s = state.as_of_s
        self.last_score = state.last_score
        self.alerts = state.alerts
        self.churn = state.churn
        self.touchpoints = state.touchpoints
        #: Lifecycle changes and touchpoints of the current step, for the
        #: caller to emit (not stored).
        self.lifecycle_out: tuple[LifecycleDecision | TouchpointDecision, ...] = ()
        #: The remembered digests packed end to end, oldest first: one buffer
        #: of ~200 bytes instead of a list, a dict and 32 bytes objects
        #: (~3.5 KB), because every owned account keeps its draft in memory.
        self.recent = bytearray(state.recent_ids)
        self.dim_day: int | None = None
        self.dim_model: object = None
        self.dim_raws: list[float | None] = []
        self.dim_scores: list[int] = []

    def is_duplicate(self, digest: bytes) -> bool:
        """Whether this input id digest was applied recently: a match in the
        packed buffer counts only where a digest starts (``digest`` is
        ``ID_DIGEST_BYTES`` long), not across two neighbours."""
        recent = self.recent
        i = recent.find(digest)
        while i > 0 and i % ID_DIGEST_BYTES:
            i = recent.find(digest, i + 1)
        return i >= 0

    def remember(self, digest: bytes) -> None:
        """Record an applied input id (the oldest beyond ``RECENT_IDS`` is forgotten)."""
        recent = self.recent
        recent += digest
        excess = len(recent) - _RECENT_BYTES
        if excess > 0:
            del recent[:excess]

    def apply(self, event: DomainEvent, at_s: int) -> int:
        """Fold ``event`` in; returns the mask of scored dimensions it changed
        (0: nothing the score reads moved)."""
        if self.watermark_s is None or at_s > self.watermark_s:
            self.watermark_s = at_s
        kind = type(event)
        if kind is UsageEvent:
            return self._apply_usage(event, at_s)  # type: ignore[arg-type]
        if kind is TicketEvent:
            self.tickets = apply_ticket(self.tickets, event, at_s)  # type: ignore[arg-type]
            return DIM_SUPPORT_LOAD
        if kind is BillingEvent:
            return self._apply_billing(event, at_s)  # type: ignore[arg-type]
        if kind is FeedbackEvent:
            self.nps, self.tickets = apply_feedback(self.nps, self.tickets, event, at_s)  # type: ignore[arg-type]
            return DIM_NPS if event.kind == "nps_response" else DIM_SUPPORT_LOAD  # type: ignore[union-attr]
        if kind is AccountProfile:
            profile = apply_profile(self.profile, event, at_s)  # type: ignore[arg-type]
            changed = profile is not self.profile
            self.profile = profile
            if changed:
                self._renewal(event.renewal_at)  # type: ignore[union-attr]
            if self.churn is not None and at_s > self.churn.at_s:
                self._reactivate(at_s)
            return DIM_ALL if changed else 0
        raise TypeError(f"not a domain event: {kind.__name__}")

    def _renewal(self, renewal_at: datetime | None) -> None:
        """Remember the renewal date the renewal touchpoint is for."""
        if renewal_at is not None:
            renewal_s = int(renewal_at.timestamp())
            if renewal_s != self.touchpoints.renewal_s:
                self.touchpoints = replace(self.touchpoints, renewal_s=renewal_s)

    def _apply_usage(self, usage_event: UsageEvent, at_s: int) -> int:
        recency = 0
        if usage_event.kind != "seats_changed":
            last = self.last_activity_s
            if last is None or at_s > last:
                if last is None or at_s // DAY_SECONDS != last // DAY_SECONDS:
                    recency = DIM_RECENCY
                self.last_activity_s = at_s
            if self.churn is not None and at_s > self.churn.at_s:
                self._reactivate(at_s)
        elif self.touchpoints.seats_base is None and usage_event.quantity:
            # Expansion is measured from the first seat count we learn.
            self.touchpoints = replace(self.touchpoints, seats_base=usage_event.quantity)
        self.usage, mask = apply_usage(self.usage, usage_event, at_s, self.feature_window)
        return mask | recency

    def _apply_billing(self, billing_event: BillingEvent, at_s: int) -> int:
        if billing_event.kind == "subscription_canceled":
            self._cancel(billing_event, at_s)
        elif (
            billing_event.kind == "payment_succeeded"
            and self.churn is not None
            and at_s > self.churn.at_s
        ):
            self._reactivate(at_s)
        elif billing_event.kind == "renewal_scheduled":
            self._renewal(billing_event.renewal_at)
        self.billing = apply_billing(self.billing, billing_event, at_s)
        return DIM_PAYMENT_STATUS

    def _cancel(self, event: BillingEvent, at_s: int) -> None:
        """Churn the account (once: a repeated cancellation changes nothing)."""
        if self.churn is not None:
            return
        memo = self.last_score
        kind = churn_kind(event.reason, len(self.billing.open_failures))
        self.churn = Churn(at_s, event.reason, kind, memo.score_t if memo else -1)
        out = decision(self.account_id, "churned", self.churn, at_s, self.profile)
        self.lifecycle_out = (*self.lifecycle_out, out)

    def _reactivate(self, at_s: int) -> None:
        churn = self.churn
        assert churn is not None
        self.churn = None
        out = decision(self.account_id, "reactivated", churn, at_s, self.profile)
        self.lifecycle_out = (*self.lifecycle_out, out)

    def freeze(self) -> AccountState:
        """The immutable state this draft now describes."""
        return AccountState(
            account_id=self.account_id,
            profile=self.profile,
            usage=self.usage,
            tickets=self.tickets,
            billing=self.billing,
            nps=self.nps,
            last_activity_s=self.last_activity_s,
            watermark_s=self.watermark_s,
            as_of_s=self.as_of_s,
            last_score=self.last_score,
            alerts=self.alerts,
            recent_ids=bytes(self.recent),
            churn=self.churn,
            touchpoints=self.touchpoints,
        )


def apply_ticket(tickets: TicketState, event: TicketEvent, at_s: int) -> TicketState:
    """Track open tickets by id (with their latest priority) and daily counts."""
    day = day_index(at_s)
    others = tuple(t for t in tickets.open if t[0] != event.ticket_id)
    opened, reopened, csat = tickets.opened, tickets.reopened, tickets.csat
    if event.kind == "ticket_solved":
        open_now = others
        if event.csat is not None:
            csat = (*csat, (day, event.csat))[-CSAT_KEEP:]
    elif event.kind == "ticket_updated" and len(others) == len(tickets.open):
        open_now = tickets.open  # an update of a ticket we do not hold open changes nothing
    else:
        open_now = (*others, (event.ticket_id, event.priority))[-OPEN_TICKET_CAP:]
        if event.kind == "ticket_opened" and len(others) == len(tickets.open):
            opened = add(opened, day, 1)
        elif event.kind == "ticket_reopened":
            reopened = add(reopened, day, 1)
    return TicketState(True, open_now, opened, reopened, csat)


def apply_billing(billing: BillingView, event: BillingEvent, at_s: int) -> BillingView:
    """Open a failure per invoice (first failure time kept across retries); close
    it on success; close all on cancellation (dunning is over, not unpaid)."""
    failures = billing.open_failures
    invoice = event.invoice_id or ""
    if event.kind == "payment_failed":
        if not any(f[0] == invoice for f in failures):
            failure = (invoice, at_s, event.amount_cents or 0)
            failures = (*failures, failure)[-OPEN_FAILURE_CAP:]
    elif event.kind == "payment_succeeded":
        failures = tuple(f for f in failures if f[0] != invoice)
    elif event.kind == "subscription_canceled":
        failures = ()
    return BillingView(seen=True, open_failures=failures)


def apply_feedback(
    nps: tuple[int, int] | None, tickets: TicketState, event: FeedbackEvent, at_s: int
) -> tuple[tuple[int, int] | None, TicketState]:
    """Latest NPS wins by event time; CSAT answers join the ticket CSATs (and
    count as support data: a survey answer means there was a support contact)."""
    if event.kind == "nps_response":
        if nps is None or at_s >= nps[1]:
            return (event.score, at_s), tickets
        return nps, tickets
    csat = (*tickets.csat, (day_index(at_s), event.score))[-CSAT_KEEP:]
    return nps, TicketState(True, tickets.open, tickets.opened, tickets.reopened, csat)


def apply_profile(profile: Profile | None, event: AccountProfile, at_s: int) -> Profile | None:
    """Latest profile by event time (the topic is compacted; late copies lose)."""
    if profile is not None and at_s < profile.at_s:
        return profile
    created = event.created_at
    return Profile(
        event.name, event.segment, event.owner, event.arr_cents, at_s, event.plan,
        event.industry, None if created is None else int(created.timestamp()),
    )  # fmt: skip
