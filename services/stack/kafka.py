"""A real Apache Kafka broker for the tests and ``make run``, from the official jars.

Tansu covers most tests, but some behaviour needs the reference broker (true
high-water marks for lag metrics, transactions, compaction, SASL); ``healthscore
stack`` runs it too when a JVM is present (:mod:`services.stack.broker`). No container
runtime or tarball download is needed: ``mvn`` resolves the broker jars named in
``deploy/kafka/pom.xml`` into ``~/.m2`` once; the resolved classpath is cached
in ``~/.cache/healthscore``. Each start formats KRaft storage in a temporary
directory and runs one combined broker+controller JVM on free loopback ports.
:func:`start_sasl_kafka` adds a ``SASL_PLAINTEXT`` listener that takes PLAIN,
SCRAM-SHA-256 and SCRAM-SHA-512 logins of the users it is given, so the
clients' security settings are tested against the real thing.

``python -m services.stack.kafka jars`` pre-fetches the jars (``make kafka-jars``);
``python -m services.stack.kafka run`` runs a broker until Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from services.stack.probe import kafka_is_ready
from services.stack.process import (
    ServerProcess,
    StackError,
    free_port,
    make_workdir,
    spawn,
    start_with_free_ports,
    wait_ready,
)

log = logging.getLogger(__name__)

POM = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
Progress = Callable[[str], None]

#: Small heap and a short GC pause target: the broker only serves tests.
_JVM_OPTS = ["-Xms128m", "-Xmx768m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
             "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"]  # fmt: skip

_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = warn
logger.log.name = kafka.log
logger.log.level = warn
logger.storage.name = org.apache.kafka.storage
logger.storage.level = warn
"""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "healthscore"


def _tool(name: str, hint: str) -> str:
    found = shutil.which(name)
    if not found:
        raise StackError(f"`{name}` not found on PATH; {hint}")
    return found


def java_binary() -> str:
    """``$JAVA_HOME/bin/java`` when set, else ``java`` on PATH (Kafka 4 needs Java 17+)."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(Path(home) / "bin" / "java", os.X_OK):
        return str(Path(home) / "bin" / "java")
    return _tool("java", "install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)")


def kafka_classpath(progress: Progress | None = None) -> list[str]:
    """The broker's jars, resolved with ``mvn`` on first use and cached afterwards.

    The cache key is the POM's hash, so changing the Kafka version re-resolves.
    ``progress`` receives one line per downloaded jar on a cold ``~/.m2``.
    """
    if not POM.is_file():
        raise StackError(f"{POM} is missing; run from a source checkout")
    found = _cached_classpath()
    if found is not None:
        return found
    cached = _classpath_file()
    mvn = _tool("mvn", "install Maven (apt-get install maven) to fetch the Kafka jars")
    cached.parent.mkdir(parents=True, exist_ok=True)
    out = cached.with_suffix(f".{os.getpid()}.tmp")
    argv = [mvn, "-B", "-f", str(POM), "dependency:build-classpath",
            f"-Dmdep.outputFile={out}", "-Dmdep.includeScope=runtime"]  # fmt: skip
    if progress:
        progress(f"resolving Apache Kafka jars with mvn into ~/.m2 ({POM}) ...")
    _run_mvn(argv, progress)
    jars = out.read_text().strip().split(os.pathsep)
    os.replace(out, cached)
    if progress:
        progress(f"Kafka classpath: {len(jars)} jars, cached in {cached}")
    return jars


def kafka_unavailable_reason() -> str | None:
    """Why Apache Kafka cannot start here (no JVM, or no jars and no ``mvn``), else None.

    Cheap (no JVM or ``mvn`` is run): ``make run`` asks it on every start to
    choose its broker. A JVM too old for Kafka 4 or a ``mvn`` without network
    only shows when the start is tried; the caller falls back then.
    """
    try:
        java_binary()
    except StackError as exc:
        return str(exc)
    if _cached_classpath() is None and shutil.which("mvn") is None:
        return "the Kafka jars are not in ~/.m2 and `mvn` is not on PATH (apt-get install maven)"
    return None


def _classpath_file() -> Path:
    """Where the resolved classpath is cached, keyed by the POM's hash."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    return _cache_dir() / f"kafka-classpath-{digest}.txt"


