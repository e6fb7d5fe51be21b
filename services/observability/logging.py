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
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["LOG_LEVEL_ENV", "REDACTED", "configure_logging", "parse_level", "redact_secrets"]

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
        redact_secrets,
    ]


def _renderer(json: bool) -> list[Processor]:
    if json:
        return [structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()]
    return [structlog.dev.ConsoleRenderer(colors=False)]


def configure_logging(
    level: str | int | None = None, json: bool = True, *, stream: TextIO | None = None
) -> None:
    """Send every log record of the process to ``stream`` (stderr) as one JSON
    object per line (or readable text with ``json=False``, for a terminal).

    ``level`` defaults to ``$HEALTHSCORE_LOG_LEVEL`` (``info`` when unset).
    Call once from the process entry point; calling again reconfigures.
    """
    if level is None:
        level = os.environ.get(LOG_LEVEL_ENV, "info")
    level_no = parse_level(level)
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
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderer(json)],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_no)
