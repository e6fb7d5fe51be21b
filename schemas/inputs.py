"""Decoding input messages: one compiled validator per topic.

``TypeAdapter.validate_json`` parses and validates in one pass in Rust, the
cheapest exact method there is; only a reject pays for building the readable
reason. Callers get either a model or an ``InvalidEventError``, never a
pydantic exception, so the dead-letter path does not depend on pydantic.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, get_args

import orjson
from pydantic import Field, TypeAdapter, ValidationError

from schemas import topics
from schemas.accounts import AccountEvent, AccountUpserted
from schemas.billing import (
    BillingEvent,
    CardExpiring,
    PaymentFailed,
    PaymentSucceeded,
    RenewalScheduled,
    SubscriptionCanceled,
)
from schemas.common import MAX_EVENT_BYTES, InputEvent
from schemas.errors import InvalidEventError
from schemas.feedback import CsatResponse, FeedbackEvent, NpsResponse
from schemas.tickets import TicketEvent, TicketOpened, TicketReopened, TicketSolved, TicketUpdated
from schemas.topics import TYPE_TO_TOPIC
from schemas.usage import FeatureUsed, Login, RecordsChanged, SeatsChanged, UsageEvent

#: Input topic -> the event models it carries.
TOPIC_MODELS: Final[dict[str, tuple[type[InputEvent], ...]]] = {
    topics.USAGE: (Login, FeatureUsed, RecordsChanged, SeatsChanged),
    topics.TICKETS: (TicketOpened, TicketUpdated, TicketSolved, TicketReopened),
    topics.BILLING: (
        PaymentFailed,
        PaymentSucceeded,
        CardExpiring,
        RenewalScheduled,
        SubscriptionCanceled,
    ),
    topics.FEEDBACK: (NpsResponse, CsatResponse),
    topics.ACCOUNTS: (AccountUpserted,),
}


def model_types() -> dict[str, str]:
    """Event ``type`` -> topic as the models define it (checked against
    ``schemas.topics.TYPE_TO_TOPIC``, the dependency-free copy)."""
    return {
        get_args(model.model_fields["type"].annotation)[0]: topic
        for topic, models in TOPIC_MODELS.items()
        for model in models
    }


INPUT_ADAPTERS: Final[dict[str, TypeAdapter[Any]]] = {
    topics.USAGE: TypeAdapter(UsageEvent),
    topics.TICKETS: TypeAdapter(TicketEvent),
    topics.BILLING: TypeAdapter(BillingEvent),
    topics.FEEDBACK: TypeAdapter(FeedbackEvent),
    topics.ACCOUNTS: TypeAdapter(AccountEvent),
}

AnyInputEvent = Annotated[
    UsageEvent | TicketEvent | BillingEvent | FeedbackEvent | AccountUpserted,
    Field(discriminator="type"),
]
_ANY_ADAPTER: Final[TypeAdapter[Any]] = TypeAdapter(AnyInputEvent)


def decode_event(topic: str, raw: bytes) -> InputEvent:
    """Parse and validate one message from an input topic."""
    adapter = INPUT_ADAPTERS.get(topic)
    if adapter is None:
        raise InvalidEventError(f"{topic!r} is not an input topic", kind="wrong_topic")
    _check_size(raw)
    try:
        event: InputEvent = adapter.validate_json(raw)
    except ValidationError as exc:
        raise _invalid(exc, topic) from None
    return event


def decode_any(raw: bytes | str) -> InputEvent:
    """Validate one event whose topic follows from its ``type`` (HTTP, files)."""
    _check_size(raw)
    try:
        event: InputEvent = _ANY_ADAPTER.validate_json(raw)
    except ValidationError as exc:
        raise _invalid(exc, None) from None
    return event


def validate_python(obj: Any) -> InputEvent:
    """Validate an already-parsed JSON value (an item of an HTTP batch).

    Uses JSON-mode strictness rules, so a timestamp string is accepted exactly
    as it is on Kafka and nothing else is.
    """
    try:
        event: InputEvent = _ANY_ADAPTER.validate_json(orjson.dumps(obj))
    except ValidationError as exc:
        raise _invalid(exc, None) from None
    return event


def topic_of(event: InputEvent) -> str:
    return TYPE_TO_TOPIC[event.type]  # type: ignore[attr-defined]


def _check_size(raw: bytes | str) -> None:
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEventError(
            f"message is {len(raw)} bytes, over the {MAX_EVENT_BYTES}-byte limit",
            kind="too_large",
        )


def _invalid(exc: ValidationError, topic: str | None) -> InvalidEventError:
    described = [_describe(err, topic) for err in exc.errors(include_url=False)]
    # A wrong type makes every other complaint noise: report just that.
    unknown = [d for d in described if d[0] == "unknown_type"]
    shown = unknown or described
    errors = [text for _, text in described]
    return InvalidEventError("; ".join(t for _, t in shown[:5]), errors, kind=shown[0][0])


def _describe(err: Any, topic: str | None) -> tuple[str, str]:
    """(metric-safe kind, readable text) for one pydantic error."""
    kind = err["type"]
    if kind == "json_invalid":
        return "not_json", f"not valid JSON: {err['ctx'].get('error', err['msg'])}"
    if kind in ("union_tag_invalid", "literal_error") and err["loc"][-1:] in (("type",), ()):
        expected = sorted(t for t, tt in TYPE_TO_TOPIC.items() if topic is None or tt == topic)
        where = f" on {topic}" if topic else ""
        got = err["ctx"].get("tag", err.get("input"))
        return "unknown_type", f"unknown type {got!r}{where} (expected: {', '.join(expected)})"
    if kind == "union_tag_not_found":
        return "missing_field", "type: field required"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "not_object", "event must be a JSON object"
    # Discriminated unions put the tag first in the location; drop it for readability.
    loc = [str(part) for part in err["loc"] if str(part) not in TYPE_TO_TOPIC]
    field = ".".join(loc) or "event"
    if kind == "missing":
        return "missing_field", f"{field}: field required"
    if kind == "extra_forbidden":
        return "unknown_field", f"{field}: unknown field"
    return "invalid_value", f"{field}: {err['msg']}"