def _cached_classpath() -> list[str] | None:
    """The cached classpath when every jar in it is still in ~/.m2, else None."""
    if not POM.is_file():
        return None
    cached = _classpath_file()
    if cached.is_file():
        jars = cached.read_text().strip().split(os.pathsep)
        if jars and all(Path(j).is_file() for j in jars):
            return jars
    return None


def _run_mvn(argv: list[str], progress: Progress | None) -> None:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line.rstrip())
        if progress and "Downloaded from" in line and ".jar " in line:  # "[INFO] Downloaded..."
            url, _, size = line.split(": ", 1)[-1].strip().partition(" (")
            progress(f"  {url.rsplit('/', 1)[-1]} ({size.split(' at ')[0]})")
    if proc.wait() != 0:
        tail = "\n".join(lines[-30:])
        raise StackError(f"mvn could not resolve the Kafka jars (exit {proc.returncode}):\n{tail}")


#: The mechanisms the SASL listener takes; SCRAM users are created at format time.
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_SCRAM_MECHANISMS = SASL_MECHANISMS[1:]
_JAAS_PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
_JAAS_SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"


@dataclass(frozen=True, slots=True)
class SaslListener:
    """A ``SASL_PLAINTEXT`` listener on ``port`` and the users (name -> password) it knows."""

    port: int
    users: Mapping[str, str]

    def __post_init__(self) -> None:
        for name, password in self.users.items():
            # Both land inside a quoted JAAS value and a --add-scram argument.
            if not (name.isalnum() and password.replace("-", "").isalnum()):
                raise ValueError(f"SASL test user {name!r}: letters, digits (and '-') only")


@dataclass(frozen=True, slots=True)
class SaslKafka:
    """A broker from :func:`start_sasl_kafka`: the server and its SASL bootstrap."""

    server: ServerProcess
    sasl_bootstrap: str


def server_properties(
    data_dir: Path,
    port: int,
    controller_port: int,
    host: str = "127.0.0.1",
    sasl: SaslListener | None = None,
) -> str:
    """A single-node KRaft config tuned for tests: replication 1, no join delay.

    With ``sasl``, a second listener (``SASL_PLAINTEXT``) takes logins; the
    plaintext one stays for the broker's own traffic and the readiness probe.
    """
    listeners = {"PLAINTEXT": port}
    if sasl is not None:
        listeners["SASL_PLAINTEXT"] = sasl.port
    advertised = ",".join(f"{name}://{host}:{p}" for name, p in listeners.items())
    protocols = ",".join(f"{name}:{name}" for name in listeners)
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{controller_port}",
        "listeners": f"{advertised},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": advertised,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": f"{protocols},CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",  # 50 by default: slow first group join
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",  # tests join groups at once
        "log.cleaner.backoff.ms": "1000",  # compaction visible within a test
    }
    if sasl is not None:
        props.update(_sasl_properties(sasl))
    return "".join(f"{k}={v}\n" for k, v in props.items())


def _sasl_properties(sasl: SaslListener) -> dict[str, str]:
    """JAAS per mechanism on the listener: PLAIN lists its users inline; SCRAM's
    credentials live in the cluster metadata (written by ``format --add-scram``)."""
    prefix = "listener.name.sasl_plaintext"
    plain_users = " ".join(f'user_{name}="{pw}"' for name, pw in sasl.users.items())
    props = {
        "sasl.enabled.mechanisms": ",".join(SASL_MECHANISMS),
        f"{prefix}.plain.sasl.jaas.config": f"{_JAAS_PLAIN} required {plain_users};",
    }
    for mechanism in _SCRAM_MECHANISMS:
        props[f"{prefix}.{mechanism.lower()}.sasl.jaas.config"] = f"{_JAAS_SCRAM} required;"
    return props


