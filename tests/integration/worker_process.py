"""Run the real worker (``python -m streams worker``) as a subprocess for a test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.stack.process import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def running_worker(
    bootstrap: str,
    app_id: str,
    data_dir: Path,
    *,
    exits: list[int] | None = None,
    level: str = "warn",
    **env: str,
) -> Iterator[Path]:
    """Start a worker with its own consumer group, logging at ``level``;
    yield its log path; stop it (SIGTERM, then SIGKILL after 20 s),
    appending its exit code to ``exits``."""
    log = data_dir / "worker.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "HEALTHSCORE_APP_ID": app_id,
        "HEALTHSCORE_DATA_DIR": str(data_dir),
        "HEALTHSCORE_WORKER_WEB_PORT": str(free_port()),
        "HEALTHSCORE_WORKER_METRICS_PORT": "0",
        "HEALTHSCORE_LIVE_TICK": "0",
        # Faust's ``-l`` alone leaves our logging config at its own level.
        "HEALTHSCORE_LOG_LEVEL": level,
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams", "worker", "-l", level],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield log
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if exits is not None:
                exits.append(proc.returncode)
