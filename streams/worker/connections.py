"""The connection settings every process shares, defined once: a variable's
name, default and type cannot differ between the processes that read it.

The worker needs Kafka only; the API, the read model, the notifier and the dev
stack need Kafka and the read model's Redis. Each process's settings class
inherits one of these and adds its own variables.
"""

from __future__ import annotations

from pydantic import Field

from streams.worker.kafka_security import KafkaSecurity


class KafkaSettings(KafkaSecurity):
    """Where the brokers are, and how to log in to them (:class:`KafkaSecurity`)."""

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )


class KafkaRedisSettings(KafkaSettings):
    """The Kafka settings and the Redis that holds the read model."""

    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias="REDIS_URL")
