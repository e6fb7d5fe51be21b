"""A real Prometheus for ``make run`` and the tests, and a small query client.

The production rules (``deploy/prometheus/rules.yml``) and dashboard queries
are only trustworthy if they run against the Prometheus that will evaluate
them, not a mock: so the dev stack and the integration tests start the real
binary (Debian package ``prometheus``) on loopback with a generated config
that scrapes the given targets every second, and ask it questions over its
HTTP API like Grafana does.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

from schemas.errors import HealthscoreError

log = logging.getLogger(__name__)

#: The rules production loads; the dev stack and tests load the same file.
DEFAULT_RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules.yml"


class PrometheusError(HealthscoreError):
    """Prometheus could not be started or answered a query with an error."""


class PrometheusNotFoundError(PrometheusError):
    """No ``prometheus`` binary. Install it (``apt-get install prometheus``,
    which also brings ``promtool``) or pass ``binary=`` explicitly."""


@dataclass(frozen=True, slots=True)
class ScrapeTarget:
    """One process to scrape: ``job`` becomes the ``job`` label, as in production."""

    job: str
    address: str  # host:port
    metrics_path: str = "/metrics"


@dataclass(frozen=True, slots=True)
class Sample:
    """One element of an instant-query result."""

    labels: Mapping[str, str]
    value: float


def find_prometheus(name: str = "prometheus") -> Path:
    """The binary on PATH, else ``PrometheusNotFoundError``."""
    found = shutil.which(name)
    if found is None:
        raise PrometheusNotFoundError(f"{name!r} is not on PATH; apt-get install prometheus")
    return Path(found)


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def render_config(
    targets: Sequence[ScrapeTarget],
    *,
    rule_files: Sequence[Path] = (),
    scrape_interval: float = 1.0,
) -> dict[str, Any]:
    """A prometheus.yml (as a dict) with one job per distinct ``job`` name."""
    jobs: dict[tuple[str, str], list[str]] = {}
    for target in targets:
        jobs.setdefault((target.job, target.metrics_path), []).append(target.address)
    interval = _duration(scrape_interval)
    return {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": interval,
        },
        "rule_files": [str(Path(p).resolve()) for p in rule_files],
        "scrape_configs": [
            {
                "job_name": job,
                "metrics_path": path,
                "static_configs": [{"targets": addresses}],
            }
            for (job, path), addresses in jobs.items()
        ],
    }


def free_port() -> int:
    """A port free right now on 127.0.0.1 (the caller retries if it is taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrometheusClient:
    """Instant queries over ``/api/v1/query``: what a test or the CLI needs."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, **params: str) -> Any:
        response = self._http.get(path, params=params)
        body = response.json()
        if response.status_code != 200 or body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body.get('error', response.text)}")
        return body["data"]

    def query(self, expr: str) -> list[Sample]:
        """Evaluate ``expr`` now. Scalars come back as one sample without labels."""
        data = self._get("/api/v1/query", query=expr)
        kind, result = data["resultType"], data["result"]
        if kind in ("scalar", "string"):
            return [Sample({}, float(result[1]))]
        if kind != "vector":
            raise PrometheusError(f"{expr!r} returned a {kind}; use an instant vector")
        return [Sample(item["metric"], float(item["value"][1])) for item in result]

    def value(self, expr: str) -> float | None:
        """The first sample's value, or None when the result is empty."""
        samples = self.query(expr)
        return samples[0].value if samples else None

    def wait_for(
        self,
        expr: str,
        predicate: Callable[[float], bool] = lambda v: v > 0,
        *,
        timeout: float = 30.0,
        interval: float = 0.5,
    ) -> float:
        """Poll ``expr`` until its first value satisfies ``predicate``; return it.

        Metrics arrive one scrape at a time, so a fresh server needs a few
        intervals before ``rate()`` has two points to work with.
        """
        deadline = time.monotonic() + timeout
        last: float | None = None
        while time.monotonic() < deadline:
            last = self.value(expr)
            if last is not None and predicate(last):
                return last
            time.sleep(interval)
        raise PrometheusError(f"{expr!r} did not satisfy the condition in {timeout}s (last {last})")

    def targets_health(self) -> dict[str, str]:
        """``job/instance -> up|down|unknown`` for every active target."""
        data = self._get("/api/v1/targets", state="active")
        return {
            f"{t['labels'].get('job')}/{t['labels'].get('instance')}": t["health"]
            for t in data["activeTargets"]
        }

    def rule_names(self) -> set[str]:
        """Names of every loaded alerting and recording rule."""
        data = self._get("/api/v1/rules")
        return {rule["name"] for group in data["groups"] for rule in group["rules"]}


@dataclass
class PrometheusServer:
    """A running Prometheus subprocess; ``stop()`` (or ``with``) ends it."""

    url: str
    port: int
    workdir: Path
    process: subprocess.Popen[bytes]
    client: PrometheusClient
    _owns_workdir: bool = field(default=False, repr=False)

    @property
    def log_path(self) -> Path:
        return self.workdir / "prometheus.log"

    def query(self, expr: str) -> list[Sample]:
        return self.client.query(expr)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; idempotent. Returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("prometheus pid %d ignored SIGTERM; killing", self.process.pid)
                self.process.kill()
                self.process.wait()
        self.client.close()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return self.process.returncode

    def __enter__(self) -> PrometheusServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_ready(server: PrometheusServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise PrometheusError(
                f"prometheus exited with {server.process.returncode}:\n{_log_tail(server.log_path)}"
            )
        try:
            if httpx.get(f"{server.url}/-/ready", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise PrometheusError(f"prometheus not ready after {timeout}s:\n{_log_tail(server.log_path)}")


def _spawn(binary: Path, workdir: Path, port: int) -> subprocess.Popen[bytes]:
    with (workdir / "prometheus.log").open("wb") as log_file:
        return subprocess.Popen(
            [
                str(binary),
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                "--storage.tsdb.retention.time=1d",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def start_prometheus(
    targets: Sequence[ScrapeTarget],
    *,
    rule_files: Sequence[Path] | None = None,
    port: int = 0,
    scrape_interval: float = 1.0,
    workdir: Path | None = None,
    binary: Path | None = None,
    ready_timeout: float = 30.0,
) -> PrometheusServer:
    """Start Prometheus on ``127.0.0.1:port`` (0 = a free port) scraping ``targets``.

    ``rule_files`` defaults to ``deploy/prometheus/rules.yml`` when it exists.
    Data and config go to ``workdir`` (a temp dir removed on ``stop()`` when
    not given). Returns once ``/-/ready`` answers; raises ``PrometheusError``
    with the tail of its log when it does not start.
    """
    binary = binary or find_prometheus()
    if rule_files is None:
        rule_files = [DEFAULT_RULES] if DEFAULT_RULES.exists() else []
    owns = workdir is None
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="healthscore-prometheus-"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = render_config(targets, rule_files=rule_files, scrape_interval=scrape_interval)
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    attempts = 3 if port == 0 else 1
    for attempt in range(1, attempts + 1):
        chosen = port or free_port()
        url = f"http://127.0.0.1:{chosen}"
        server = PrometheusServer(
            url, chosen, workdir, _spawn(binary, workdir, chosen), PrometheusClient(url), owns
        )
        try:
            _wait_ready(server, ready_timeout)
        except PrometheusError:
            # Another process may have taken the free port between probe and bind.
            if attempt < attempts and "address already in use" in _log_tail(server.log_path):
                server.client.close()
                continue
            server.stop()
            raise
        log.info("prometheus ready at %s (pid %d)", url, server.process.pid)
        return server
    raise AssertionError("unreachable")
