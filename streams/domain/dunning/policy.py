"""Dunning configuration: the schedule, the hard-decline list and the reminder days.

A ``DunningPolicy`` is frozen config; its running counterpart is ``DunningState``
(the arroyo ``CommitPolicy`` / ``CommitPolicyState`` pairing). Every day count is
measured from the invoice's *first* failure, so a policy reads like the timeline
a customer sees: notice at once, retries on days 1, 3, 5, 7, grace from day 7,
restricted from day 14, canceled on day 21. Segments get their own policy
(enterprise customers usually get a longer runway) via ``DunningPolicies``.

Invariants are checked where the object is built and raise ``ValueError``, so a
bad model file fails at startup instead of mid-stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from itertools import pairwise
from string import Formatter
from typing import Any
from urllib.parse import quote

#: Decline codes where retrying the same card cannot succeed (the card is gone,
#: blocked or flagged), so the customer is asked for a new card at once. Codes
#: follow Stripe's decline-code vocabulary, which most gateways map onto.
HARD_DECLINE_CODES: frozenset[str] = frozenset(
    {
        "lost_card",
        "stolen_card",
        "fraudulent",
        "expired_card",
        "do_not_honor",
        "pickup_card",
        "restricted_card",
        "invalid_account",
        "card_not_supported",
        "currency_not_supported",
        "incorrect_number",
        "invalid_number",
        "new_account_information_available",
        "no_action_taken",
        "revocation_of_authorization",
        "security_violation",
        "stop_payment_order",
        "transaction_not_allowed",
    }
)

PAYMENT_URL_FIELDS = frozenset({"account_id", "invoice_id"})
CARD_URL_FIELDS = frozenset({"account_id"})


@dataclass(frozen=True, slots=True)
class DunningPolicy:
    """How one segment is dunned. Days count from the first failure of an invoice.

    - ``retry_days``: when the billing system retries a soft decline (strictly increasing).
    - ``grace_start_day`` / ``restrict_day`` / ``cancel_day``: the escalation ladder; a hard
      decline skips the retries but keeps the ladder, so the customer has until the grace
      day to put in a new card before anything is restricted.
    - ``renewal_reminder_days`` / ``card_reminder_days``: days before a renewal / card expiry.
    - ``recover_on_any_success``: a later successful payment for *any* invoice of the
      account closes every open case (the gateway may have re-billed on a new invoice).
    - ``retention_days``: how long a closed case is kept to absorb late events.
    """

    retry_days: tuple[int, ...] = (1, 3, 5, 7)
    grace_start_day: int = 7
    restrict_day: int = 14
    cancel_day: int = 21
    hard_decline_codes: frozenset[str] = HARD_DECLINE_CODES
    renewal_reminder_days: tuple[int, ...] = (7, 3, 2)
    card_reminder_days: tuple[int, ...] = (30, 7)
    recover_on_any_success: bool = False
    payment_url_template: str = "https://billing.example.com/pay/{account_id}/{invoice_id}"
    card_url_template: str = "https://billing.example.com/card/{account_id}"
    retention_days: int = 30

    def __post_init__(self) -> None:
        _check_increasing("retry_days", self.retry_days)
        last_retry = self.retry_days[-1] if self.retry_days else 0
        ladder = (last_retry, self.grace_start_day, self.restrict_day, self.cancel_day)
        if list(ladder) != sorted(ladder) or self.grace_start_day < 0:
            raise ValueError(
                "dunning days must satisfy last retry <= grace_start_day <= restrict_day"
                f" <= cancel_day, got {ladder}"
            )
        for name in ("renewal_reminder_days", "card_reminder_days"):
            days: tuple[int, ...] = getattr(self, name)
            _check_increasing(name, tuple(sorted(days)))
        if self.retention_days < 0:
            raise ValueError("retention_days must be >= 0")
        _check_template("payment_url_template", self.payment_url_template, PAYMENT_URL_FIELDS)
        _check_template("card_url_template", self.card_url_template, CARD_URL_FIELDS)

    def is_hard_decline(self, decline_code: str | None) -> bool:
        """Unknown or missing codes count as soft: a retry costs little, a wrongly
        demanded new card costs a customer's trust."""
        return decline_code is not None and decline_code.lower() in self.hard_decline_codes

    def payment_link(self, account_id: str, invoice_id: str) -> str:
        return self.payment_url_template.format(
            account_id=quote(account_id, safe=""), invoice_id=quote(invoice_id, safe="")
        )

    def card_link(self, account_id: str) -> str:
        return self.card_url_template.format(account_id=quote(account_id, safe=""))


