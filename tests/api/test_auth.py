"""API keys: parsing, hashing, 401/403, scopes, refusal to run open in production."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.api.auth import ApiKeyConfigError, Authenticator, parse_api_keys
from services.api.settings import ApiSettings
from tests.api.support import ADMIN, ADMIN_KEY, INGEST, READ, READ_KEY, FakeProducer, make_app

# (method, path, required scope). POST /v1/sources/stripe is not here: Stripe
# cannot send an API key, its Stripe-Signature is the credential
# (tests/api/test_sources_stripe.py).
PROTECTED = [
    ("GET", "/v1/accounts/acme/health", "read"),
    ("GET", "/v1/accounts", "read"),
    ("GET", "/v1/accounts/acme/dunning", "read"),
    ("GET", "/v1/alerts", "read"),
    ("GET", "/v1/alerts/stream", "read"),
    ("POST", "/v1/events", "ingest"),
    ("POST", "/v1/sources/segment", "ingest"),
    ("POST", "/v1/subscriptions", "admin"),
    ("GET", "/v1/subscriptions", "admin"),
    ("GET", "/v1/subscriptions/sub_x", "admin"),
    ("DELETE", "/v1/subscriptions/sub_x", "admin"),
    ("GET", "/v1/deliveries/dead", "admin"),
    ("POST", "/v1/deliveries/dead/d1/redrive", "admin"),
]
HEADERS_BY_SCOPE = {"read": READ, "ingest": INGEST, "admin": ADMIN}


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-secret-0123456789"},
        {"Authorization": "Basic abc"},
        {"Authorization": f"Bearer {READ_KEY}x"},
    ],
)
def test_missing_or_unknown_key_is_401(
    client: TestClient, method: str, path: str, scope: str, headers: dict[str, str]
) -> None:
    response = client.request(method, path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
def test_missing_scope_is_403(client: TestClient, method: str, path: str, scope: str) -> None:
    for held, headers in HEADERS_BY_SCOPE.items():
        if held in (scope, "admin"):
            continue
        assert client.request(method, path, headers=headers).status_code == 403


@pytest.mark.parametrize("path", ["/v1/accounts", "/v1/alerts"])
def test_admin_implies_read(client: TestClient, path: str) -> None:
    assert client.get(path, headers=ADMIN).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/metrics", "/openapi.json", "/docs"])
def test_open_endpoints(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_only_digests_are_kept() -> None:
    [key] = parse_api_keys(f"ops:{ADMIN_KEY}:admin")
    assert ADMIN_KEY not in repr(key) and ADMIN_KEY.encode() not in key.digest


def test_secret_may_contain_colons() -> None:
    auth = Authenticator(parse_api_keys("ci:abc:def:ghi-0123456789:read|ingest"))
    principal = auth.authenticate("abc:def:ghi-0123456789")
    assert principal is not None and principal.scopes == {"read", "ingest"}


@pytest.mark.parametrize(
    "raw",
    [
        "justaname",
        "n:secret-0123456789:",
        "n:secret-0123456789:root",
        "n:short:read",
        "a:secret-0123456789:read,a:secret-9876543210:read",
        ":secret-0123456789:read",
    ],
)
def test_malformed_keys_are_refused(raw: str) -> None:
    with pytest.raises(ApiKeyConfigError) as info:
        parse_api_keys(raw)
    assert "secret-0123456789" not in str(info.value)


def test_empty_keys_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="HEALTHSCORE_API_KEYS"):
        ApiSettings(HEALTHSCORE_API_KEYS="", HEALTHSCORE_ENV="production")  # type: ignore[call-arg]


def test_development_without_keys_is_open(redis_url: str) -> None:
    app = make_app(
        redis_url, FakeProducer(), HEALTHSCORE_API_KEYS="", HEALTHSCORE_ENV="development"
    )
    with TestClient(app) as client:
        assert client.get("/v1/subscriptions").status_code == 200
