"""One module per resource; ``api_router`` aggregates them (template ``app/api/main.py``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.api.routes import (
    accounts,
    alerts,
    analytics,
    deliveries,
    events,
    health,
    sources,
    subscriptions,
)

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(accounts.router)
api_router.include_router(alerts.router)
api_router.include_router(analytics.router)
api_router.include_router(events.router)
api_router.include_router(sources.router)
api_router.include_router(subscriptions.router)
api_router.include_router(deliveries.router)
