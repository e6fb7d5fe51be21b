"""``healthscore stack``: the whole pipeline on one machine, one command, Ctrl-C stops it.

With ``EMBEDDED=1`` (default) it starts a broker (Apache Kafka when a JVM is
present, else Tansu: ``HEALTHSCORE_BROKER``, :mod:`services.stack.broker`) and
Redis exactly where ``KAFKA_BOOTSTRAP_SERVERS`` and ``REDIS_URL`` point (port 0:
a free one); with
``EMBEDDED=0`` it uses the ones those name. Then it creates the contract topics
and supervises whichever pipeline processes exist in this checkout (worker, API,
notifier, read-model projector, simulator), all configured through the same
environment variables. See :mod:`services.stack.settings` for the variables.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from services.stack.broker import BrokerRequest
    from services.stack.process import ServerProcess
    from services.stack.prometheus import PrometheusServer
    from services.stack.settings import StackSettings
    from services.stack.supervisor import ProcessSpec
    from streams.worker.kafka_security import KafkaSecurity

ROOT = Path(__file__).resolve().parents[2]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--infra-only",
        action="store_true",
        help="start the broker and Redis and create topics, but no pipeline process",
    )


def run(args: argparse.Namespace) -> int:
    from cryptography.fernet import Fernet

    from services.stack.process import StackError, free_port
    from services.stack.settings import StackSettings, generate_dev_api_keys, parse_api_keys
    from streams.worker.kafka_security import ENV_VARS, KafkaLoginError

    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # until the supervisor takes over
    settings = StackSettings()
    configured = settings.api_keys.get_secret_value() if settings.api_keys else None
    api_keys = configured or generate_dev_api_keys()
    try:
        parse_api_keys(api_keys)
    except ValueError as exc:
        return _fail(f"HEALTHSCORE_API_KEYS: {exc}")
    servers: list[ServerProcess] = []
    prometheus: PrometheusServer | None = None
    broker_note = "external"
    try:
        bootstrap, redis_url = settings.kafka_bootstrap_servers, settings.redis_url
        if settings.embedded:
            servers, broker_note = _start_embedded(settings.broker, bootstrap, redis_url)
            bootstrap = servers[0].address
            redis_url = replace_port(redis_url, servers[1].port)
        # The embedded broker is plaintext: Kafka security settings are for EMBEDDED=0.
        _create_topics(bootstrap, settings.partitions, None if settings.embedded else settings)
        inherited = {
            k: v for k, v in os.environ.items() if not (settings.embedded and k in ENV_VARS)
        }
        env = {
            **inherited,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "REDIS_URL": redis_url,
            "HEALTHSCORE_API_PORT": str(settings.api_port or free_port()),
            "HEALTHSCORE_API_KEYS": api_keys,
            # Seals webhook secrets on cs.subscriptions.v1; a dev stack's topics live
            # no longer than the stack, so a fresh key per run does unless one is set.
            "HEALTHSCORE_SUBSCRIPTION_KEYS": inherited.get("HEALTHSCORE_SUBSCRIPTION_KEYS")
            or Fernet.generate_key().decode(),
            "HEALTHSCORE_PARTITIONS": str(settings.partitions),
            "PYTHONUNBUFFERED": "1",
        }
        specs = [] if args.infra_only else pipeline_specs(env, simulate=settings.simulate)
        prometheus, prometheus_note = _start_prometheus(settings, env, specs)
        extra = [_prometheus_line(prometheus, prometheus_note)]
        dev_key = None if configured else api_keys
        _print_summary(sys.stdout, env, specs, servers, broker_note, dev_key, extra)
        return _supervise(specs, servers)
    except (StackError, KafkaLoginError) as exc:
        return _fail(str(exc))
    finally:
        if prometheus is not None:
            prometheus.stop()
        for server in reversed(servers):
            server.stop()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through run()'s finally: servers stop


def _fail(message: str) -> int:
    sys.stderr.write(f"healthscore stack: {message}\n")
    return 1


def replace_port(url: str, port: int) -> str:
    """``url`` with its port replaced (the embedded Redis may have picked a free one)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    netloc = f"{parts.hostname}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.username or ''}:{parts.password or ''}@{netloc}"
    return parts._replace(netloc=netloc).geturl()


