"""The web app's sign-in, access rules and server-rendered pages (no browser:
``tests/e2e/test_webapp_browser.py`` drives a real Chromium)."""

from __future__ import annotations

import re

import redis
from fastapi.testclient import TestClient

from tests.api.factories import (
    account_event,
    alert_event,
    health_event,
    lifecycle_event,
    seed,
)
from tests.api.support import INGEST_KEY, READ, READ_KEY


def sign_in(client: TestClient, key: str = READ_KEY, **extra: str) -> object:
    return client.post(
        "/app/login", data={"api_key": key, "next": "/app/churn", **extra}, follow_redirects=False
    )


def test_pages_redirect_an_anonymous_browser_to_the_form(client: TestClient) -> None:
    response = client.get("/app/churn", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/app/login?next=/app/churn"
    form = client.get("/app/login")
    assert form.status_code == 200 and 'name="api_key"' in form.text


def test_sign_in_sets_an_httponly_strict_cookie_without_the_key(
    client: TestClient, redis_url: str
) -> None:
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/app/churn"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("hs_session=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/app" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    assert READ_KEY not in cookie
    session_id = re.match(r"hs_session=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
    with redis.Redis.from_url(redis_url) as r:
        stored = [k for k in r.scan_iter("hs:session:*")]
        assert len(stored) == 1 and session_id.encode() not in stored[0]
        assert 0 < r.ttl(stored[0]) <= 8 * 3600
    assert client.get("/app/churn").status_code == 200
    client.cookies.clear()


def test_wrong_keys_and_cross_site_posts_are_refused(client: TestClient) -> None:
    assert sign_in(client, "not-a-key").status_code == 401
    assert sign_in(client, INGEST_KEY).status_code == 403
    cross = sign_in(client, READ_KEY, next="/app")
    assert cross.status_code == 303
    client.cookies.clear()
    evil = {"Origin": "https://evil.example"}
    forged = client.post(
        "/app/login", data={"api_key": READ_KEY}, headers=evil, follow_redirects=False
    )
    assert forged.status_code == 403 and "set-cookie" not in forged.headers
    outside = sign_in(client, READ_KEY, next="https://evil.example/")
    assert outside.headers["location"] == "/app"
    client.cookies.clear()


def test_sign_out_ends_the_session(client: TestClient) -> None:
    sign_in(client)
    cookie = dict(client.cookies)
    assert client.post("/app/logout", follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.update(cookie)  # the old cookie, replayed
    assert client.get("/app", follow_redirects=False).status_code == 303
    client.cookies.clear()


def test_bearer_key_opens_pages_with_safe_headers(client: TestClient, redis_url: str) -> None:
    seed(redis_url, [health_event("acme", 41, previous=70), health_event("zeta", 90)])
    page = client.get("/app", headers=READ)
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert 'data-account="acme"' in page.text and "fewer logins" in page.text
    assert 'data-account="zeta"' not in page.text  # healthy: not at risk
    everyone = client.get("/app", params={"view": "all", "sort": "arr"}, headers=READ)
    assert 'data-account="zeta"' in everyone.text
    forbidden = client.get("/app", headers={"Authorization": f"Bearer {INGEST_KEY}"})
    assert forbidden.status_code == 403


def test_account_page_shows_chart_explanation_timeline_profile(
    client: TestClient, redis_url: str
) -> None:
    seed(redis_url, [
        account_event("acme", created_day=-100),
        health_event("acme", 80, day=0),
        health_event("acme", 50, day=3, previous=80),
        alert_event("acme", n=80),
    ])  # fmt: skip
    page = client.get("/app/accounts/acme", headers=READ)
    assert page.status_code == 200
    assert 'id="score-chart"' in page.text and page.text.count('class="dot"') == 2
    assert "3 active days" in page.text  # the dimension's plain-words detail
    assert "Alert: health below threshold" in page.text
    assert "Score fell 30 points to 50" in page.text
    assert "2027-05-20" in page.text  # renewal date from the profile
    assert client.get("/app/accounts/nobody", headers=READ).status_code == 404


def test_churn_page_shows_the_rates(client: TestClient, redis_url: str) -> None:
    seed(redis_url, [health_event(f"a{i}", 70, day=-40) for i in range(4)])
    seed(redis_url, [lifecycle_event("a1", day=2, kind="involuntary")])
    page = client.get("/app/churn", headers=READ).text
    assert re.search(r'id="kpi-churn-rate">25\.0%<', page)
    assert re.search(r'id="kpi-involuntary">1<', page)
    for chart in ("chart-churn-rate", "chart-nrr", "chart-segment", "chart-plan",
                  "chart-reason", "chart-kind"):  # fmt: skip
        assert f'id="{chart}"' in page


def test_live_stream_needs_a_session_or_key(client: TestClient) -> None:
    assert client.get("/app/stream").status_code == 401
