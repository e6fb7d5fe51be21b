"""Failed web-app sign-ins are bounded per client address (``throttle.py``),
and the submitted key never reaches a log line."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi.testclient import TestClient

from tests.api.support import READ_KEY, FakeProducer, make_app

GUESS = "guess-0123456789-not-a-key"


def attempt(client: TestClient, key: str) -> int:
    response = client.post("/app/login", data={"api_key": key}, follow_redirects=False)
    client.cookies.clear()
    return response.status_code


def test_failures_past_the_limit_get_429_until_the_window_ends(
    clean_redis_url: str, producer: FakeProducer
) -> None:
    limits = {"HEALTHSCORE_LOGIN_MAX_FAILURES": 3, "HEALTHSCORE_LOGIN_WINDOW_SECONDS": 2}
    # Three replicas of the API on one Redis (one per client): the count is shared.
    replicas = [make_app(clean_redis_url, producer, **limits) for _ in range(3)]
    with (
        TestClient(replicas[0], client=("192.0.2.7", 5000)) as guesser,
        TestClient(replicas[1], client=("192.0.2.7", 5001)) as same_address,
        TestClient(replicas[2], client=("192.0.2.8", 5000)) as neighbour,
    ):
        assert [attempt(guesser, f"{GUESS}{i}") for i in range(3)] == [401, 401, 401]
        refused = guesser.post("/app/login", data={"api_key": READ_KEY}, follow_redirects=False)
        # Refused even with the right key: the limit is on the address, not the key.
        assert refused.status_code == 429 and "set-cookie" not in refused.headers
        assert 1 <= int(refused.headers["retry-after"]) <= 2
        assert "Too many failed sign-ins" in refused.text
        assert attempt(same_address, READ_KEY) == 429
        assert attempt(neighbour, READ_KEY) == 303  # another address is not held back
        time.sleep(2.1)
        assert attempt(guesser, READ_KEY) == 303


def test_default_limit_is_ten_failures_per_five_minutes(
    client: TestClient, clean_redis_url: str
) -> None:
    assert [attempt(client, f"{GUESS}{i}") for i in range(10)] == [401] * 10
    refused = client.post("/app/login", data={"api_key": GUESS}, follow_redirects=False)
    assert refused.status_code == 429
    assert 290 <= int(refused.headers["retry-after"]) <= 300


def test_the_submitted_key_is_never_logged(
    client: TestClient, clean_redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        codes = [attempt(client, GUESS) for _ in range(11)] + [attempt(client, READ_KEY)]
    assert codes == [401] * 10 + [429, 429]
    assert any("too many failures" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        text = f"{record.getMessage()} {record.args!r} {record.__dict__!r}"
        assert GUESS not in text and READ_KEY not in text
