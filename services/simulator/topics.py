"""Which input topic an event ``type`` belongs to.

A JSON Lines file carries no topic, only each event's ``type``, so a reader
(``healthscore replay --from-file``) routes by this table. It belongs with the
contract in ``schemas/``; it lives here until the lead moves it there.
"""

from __future__ import annotations

from typing import Final

from schemas import topics

TOPIC_BY_TYPE: Final[dict[str, str]] = {
    **dict.fromkeys(("login", "feature_used", "records_changed", "seats_changed"), topics.USAGE),
    **dict.fromkeys(
        ("ticket_opened", "ticket_updated", "ticket_solved", "ticket_reopened"), topics.TICKETS
    ),
    **dict.fromkeys(
        (
            "payment_failed",
            "payment_succeeded",
            "card_expiring",
            "renewal_scheduled",
            "subscription_canceled",
        ),
        topics.BILLING,
    ),
    **dict.fromkeys(("nps_response", "csat_response"), topics.FEEDBACK),
    "account_upserted": topics.ACCOUNTS,
}


def topic_of(event_type: str) -> str:
    """The input topic of ``event_type``; ``KeyError`` for a type not in the contract."""
    return TOPIC_BY_TYPE[event_type]
