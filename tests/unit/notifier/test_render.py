"""Slack and email rendering: the facts a CSM needs are in the message."""

from __future__ import annotations

import orjson
import pytest

from services.notifier.render import (
    build_notice,
    email_content,
    format_amount,
    slack_payload,
)
from tests.unit.notifier.factories import event_dict, make_alert, make_dunning

LINK = "https://billing.example.com/update?token=abc"


def slack_text(payload: dict[str, object]) -> str:
    """Everything a reader sees in the Slack message, flattened."""
    return orjson.dumps(payload).decode()


@pytest.mark.parametrize(
    ("cents", "currency", "expected"),
    [
        (49_900, "USD", "499.00 USD"),
        (123_456_789, "eur", "1,234,567.89 EUR"),
        (5000, "JPY", "5,000 JPY"),
        (1_234, "KWD", "1.234 KWD"),
        (250, None, "2.50"),
    ],
)
def test_format_amount(cents: int, currency: str | None, expected: str) -> None:
    assert format_amount(cents, currency) == expected


@pytest.mark.parametrize(
    ("alert", "extra", "headline"),
    [
        ("health_below_threshold", {}, "Acme is at risk (score 54)"),
        ("health_recovered", {"score": 78.0, "band": "healthy"}, "Acme has recovered (score 78)"),
        ("sudden_drop", {}, "Acme dropped sharply (score 54, was 71)"),
        ("inactivity", {}, "Acme has gone quiet (score 54)"),
    ],
)
def test_alert_headlines(alert: str, extra: dict[str, object], headline: str) -> None:
    notice = build_notice(event_dict(make_alert(alert=alert, **extra)))
    assert notice.headline == headline


def test_alert_slack_message_has_account_score_reasons_owner() -> None:
    payload = slack_payload(build_notice(event_dict(make_alert())))
    assert payload["text"] == "Acme is at risk (score 54)"
    text = slack_text(payload)
    for needle in (
        "Acme (acme)",
        "54 (at risk)",
        "No logins in 14 days",
        "NPS 2",
        "csm@example.com",
    ):
        assert needle in text
    assert "extra reason" not in text  # only the top reasons


def test_alert_email_has_text_and_html() -> None:
    content = email_content(build_notice(event_dict(make_alert())))
    assert content.subject == "Acme is at risk (score 54)"
    for body in (content.text, content.html):
        for needle in ("Acme (acme)", "54 (at risk)", "3 urgent tickets open", "csm@example.com"):
            assert needle in body


def test_dunning_messages_carry_amount_and_update_link() -> None:
    notice = build_notice(event_dict(make_dunning()))
    assert notice.headline == "Payment failed for Acme: 499.00 USD"
    content = email_content(notice)
    assert content.subject == "Payment failed for Acme: 499.00 USD"
    assert LINK in content.text
    assert "https://billing.example.com/update?token=abc" in content.html.replace("&amp;", "&")
    text = slack_text(slack_payload(notice))
    for needle in ("payment failed notice", "499.00 USD", LINK, "in_77", "csm@example.com"):
        assert needle in text


@pytest.mark.parametrize(
    ("step", "extra", "headline"),
    [
        ("renewal_reminder", {"days_before": 7}, "Acme renews in 7 days: 499.00 USD"),
        (
            "card_expiry_reminder",
            {"days_before": 3, "amount_cents": None},
            "The card on file for Acme expires in 3 days",
        ),
        ("recovered", {}, "Payment recovered for Acme: 499.00 USD"),
        ("something_new", {}, "Acme: something new: 499.00 USD"),
    ],
)
def test_dunning_headlines(step: str, extra: dict[str, object], headline: str) -> None:
    assert build_notice(event_dict(make_dunning(step=step, **extra))).headline == headline


def test_html_and_slack_escape_untrusted_text() -> None:
    event = event_dict(make_alert(name="<b>Evil</b> & Co", reasons=["<script>x</script>"]))
    notice = build_notice(event)
    html = email_content(notice).html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>" not in slack_text(slack_payload(notice))


def test_subject_has_no_newlines() -> None:
    notice = build_notice(event_dict(make_alert(name="Acme\nBcc: x@evil.com")))
    assert "\n" not in email_content(notice).subject


def test_missing_data_renders_without_raising() -> None:
    notice = build_notice({"id": "x", "type": "io.healthscore.alert.sudden_drop", "subject": "a"})
    assert notice.headline == "a dropped sharply (score ?)"
