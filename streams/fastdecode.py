"""Bytes -> domain event without pydantic, for the inputs it is sure about.

Decoding is a tenth of the worker's CPU, and most of that was pydantic building
a model (plus a Python ``AfterValidator`` per timestamp) that ``to_domain`` then
copied into a dataclass. Here one ``orjson.loads`` and one table of hand checks
per event type build the dataclass directly.

The pydantic models in ``schemas/`` stay the single source of truth. This path
may *decline* (return ``None``) any input, valid or not, and the caller then
runs the pydantic path, which accepts it or builds the full reject reason. It
must never accept what pydantic rejects, nor build a different event; so every
check below is at least as strict as the model's, and anything unusual (a
``bool`` where an ``int`` goes, a timestamp shape other than the plain RFC 3339
one, non-ASCII in an email, duplicate-prone JSON that orjson rejects) declines.
``tests/unit/streams/test_fastdecode.py`` checks that differentially.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from schemas import topics
from schemas.common import MAX_EVENT_BYTES
from schemas.inputs import decode_any, decode_event
from streams.convert import to_domain
from streams.domain.events import (
    AccountProfile,
    BillingEvent,
    DomainEvent,
    FeedbackEvent,
    TicketEvent,
    UsageEvent,
)

__all__ = ["decode_domain", "fast_decode"]

#: A check returns the value to store, or ``_NO`` to decline.
Check = Callable[[Any], Any]
_NO: Final = object()

#: The one timestamp shape both pydantic (speedate) and ``datetime.fromisoformat``
#: read identically: ``T``, 1-6 fraction digits, ``Z`` or ``±HH:MM`` in range.
#: Everything else speedate accepts (``t``, space, ``+0530``, unix seconds, 7+
#: digits, ``,``) declines. ``fromisoformat`` still rejects bad days (02-30).
_TIMESTAMP: Final = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
#: pydantic's ``^[A-Z]{3}$`` (Rust regex: ``$`` is end of text only).
_CURRENCY: Final = re.compile(r"[A-Z]{3}")
#: pydantic's email pattern restricted to printable ASCII, where Python's and
#: Rust's ``\s`` agree (they differ on a few control and Unicode characters).
_EMAIL: Final = re.compile(r"[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+")


def _timestamp(value: Any) -> Any:
    if type(value) is not str or _TIMESTAMP.fullmatch(value) is None:
        return _NO
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):  # a bad day, or near year 1/9999: pydantic decides
        return _NO


def _text(min_length: int = 0, max_length: int = 256) -> Check:
    def check(value: Any) -> Any:
        ok = type(value) is str and min_length <= len(value) <= max_length
        return value if ok else _NO

    return check


def _matching(pattern: re.Pattern[str], max_length: int) -> Check:
    def check(value: Any) -> Any:
        ok = type(value) is str and len(value) <= max_length and pattern.fullmatch(value)
        return value if ok else _NO

    return check


def _integer(ge: int | None = None, le: int | None = None) -> Check:
    def check(value: Any) -> Any:
        if type(value) is not int:  # excludes bool and 3.0, as strict pydantic does
            return _NO
        if (ge is not None and value < ge) or (le is not None and value > le):
            return _NO
        return value

    return check


def _one_of(*allowed: str) -> Check:
    options = frozenset(allowed)
    return lambda value: value if type(value) is str and value in options else _NO


def _nullable(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


IDENT: Final = _text(1, 128)
SHORT: Final = _text(0, 256)
CENTS: Final = _integer(ge=0)
CURRENCY: Final = _matching(_CURRENCY, 3)
PRIORITY: Final = _one_of("low", "normal", "high", "urgent")
SEGMENT: Final = _one_of("free", "smb", "mid_market", "enterprise")

#: JSON key -> (domain attribute or None to validate and drop, check).
Fields = dict[str, tuple[str | None, Check]]
_BASE: Final[Fields] = {"id": ("id", IDENT), "account_id": ("account_id", IDENT)}
_TIME: Final[Fields] = {"time": ("at", _timestamp)}
_PAYMENT: Final[Fields] = {
    "invoice_id": ("invoice_id", IDENT),
    "amount_cents": ("amount_cents", CENTS),
    "currency": ("currency", CURRENCY),
}
_OPTIONAL_PAYMENT: Final[Fields] = {k: (a, _nullable(c)) for k, (a, c) in _PAYMENT.items()}


@dataclass(frozen=True, slots=True)
class _Spec:
    """How one event ``type`` is checked and built. ``optional`` keys may be
    absent (the dataclass default then equals the model's default; a test
    checks it); ``kind`` is passed as ``kind=`` unless the class has none."""

    build: Callable[..., DomainEvent]
    kind: str | None
    required: Fields
    optional: Fields

    @property
    def fields(self) -> Fields:
        return {**self.required, **self.optional}


def _spec(
    build: Callable[..., DomainEvent],
    kind: str | None,
    required: Fields | None = None,
    optional: Fields | None = None,
) -> _Spec:
    return _Spec(build, kind, {**_BASE, **_TIME, **(required or {})}, optional or {})


_USER: Final[Fields] = {"user_id": ("user_id", _nullable(IDENT))}
_PRIORITY: Final[Fields] = {"priority": ("priority", PRIORITY)}
_TICKET: Final[Fields] = {"ticket_id": ("ticket_id", IDENT)}
_COMMENT: Final[Fields] = {"comment": ("comment", _nullable(_text(0, 4096)))}
_FEEDBACK_OPTIONAL: Final[Fields] = {**_COMMENT, "user_id": (None, _nullable(IDENT))}

#: Event ``type`` -> its spec; mirrors schemas/{usage,tickets,billing,feedback,accounts}.py.
SPECS: Final[dict[str, _Spec]] = {
    "login": _spec(UsageEvent, "login", optional=_USER),
    "feature_used": _spec(
        UsageEvent,
        "feature_used",
        {"feature": ("feature", _text(1, 256))},
        {**_USER, "quantity": ("quantity", _nullable(_integer(ge=0)))},
    ),
    "records_changed": _spec(
        UsageEvent, "records_changed", {"quantity": ("quantity", _integer())}, _USER
    ),
    "seats_changed": _spec(
        UsageEvent, "seats_changed", {"quantity": ("quantity", _integer(ge=0))}, _USER
    ),
    "ticket_opened": _spec(TicketEvent, "ticket_opened", _TICKET, _PRIORITY),
    "ticket_updated": _spec(TicketEvent, "ticket_updated", _TICKET, _PRIORITY),
    "ticket_reopened": _spec(TicketEvent, "ticket_reopened", _TICKET, _PRIORITY),
    "ticket_solved": _spec(
        TicketEvent,
        "ticket_solved",
        _TICKET,
        {**_PRIORITY, "csat": ("csat", _nullable(_integer(ge=1, le=5)))},
    ),
    "payment_failed": _spec(
        BillingEvent,
        "payment_failed",
        {**_PAYMENT, "decline_code": ("decline_code", _text(1, 64))},
    ),
    "payment_succeeded": _spec(BillingEvent, "payment_succeeded", _PAYMENT),
    "card_expiring": _spec(
        BillingEvent, "card_expiring", {"card_expires_at": ("card_expires_at", _timestamp)}
    ),
    "renewal_scheduled": _spec(
        BillingEvent,
        "renewal_scheduled",
        {"renewal_at": ("renewal_at", _timestamp)},
        _OPTIONAL_PAYMENT,
    ),
    "subscription_canceled": _spec(
        BillingEvent,
        "subscription_canceled",
        optional={"reason": ("reason", _nullable(SHORT)), **_OPTIONAL_PAYMENT},
    ),
    "nps_response": _spec(
        FeedbackEvent, "nps_response", {"score": ("score", _integer(0, 10))}, _FEEDBACK_OPTIONAL
    ),
    "csat_response": _spec(
        FeedbackEvent, "csat_response", {"score": ("score", _integer(1, 5))}, _FEEDBACK_OPTIONAL
    ),
    "account_upserted": _spec(
        AccountProfile,
        None,
        {"name": ("name", _text(1, 256)), "segment": ("segment", SEGMENT)},
        {
            "arr_cents": ("arr_cents", CENTS),
            "owner": ("owner", _nullable(_matching(_EMAIL, 254))),
            "industry": ("industry", _nullable(SHORT)),
            "plan": ("plan", _nullable(SHORT)),
            "renewal_at": ("renewal_at", _nullable(_timestamp)),
            "created_at": ("created_at", _nullable(_timestamp)),
        },
    ),
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """A spec flattened for the loop: key sets and one lookup per key."""

    spec: _Spec
    required: frozenset[str]
    allowed: frozenset[str]
    fields: Fields


def _plans(types: list[str]) -> dict[str, _Plan]:
    out = {}
    for kind in types:
        spec = SPECS[kind]
        required = frozenset({"type", *spec.required})
        out[kind] = _Plan(spec, required, required | spec.optional.keys(), spec.fields)
    return out


#: Topic (or None: any input topic, as ``decode_any``) -> event type -> plan.
_PLANS: Final[dict[str | None, dict[str, _Plan]]] = {
    topic: _plans([k for k, t in topics.TYPE_TO_TOPIC.items() if t == topic])
    for topic in topics.INPUT_TOPICS
}
_PLANS[None] = _plans(list(topics.TYPE_TO_TOPIC))


def fast_decode(topic: str | None, raw: bytes) -> DomainEvent | None:
    """The domain event pydantic would accept ``raw`` as, or ``None`` to defer.

    ``topic=None`` decodes as ``decode_any`` does (topic from ``type``). Never
    raises on any input; ``None`` says nothing about validity.
    """
    plans = _PLANS.get(topic)
    if plans is None or len(raw) > MAX_EVENT_BYTES:
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict:
        return None
    kind = obj.get("type")
    plan = plans.get(kind) if type(kind) is str else None
    if plan is None:
        return None
    keys = obj.keys()
    if not (plan.required <= keys and keys <= plan.allowed):
        return None
    values: dict[str, Any] = {}
    fields = plan.fields
    for key, value in obj.items():
        if key == "type":
            continue
        attr, check = fields[key]
        out = check(value)
        if out is _NO:
            return None
        if attr is not None:
            values[attr] = out
    if plan.spec.kind is not None:
        values["kind"] = kind
    return plan.spec.build(**values)


def decode_domain(topic: str | None, raw: bytes) -> DomainEvent:
    """Bytes -> domain event, fast when possible, else through pydantic.

    Raises ``InvalidEventError`` exactly when ``decode_event`` (or, for
    ``topic=None``, ``decode_any``) does, with its reason.
    """
    event = fast_decode(topic, raw)
    if event is not None:
        return event
    model = decode_any(raw) if topic is None else decode_event(topic, raw)
    return to_domain(model)
