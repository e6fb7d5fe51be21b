"""Which subscriptions want an event: one pure predicate.

Empty filter lists mean "any" (except for opt-in types such as band changes,
which only a type filter naming them receives); all given filters must hold
(AND). A type filter is an exact CloudEvent type or a prefix at a dot boundary
(``io.healthscore.alert.``, ``io.healthscore.alert`` or ``io.healthscore.alert.*``),
so a CSM can subscribe to "all alerts" without listing each alert type, and a
new alert type reaches them.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from schemas.health import HEALTH_CHANGED
from services.notifier.model import NewDelivery, RoutableEvent, Subscription, delivery_id_for
from services.notifier.relevance import DEFAULT_BANDS, is_deliverable
from streams.domain.scoring.model import BandThresholds

#: Types a subscription gets only by naming them (or a prefix of them): band
#: changes are for CRM sync, and a channel subscribed to "everything" before
#: they were delivered should not start receiving them unasked.
OPT_IN_TYPES = frozenset({HEALTH_CHANGED})


def is_type_match(pattern: str, event_type: str) -> bool:
    if pattern.endswith(".*"):
        pattern = pattern[:-1]
    if pattern.endswith("."):
        return event_type.startswith(pattern)
    return event_type == pattern or event_type.startswith(pattern + ".")


def matches(subscription: Subscription, event: RoutableEvent) -> bool:
    if not subscription.active:
        return False
    f = subscription.filters
    if not f.types and event.type in OPT_IN_TYPES:
        return False
    if f.types and not any(is_type_match(p, event.type) for p in f.types):
        return False
    if f.segments and event.segment not in f.segments:
        return False
    if f.owners:
        owner = (event.owner or "").casefold()
        if owner not in {o.casefold() for o in f.owners}:
            return False
    return f.min_arr_cents is None or (
        event.arr_cents is not None and event.arr_cents >= f.min_arr_cents
    )


def plan_deliveries(
    raw_event: bytes,
    subscriptions: Iterable[Subscription],
    bands: BandThresholds = DEFAULT_BANDS,
) -> list[NewDelivery]:
    """One delivery per matching subscription (none for a score change that kept
    its band); raises ``ValueError`` when the message is not a routable CloudEvent."""
    parsed = orjson.loads(raw_event)
    if not isinstance(parsed, dict):
        raise ValueError("not a JSON object")
    event = RoutableEvent.from_cloudevent(parsed)
    if not is_deliverable(parsed, bands):
        return []
    return [
        NewDelivery(delivery_id_for(event.id, sub.id), sub.id, raw_event, event.type)
        for sub in subscriptions
        if matches(sub, event)
    ]
