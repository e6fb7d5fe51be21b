"""The web app in a real headless Chromium against the whole pipeline.

A simulated customer base (``services/simulator``) plus one account forced into
payment trouble is produced to Kafka and flows worker -> topics -> projector ->
Redis -> API. Churn outcomes are produced on ``cs.lifecycle.v1`` by the test
(the worker does not emit them yet). The browser then checks what a CS lead
sees: sign-in by the form, a live alert arriving over SSE without a reload, the
at-risk list with reasons, an account's chart and timeline, and churn and
payment-failure rates equal to what the test counts from the events it produced.
Screenshots go to ``build/test-artifacts/webapp/``.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Browser, Page, expect

from schemas import topics
from schemas.lifecycle import AccountLifecycleChanged, LifecycleEvent, lifecycle_event_type
from tests.e2e.browser import launch, screenshot_path
from tests.e2e.pipeline import Pipeline
from tests.e2e.scenarios import make_event
from tests.e2e.test_alert_flow import DAY, Record, forced_steps, produce, records, simulated_history
from tests.polling import wait_until

CHURNS = (("voluntary", "too expensive"), ("voluntary", "missing features"),
          ("involuntary", None))  # fmt: skip


@dataclass
class Fleet:
    """What the test produced, and so what the pages must show."""

    forced: str
    end: int
    history: list[Record]
    storm: list[Record]
    cause: Record
    churn_month: str
    accounts: list[str]  # the simulated accounts, the forced one aside
    churned: list[tuple[str, str, str]] = field(default_factory=list)  # (account, kind, plan)
    caused: bool = False
    quiet: bool = False


def _month(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m")


def _lifecycle(
    account: str, kind: str, reason: str | None, at: datetime, profile: dict[str, Any]
) -> Record:
    data = AccountLifecycleChanged(
        account_id=account, change="churned", kind=kind,  # type: ignore[arg-type]
        reason=reason, arr_cents=profile.get("arr_cents"), caused_at=at,
        segment=profile.get("segment"), plan=profile.get("plan"),
        industry=profile.get("industry"),
    )  # fmt: skip
    event = LifecycleEvent(id=f"churn-{account}", type=lifecycle_event_type("churned"),
                           subject=account, time=at, data=data)  # fmt: skip
    return topics.LIFECYCLE, account.encode(), event.model_dump_json().encode()


def _produce(pipeline: Pipeline, batch: list[Record]) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=pipeline.bootstrap, linger_ms=5)
        await producer.start()
        try:
            await produce(producer, batch)
        finally:
            await producer.stop()

    # Playwright's sync API keeps an event loop on this thread: run ours on another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="module")
def fleet(pipeline: Pipeline) -> Fleet:
    """History and the storm settled (the forced account is one event from an
    alert), and churn outcomes a month and a half after the history."""
    forced = f"acct-web-{uuid.uuid4().hex[:6]}"
    end = int(pipeline.reserve(31 * DAY + 7200, align_s=DAY)) + 30 * DAY
    history = simulated_history(end, forced)
    steps = forced_steps(forced, end)
    storm, cause = records(steps[0]), records([steps[1]])[0]
    for step in (history, storm):
        consumed = pipeline.consumed()
        _produce(pipeline, step)
        pipeline.settle(consumed + len(step), timeout=60)
    churn_at = datetime.fromtimestamp(end + 45 * DAY, UTC)
    accounts = sorted({key.decode() for _, key, _ in history} - {forced})
    result = Fleet(forced, end, history, storm, cause, churn_at.strftime("%Y-%m"), accounts)
    churns = []
    with pipeline.client() as api:
        for account, (kind, reason) in zip(accounts, CHURNS, strict=False):
            # What the worker will put in the event: the account's profile.
            profile = api.get(f"/v1/accounts/{account}/profile").json()
            churns.append(_lifecycle(account, kind, reason, churn_at, profile))
            result.churned.append((account, kind, profile["plan"]))
    _produce(pipeline, churns)
    return result


def cause_alert(pipeline: Pipeline, fleet: Fleet) -> None:
    """Produce the detractor answer that drops the forced account sharply (once)."""
    if not fleet.caused:
        _produce(pipeline, [fleet.cause])
        fleet.caused = True


def go_quiet(pipeline: Pipeline, fleet: Fleet) -> None:
    """Three weeks without use: one low-priority ticket per account 25 days after
    the history moves every partition's clock, and the silent accounts decay
    into the at-risk band (the worker's inactivity rules; once)."""
    if fleet.quiet:
        return
    cause_alert(pipeline, fleet)
    at = datetime.fromtimestamp(fleet.end + 25 * DAY, UTC)
    tickets = [make_event(a, "ticket_opened", at, "quiet", ticket_id=f"Q-{a}", priority="low")
               for a in [*fleet.accounts, fleet.forced]]  # fmt: skip
    consumed = pipeline.consumed()
    _produce(pipeline, records(tickets))
    pipeline.settle(consumed + len(tickets), timeout=60)
    fleet.quiet = True


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as running:
        yield running


def bearer_page(browser: Browser, pipeline: Pipeline) -> Page:
    context = browser.new_context(base_url=pipeline.api_url, extra_http_headers=pipeline.headers)
    return context.new_page()


def test_sign_in_then_a_live_alert_appears_without_reload(
    browser: Browser, pipeline: Pipeline, fleet: Fleet
) -> None:
    context = browser.new_context(base_url=pipeline.api_url)
    page = context.new_page()
    page.goto("/app")
    expect(page).to_have_url(re.compile(r"/app/login\?next=/app$"))
    page.fill("#api_key", "not-a-valid-key")
    page.click("#sign-in")
    expect(page.locator("#login-error")).to_have_text("Unknown API key.")
    page.fill("#api_key", pipeline.api_key)
    page.click("#sign-in")
    expect(page.locator("h1")).to_have_text("At risk today")
    cookie = next(c for c in context.cookies() if c["name"] == "hs_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert pipeline.api_key not in cookie["value"]
    expect(page.locator("#live-status")).to_have_text("live", timeout=10_000)
    page.evaluate("window.__same_document = true")  # gone if the page reloads

    cause_alert(pipeline, fleet)
    live = page.locator(f'#live-alerts li[data-account="{fleet.forced}"]')
    expect(live.first).to_contain_text(re.compile(r"\(score \d+\)"), timeout=30_000)
    assert page.evaluate("window.__same_document") is True
    page.screenshot(path=screenshot_path("live-alert"), full_page=True)
    context.close()


def test_at_risk_page_lists_accounts_with_reasons(
    browser: Browser, pipeline: Pipeline, fleet: Fleet
) -> None:
    go_quiet(pipeline, fleet)
    with pipeline.client() as api:
        at_risk = _all_accounts(api, band="at_risk")
        churned = set(_all_accounts(api, stage="churned"))
        simulated = [a for a in at_risk if a in fleet.accounts]
    assert simulated, "the simulation has at-risk accounts"
    page = bearer_page(browser, pipeline)
    page.goto("/app")
    rows = page.locator("#at-risk-table tbody tr[data-account]")
    listed = rows.evaluate_all("rows => rows.map(r => r.dataset.account)")
    assert set(listed) == set(at_risk) and not churned & set(listed)
    for why in rows.locator("td.why").all_inner_texts():
        assert why.strip()  # every row says why, in words
    reasons = page.locator(f'tr[data-account="{simulated[0]}"] td.why')
    expect(reasons).not_to_have_text(re.compile(r"^\s*$"))
    page.click("a.sort[data-sort='arr']")
    expect(page.locator("a.sort.active")).to_have_attribute("data-sort", "arr")
    page.screenshot(path=screenshot_path("at-risk"), full_page=True)
    page.context.close()


def test_account_page_shows_chart_and_timeline(
    browser: Browser, pipeline: Pipeline, fleet: Fleet
) -> None:
    cause_alert(pipeline, fleet)
    with pipeline.client() as api:
        wait_until(lambda: _alerted(api, fleet.forced), 30, "the forced account's alert")
        days = len(api.get(f"/v1/accounts/{fleet.forced}/history").json()["points"])
    page = bearer_page(browser, pipeline)
    page.goto(f"/app/accounts/{fleet.forced}")
    assert days >= 10  # a month of simulated history, one point per day
    expect(page.locator("#score-chart circle.dot")).to_have_count(days)
    expect(page.locator("#timeline li.kind-alert").first).to_contain_text("Alert:")
    expect(page.locator("#timeline li.kind-dunning").first).to_contain_text("Dunning")
    expect(page.locator("#dimensions tbody tr").first).to_be_visible()
    expect(page.locator("#profile")).to_contain_text("ARR")
    page.screenshot(path=screenshot_path("account"), full_page=True)
    page.context.close()


def test_churn_page_rates_match_the_produced_outcomes(
    browser: Browser, pipeline: Pipeline, fleet: Fleet
) -> None:
    month = fleet.churn_month
    with pipeline.client() as api:

        def counted() -> bool:
            body = api.get("/v1/analytics/churn", params={"from": month, "to": month}).json()
            return bool(body["churned"] == len(fleet.churned))

        wait_until(counted, 30, "churn outcomes projected")
        # Every account with a score is a customer; churned ones are listed apart.
        scored = len(_all_accounts(api)) + len(_all_accounts(api, stage="churned"))
    # Outcomes before the month (the worker emits churn for cancellations in the
    # simulated history) leave the base: count them from the topic itself.
    earlier = [e for e in _read_topic(pipeline, topics.LIFECYCLE) if e["time"][:7] < month]
    left = sum(e["data"]["change"] == "churned" for e in earlier)
    came_back = sum(e["data"]["change"] == "reactivated" for e in earlier)
    expected_rate = len(fleet.churned) / (scored - left + came_back)
    voluntary = sum(kind == "voluntary" for _, kind, _ in fleet.churned)
    plans = {plan for _, _, plan in fleet.churned}
    page = bearer_page(browser, pipeline)
    page.goto(f"/app/churn?from={month}&to={month}")
    expect(page.locator("#kpi-churned")).to_have_text(str(len(fleet.churned)))
    expect(page.locator("#kpi-churn-rate")).to_have_text(f"{expected_rate * 100:.1f}%")
    expect(page.locator("#kpi-voluntary")).to_have_text(str(voluntary))
    expect(page.locator("#kpi-involuntary")).to_have_text(str(len(fleet.churned) - voluntary))
    expect(page.locator("#chart-reason g.bar")).to_have_count(3)  # two reasons + "unknown"
    bars = page.locator("#chart-plan g.bar").evaluate_all("bars => bars.map(b => b.dataset.label)")
    assert set(bars) == plans
    page.screenshot(path=screenshot_path("churn-month"), full_page=True)

    # Payment-failure rate over the whole history: failed / attempted payments,
    # counted here from the billing events this test produced.
    payments = [orjson.loads(v)["type"] for t, _, v in [*fleet.history, *fleet.storm]
                if t == topics.BILLING]  # fmt: skip
    failed = payments.count("payment_failed")
    attempts = failed + payments.count("payment_succeeded")
    assert attempts and failed
    first = _month(fleet.end - 31 * DAY)
    page.goto(f"/app/churn?from={first}&to={month}")
    expect(page.locator("#kpi-payment-failure-rate")).to_have_text(
        f"{failed / attempts * 100:.1f}%"
    )
    expect(page.locator("#chart-churn-rate polyline.series").first).to_be_visible()
    page.screenshot(path=screenshot_path("churn-range"), full_page=True)
    page.context.close()


def _read_topic(pipeline: Pipeline, topic: str) -> list[dict[str, Any]]:
    """Every record of ``topic`` (read until it has been quiet for 2 s)."""

    async def run() -> list[dict[str, Any]]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=pipeline.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            found: list[dict[str, Any]] = []
            while batches := await consumer.getmany(timeout_ms=2000):
                found += [orjson.loads(r.value) for b in batches.values() for r in b]
            return found
        finally:
            await consumer.stop()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _alerted(api: httpx.Client, account: str) -> bool:
    """True once the read model holds an alert of ``account``."""
    return bool(api.get("/v1/alerts", params={"account_id": account}).json()["items"])


def _all_accounts(api: httpx.Client, **params: str) -> list[str]:
    found: list[str] = []
    cursor = None
    while True:
        query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        body = api.get("/v1/accounts", params=query).json()
        found += [item["account_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return found
