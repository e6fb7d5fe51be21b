"""The worker's settings, read once from the environment at start-up.

Values are passed down from here (a model path, batch sizes); nothing under
``streams/domain/`` reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from streams.worker.connections import KafkaSettings


class WorkerSettings(KafkaSettings):
    """The worker's variables; the Kafka ones come from :class:`KafkaSettings`."""

    model_path: Path | None = Field(
        None,
        validation_alias="HEALTHSCORE_MODEL",
        description="Scoring model YAML; the shipped default model when unset.",
    )
    app_id: str = Field(
        "healthscore",
        validation_alias="HEALTHSCORE_APP_ID",
        description="Consumer group and table-changelog prefix.",
    )
    store: str = Field(
        "memory://",
        validation_alias="HEALTHSCORE_STORE",
        description="Table store: memory:// (dev, tests) or rocksdb:// (production).",
    )
    data_dir: Path = Field(Path(".run/worker"), validation_alias="HEALTHSCORE_DATA_DIR")
    partitions: int = Field(4, ge=1, validation_alias="HEALTHSCORE_PARTITIONS")
    live_tick: bool = Field(
        True,
        validation_alias="HEALTHSCORE_LIVE_TICK",
        description="Advance silent accounts to wall-clock time; turn off for replays.",
    )
    max_future_seconds: float = Field(
        3600.0,
        gt=0,
        validation_alias="HEALTHSCORE_MAX_FUTURE_SECONDS",
        description=(
            "An input whose event time is further than this ahead of the wall clock is"
            " dead-lettered (reason future_time), never applied; the live tick never moves"
            " a partition clock past the wall clock (streams/processing/horizon.py)."
        ),
    )
    tick_seconds: float = Field(30.0, gt=0, validation_alias="HEALTHSCORE_TICK_SECONDS")
    batch_size: int = Field(2000, ge=1, validation_alias="HEALTHSCORE_BATCH_SIZE")
    batch_within: float = Field(
        0.05,
        gt=0,
        validation_alias="HEALTHSCORE_BATCH_WITHIN",
        description="Max seconds a partial batch waits: bounds added alert latency.",
    )
    metrics_port: int = Field(
        9101, ge=0, validation_alias="HEALTHSCORE_WORKER_METRICS_PORT", description="0 = off"
    )
    metrics_host: str = Field(
        "127.0.0.1",
        validation_alias="HEALTHSCORE_METRICS_HOST",
        description="0.0.0.0 in containers so Prometheus can scrape.",
    )
    web_port: int = Field(6066, ge=1, validation_alias="HEALTHSCORE_WORKER_WEB_PORT")
    deadletter_max_ratio: float = Field(
        0.9,
        gt=0,
        le=1,
        validation_alias="HEALTHSCORE_DEADLETTER_MAX_RATIO",
        description="Stop when more than this share of a window of inputs is invalid.",
    )
    fast_path: bool = Field(
        True,
        validation_alias="HEALTHSCORE_FAST_PATH",
        description="Feed fetched batches straight to the pipeline (no Faust stream).",
    )
    persist_seconds: float = Field(
        30.0,
        gt=0,
        validation_alias="HEALTHSCORE_PERSIST_SECONDS",
        description=(
            "Fast path: write each dirty account's state, and ack its inputs, at most this"
            " often (a busy account changes many times in between; outputs are not delayed)."
            " Kafka Streams' at-least-once commit interval is 30 s too. An idle feed is"
            " written and acked after a second without batches. Inputs awaiting their write"
            " are held in memory (~0.5 KB each, payload dropped): events/s x this."
        ),
    )
    fast_drain: bool = Field(
        True,
        validation_alias="HEALTHSCORE_FAST_DRAIN",
        description="Use the patched consumer loop (streams/speedups/faust_patches.py).",
    )
    fetch_max_wait_ms: int = Field(
        50,
        ge=0,
        le=1500,
        validation_alias="HEALTHSCORE_FETCH_MAX_WAIT_MS",
        description=(
            "How long a fetch may wait at the broker for data (Faust fixes 1500 ms). Kafka"
            " answers as soon as data comes, so this only bounds idle round trips; Tansu"
            " holds every fetch about this long, so it bounds the latency added there."
        ),
    )
    gc_freeze_seconds: float = Field(
        1.0,
        ge=0,
        validation_alias="HEALTHSCORE_GC_FREEZE_SECONDS",
        description=(
            "Freeze the young objects this often, without collecting them (0 = off), so no"
            " collection walks the accounts' state (streams/speedups/gcwatch.py)."
        ),
    )
    gc_full_seconds: float = Field(
        3600.0,
        gt=0,
        validation_alias="HEALTHSCORE_GC_FULL_SECONDS",
        description="With freezing on: a full collection this often (frees dead frozen cycles).",
    )
    lag_interval: float = Field(
        5.0,
        gt=0,
        validation_alias="HEALTHSCORE_LAG_INTERVAL",
        description="Seconds between consumer-lag gauge updates.",
    )
    recovery_timeout_seconds: float = Field(
        900.0,
        gt=0,
        validation_alias="HEALTHSCORE_RECOVERY_TIMEOUT_SECONDS",
        description=(
            "A table recovery (restoring state from the changelog after a rebalance) still"
            " running after this long stops the worker, to be restarted, rather than leave"
            " it up consuming nothing (streams/worker/recovery.py). Sized for a lost volume"
            " under rocksdb://, whose restore can take minutes."
        ),
    )
    log_level: str = Field("warn", validation_alias="HEALTHSCORE_LOG_LEVEL")

    @property
    def broker_urls(self) -> list[str]:
        return [f"kafka://{host.strip()}" for host in self.kafka_bootstrap_servers.split(",")]
