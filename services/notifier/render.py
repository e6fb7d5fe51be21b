"""Human-readable messages for alert, dunning, band-change, touchpoint and
lifecycle events: pure functions.

An event becomes a channel-neutral ``Notice`` (headline, facts, reasons, link);
Slack and email are two layouts of it, so both say the same thing. Rendering is
total: a missing field renders as absent, never raises, because the event was
already accepted upstream and a notification with less detail beats none.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.cloudevents import TYPE_PREFIX
from schemas.health import HEALTH_CHANGED

#: How many reasons a message shows; the full list is in the event.
MAX_REASONS = 3
#: ISO 4217 minor units where they are not 2 (Stripe-style amounts in minor units).
_MINOR_UNITS = {c: 0 for c in ("JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG")}
_MINOR_UNITS.update({c: 3 for c in ("BHD", "JOD", "KWD", "OMR", "TND", "IQD", "LYD")})
_BANDS = {"at_risk": "at risk", "neutral": "neutral", "healthy": "healthy"}


@dataclass(frozen=True, slots=True)
class Notice:
    headline: str
    facts: tuple[tuple[str, str], ...] = ()
    reasons: tuple[str, ...] = ()
    link: tuple[str, str] | None = None  # (label, url)
    footer: str = ""


@dataclass(frozen=True, slots=True)
class EmailContent:
    subject: str
    text: str
    html: str


def format_amount(amount_cents: int, currency: str | None) -> str:
    """``49900, "USD"`` -> ``"499.00 USD"``; honours zero/three-decimal currencies."""
    code = (currency or "").upper()
    digits = _MINOR_UNITS.get(code, 2)
    value = amount_cents / 10**digits
    text = f"{value:,.{digits}f}"
    return f"{text} {code}" if code else text


def format_score(score: object) -> str:
    return f"{score:.0f}" if isinstance(score, int | float) else "?"


def build_notice(event: Mapping[str, Any]) -> Notice:
    event_type = str(event.get("type", ""))
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    footer = f"{event_type} · {event.get('id', '')}"
    if event_type.startswith(f"{TYPE_PREFIX}alert."):
        return _alert_notice(event, data, footer)
    if event_type.startswith(f"{TYPE_PREFIX}dunning."):
        return _dunning_notice(event, data, footer)
    if event_type in _CHANGE_NOTICES:
        return _CHANGE_NOTICES[event_type](event, data, footer)
    if event_type.startswith(f"{TYPE_PREFIX}touchpoint."):
        return _touchpoint_notice(event, data, footer)
    headline = f"{event_type} for {_name(event, data)}"
    return Notice(headline, _account_facts(event, data), (), None, footer)


def _name(event: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    return str(data.get("name") or data.get("account_id") or event.get("subject") or "account")


Facts = tuple[tuple[str, str], ...]


def _account_facts(event: Mapping[str, Any], data: Mapping[str, Any]) -> Facts:
    account_id = str(data.get("account_id") or event.get("subject") or "")
    name = _name(event, data)
    account = name if name == account_id else f"{name} ({account_id})"
    facts = [("Account", account), ("Owner", str(data.get("owner") or "unassigned"))]
    if data.get("segment"):
        facts.append(("Segment", str(data["segment"])))
    return tuple(facts)


def _alert_notice(event: Mapping[str, Any], data: Mapping[str, Any], footer: str) -> Notice:
    name, score = _name(event, data), format_score(data.get("score"))
    previous = data.get("previous_score")
    band = _BANDS.get(str(data.get("band")), str(data.get("band") or "unknown"))
    headlines = {
        "health_below_threshold": f"{name} is at risk (score {score})",
        "health_recovered": f"{name} has recovered (score {score})",
        "sudden_drop": f"{name} dropped sharply (score {score}"
        + (f", was {format_score(previous)})" if previous is not None else ")"),
        "inactivity": f"{name} has gone quiet (score {score})",
        "usage_decline": f"{name} is using the product less and less (score {score})",
    }
    alert = str(data.get("alert") or str(event.get("type", "")).rsplit(".", 1)[-1])
    headline = headlines.get(alert, f"{name}: {alert.replace('_', ' ')} (score {score})")
    facts = [*_account_facts(event, data), ("Score", f"{score} ({band})")]
    if previous is not None:
        facts.append(("Previous score", format_score(previous)))
    reasons = tuple(str(r) for r in (data.get("reasons") or ())[:MAX_REASONS])
    return Notice(headline, tuple(facts), reasons, None, footer)


def _dunning_headline(step: str, name: str, amount: str | None, days: object) -> str:
    suffix = f": {amount}" if amount else ""
    headlines = {
        "payment_failed_notice": f"Payment failed for {name}{suffix}",
        "retry_scheduled": f"Payment retry scheduled for {name}{suffix}",
        "update_card_requested": f"{name} needs to update their card{suffix}",
        "grace_started": f"{name} is in the payment grace period{suffix}",
        "restricted": f"{name} is restricted for non-payment{suffix}",
        "escalated": f"Payment problem escalated for {name}{suffix}",
        "canceled": f"{name} was canceled for non-payment{suffix}",
        "recovered": f"Payment recovered for {name}{suffix}",
        "renewal_reminder": f"{name} renews in {days} days{suffix}",
        "card_expiry_reminder": f"The card on file for {name} expires in {days} days",
    }
    return headlines.get(step, f"{name}: {step.replace('_', ' ')}{suffix}")


def _dunning_notice(event: Mapping[str, Any], data: Mapping[str, Any], footer: str) -> Notice:
    step = str(data.get("step") or str(event.get("type", "")).rsplit(".", 1)[-1])
    cents = data.get("amount_cents")
    amount = format_amount(cents, data.get("currency")) if isinstance(cents, int) else None
    headline = _dunning_headline(step, _name(event, data), amount, data.get("days_before"))
    facts = [*_account_facts(event, data), ("Step", step.replace("_", " "))]
    for label, key in (
        ("Invoice", "invoice_id"),
        ("Decline code", "decline_code"),
        ("Next step due", "next_due_at"),
    ):
        if data.get(key):
            facts.append((label, str(data[key])))
    if amount:
        facts.append(("Amount", amount))
    url = data.get("update_payment_url")
    link = ("Update payment method", str(url)) if url else None
    return Notice(headline, tuple(facts), (), link, footer)


def _health_notice(event: Mapping[str, Any], data: Mapping[str, Any], footer: str) -> Notice:
    band = _BANDS.get(str(data.get("band")), str(data.get("band") or "unknown"))
    score, previous = format_score(data.get("score")), data.get("previous_score")
    was = f", was {format_score(previous)}" if previous is not None else ""
    headline = f"{_name(event, data)} is now {band} (score {score}{was})"
    facts = (*_account_facts(event, data), ("Score", f"{score} ({band})"))
    reasons = tuple(str(r) for r in (data.get("reasons") or ())[:MAX_REASONS])
    return Notice(headline, facts, reasons, None, footer)


def _touchpoint_notice(event: Mapping[str, Any], data: Mapping[str, Any], footer: str) -> Notice:
    kind = str(data.get("kind") or "touchpoint").replace("_", " ")
    headline = f"Time to reach out to {_name(event, data)}: {kind}"
    summary = (str(data["summary"]),) if data.get("summary") else ()
    return Notice(headline, _account_facts(event, data), summary, None, footer)


def _lifecycle_notice(event: Mapping[str, Any], data: Mapping[str, Any], footer: str) -> Notice:
    name, change = _name(event, data), str(data.get("change") or "")
    if change == "churned":
        headline = f"{name} churned ({data.get('kind') or 'unknown kind'})"
    else:
        headline = f"{name} is back ({change})"
    facts = list(_account_facts(event, data))
    if data.get("reason"):
        facts.append(("Reason", str(data["reason"])))
    if isinstance(data.get("arr_cents"), int):
        facts.append(("ARR", format_amount(data["arr_cents"], "USD")))
    return Notice(headline, tuple(facts), (), None, footer)


_CHANGE_NOTICES = {
    HEALTH_CHANGED: _health_notice,
    f"{TYPE_PREFIX}account.churned": _lifecycle_notice,
    f"{TYPE_PREFIX}account.reactivated": _lifecycle_notice,
}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notice: Notice) -> dict[str, Any]:
    """Incoming-webhook body: ``text`` is the notification fallback, blocks the layout."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notice.headline[:150]}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{label}*\n{_slack_escape(value)}"}
                for label, value in notice.facts[:10]
            ],
        },
    ]
    if notice.reasons:
        bullets = "\n".join(f"• {_slack_escape(r)}" for r in notice.reasons)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Why*\n{bullets}"}})
    if notice.link:
        label, url = notice.link
        text = f"<{_slack_escape(url)}|{label}>"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": notice.footer}]})
    return {"text": notice.headline, "blocks": blocks}