def _start_embedded(
    broker: BrokerRequest, bootstrap: str, redis_url: str
) -> tuple[list[ServerProcess], str]:
    """The broker and Redis where the settings point (port 0: free): [broker, redis]
    and a note for the summary naming the broker and why it was chosen."""
    from services.stack.broker import LABELS, choose_broker, start_broker
    from services.stack.kafka import kafka_unavailable_reason
    from services.stack.process import StackError, is_port_open, split_host_port
    from services.stack.redis import start_redis

    kafka_host, kafka_port = split_host_port(bootstrap, 9092)
    redis_host, redis_port = split_host_port(redis_url, 6379)
    for what, host, port, var in (
        ("Kafka", kafka_host, kafka_port, "KAFKA_BOOTSTRAP_SERVERS"),
        ("Redis", redis_host, redis_port, "REDIS_URL"),
    ):
        if port and is_port_open(host, port):
            raise StackError(
                f"{host}:{port} ({what}) is already in use: is another stack running? "
                f"Set {var} to a free port (port 0 picks one), or EMBEDDED=0 to use the "
                f"servers already running."
            )
    unavailable = kafka_unavailable_reason() if broker != "tansu" else None
    choice = choose_broker(broker, unavailable)
    if choice.kind == "kafka":
        _say("starting Apache Kafka (~10 s; HEALTHSCORE_BROKER=tansu starts Tansu in 0.2 s)")
    server, choice = start_broker(choice, kafka_host, kafka_port, _say)
    try:
        redis = start_redis(redis_port, redis_host)
    except BaseException:
        server.stop()
        raise
    note = f"{LABELS[choice.kind]}, embedded, pid {server.pid}; {choice.why}"
    return [server, redis], note


def _say(line: str) -> None:
    sys.stderr.write(f"healthscore stack: {line}\n")
    sys.stderr.flush()


def _create_topics(bootstrap: str, partitions: int, security: KafkaSecurity | None) -> None:
    from services.stack.probe import run_sync
    from services.stack.topics import ensure_topics

    run_sync(ensure_topics(bootstrap, partitions, security=security))


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def pipeline_specs(env: dict[str, str], *, simulate: bool) -> list[ProcessSpec]:
    """The pipeline processes present in this checkout, in start order."""
    from services.stack.supervisor import ProcessSpec
    from services.stack.targets import metrics_addresses

    py, port = sys.executable, env["HEALTHSCORE_API_PORT"]
    api = f"http://127.0.0.1:{port}"
    metrics = {
        name: f"http://{address}/metrics" for name, address in metrics_addresses(env).items()
    }
    candidates = [
        ("worker", "streams.__main__", [py, "-m", "streams", "worker", "-l", "warn"],
         {"worker metrics": metrics.get("worker", "off")}, True),
        ("api", "services.api.main",
         [py, "-m", "uvicorn", "services.api.main:app", "--host", "127.0.0.1", "--port", port],
         {"API": api, "API docs": f"{api}/docs", "API metrics": f"{api}/metrics",
          "web app": f"{api}/app  (sign in with an API key)"}, True),
        ("notifier", "services.notifier.__main__", [py, "-m", "services.notifier"],
         {"notifier metrics": metrics.get("notifier", "off")}, True),
        ("readmodel", "services.readmodel.__main__", [py, "-m", "services.readmodel"],
         {"readmodel metrics": metrics.get("readmodel", "off")}, True),
        ("simulator", "services.cli.simulate",
         [py, "-m", "services.cli.main", "simulate", "--days", "30", "--follow", "--rate", "2000"],
         {}, False),
    ]  # fmt: skip
    return [
        ProcessSpec(name, argv, env=env, cwd=str(ROOT), essential=essential, urls=urls)
        for name, module, argv, urls, essential in candidates
        if _has_module(module) and (name != "simulator" or simulate)
    ]


