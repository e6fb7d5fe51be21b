"""configure_logging: one JSON object per line from structlog and stdlib loggers,
with bound context and secrets redacted. Pure: writes to an in-memory stream."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
import structlog

from streams.observability.logging import (
    LOG_LEVEL_ENV,
    REDACTED,
    QuietProbes,
    configure_logging,
    parse_level,
    quiet_probe_access_lines,
)

Capture = Callable[..., io.StringIO]
PROBES = frozenset({"/metrics", "/healthz", "/readyz"})


@pytest.fixture
def capture() -> Iterator[Capture]:
    """Configure logging into a StringIO; restore the root logger afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level

    def _configure(level: str | None = "debug", json: bool = True) -> io.StringIO:
        stream = io.StringIO()
        configure_logging(level, json=json, stream=stream)
        return stream

    yield _configure
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_structlog_record_has_standard_fields_and_bound_context(capture: Capture) -> None:
    stream = capture()
    log = structlog.get_logger("streams.worker.agents").bind(account_id="acme")
    log.info("score_emitted", event_id="u-1", score=57)
    (record,) = _records(stream)
    assert record["event"] == "score_emitted"
    assert record["level"] == "info"
    assert record["logger"] == "streams.worker.agents"
    assert str(record["timestamp"]).endswith("Z")
    assert (record["account_id"], record["event_id"], record["score"]) == ("acme", "u-1", 57)


def test_stdlib_record_is_json_with_contextvars_and_extra(capture: Capture) -> None:
    stream = capture()
    structlog.contextvars.bind_contextvars(account_id="acme")
    logging.getLogger("aiokafka.consumer").warning("lag %d", 5, extra={"event_id": "e-9"})
    (record,) = _records(stream)
    assert record["event"] == "lag 5"
    assert record["level"] == "warning"
    assert record["logger"] == "aiokafka.consumer"
    assert record["account_id"] == "acme"
    assert record["event_id"] == "e-9"


@pytest.mark.parametrize(
    "key",
    [
        "secret",
        "webhook_secret",
        "password",
        "SMTP_PASSWORD",
        "token",
        "access_token",
        "authorization",
        "Authorization",
        "api_key",
        "apiKey",
        "HEALTHSCORE_API_KEYS",
    ],
)
def test_secret_keys_are_redacted(capture: Capture, key: str) -> None:
    stream = capture()
    structlog.get_logger("t").info("settings", **{key: "hunter2"})
    (record,) = _records(stream)
    assert record[key] == REDACTED
    assert "hunter2" not in stream.getvalue()


def test_nested_secrets_and_url_credentials_are_redacted(capture: Capture) -> None:
    stream = capture()
    structlog.get_logger("t").info(
        "request",
        headers={"Authorization": "Bearer abc", "accept": "json"},
        redis_url="redis://user:s3cret@redis:6379/0",
    )
    (record,) = _records(stream)
    assert record["headers"] == {"Authorization": REDACTED, "accept": "json"}
    assert record["redis_url"] == f"redis://{REDACTED}@redis:6379/0"
    assert "s3cret" not in stream.getvalue() and "abc" not in stream.getvalue()


def test_stdlib_extra_secret_is_redacted(capture: Capture) -> None:
    stream = capture()
    logging.getLogger("api").info("auth", extra={"api_key": "k-123"})
    assert _records(stream)[0]["api_key"] == REDACTED


def test_level_filters_both_apis(capture: Capture) -> None:
    stream = capture("warn")
    structlog.get_logger("t").info("hidden")
    logging.getLogger("t").info("hidden too")
    structlog.get_logger("t").warning("shown")
    assert [r["event"] for r in _records(stream)] == ["shown"]


def test_level_defaults_to_env(capture: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOG_LEVEL_ENV, "error")
    stream = capture(None)
    logging.getLogger("t").warning("hidden")
    logging.getLogger("t").error("shown")
    assert [r["event"] for r in _records(stream)] == ["shown"]


def test_exception_is_rendered_inside_the_json_line(capture: Capture) -> None:
    stream = capture()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        structlog.get_logger("t").exception("failed")
    (record,) = _records(stream)
    assert "RuntimeError" in json.dumps(record["exception"])


def test_reconfiguring_does_not_stack_handlers(capture: Capture) -> None:
    capture()
    stream = capture()
    logging.getLogger("t").warning("once")
    assert len(_records(stream)) == 1
    assert sum(h.get_name() == "healthscore-structlog" for h in logging.getLogger().handlers) == 1


def test_console_mode_is_not_json(capture: Capture) -> None:
    stream = capture(json=False)
    structlog.get_logger("t").info("hello", account_id="acme")
    line = stream.getvalue().strip()
    assert "hello" in line and "account_id=acme" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("warn", logging.WARNING),
        ("WARNING", logging.WARNING),
        ("info", logging.INFO),
        ("Debug", logging.DEBUG),
        ("error", logging.ERROR),
        ("critical", logging.CRITICAL),
        ("fatal", logging.CRITICAL),
        ("20", 20),
        (30, 30),
    ],
)
def test_parse_level_accepts_aliases(name: str | int, expected: int) -> None:
    assert parse_level(name) == expected


def test_parse_level_rejects_typos() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        parse_level("verbose")


def _access(method: str, path: str, status: int) -> logging.LogRecord:
    """A record in uvicorn's access-line shape: (client, method, path, version, status)."""
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", method, path, "1.1", status), None,
    )  # fmt: skip


@pytest.mark.parametrize(
    "method, path, status, kept",
    [
        ("GET", "/metrics", 200, False),
        ("GET", "/healthz", 200, False),
        ("GET", "/readyz", 200, False),
        ("GET", "/readyz", 503, True),  # a failing probe is news
        ("GET", "/v1/accounts", 200, True),
        ("GET", "/metrics?x=1", 200, True),  # not the probe's own path
        ("POST", "/metrics", 200, True),
    ],
)
def test_successful_probes_and_scrapes_leave_no_access_line(
    capture: Capture, method: str, path: str, status: int, kept: bool
) -> None:
    capture("info")
    assert QuietProbes(PROBES).filter(_access(method, path, status)) is kept


def test_at_debug_level_every_access_line_is_kept(capture: Capture) -> None:
    capture("debug")
    assert QuietProbes(PROBES).filter(_access("GET", "/metrics", 200)) is True


def test_a_record_of_another_shape_is_kept(capture: Capture) -> None:
    capture("info")
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "plain", None, None)
    assert QuietProbes(PROBES).filter(record) is True


def test_the_probe_filter_is_installed_once_and_drops_the_line(capture: Capture) -> None:
    stream = capture("info")
    name = "test.quiet.access"
    quiet_probe_access_lines({"/healthz"}, name)
    quiet_probe_access_lines(PROBES, name)  # replaces the first
    logger = logging.getLogger(name)
    try:
        assert sum(isinstance(f, QuietProbes) for f in logger.filters) == 1
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/metrics", "1.1", 200)
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/v1/alerts", "1.1", 200)
    finally:
        logger.filters.clear()
    lines = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert lines == ['127.0.0.1:1 - "GET /v1/alerts HTTP/1.1" 200']


def test_the_api_quiets_exactly_its_probe_routes() -> None:
    from services.api.routes import health

    assert {route.path for route in health.router.routes} == health.PROBE_PATHS
    assert health.PROBE_PATHS == PROBES
