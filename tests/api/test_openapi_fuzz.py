"""Schemathesis against the app's own OpenAPI document: no input yields a 5xx.

The schema comes from ``create_app(...).openapi()`` (no I/O at import); the
calls go to the same app served by uvicorn on a loopback port, backed by the
throwaway Redis and the fake producer, with the admin key so every route is
reachable. (``schemathesis.openapi.from_asgi`` would start an app lifespan
that outlives the test, and ``schemathesis.pytest.from_fixture`` does not run
on pytest 9.) ``/v1/alerts/stream`` never ends by itself, so it is left to
``test_sse.py``. Examples per operation are bounded: the run takes well under
a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from services.api.main import create_app
from tests.api.support import ADMIN, FakeProducer, make_app, make_settings, serve

pytestmark = pytest.mark.timeout(120)

schema = schemathesis.openapi.from_dict(
    create_app(make_settings("redis://127.0.0.1:1/0")).openapi()
)


@pytest.fixture(scope="module")
def live_url(redis_url: str) -> Iterator[str]:
    # With a Stripe secret, so /v1/sources/stripe checks signatures instead of
    # answering 503 "not configured".
    secret = {"HEALTHSCORE_STRIPE_WEBHOOK_SECRET": "whsec_fuzz_0123456789abcdef"}
    with serve(make_app(redis_url, FakeProducer(), **secret)) as url:
        yield url


@schema.exclude(path="/v1/alerts/stream").parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, live_url: str) -> None:
    case.call_and_validate(
        base_url=live_url, headers=ADMIN, checks=[not_a_server_error], timeout=10
    )
