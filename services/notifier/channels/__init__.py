"""Delivery channels: one module per kind, one shared interface.

A channel turns (subscription, delivery) into one attempt and reports an
``AttemptResult``; it never decides about retries (``retry.decide`` does) and
never logs a target in full, because webhook and Slack URLs carry tokens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from services.notifier.model import Delivery, Subscription
from services.notifier.retry import AttemptResult


class Channel(Protocol):
    name: str

    async def send(
        self, subscription: Subscription, delivery: Delivery, now: datetime
    ) -> AttemptResult: ...

    async def aclose(self) -> None: ...


def safe_target(subscription: Subscription) -> str:
    """What of a target may appear in logs and errors: scheme and host, or the
    mail domain; never a path or query (Slack webhook URLs are bearer secrets)."""
    if subscription.channel == "email":
        return "@" + subscription.target.rpartition("@")[2]
    parts = urlsplit(subscription.target)
    return f"{parts.scheme}://{parts.hostname or '?'}"


def redact(text: str, subscription: Subscription) -> str:
    return text.replace(subscription.target, safe_target(subscription))[:500]


def transport_error(exc: BaseException, subscription: Subscription) -> str:
    detail = redact(str(exc), subscription)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