def _start_prometheus(
    settings: StackSettings, env: dict[str, str], specs: list[ProcessSpec]
) -> tuple[PrometheusServer | None, str]:
    """A real Prometheus scraping the pipeline, or None and the reason why not.

    A convenience of the dev stack, never a reason for it to fail: without the
    binary, or with its port taken, the stack runs on without it.
    """
    from services.stack.process import is_port_open
    from services.stack.prometheus import PrometheusError, find_prometheus, start_prometheus
    from services.stack.targets import metrics_addresses, scrape_targets

    if not settings.prometheus:
        return None, "off (PROMETHEUS=0)"
    if not specs:
        return None, "not started (no pipeline process to scrape)"
    try:
        binary = find_prometheus()
    except PrometheusError:
        return None, "not started: `prometheus` is not on PATH (apt-get install prometheus)"
    port = settings.prometheus_port
    if port and is_port_open("127.0.0.1", port):
        port = 0  # another Prometheus (or stack) has it: take a free one
    targets = scrape_targets(metrics_addresses(env), running={s.name for s in specs})
    try:
        server = start_prometheus(targets, port=port, scrape_interval=5.0, binary=binary)
    except PrometheusError as exc:
        return None, f"not started: {exc}"
    return server, ", ".join(t.job for t in targets)


def _prometheus_line(server: PrometheusServer | None, note: str) -> str:
    if server is None:
        return f"  Prometheus      : {note}"
    return f"  Prometheus      : {server.url}  (pid {server.process.pid}; scraping {note})"


def _print_summary(
    out: TextIO,
    env: dict[str, str],
    specs: list[ProcessSpec],
    servers: list[ServerProcess],
    kafka_note: str,
    dev_key: str | None,
    extra: Sequence[str] = (),
) -> None:
    embedded = {s.name: s for s in servers}
    lines = ["", "healthscore stack", "-----------------"]
    redis_note = f"embedded, pid {embedded['redis'].pid}" if "redis" in embedded else "external"
    lines.append(f"  Kafka bootstrap : {env['KAFKA_BOOTSTRAP_SERVERS']}  ({kafka_note})")
    lines.append(f"  Redis           : {env['REDIS_URL']}  ({redis_note})")
    lines.append(f"  topics          : created, {env['HEALTHSCORE_PARTITIONS']} partitions each")
    for spec in specs:
        lines.append(f"  process         : {spec.name}")
        lines.extend(f"    {label:<14}: {url}" for label, url in spec.urls.items())
    if not specs:
        lines.append("  processes       : none (no pipeline module found, or --infra-only)")
    if dev_key:
        lines.append(f"  dev API key     : {dev_key.split(':')[1]}  (scopes read|ingest|admin)")
        lines.append(f"    use it as     : Authorization: Bearer {dev_key.split(':')[1]}")
        lines.append(f"    HEALTHSCORE_API_KEYS={dev_key}")
    else:
        count = len(env["HEALTHSCORE_API_KEYS"].split(","))
        lines.append(f"  API keys        : {count} from HEALTHSCORE_API_KEYS")
    lines += [*extra, "  Ctrl-C stops everything.", ""]
    out.write("\n".join(lines) + "\n")
    out.flush()


def _supervise(specs: list[ProcessSpec], servers: list[ServerProcess]) -> int:
    import asyncio

    from services.stack.supervisor import Supervisor

    return asyncio.run(Supervisor(specs, watched=servers).run())


if __name__ == "__main__":  # `python -m services.cli.stack`, without the other subcommands
    _parser = argparse.ArgumentParser(prog="healthscore stack", description=__doc__)
    configure(_parser)
    sys.exit(run(_parser.parse_args()))
