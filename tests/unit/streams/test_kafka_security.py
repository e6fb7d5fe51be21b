"""Kafka security settings: validation, aiokafka arguments, and Faust's same mapping."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from streams.worker.kafka_security import ENV_VARS, KafkaSecurity, client_kwargs, faust_credentials

SASL = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "healthscore",
    "KAFKA_SASL_PASSWORD": "hunter2-secret",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


def _from_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> KafkaSecurity:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return KafkaSecurity()


def test_the_variables() -> None:
    assert set(ENV_VARS) == {
        "KAFKA_SECURITY_PROTOCOL",
        "KAFKA_SASL_MECHANISM",
        "KAFKA_SASL_USERNAME",
        "KAFKA_SASL_PASSWORD",
        "KAFKA_SSL_CAFILE",
    }


def test_default_is_plaintext() -> None:
    assert client_kwargs(KafkaSecurity()) == {"security_protocol": "PLAINTEXT"}
    assert client_kwargs(None) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(KafkaSecurity()) is None


def test_sasl_ssl_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = client_kwargs(_from_env(monkeypatch, SASL))

    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "healthscore"
    assert kwargs["sasl_plain_password"] == "hunter2-secret"
    context = kwargs["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_the_ca_file_is_the_one_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    cafile = Path(ssl.get_default_verify_paths().cafile or "")
    if not cafile.is_file():
        pytest.skip("no system CA bundle to use as a CA file")
    security = _from_env(
        monkeypatch, {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": str(cafile)}
    )

    context = client_kwargs(security)["ssl_context"]

    assert context.cert_store_stats()["x509_ca"] > 0
    assert "sasl_mechanism" not in client_kwargs(security)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"},
            "needs KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD",
        ),
        ({**SASL, "KAFKA_SASL_PASSWORD": ""}, "needs KAFKA_SASL_PASSWORD"),
        ({**SASL, "KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
        ({"KAFKA_SSL_CAFILE": "/etc/hosts"}, "does not use TLS"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/nonexistent.pem"},
            "not a readable file",
        ),
    ],
)
def test_incomplete_settings_are_rejected_without_echoing_secrets(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _from_env(monkeypatch, env)

    assert message in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_the_password_is_never_in_a_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    security = _from_env(monkeypatch, SASL)

    assert "hunter2" not in repr(security)
    assert "hunter2" not in repr(faust_credentials(security))


def _comparable(kwargs: Any) -> dict[str, Any]:
    """The kwargs with the TLS context reduced to what it verifies."""
    out = dict(kwargs)
    context = out.pop("ssl_context", None)
    out["tls"] = None if context is None else (context.verify_mode, context.check_hostname)
    return out


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"KAFKA_SECURITY_PROTOCOL": "SSL"},
        {**SASL, "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "PLAIN"},
        {**SASL, "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"},
        SASL,
    ],
    ids=["plaintext", "ssl", "sasl-plain", "sasl-ssl-scram256", "sasl-ssl-scram512"],
)
def test_the_worker_gets_the_same_client_arguments(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    """Faust turns ``broker_credentials`` into aiokafka arguments itself; they
    must be the ones every other process passes."""
    security = _from_env(monkeypatch, env)

    from_faust = credentials_to_aiokafka_auth(faust_credentials(security))

    assert _comparable(from_faust) == _comparable(client_kwargs(security))


def test_the_readme_documents_every_variable() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `KAFKA_")]
    assert [var for var in ENV_VARS if not any(f"`{var}`" in row for row in rows)] == []