def email_content(notice: Notice) -> EmailContent:
    subject = " ".join(notice.headline.split())  # no header injection via newlines
    lines = [notice.headline, "", *(f"{label}: {value}" for label, value in notice.facts)]
    if notice.reasons:
        lines += ["", "Why:", *(f"- {r}" for r in notice.reasons)]
    if notice.link:
        lines += ["", f"{notice.link[0]}: {notice.link[1]}"]
    lines += ["", f"-- healthscore ({notice.footer})"]
    return EmailContent(subject, "\n".join(lines) + "\n", _email_html(notice))


def _email_html(notice: Notice) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><th align='left'>{esc(label)}</th><td>{esc(value)}</td></tr>"
        for label, value in notice.facts
    )
    parts = [f"<h2>{esc(notice.headline)}</h2>", f"<table>{rows}</table>"]
    if notice.reasons:
        items = "".join(f"<li>{esc(r)}</li>" for r in notice.reasons)
        parts.append(f"<p><strong>Why</strong></p><ul>{items}</ul>")
    if notice.link:
        label, url = notice.link
        parts.append(f'<p><a href="{esc(url, quote=True)}">{esc(label)}</a></p>')
    parts.append(f"<p style='color:#888'>healthscore · {esc(notice.footer)}</p>")
    return "<html><body>" + "".join(parts) + "</body></html>"