def start_kafka(
    port: int | None = None,
    timeout: float = 120.0,
    progress: Progress | None = None,
    *,
    host: str = "127.0.0.1",
) -> ServerProcess:
    """Start a one-node Apache Kafka (KRaft) on ``host:port`` (free port when None).

    Returns once the broker answers Metadata with itself listed; ``address`` is
    the bootstrap string. ``.stop()`` shuts the JVM down (SIGTERM, then SIGKILL).
    """
    java, classpath = java_binary(), os.pathsep.join(kafka_classpath(progress))
    if port:
        return _start(java, classpath, host, port, timeout)
    return start_with_free_ports(lambda: _start(java, classpath, host, free_port(host), timeout))


def start_sasl_kafka(
    users: Mapping[str, str], timeout: float = 120.0, progress: Progress | None = None
) -> SaslKafka:
    """Start Apache Kafka with a ``SASL_PLAINTEXT`` listener knowing ``users``
    (name -> password) for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, on free ports."""
    java, classpath = java_binary(), os.pathsep.join(kafka_classpath(progress))
    listeners: list[SaslListener] = []

    def start() -> ServerProcess:
        listeners.append(SaslListener(free_port(), dict(users)))
        return _start(java, classpath, "127.0.0.1", free_port(), timeout, listeners[-1])

    server = start_with_free_ports(start)
    return SaslKafka(server, f"127.0.0.1:{listeners[-1].port}")


def _start(
    java: str,
    classpath: str,
    host: str,
    port: int,
    timeout: float,
    sasl: SaslListener | None = None,
) -> ServerProcess:
    tmp = make_workdir("kafka")
    workdir = Path(tmp.name)
    config = workdir / "server.properties"
    config.write_text(server_properties(workdir / "data", port, free_port(host), host, sasl))
    (workdir / "log4j2.properties").write_text(_LOG4J2)
    base = [java, *_JVM_OPTS, f"-Dlog4j2.configurationFile={workdir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={workdir}", "-cp", classpath]  # fmt: skip
    _format_storage(base, config, tmp, _scram_arguments(sasl))
    bootstrap = f"{host}:{port}"
    server = spawn("kafka", [*base, "kafka.Kafka", str(config)], bootstrap, tmp=tmp)
    wait_ready(server, lambda: kafka_is_ready(bootstrap, timeout=1.0), timeout, interval=0.25)
    log.info("apache kafka ready at %s (pid %d)", bootstrap, server.pid)
    return server


def _scram_arguments(sasl: SaslListener | None) -> list[str]:
    """``--add-scram`` for each user and SCRAM mechanism: KRaft stores SCRAM
    credentials in its metadata log, written when the storage is formatted."""
    if sasl is None:
        return []
    return [
        arg
        for name, password in sasl.users.items()
        for mechanism in _SCRAM_MECHANISMS
        for arg in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
    ]


def new_cluster_id(make: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """A random KRaft cluster id (Kafka's own form: url-safe base64 of a UUID)
    that does not start with ``-``: one in 64 would, and the storage tool then
    reads it as an option ("argument --cluster-id/-t: expected one argument")."""
    while True:
        cluster_id = urlsafe_b64encode(make()).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _format_storage(
    base: list[str], config: Path, tmp: tempfile.TemporaryDirectory[str], extra: list[str]
) -> None:
    """``kafka-storage format``: KRaft refuses to start on an unformatted log dir."""
    argv = [*base, "-XX:TieredStopAtLevel=1", "kafka.tools.StorageTool", "format",
            "-t", new_cluster_id(), "-c", str(config), *extra]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        tmp.cleanup()
        raise StackError(f"kafka-storage format failed:\n{done.stdout}\n{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    """``jars``: pre-fetch the jars; ``run``: run a broker in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m services.stack.kafka")
    parser.add_argument("action", choices=["jars", "run"])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        sys.stderr.write(line + "\n")

    if args.action == "jars":
        kafka_classpath(progress=say)
        return 0
    server = start_kafka(args.port, progress=say)
    say(f"Apache Kafka at {server.address} (pid {server.pid}); Ctrl-C stops it")
    try:
        server.popen.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
