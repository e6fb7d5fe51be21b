"""Realistic simulated customer events: the demo data and the load generator.

Pure and deterministic (see ``generator.Simulation``); the Kafka producer lives
in ``services.simulator.producer`` so importing this package stays cheap.
"""

from services.simulator.churn import (
    ABRUPT_CHURN,
    DISENGAGING,
    HARD_DECLINE,
    NEVER_ONBOARDS,
    NEW_ACCOUNT,
    SEASONAL,
    TICKET_STORM,
)
from services.simulator.feed import EventFeed
from services.simulator.generator import SimEvent, Simulation
from services.simulator.population import (
    CARD_EXPIRING,
    HEALTHY,
    PERSONAS,
    RENEWING_SOON,
    SOFT_DECLINE,
    Account,
)

__all__ = [
    "ABRUPT_CHURN",
    "CARD_EXPIRING",
    "DISENGAGING",
    "HARD_DECLINE",
    "HEALTHY",
    "NEVER_ONBOARDS",
    "NEW_ACCOUNT",
    "PERSONAS",
    "RENEWING_SOON",
    "SEASONAL",
    "SOFT_DECLINE",
    "TICKET_STORM",
    "Account",
    "EventFeed",
    "SimEvent",
    "Simulation",
]
