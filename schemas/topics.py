"""Topic names: the Kafka side of the contract.

Producers in other teams hard-code these names, so they live in one place and
change only with a new version suffix (``.v2``), never in place.
"""

from typing import Final

USAGE: Final = "cs.usage.v1"
TICKETS: Final = "cs.tickets.v1"
BILLING: Final = "cs.billing.v1"
FEEDBACK: Final = "cs.feedback.v1"
ACCOUNTS: Final = "cs.accounts.v1"
HEALTH: Final = "cs.health.v1"
ALERTS: Final = "cs.alerts.v1"
DUNNING: Final = "cs.dunning.v1"
DEADLETTER: Final = "cs.deadletter.v1"
TOUCHPOINTS: Final = "cs.touchpoints.v1"
LIFECYCLE: Final = "cs.lifecycle.v1"
#: The durable home of the API's subscriptions (key = subscription id, compacted,
#: tombstone on delete): Redis holds the working copy, rebuilt from here.
SUBSCRIPTIONS: Final = "cs.subscriptions.v1"

#: Topics producers write; all keyed by account_id with the same partition count
#: so one worker owns every stream of an account without a repartition hop.
INPUT_TOPICS: Final = (USAGE, TICKETS, BILLING, FEEDBACK, ACCOUNTS)
#: Topics the worker writes.
OUTPUT_TOPICS: Final = (HEALTH, ALERTS, DUNNING, DEADLETTER, TOUCHPOINTS, LIFECYCLE)
#: Topics the services own (not the worker's inputs or outputs).
SERVICE_TOPICS: Final = (SUBSCRIPTIONS,)
#: Latest-value topics: only the newest record per key matters.
COMPACTED_TOPICS: Final = frozenset({ACCOUNTS, HEALTH, SUBSCRIPTIONS})
ALL_TOPICS: Final = INPUT_TOPICS + OUTPUT_TOPICS + SERVICE_TOPICS

#: Event ``type`` -> input topic. Types are unique across topics, so an event
#: posted over HTTP or read from a file carries its topic implicitly.
#: ``tests/unit/schemas`` checks this table against the models.
TYPE_TO_TOPIC: Final[dict[str, str]] = {
    **dict.fromkeys(("login", "feature_used", "records_changed", "seats_changed"), USAGE),
    **dict.fromkeys(
        ("ticket_opened", "ticket_updated", "ticket_solved", "ticket_reopened"), TICKETS
    ),
    **dict.fromkeys(
        (
            "payment_failed",
            "payment_succeeded",
            "card_expiring",
            "renewal_scheduled",
            "subscription_canceled",
        ),
        BILLING,
    ),
    **dict.fromkeys(("nps_response", "csat_response"), FEEDBACK),
    "account_upserted": ACCOUNTS,
}


def topic_of_type(event_type: str) -> str:
    """The input topic of ``event_type``; ``KeyError`` for a type not in the contract."""
    return TYPE_TO_TOPIC[event_type]
