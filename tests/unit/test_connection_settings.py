"""Every process reads the Kafka and Redis variables through one definition
(``streams.worker.connections``): same names, defaults and types everywhere,
and a process's settings class declares only its own variables."""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings

from services.api.settings import ApiSettings
from services.notifier.settings import NotifierSettings
from services.readmodel.settings import ReadModelSettings
from services.stack.settings import StackSettings
from streams.worker.connections import KafkaRedisSettings, KafkaSettings
from streams.worker.kafka_security import KafkaSecurity
from streams.worker.settings import WorkerSettings

SHARED = {"kafka_bootstrap_servers", "redis_url", *KafkaSecurity.model_fields}
WITH_REDIS = (ApiSettings, ReadModelSettings, NotifierSettings, StackSettings)
PROCESSES: tuple[type[BaseSettings], ...] = (WorkerSettings, *WITH_REDIS)


@pytest.mark.parametrize("settings", PROCESSES, ids=lambda cls: cls.__name__)
def test_a_process_declares_none_of_the_shared_fields_again(
    settings: type[BaseSettings],
) -> None:
    expected = KafkaRedisSettings if settings in WITH_REDIS else KafkaSettings
    assert settings.__bases__ == (expected,)
    assert SHARED.isdisjoint(vars(settings).get("__annotations__", {}))


@pytest.mark.parametrize("settings", PROCESSES, ids=lambda cls: cls.__name__)
def test_every_process_reads_the_same_variables(
    settings: type[BaseSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9093")
    monkeypatch.setenv("REDIS_URL", "redis://redis-1:6380/2")
    monkeypatch.setenv("HEALTHSCORE_ENV", "development")  # the API without keys
    read = settings().model_dump()
    assert read["kafka_bootstrap_servers"] == "kafka-1:9093"
    assert read.get("redis_url", "redis://redis-1:6380/2") == "redis://redis-1:6380/2"
    assert settings.model_config.get("hide_input_in_errors") is True  # KAFKA_SASL_PASSWORD
