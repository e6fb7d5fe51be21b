"""Settings parsing of the dev stack: API keys, addresses, env variables (pure, no servers)."""

from __future__ import annotations

import pytest

from services.cli.stack import replace_port
from services.stack.process import split_host_port
from services.stack.settings import (
    StackSettings,
    generate_dev_api_keys,
    parse_api_keys,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("dev:s1:read", [("dev", "s1", {"read"})]),
        ("a:s1:read|ingest, b:s2:admin", [("a", "s1", {"read", "ingest"}), ("b", "s2", {"admin"})]),
        ("", []),
    ],
)
def test_parse_api_keys(raw: str, expected: list[tuple[str, str, set[str]]]) -> None:
    keys = parse_api_keys(raw)

    assert [(k.name, k.secret, set(k.scopes)) for k in keys] == expected


@pytest.mark.parametrize("raw", ["dev:secret", "dev::read", "dev:s:", "dev:s:write", ":s:read"])
def test_parse_api_keys_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_api_keys(raw)


def test_generated_dev_key_parses_with_every_scope() -> None:
    (key,) = parse_api_keys(generate_dev_api_keys())

    assert key.name == "dev"
    assert key.secret.startswith("hs_dev_")
    assert key.scopes == {"read", "ingest", "admin"}


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1:9092", ("127.0.0.1", 9092)),
        ("kafka-1:9093,kafka-2:9093", ("kafka-1", 9093)),
        ("redis://127.0.0.1:6380/2", ("127.0.0.1", 6380)),
        ("redis://localhost/0", ("localhost", 6379)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
    ],
)
def test_split_host_port(address: str, expected: tuple[str, int]) -> None:
    assert split_host_port(address, 6379) == expected


@pytest.mark.parametrize(
    ("url", "port", "expected"),
    [
        ("redis://127.0.0.1:0/3", 41000, "redis://127.0.0.1:41000/3"),
        ("redis://:pw@127.0.0.1:6379/0", 6390, "redis://:pw@127.0.0.1:6390/0"),
    ],
)
def testreplace_port(url: str, port: int, expected: str) -> None:
    assert replace_port(url, port) == expected


def test_settings_defaults_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "HEALTHSCORE_API_KEYS", "SIMULATE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EMBEDDED", "0")
    monkeypatch.setenv("HEALTHSCORE_PARTITIONS", "8")

    settings = StackSettings()

    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.api_keys is None
    assert (settings.embedded, settings.simulate, settings.partitions) == (False, True, 8)
