"""The dictConfig form of configure_logging (what the Faust worker gets) and
adopting library loggers: records come out as JSON lines on stderr."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
import structlog

from streams.observability.logging import adopt_loggers, logging_dict_config


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    yield
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    structlog.reset_defaults()


@pytest.mark.parametrize(("level", "expected"), [("warn", logging.WARNING), ("debug", 10)])
def test_dict_config_sets_the_root_level(level: str, expected: int) -> None:
    assert logging_dict_config(level)["root"]["level"] == expected


def test_dict_config_renders_stdlib_records_as_json(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(logging_dict_config("info"))
    logging.getLogger("faust.worker").warning(
        "dead-lettered", extra={"topic": "cs.usage.v1", "offset": 7}
    )
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["event"] == "dead-lettered"
    assert (record["logger"], record["level"]) == ("faust.worker", "warning")
    assert (record["topic"], record["offset"]) == ("cs.usage.v1", 7)


def test_adopted_logger_propagates_to_root(restore_logging: None) -> None:
    lib = logging.getLogger("some.library")
    lib.addHandler(logging.NullHandler())
    lib.propagate = False

    adopt_loggers("some.library")

    assert lib.handlers == [] and lib.propagate
