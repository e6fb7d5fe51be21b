"""Settings of ``healthscore stack``, read once from the environment.

The same variables configure the worker, the API and the notifier; the stack
passes its resolved values down to them, so a child never guesses a port.

``HEALTHSCORE_API_KEYS`` format: comma-separated entries ``name:secret:scopes``,
scopes separated by ``|`` from ``read``, ``ingest``, ``admin``; for example
``dashboard:hs_live_9f2c:read,backend:hs_live_77ab:read|ingest``. The secret
may not contain ``:``, ``,`` or ``|``. When unset, the dev stack generates a
development key with every scope and prints it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, SecretStr

from streams.worker.connections import KafkaRedisSettings

SCOPE_ORDER = ("read", "ingest", "admin")
SCOPES = frozenset(SCOPE_ORDER)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One configured key: who it is for, the bearer secret and what it may do."""

    name: str
    secret: str
    scopes: frozenset[str]


def parse_api_keys(raw: str) -> list[ApiKey]:
    """Parse ``HEALTHSCORE_API_KEYS``; ``ValueError`` names the bad entry."""
    keys = []
    for entry in filter(None, (e.strip() for e in raw.split(","))):
        parts = entry.split(":")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise ValueError(f"API key entry {parts[0]!r}... is not name:secret:scope1|scope2")
        scopes = frozenset(filter(None, parts[2].split("|")))
        if not scopes or not scopes <= SCOPES:
            raise ValueError(
                f"API key {parts[0]!r}: scopes {sorted(scopes)} must be a non-empty "
                f"subset of {sorted(SCOPES)}"
            )
        keys.append(ApiKey(parts[0], parts[1], scopes))
    return keys


def generate_dev_api_keys() -> str:
    """A development key with every scope, new on each start (never a fixed placeholder)."""
    return f"dev:hs_dev_{secrets.token_urlsafe(18)}:{'|'.join(SCOPE_ORDER)}"


class StackSettings(KafkaRedisSettings):
    """Environment of the dev stack; field docs name the variable and its default.
    ``KAFKA_BOOTSTRAP_SERVERS`` and ``REDIS_URL`` (inherited) say where the
    broker and Redis are; embedded, where they listen (port 0: a free one)."""

    #: HEALTHSCORE_API_PORT: the API's port on 127.0.0.1 (0: free).
    api_port: int = Field(8000, ge=0, le=65535, validation_alias="HEALTHSCORE_API_PORT")
    #: HEALTHSCORE_API_KEYS: see the module docstring; unset: a generated dev key.
    api_keys: SecretStr | None = Field(None, validation_alias="HEALTHSCORE_API_KEYS")
    #: EMBEDDED: 1 starts a broker and Redis; 0 uses the ones the settings name.
    embedded: bool = Field(True, validation_alias="EMBEDDED")
    #: HEALTHSCORE_BROKER: the embedded broker, auto (Apache Kafka when a JVM and its
    #: jars are usable, else Tansu), kafka or tansu; see services/stack/broker.py.
    broker: Literal["auto", "kafka", "tansu"] = Field("auto", validation_alias="HEALTHSCORE_BROKER")
    #: SIMULATE: 1 runs the event simulator against the stack.
    simulate: bool = Field(True, validation_alias="SIMULATE")
    #: PROMETHEUS: 1 starts a Prometheus scraping the pipeline when `prometheus` is on PATH.
    prometheus: bool = Field(True, validation_alias="PROMETHEUS")
    #: HEALTHSCORE_PROMETHEUS_PORT: its port on 127.0.0.1 (0: free).
    prometheus_port: int = Field(
        9090, ge=0, le=65535, validation_alias="HEALTHSCORE_PROMETHEUS_PORT"
    )
    #: HEALTHSCORE_PARTITIONS: partitions of every contract topic the stack creates.
    partitions: int = Field(4, ge=1, le=1024, validation_alias="HEALTHSCORE_PARTITIONS")