@dataclass(frozen=True, slots=True)
class DunningPolicies:
    """The default policy plus per-segment overrides; the shell picks one per account."""

    default: DunningPolicy = field(default_factory=DunningPolicy)
    segments: tuple[tuple[str, DunningPolicy], ...] = ()

    def for_segment(self, segment: str | None) -> DunningPolicy:
        for name, policy in self.segments:
            if name == segment:
                return policy
        return self.default


def parse_policy(raw: Mapping[str, Any], base: DunningPolicy | None = None) -> DunningPolicy:
    """Build a policy from a YAML/JSON mapping whose keys are the field names.

    Missing keys keep ``base``'s values (the default policy when ``base`` is None), so a
    segment override only lists what differs. Unknown keys are errors: a typo such as
    ``cancel_days`` must not silently keep the default.
    """
    start = base if base is not None else DunningPolicy()
    known = {f.name for f in fields(DunningPolicy)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"unknown dunning policy keys: {unknown}; known: {sorted(known)}")
    changes = {name: _coerce(name, value, getattr(start, name)) for name, value in raw.items()}
    return replace(start, **changes)


def parse_policies(raw: Mapping[str, Any]) -> DunningPolicies:
    """``{"default": {...}, "segments": {"enterprise": {...}}}``; overrides merge onto default."""
    unknown = sorted(set(raw) - {"default", "segments"})
    if unknown:
        raise ValueError(f"unknown dunning section keys: {unknown}")
    default = parse_policy(_mapping("default", raw.get("default", {})))
    segments = _mapping("segments", raw.get("segments", {}))
    overrides = tuple(
        (str(name), parse_policy(_mapping(f"segments.{name}", body), base=default))
        for name, body in sorted(segments.items())
    )
    return DunningPolicies(default=default, segments=overrides)


def _coerce(name: str, value: Any, current: Any) -> Any:
    """Check one value against the type of the field's current value."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        return value
    if isinstance(current, str):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
        return value
    if not isinstance(value, list | tuple | set | frozenset):
        raise ValueError(f"{name} must be a list, got {value!r}")
    if isinstance(current, frozenset):
        if not all(isinstance(item, str) for item in value):
            raise ValueError(f"{name} must be a list of strings, got {value!r}")
        return frozenset(item.lower() for item in value)
    if not all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        raise ValueError(f"{name} must be a list of integers, got {value!r}")
    return tuple(value)


def _mapping(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"dunning {where} must be a mapping, got {value!r}")
    return value


def _check_increasing(name: str, days: tuple[int, ...]) -> None:
    if any(day <= 0 for day in days) or any(a >= b for a, b in pairwise(days)):
        raise ValueError(f"{name} must be positive and strictly increasing, got {days}")


def _check_template(name: str, template: str, allowed: frozenset[str]) -> None:
    """Reject templates that would raise KeyError mid-stream for every decision."""
    try:
        used = {part[1] for part in Formatter().parse(template) if part[1] is not None}
    except ValueError as error:
        raise ValueError(f"{name} is not a valid format string: {error}") from error
    if not used <= allowed:
        raise ValueError(f"{name} may only use {sorted(allowed)}, got {sorted(used)}")
