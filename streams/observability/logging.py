"""JSON-lines logging for every healthscore process, through one call.

Both structlog loggers and plain ``logging`` loggers (Faust, aiokafka,
uvicorn) go through the same structlog processor chain, so a log shipper sees
one shape: ``timestamp``, ``level``, ``logger``, ``event`` plus whatever the
caller bound (``account_id``, ``event_id``, ...) with
``structlog.contextvars.bind_contextvars``, ``log.bind(...)`` or stdlib
``extra={...}``.

Secrets are redacted in the chain rather than trusted to callers: a settings
object or an HTTP header logged in a hurry must not leak an API key into a
log index that far more people can read than the secret store.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = [
    "LOG_LEVEL_ENV",
    "REDACTED",
    "adopt_loggers",
    "configure_logging",
    "json_handler",
    "logging_dict_config",
    "parse_level",
    "quiet_probe_access_lines",
    "redact_secrets",
]

#: Environment variable read when no level is passed.
LOG_LEVEL_ENV = "HEALTHSCORE_LOG_LEVEL"
REDACTED = "[REDACTED]"

# Key names that hold credentials. Deliberately broad: a redacted harmless
# field costs a little debugging, a leaked key costs a rotation.
_SECRET_KEY = re.compile(r"secret|passw(or)?d|token|authorization|api[_-]?keys?|cookie", re.I)
# user:password@ inside URLs (REDIS_URL, SMTP URLs, broker URLs).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s:]*:[^/@\s]+@", re.I)
# Faust wants "warn", stdlib wants "warning": accept both everywhere.
_LEVEL_ALIASES = {"warn": "WARNING", "fatal": "CRITICAL"}
# Marks the handler we install so a second call replaces it instead of stacking.
_HANDLER_NAME = "healthscore-structlog"


def parse_level(name: str | int) -> int:
    """Turn ``warn``/``WARNING``/``info``/``10`` into a logging level number.

    Raises ``ValueError`` on anything else, so a typo in
    ``HEALTHSCORE_LOG_LEVEL`` stops the process at start-up instead of
    silently logging at the wrong level.
    """
    if isinstance(name, int):
        return name
    text = name.strip()
    if text.isdigit():
        return int(text)
    canonical = _LEVEL_ALIASES.get(text.lower(), text.upper())
    level = logging.getLevelNamesMapping().get(canonical)
    if level is None:
        raise ValueError(f"unknown log level {name!r}: use debug, info, warn, error or critical")
    return level


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(rf"\g<scheme>{REDACTED}@", value)
    if isinstance(value, Mapping):
        return {k: REDACTED if _is_secret_key(k) else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    return value


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and _SECRET_KEY.search(key) is not None


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask values under secret-looking keys (also nested)
    and credentials embedded in URLs."""
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if _is_secret_key(key) else _redact_value(value)
    return event_dict


def _shared_processors() -> list[Processor]:
    """Run for structlog and stdlib records alike, before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.processors.StackInfoRenderer(),
        _drop_color_message,
        redact_secrets,
    ]


def _drop_color_message(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """uvicorn adds an ANSI-coloured copy of its message; a log index wants one."""
    event_dict.pop("color_message", None)
    return event_dict


def _renderer(json: bool) -> list[Processor]:
    if json:
        return [structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()]
    return [structlog.dev.ConsoleRenderer(colors=False)]


def _configure_structlog() -> list[Processor]:
    """Route structlog loggers through stdlib logging; returns the shared chain."""
    shared = _shared_processors()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return shared


def json_handler(json: bool = True, stream: TextIO | None = None) -> logging.Handler:
    """The handler :func:`configure_logging` installs, on its own: for a
    framework that installs handlers itself from a ``dictConfig`` (Faust's
    ``logging_config``, see :func:`logging_dict_config`). Also configures structlog."""
    shared = _configure_structlog()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderer(json)],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    return handler


def logging_dict_config(level: str | int | None = None) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` equivalent of :func:`configure_logging`.

    Faust (through ``mode``) replaces the root logger's handlers when its worker
    starts; given this as the app's ``logging_config`` it installs ours instead,
    so the worker's own records are JSON from its first line.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {_HANDLER_NAME: {"()": f"{__name__}.json_handler"}},
        "root": {"level": _level_from(level), "handlers": [_HANDLER_NAME]},
    }


def adopt_loggers(*names: str) -> None:
    """Make loggers that a library gave handlers of its own (uvicorn's
    ``uvicorn.error`` / ``uvicorn.access``) propagate to the root logger
    instead, so their records come out in the same JSON shape."""
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


class QuietProbes(logging.Filter):
    """Drops uvicorn's access line for a successful call to one of ``paths``.

    Prometheus scrapes every few seconds and the orchestrator probes as often:
    on an idle API those lines were most of the log and said nothing (a failed
    probe, status 400 and up, still logs). At debug level every line is kept.
    """

    def __init__(self, paths: Iterable[str]) -> None:
        super().__init__()
        self.paths = frozenset(paths)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 5:
            return True  # not uvicorn's access-line shape: keep it
        _client, method, path, _http_version, status = args
        quiet = method == "GET" and path in self.paths and isinstance(status, int) and status < 400
        return not quiet or logging.getLogger().isEnabledFor(logging.DEBUG)


def quiet_probe_access_lines(paths: Iterable[str], logger_name: str = "uvicorn.access") -> None:
    """Install :class:`QuietProbes` for ``paths`` on uvicorn's access logger,
    replacing one installed before (as ``configure_logging`` replaces its handler)."""
    logger = logging.getLogger(logger_name)
    for old in [f for f in logger.filters if isinstance(f, QuietProbes)]:
        logger.removeFilter(old)
    logger.addFilter(QuietProbes(paths))


def _level_from(level: str | int | None) -> int:
    if level is None:
        level = os.environ.get(LOG_LEVEL_ENV, "info")
    return parse_level(level)


def configure_logging(
    level: str | int | None = None, json: bool = True, *, stream: TextIO | None = None
) -> None:
    """Send every log record of the process to ``stream`` (stderr) as one JSON
    object per line (or readable text with ``json=False``, for a terminal).

    ``level`` defaults to ``$HEALTHSCORE_LOG_LEVEL`` (``info`` when unset).
    Call once from the process entry point; calling again reconfigures.
    """
    level_no = _level_from(level)
    handler = json_handler(json, stream)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_no)
