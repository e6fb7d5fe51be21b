"""Email through an SMTP relay (aiosmtplib): plain text + HTML alternative.

``Message-ID`` is derived from the delivery id, so a retry after a lost reply
produces the same Message-ID and mail systems that de-duplicate on it can.
5xx replies are permanent (bad mailbox), except authentication failures, which
are our configuration and are retried until an operator fixes it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
from pydantic import SecretStr

from services.notifier.channels import transport_error
from services.notifier.model import Delivery, Subscription
from services.notifier.render import EmailContent, build_notice, email_content
from services.notifier.retry import AttemptResult


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    timeout_seconds: float = 10.0


def build_message(
    content: EmailContent, sender: str, recipient: str, delivery_id: str, now: datetime
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = content.subject
    message["Date"] = format_datetime(now)
    digest = hashlib.sha256(delivery_id.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@healthscore>"
    message["X-Healthscore-Delivery-Id"] = delivery_id
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message


class EmailChannel:
    name = "email"

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(
        self, subscription: Subscription, delivery: Delivery, now: datetime
    ) -> AttemptResult:
        try:
            content = email_content(build_notice(delivery.parsed_event()))
            message = build_message(
                content, self._config.sender, subscription.target, delivery.delivery_id, now
            )
        except ValueError as exc:
            return AttemptResult(ok=False, error=f"unrenderable: {exc}", permanent=True)
        return await self._submit(message, subscription)

    async def _submit(self, message: EmailMessage, subscription: Subscription) -> AttemptResult:
        cfg = self._config
        try:
            await aiosmtplib.send(
                message,
                hostname=cfg.host,
                port=cfg.port,
                username=cfg.user,
                password=cfg.password.get_secret_value() if cfg.password else None,
                start_tls=cfg.starttls,
                timeout=cfg.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            return AttemptResult(
                ok=False,
                error=f"recipient refused: SMTP {codes}",
                permanent=all(500 <= c < 600 for c in codes),
            )
        except aiosmtplib.SMTPAuthenticationError as exc:
            return AttemptResult(ok=False, error=f"SMTP auth failed: {exc.code}")
        except aiosmtplib.SMTPResponseException as exc:
            return AttemptResult(
                ok=False,
                error=f"SMTP {exc.code}: {exc.message[:200]}",
                permanent=500 <= exc.code < 600,
                status=exc.code,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return AttemptResult(ok=False, error=transport_error(exc, subscription))
        return AttemptResult(ok=True)

    async def aclose(self) -> None:
        return None
