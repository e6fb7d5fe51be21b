"""Webhooks signed per Standard Webhooks (https://www.standardwebhooks.com/).

The body is the CloudEvent JSON exactly as the worker emitted it. ``webhook-id``
is the delivery id, identical on every retry, so a receiver can de-duplicate;
the signature covers id, timestamp and body, so a receiver can reject forgeries
and replays older than its tolerance (5 min in the reference library).
"""

from __future__ import annotations

import binascii
from datetime import datetime

import httpx
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from services.notifier.channels import transport_error
from services.notifier.model import Delivery, Subscription
from services.notifier.retry import AttemptResult, http_result

USER_AGENT = "healthscore-notifier/1"


def signed_headers(secret: str, delivery_id: str, now: datetime, body: str) -> dict[str, str]:
    """Raises ``ValueError`` or ``EmptyWebhookSecretError`` for an unusable secret."""
    signature = Webhook(secret).sign(delivery_id, now, body)
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class WebhookChannel:
    name = "webhook"

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def send(
        self, subscription: Subscription, delivery: Delivery, now: datetime
    ) -> AttemptResult:
        if subscription.secret is None:
            return AttemptResult(
                ok=False, error="webhook subscription has no secret", permanent=True
            )
        try:
            headers = signed_headers(
                subscription.secret.get_secret_value(),
                delivery.delivery_id,
                now,
                delivery.event.decode(),
            )
        except (ValueError, binascii.Error, EmptyWebhookSecretError):
            return AttemptResult(ok=False, error="unusable webhook secret", permanent=True)
        try:
            response = await self._client.post(
                subscription.target, content=delivery.event, headers=headers
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return AttemptResult(ok=False, error=transport_error(exc, subscription), permanent=True)
        except httpx.HTTPError as exc:
            return AttemptResult(ok=False, error=transport_error(exc, subscription))
        return http_result(response.status_code, response.headers.get("retry-after"))

    async def aclose(self) -> None:
        await self._client.aclose()
