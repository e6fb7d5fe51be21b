"""How the Faust contenders are started: same env, same flags, own group.

Both get a fresh app id (= consumer group and changelog prefix), an empty data
directory and free loopback ports; the worker's live tick is off so it does no
wall-clock work the baseline does not do either.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from services.bench.runner import WorkerProcess
from services.stack.process import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]

MODULES = {
    "naive": "services.bench.naive_app",
    "pipeline": "streams",
    # The pipeline with its domain looked up, not computed (bench/profile_worker.py --floor).
    "floor": "services.bench.floor_main",
}
#: The contenders that serve ``healthscore_events_consumed_total`` on their
#: metrics port, so their rate is measured from processing, not from commits.
COUNTS_CONSUMED = frozenset({"pipeline", "floor"})


@dataclass
class Contender:
    """One Faust app under test; ``spawn`` may be called again (recovery)."""

    kind: str  # naive | pipeline | floor
    bootstrap: str
    partitions: int
    app_id: str = ""
    #: Directory ``python -m`` runs in: the checkout whose ``streams/`` is measured.
    root: Path = REPO_ROOT
    data_dirs: list[tempfile.TemporaryDirectory[str]] = field(default_factory=list)
    #: Settings on top of the bench's own (``HEALTHSCORE_PERSIST_SECONDS=5``, ...).
    extra_env: dict[str, str] = field(default_factory=dict)
    #: The interpreter the worker runs on (an A/B of two builds of CPython).
    python: str = sys.executable

    def __post_init__(self) -> None:
        if self.kind not in MODULES:
            raise ValueError(f"unknown contender {self.kind!r}")
        self.app_id = self.app_id or f"bench-{self.kind}-{uuid.uuid4().hex[:8]}"

    def env(self, data_dir: str, log_level: str = "warn") -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHSCORE_")}
        env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "HEALTHSCORE_APP_ID": self.app_id,
                "HEALTHSCORE_DATA_DIR": data_dir,
                "HEALTHSCORE_PARTITIONS": str(self.partitions),
                "HEALTHSCORE_WORKER_WEB_PORT": str(free_port()),
                "HEALTHSCORE_WORKER_METRICS_PORT": str(free_port()),
                "HEALTHSCORE_LIVE_TICK": "0",
                # The worker's JSON logging takes its level from here, not from
                # Faust's -l: recovery timing reads Faust's info lines.
                "HEALTHSCORE_LOG_LEVEL": log_level,
                "PYTHONUNBUFFERED": "1",
                **self.extra_env,
            }
        )
        return env

    def spawn(self, log_level: str = "warn") -> WorkerProcess:
        """Start a worker with a new, empty data directory."""
        data_dir = tempfile.TemporaryDirectory(prefix=f"bench-{self.kind}-data-")
        self.data_dirs.append(data_dir)
        argv = [self.python, "-m", MODULES[self.kind], "worker", "-l", log_level]
        env = self.env(data_dir.name, log_level)
        port = int(env["HEALTHSCORE_WORKER_METRICS_PORT"]) if self.kind in COUNTS_CONSUMED else None
        return WorkerProcess(self.kind, argv, env, self.root, metrics_port=port)

    def cleanup(self) -> None:
        for data_dir in self.data_dirs:
            data_dir.cleanup()
        self.data_dirs.clear()
