"""How every process logs in to Kafka: one set of variables, one mapping to clients.

The worker (Faust), the API's producer, the read-model and notifier consumers,
the simulator and ``healthscore stack``'s topic creation all read the same
environment through :class:`KafkaSecurity` (their settings classes inherit it)
and build their clients with :func:`client_kwargs` (aiokafka) or
:func:`faust_credentials` (Faust's ``broker_credentials``, which Faust turns
into the same aiokafka arguments), so no process can be configured apart.

| variable | values |
|---|---|
| ``KAFKA_SECURITY_PROTOCOL`` | ``PLAINTEXT`` (default), ``SSL``, ``SASL_PLAINTEXT``, ``SASL_SSL`` |
| ``KAFKA_SASL_MECHANISM`` | ``PLAIN``, ``SCRAM-SHA-256``, ``SCRAM-SHA-512`` (required with SASL) |
| ``KAFKA_SASL_USERNAME`` | the SASL user (required with SASL) |
| ``KAFKA_SASL_PASSWORD`` | its password, a secret: never logged or shown in a repr |
| ``KAFKA_SSL_CAFILE`` | PEM file of the CA of the brokers' certificates (default: system CAs) |

Given a wrong password, aiokafka logs the refusal and raises "Unable to bootstrap",
which reads like a network fault; :func:`start_client` and
:func:`login_refusal` ask the broker again to tell a refused login apart.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT

Protocol_ = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaLoginError(RuntimeError):
    """The broker refused our SASL login; the message names the user and what to check."""


class KafkaSecurity(BaseSettings):
    """The Kafka client security variables (module docstring); every process's
    settings class inherits these fields."""

    # A validation error must not echo the environment: it holds KAFKA_SASL_PASSWORD.
    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

    security_protocol: Protocol_ = Field("PLAINTEXT", validation_alias="KAFKA_SECURITY_PROTOCOL")
    sasl_mechanism: Mechanism | None = Field(None, validation_alias="KAFKA_SASL_MECHANISM")
    sasl_username: str = Field("", validation_alias="KAFKA_SASL_USERNAME")
    sasl_password: SecretStr = Field(SecretStr(""), validation_alias="KAFKA_SASL_PASSWORD")
    ssl_cafile: Path | None = Field(None, validation_alias="KAFKA_SSL_CAFILE")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @model_validator(mode="after")
    def _complete(self) -> KafkaSecurity:
        if self.uses_sasl:
            missing = [
                var
                for var, value in (
                    ("KAFKA_SASL_MECHANISM", self.sasl_mechanism),
                    ("KAFKA_SASL_USERNAME", self.sasl_username),
                    ("KAFKA_SASL_PASSWORD", self.sasl_password.get_secret_value()),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs {', '.join(missing)}"
                )
        if self.ssl_cafile is not None:
            if not self.uses_tls:
                raise ValueError(
                    f"KAFKA_SSL_CAFILE is set but KAFKA_SECURITY_PROTOCOL="
                    f"{self.security_protocol} does not use TLS (SSL or SASL_SSL)"
                )
            if not self.ssl_cafile.is_file():
                raise ValueError(f"KAFKA_SSL_CAFILE {self.ssl_cafile} is not a readable file")
        return self


#: The variables above, by name: the dev stack drops them for its embedded
#: (plaintext) broker, whatever the developer's shell holds.
ENV_VARS = tuple(str(f.validation_alias) for f in KafkaSecurity.model_fields.values())


def ssl_context(security: KafkaSecurity) -> ssl.SSLContext | None:
    """A verifying TLS context (hostname checked) for SSL/SASL_SSL, else None."""
    if not security.uses_tls:
        return None
    from aiokafka.helpers import create_ssl_context

    cafile = str(security.ssl_cafile) if security.ssl_cafile else None
    context: ssl.SSLContext = create_ssl_context(cafile=cafile)
    return context


def client_kwargs(security: KafkaSecurity | None) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin);
    None is a plaintext connection."""
    if security is None:
        return {"security_protocol": "PLAINTEXT"}
    kwargs: dict[str, Any] = {"security_protocol": security.security_protocol}
    if security.uses_tls:
        kwargs["ssl_context"] = ssl_context(security)
    if security.uses_sasl:
        kwargs["sasl_mechanism"] = security.sasl_mechanism
        kwargs["sasl_plain_username"] = security.sasl_username
        kwargs["sasl_plain_password"] = security.sasl_password.get_secret_value()
    return kwargs


def faust_credentials(security: KafkaSecurity) -> CredentialsT | None:
    """Faust's ``broker_credentials`` for the same settings (None: plaintext)."""
    import faust

    context = ssl_context(security)
    if security.uses_sasl:
        return faust.SASLCredentials(
            username=security.sasl_username,
            password=security.sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=security.sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


class _Startable(Protocol):
    async def start(self) -> None: ...


async def start_client(client: _Startable, bootstrap: str, security: KafkaSecurity | None) -> None:
    """``await client.start()``; a refused login raises :class:`KafkaLoginError`
    instead of aiokafka's "Unable to bootstrap"."""
    from aiokafka.errors import KafkaConnectionError

    try:
        await client.start()
    except KafkaConnectionError as exc:
        refusal = await login_refusal(bootstrap, security) if security else None
        if refusal is None:
            raise
        raise KafkaLoginError(refusal) from exc


async def login_refusal(
    bootstrap: str, security: KafkaSecurity, timeout_ms: int = 10_000
) -> str | None:
    """Why the first broker that answers refused our login, or None (it
    accepted it, it is not a SASL connection, or no broker answered)."""
    from aiokafka.conn import create_conn
    from aiokafka.errors import (
        IllegalSaslStateError,
        KafkaError,
        SaslAuthenticationFailed,
        UnsupportedSaslMechanismError,
    )

    if not security.uses_sasl:
        return None
    for address in filter(None, (a.strip() for a in bootstrap.split(","))):
        host, _, port = address.rpartition(":")
        try:
            conn = await create_conn(
                host, int(port), request_timeout_ms=timeout_ms, **client_kwargs(security)
            )
        except (
            SaslAuthenticationFailed,
            UnsupportedSaslMechanismError,
            IllegalSaslStateError,
        ) as exc:
            return (
                f"Kafka at {address} refused the {security.sasl_mechanism} login of user "
                f"{security.sasl_username!r} ({exc}). Check KAFKA_SASL_USERNAME, "
                f"KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM."
            )
        except (KafkaError, OSError, TimeoutError, ValueError):
            continue  # unreachable, not Kafka, or a bad address: try the next one
        conn.close()
        return None
    return None
