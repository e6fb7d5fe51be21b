"""Event recipes for the end-to-end tests, and the local engine that checks them.

A recipe is a plain list of contract input events (dicts, as a producer would
POST them). :func:`expected_outputs` runs a recipe through the worker's own
``PartitionEngine`` in-process (what ``healthscore replay`` does), so a test
can state what the live pipeline must emit - including the deterministic
alert id - instead of hard-coding scores that a model change would move.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from schemas.inputs import validate_python
from streams.domain.account import Decision
from streams.processing.convert import to_domain
from streams.processing.encode import Emit, encode
from streams.processing.engine import PartitionEngine
from streams.processing.partitioning import partition_for
from streams.processing.rules import load_rules

Event = dict[str, Any]

FEATURES = ("reports", "dashboards", "exports", "api", "automations")


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def make_event(account_id: str, kind: str, at: datetime, suffix: str, **fields: Any) -> Event:
    """One input event; ``id`` is unique per account, kind and ``suffix``."""
    return {"id": f"{account_id}-{kind}-{suffix}", "account_id": account_id, "type": kind,
            "time": rfc3339(at), **fields}  # fmt: skip


def make_profile(account_id: str, at: datetime, segment: str = "enterprise") -> Event:
    """An established customer (signed up a year before ``at``: past onboarding,
    so risk alerts apply). Enterprise by default: its model weighs support and
    NPS most, so the scenario's storm and detractor answer are enough to take
    an otherwise active account under 60 within the hour."""
    return make_event(
        account_id, "account_upserted", at, "p",
        name=f"E2E {account_id}", segment=segment, arr_cents=2_400_000,
        owner="csm@example.com", plan="pro", created_at=rfc3339(at - timedelta(days=365)),
    )  # fmt: skip


def engaged_history(account_id: str, start: datetime, days: int) -> list[Event]:
    """A healthy account: a profile, then daily logins and broad feature use."""
    events = [make_profile(account_id, start)]
    for day in range(days):
        at = start + timedelta(days=day, minutes=30)
        events.append(make_event(account_id, "login", at, f"l{day}", user_id="u1"))
        # Every feature on the first day: a new account's first scores must not
        # dip under 60 on feature depth alone (that would be its own alert).
        for n, feature in enumerate(FEATURES if day == 0 else FEATURES[day % 5 : day % 5 + 1]):
            events.append(
                make_event(account_id, "feature_used", at + timedelta(minutes=1 + n),
                           f"f{day}-{n}", user_id="u1", feature=feature)
            )  # fmt: skip
    return events


def storm_events(account_id: str, at: datetime, tag: str = "d") -> list[Event]:
    """A hard-declined payment and a wave of urgent tickets within a few seconds:
    bad, but on its own not enough to take a healthy account under 60."""
    events = [
        make_event(account_id, "payment_failed", at, f"{tag}-pay", invoice_id=f"in-{tag}",
                   amount_cents=49_900, currency="USD", decline_code="expired_card"),
    ]  # fmt: skip
    for n in range(4):
        events.append(
            make_event(account_id, "ticket_opened", at + timedelta(seconds=10 + n), f"{tag}-t{n}",
                       ticket_id=f"T-{tag}-{n}", priority="urgent")
        )  # fmt: skip
    return events


def detractor_event(account_id: str, at: datetime, tag: str = "d") -> Event:
    """An NPS 0 answer: after a storm, the event that crosses under 60."""
    return make_event(account_id, "nps_response", at, f"{tag}-nps", score=0)


def decline_events(account_id: str, at: datetime, tag: str = "d") -> list[Event]:
    """Storm, then the detractor answer 30 s later."""
    return [
        *storm_events(account_id, at, tag),
        detractor_event(account_id, at + timedelta(seconds=30), tag),
    ]


def alert_flow_events(account_id: str, start: datetime) -> list[list[Event]]:
    """Steps for one account within the hour after ``start``: the profile, a
    first day of broad use (healthy), the storm, and the detractor answer
    (the cause). Each step is on one topic or small, so a live worker that
    reads topics independently still applies them in order."""
    profile, *usage = engaged_history(account_id, start, 1)
    decline = decline_events(account_id, start + timedelta(minutes=30))
    return [[profile], usage, decline[:-1], decline[-1:]]


def expected_outputs(events: Iterable[Event | bytes], partitions: int) -> list[Emit]:
    """Outputs the worker would emit for ``events`` (each partition's clock
    advanced in arrival order, one event at a time, as the live worker does)."""
    rules = load_rules()
    engines: dict[int, PartitionEngine] = {}
    out: list[Decision] = []
    for raw in events:
        item = orjson.loads(raw) if isinstance(raw, bytes) else raw
        domain = to_domain(validate_python(item))
        partition = partition_for(domain.account_id, partitions)
        engine = engines.get(partition)
        if engine is None:
            engine = engines[partition] = PartitionEngine(partition, rules.model, rules.policies)
        out.extend(engine.process([domain]))
    return encode(out, rules.model.alerts.threshold)


def alerts_of(outputs: Sequence[Emit], account_id: str, kind: str) -> list[dict[str, Any]]:
    """The CloudEvents of ``kind`` alerts for ``account_id`` among ``outputs``."""
    found = []
    for emit in outputs:
        if emit.kind == kind and emit.key == account_id.encode():
            found.append(orjson.loads(emit.value))
    return found
