"""The whole healthscore pipeline on loopback, for end-to-end tests.

:func:`running_pipeline` starts a fresh Tansu and Redis on free ports, creates
the contract topics, then the worker, read-model projector, notifier and API
as subprocesses with the same environment ``healthscore stack`` gives them -
but every port free, every consumer group unique, the live tick off (event
time only, so results are deterministic) and short poll intervals.

It returns only when the chain works: the API's ``/readyz`` is 200, every
metrics endpoint answers, and a probe event posted to the API has come back as
a health score through worker -> ``cs.health.v1`` -> projector -> Redis -> API.
The probe is what proves the worker joined its consumer group: a metrics port
answers long before the group's first rebalance ends.

Each child runs in its own session with ``PR_SET_PDEATHSIG`` (no orphan even
if pytest is killed) and writes to a log file kept under the test's temporary
directory; :meth:`Pipeline.log_tails` is what a failing test shows.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families

from services.stack.probe import run_sync
from services.stack.process import ServerProcess, free_port, spawn
from services.stack.redis import start_redis
from services.stack.tansu import start_tansu
from services.stack.topics import ensure_topics
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0
PROBE_TIME = "2000-01-03T00:00:00Z"
#: Worker counters whose sum is the number of records on the output topics.
_WORKER_OUTPUTS = (
    "healthscore_health_changes",
    "healthscore_alerts",
    "healthscore_dunning_steps",
)
#: The topics those counters count records of.
_WORKER_TOPICS = ("cs.health.v1", "cs.alerts.v1", "cs.dunning.v1")


class PipelineError(RuntimeError):
    """The pipeline did not come up; the message carries every process's log tail."""


@dataclass
class Pipeline:
    """Addresses of a running pipeline, and its processes (stopped by the context manager)."""

    bootstrap: str
    redis_url: str
    api_url: str
    api_key: str
    partitions: int
    app_id: str
    logdir: Path
    #: job name -> host:port serving /metrics (worker, api, readmodel, notifier)
    metrics: dict[str, str] = field(default_factory=dict)
    processes: dict[str, ServerProcess] = field(default_factory=dict)
    #: End of the latest event-time span handed out by :meth:`reserve`.
    clock_s: float = 0.0

    def reserve(self, span_s: float, align_s: float = 1.0) -> float:
        """Start (unix s) of an event-time span of ``span_s`` for one test.

        The worker's clock is per partition and only moves forward: events
        dated before what a partition has seen are applied late (at its clock),
        so tests sharing a pipeline must not go back in time. A span ends as
        close to now as possible, but never starts before an earlier test's
        span ended (it then lies partly in the future, which is fine: the
        live tick is off). ``align_s`` rounds the start up (e.g. to a day).
        """
        start = max(time.time() - span_s, self.clock_s)
        start = -(-start // align_s) * align_s
        self.clock_s = start + span_s
        return start

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def client(self, timeout: float = 10.0) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, headers=self.headers, timeout=timeout)

    def async_client(self, timeout: float = 10.0) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.api_url, headers=self.headers, timeout=timeout)

    def metrics_text(self, job: str) -> str:
        """The live ``/metrics`` exposition of one process."""
        response = httpx.get(f"http://{self.metrics[job]}/metrics", timeout=5.0)
        response.raise_for_status()
        return response.text

    def metric_sum(self, job: str, name: str) -> float:
        """Sum of every sample of counter ``name`` (without ``_total``) on ``job``."""
        return sum(
            sample.value
            for family in text_string_to_metric_families(self.metrics_text(job))
            if family.name == name
            for sample in family.samples
            if sample.name == f"{name}_total"
        )

    def consumed(self) -> float:
        """Input messages the worker has taken so far (valid or not)."""
        return self.metric_sum("worker", "healthscore_events_consumed")

    def settle(self, consumed: float, timeout: float = 30.0) -> None:
        """Wait until the worker has consumed ``consumed`` messages in all and the
        projector has applied every record the worker emitted.

        The worker reads its five input topics independently, so events of
        different topics produced together are not processed in event-time
        order; tests that need a deterministic state produce a step, settle,
        and only then produce the next.
        """

        def emitted() -> float:
            return sum(self.metric_sum("worker", n) for n in _WORKER_OUTPUTS)

        def caught_up() -> bool:
            # Emitted is counted after a batch's sends: equal twice in a row
            # means the batch that reached ``consumed`` has been emitted too.
            before = emitted()
            time.sleep(0.05)
            after = emitted()
            applied = self.projected(_WORKER_TOPICS)
            return before == after and applied >= after

        wait_until(lambda: self.consumed() >= consumed, timeout, f"worker consumed {consumed}")
        wait_until(caught_up, timeout, "projector caught up with the worker", interval=0.0)

    def projected(self, topics: Sequence[str]) -> float:
        """Records of ``topics`` the read-model projector has finished with."""
        text = self.metrics_text("readmodel")
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            if family.name == "healthscore_readmodel_records"
            for sample in family.samples
            if sample.name == "healthscore_readmodel_records_total"
            and sample.labels.get("topic") in topics
        )

    def dead(self) -> dict[str, int]:
        """Processes that have exited, with their exit codes."""
        return {n: code for n, p in self.processes.items() if (code := p.poll()) is not None}

    def log_tails(self, lines: int = 40) -> str:
        parts = [f"--- {name} (pid {p.pid}, exit {p.poll()}) ---\n{p.tail(lines)}"
                 for name, p in self.processes.items()]  # fmt: skip
        return "\n".join(parts)


