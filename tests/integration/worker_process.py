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


def start_worker(
    bootstrap: str, app_id: str, data_dir: Path, *, level: str = "warn", **env: str
) -> subprocess.Popen[bytes]:
    """Start a worker with its own consumer group ``app_id``, logging at
    ``level`` to ``data_dir/worker.log`` (appended: a restarted worker's log
    follows the one before)."""
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
    with (data_dir / "worker.log").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streams", "worker", "-l", level],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_worker(proc: subprocess.Popen[bytes], timeout: float = 20) -> int:
    """SIGTERM, then SIGKILL after ``timeout`` seconds; the exit code."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return proc.returncode


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
    proc = start_worker(bootstrap, app_id, data_dir, level=level, **env)
    try:
        yield data_dir / "worker.log"
    finally:
        code = stop_worker(proc)
        if exits is not None:
            exits.append(code)
