"""Probes, metrics, request ids and the generic 500 (no stack trace leaks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api import metrics
from services.api.deps import get_store
from tests.api.support import READ, FakeProducer, free_port, make_app


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_ready_when_redis_and_kafka_answer(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"redis": "ok", "kafka": "ok"}}


def test_not_ready_when_kafka_is_down(client: TestClient, producer: FakeProducer) -> None:
    producer.unready = "KafkaConnectionError: no broker"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"redis": "ok", "kafka": "KafkaConnectionError: no broker"}


def test_not_ready_when_redis_is_down() -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with TestClient(make_app(dead_redis, FakeProducer())) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["kafka"] == "ok" and checks["redis"] != "ok"


def test_metrics_use_route_templates(client: TestClient) -> None:
    client.get("/v1/accounts/some-account-123/health", headers=READ)
    text = client.get("/metrics").text
    assert (
        'healthscore_http_requests_total{method="GET",'
        'route="/v1/accounts/{account_id}/health",status="404"}'
    ) in text
    assert "some-account-123" not in text
    assert "healthscore_http_request_duration_seconds_bucket" in text


def test_metrics_multiprocess_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    payload, content_type = metrics.render_metrics()
    assert content_type.startswith("text/plain") and isinstance(payload, bytes)


def test_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


def test_unexpected_error_is_a_generic_500(api_redis_url: str) -> None:
    class Exploding:
        async def get_health(self, account_id: str) -> None:
            raise RuntimeError("secret internals")

    app = make_app(api_redis_url, FakeProducer())
    app.dependency_overrides[get_store] = Exploding
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(
            "/v1/accounts/acme/health", headers={**READ, "X-Request-ID": "req-42"}
        )
    assert response.status_code == 500
    body = response.json()
    assert body == {"detail": "internal error", "request_id": "req-42"}
    assert response.headers["x-request-id"] == "req-42"
    assert "secret internals" not in response.text and "Traceback" not in response.text