def _stop_all(processes: Sequence[ServerProcess]) -> None:
    """SIGTERM every group at once (they stop in parallel), then reap each."""
    for proc in processes:
        if proc.poll() is None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
    for proc in processes:
        proc.stop(timeout=15.0)


def pipeline_env(
    base: Mapping[str, str],
    *,
    bootstrap: str,
    redis_url: str,
    app_id: str,
    partitions: int,
    ports: Mapping[str, int],
    data_dir: Path,
    live_tick: bool,
    api_key: str,
) -> dict[str, str]:
    """One environment for every child, as ``healthscore stack`` builds it."""
    return {
        **base,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "REDIS_URL": redis_url,
        "HEALTHSCORE_PARTITIONS": str(partitions),
        "HEALTHSCORE_LOG_LEVEL": base.get("HEALTHSCORE_LOG_LEVEL", "info"),
        # worker
        "HEALTHSCORE_APP_ID": app_id,
        "HEALTHSCORE_DATA_DIR": str(data_dir),
        "HEALTHSCORE_WORKER_WEB_PORT": str(ports["worker_web"]),
        "HEALTHSCORE_WORKER_METRICS_PORT": str(ports["worker"]),
        "HEALTHSCORE_LIVE_TICK": "1" if live_tick else "0",
        # Tests date their spans ahead of the wall clock on purpose (see
        # ``reserve``; the live tick is off), so the future bound is lifted.
        "HEALTHSCORE_MAX_FUTURE_SECONDS": "1e12",
        "HEALTHSCORE_BATCH_WITHIN": "0.01",
        "HEALTHSCORE_LAG_INTERVAL": "1",
        # projector
        "HEALTHSCORE_READMODEL_GROUP": f"{app_id}-readmodel",
        "HEALTHSCORE_READMODEL_METRICS_PORT": str(ports["readmodel"]),
        # notifier: quick to see new subscriptions, quick to retry
        "HEALTHSCORE_NOTIFIER_GROUP_ID": f"{app_id}-notifier",
        "HEALTHSCORE_NOTIFIER_METRICS_PORT": str(ports["notifier"]),
        "HEALTHSCORE_NOTIFIER_SUBSCRIPTION_REFRESH_SECONDS": "0.2",
        "HEALTHSCORE_NOTIFIER_SCHEDULER_INTERVAL_SECONDS": "0.2",
        "HEALTHSCORE_NOTIFIER_RETRY_BASE_SECONDS": "0.2",
        "HEALTHSCORE_NOTIFIER_STOP_GRACE_SECONDS": "2",
        # API
        "HEALTHSCORE_API_PORT": str(ports["api"]),
        "HEALTHSCORE_API_KEYS": f"e2e:{api_key}:read|ingest|admin",
        "HEALTHSCORE_SUBSCRIPTION_KEYS": Fernet.generate_key().decode(),
        "HEALTHSCORE_ENV": "test",
    }


