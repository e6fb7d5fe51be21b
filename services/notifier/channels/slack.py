"""Slack incoming webhooks: a readable message (``text`` + blocks).

The webhook URL is the credential: it is never logged, only its host.
Slack answers 404/403/410 for a revoked or archived hook (permanent) and 429
with ``Retry-After`` when rate-limited (honoured).
"""

from __future__ import annotations

from datetime import datetime

import httpx
import orjson

from services.notifier.channels import transport_error
from services.notifier.model import Delivery, Subscription
from services.notifier.render import build_notice, slack_payload
from services.notifier.retry import AttemptResult, http_result


class SlackChannel:
    name = "slack"

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def send(
        self, subscription: Subscription, delivery: Delivery, now: datetime
    ) -> AttemptResult:
        try:
            body = orjson.dumps(slack_payload(build_notice(delivery.parsed_event())))
        except (ValueError, orjson.JSONDecodeError) as exc:
            return AttemptResult(ok=False, error=f"unrenderable event: {exc}", permanent=True)
        try:
            response = await self._client.post(
                subscription.target, content=body, headers={"content-type": "application/json"}
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return AttemptResult(ok=False, error=transport_error(exc, subscription), permanent=True)
        except httpx.HTTPError as exc:
            return AttemptResult(ok=False, error=transport_error(exc, subscription))
        return http_result(response.status_code, response.headers.get("retry-after"))

    async def aclose(self) -> None:
        await self._client.aclose()
