"""Webhook headers verify with the reference Standard Webhooks library, and the
email message is multipart with a stable Message-ID."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.notifier.channels import redact, safe_target
from services.notifier.channels.email import build_message
from services.notifier.channels.webhook import signed_headers
from services.notifier.render import build_notice, email_content
from tests.unit.notifier.factories import (
    SECRET,
    event_bytes,
    event_dict,
    make_alert,
    make_subscription,
)


def test_signature_verifies_with_reference_library() -> None:
    body = event_bytes(make_alert()).decode()
    headers = signed_headers(SECRET, "alert-1:sub_1", datetime.now(UTC), body)
    assert headers["webhook-id"] == "alert-1:sub_1"
    assert headers["content-type"] == "application/json"
    assert Webhook(SECRET).verify(body, headers)["id"] == "alert-1"


def test_tampered_body_fails_verification() -> None:
    body = event_bytes(make_alert()).decode()
    headers = signed_headers(SECRET, "alert-1:sub_1", datetime.now(UTC), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace("54", "99"), headers)


def test_email_is_multipart_with_stable_message_id() -> None:
    content = email_content(build_notice(event_dict(make_alert())))
    now = datetime(2026, 11, 2, tzinfo=UTC)
    first = build_message(content, "hs@example.com", "csm@example.com", "alert-1:sub_1", now)
    again = build_message(content, "hs@example.com", "csm@example.com", "alert-1:sub_1", now)
    assert first["Message-ID"] == again["Message-ID"]
    kinds = [part.get_content_type() for part in first.iter_parts()]
    assert kinds == ["text/plain", "text/html"]


@pytest.mark.parametrize(
    ("channel", "target", "safe"),
    [
        ("slack", "https://hooks.slack.com/services/T0/B0/SECRETTOKEN", "https://hooks.slack.com"),
        ("webhook", "https://api.example.com/hook?key=abc", "https://api.example.com"),
        ("email", "csm@example.com", "@example.com"),
    ],
)
def test_logged_targets_hide_tokens(channel: str, target: str, safe: str) -> None:
    sub = make_subscription(channel=channel, target=target)
    assert safe_target(sub) == safe
    assert redact(f"ConnectError for {target}", sub) == f"ConnectError for {safe}"
    assert target not in repr(sub)