def _commands(ports: Mapping[str, int]) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "worker": [py, "-m", "streams", "worker", "-l", "warn"],
        "readmodel": [py, "-m", "services.readmodel"],
        "notifier": [py, "-m", "services.notifier"],
        "api": [py, "-m", "uvicorn", "services.api.main:app", "--host", "127.0.0.1",
                "--port", str(ports["api"]), "--no-access-log"],
    }  # fmt: skip


@contextmanager
def running_pipeline(
    logdir: Path,
    *,
    app_id: str | None = None,
    partitions: int = 2,
    live_tick: bool = False,
    env: Mapping[str, str] | None = None,
) -> Iterator[Pipeline]:
    """Start everything, wait until an event flows end to end, yield; stop everything."""
    logdir.mkdir(parents=True, exist_ok=True)
    app_id = app_id or f"e2e-{uuid.uuid4().hex[:8]}"
    api_key = f"hs_e2e_{secrets.token_urlsafe(18)}"
    with ExitStack() as stack:
        tansu = start_tansu()
        stack.callback(tansu.stop)
        redis = start_redis()
        stack.callback(redis.stop)
        run_sync(ensure_topics(tansu.address, partitions))
        ports = {n: free_port() for n in ("worker", "worker_web", "readmodel", "notifier", "api")}
        child_env = pipeline_env(
            {**os.environ, **(env or {})},
            bootstrap=tansu.address,
            redis_url=redis.address,
            app_id=app_id,
            partitions=partitions,
            ports=ports,
            data_dir=logdir / "worker-data",
            live_tick=live_tick,
            api_key=api_key,
        )
        pipeline = Pipeline(
            bootstrap=tansu.address,
            redis_url=redis.address,
            api_url=f"http://127.0.0.1:{ports['api']}",
            api_key=api_key,
            partitions=partitions,
            app_id=app_id,
            logdir=logdir,
            metrics={
                n: f"127.0.0.1:{ports[n]}" for n in ("worker", "api", "readmodel", "notifier")
            },
        )
        children: list[ServerProcess] = []
        stack.callback(lambda: _stop_all(children))
        for name, argv in _commands(ports).items():
            child = spawn(
                name, argv, pipeline.metrics[name], env=child_env, logdir=logdir, cwd=ROOT
            )
            children.append(child)
            pipeline.processes[name] = child
        pipeline.processes = {"tansu": tansu, "redis": redis, **pipeline.processes}
        try:
            wait_ready(pipeline)
        except (TimeoutError, httpx.HTTPError) as exc:
            raise PipelineError(f"{exc}\n{pipeline.log_tails()}") from exc
        yield pipeline


def wait_ready(pipeline: Pipeline, timeout: float = STARTUP_TIMEOUT) -> None:
    """Block until the API is ready, every process serves metrics, and a probe
    event has travelled the whole chain."""
    deadline = time.monotonic() + timeout

    def left() -> float:
        if pipeline.dead():
            raise TimeoutError(f"processes exited during start-up: {pipeline.dead()}")
        return max(0.1, deadline - time.monotonic())

    def serving(job: str) -> Callable[[], object]:
        return lambda: left() and pipeline.metrics_text(job)

    with pipeline.client() as client:
        wait_until(
            lambda: left() and client.get("/readyz").status_code == 200, left(), "API /readyz"
        )
        for job in pipeline.metrics:
            wait_until(serving(job), left(), f"{job} /metrics")
        probe = f"e2e-probe-{uuid.uuid4().hex[:6]}"
        # Dated long ago: the probe must not move the partitions' event-time
        # clocks, or every test's back-dated history would arrive "late".
        event = {"id": f"{probe}-1", "account_id": probe, "type": "login",
                 "time": PROBE_TIME, "user_id": "probe"}  # fmt: skip
        client.post("/v1/events", json=event).raise_for_status()
        wait_until(
            lambda: left() and client.get(f"/v1/accounts/{probe}/health").status_code == 200,
            left(),
            "probe event -> worker -> projector -> API (worker group join)",
            interval=0.2,
        )
