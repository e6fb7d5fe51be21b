"""An input that passes validation but makes its step raise is dead-lettered
with the error, and the worker goes on: the inputs around it are scored and
the worker does not exit (which, with the input re-read at every restart,
would stop its partitions for good).

The poison here is real: a payment failure dated in the year 9999 overflows
the dunning schedule's date arithmetic. The bounded-time check rejects it
before the engine with the default tolerance, so the test lifts the
tolerance to reach the engine's own guard."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from schemas import topics
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import produce, read_until
from tests.integration.test_ingest_deadletter import _good
from tests.integration.worker_process import running_worker


def poison(account: str) -> tuple[str, bytes, bytes]:
    event = {"id": f"{account}-poison", "account_id": account, "type": "payment_failed",
             "time": "9999-12-31T23:59:00Z", "invoice_id": "in_1", "amount_cents": 100,
             "currency": "USD", "decline_code": "insufficient_funds"}  # fmt: skip
    return topics.BILLING, account.encode(), orjson.dumps(event)


@pytest.mark.timeout(240)
async def test_an_input_that_makes_the_engine_raise_is_dead_lettered(
    tansu_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    bootstrap = tansu_bootstrap
    await ensure_topics(bootstrap, 4)
    bad, good = unique_name("poisoned"), unique_name("after")
    await produce(bootstrap, [*_good(bad)[:2], poison(bad), *_good(good)])
    exits: list[int] = []
    with running_worker(
        bootstrap,
        unique_name("worker"),
        tmp_path / "w",
        exits=exits,
        HEALTHSCORE_MAX_FUTURE_SECONDS="1e12",
    ) as log:
        dead = await read_until(
            bootstrap, topics.DEADLETTER, done=lambda kept: len(kept) >= 1,
            keep=lambda r: r.key == bad.encode(), timeout=90,
        )  # fmt: skip
        health = await read_until(
            bootstrap, topics.HEALTH, done=lambda kept: len(kept) >= 1,
            keep=lambda r: r.key == good.encode(), timeout=60,
        )  # fmt: skip
        worker_log = log.read_text(errors="replace")
    assert dead, worker_log[-3000:]
    letter = orjson.loads(dead[0].value)
    assert letter["reason"].startswith("processing raised OverflowError"), letter
    assert letter["topic"] == topics.BILLING
    assert orjson.loads(base64.b64decode(letter["value_b64"]))["id"] == f"{bad}-poison"
    assert health, "the inputs after the poison were not scored"
    assert exits == [0], worker_log[-3000:]
