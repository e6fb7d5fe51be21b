"""docs/examples/webhook_receiver.py, the receiver docs/webhooks.md tells users to copy,
run as a user runs it and sent requests signed by the notifier's own signing code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from services.notifier.channels.webhook import signed_headers
from services.stack.process import free_port

ROOT = Path(__file__).resolve().parents[2]
RECEIVER = ROOT / "docs" / "examples" / "webhook_receiver.py"
SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtZXhhbXBsZS1yZWNlaXZlcg=="
EVENT = {
    "specversion": "1.0",
    "id": "alert:acme:health_below_threshold:2026-11-03T00:00:00Z",
    "source": "/healthscore/streams",
    "type": "io.healthscore.alert.health_below_threshold",
    "subject": "acme",
    "time": "2026-11-03T00:00:00Z",
    "data": {"account_id": "acme", "score": 41.5, "band": "at_risk"},
}


@dataclass
class Running:
    url: str
    log: Path

    def post(
        self, body: bytes, delivery_id: str, *, secret: str = SECRET, at: datetime | None = None
    ) -> int:
        headers = signed_headers(secret, delivery_id, at or datetime.now(UTC), body.decode())
        return httpx.post(self.url, content=body, headers=headers, timeout=5).status_code

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Running]:
    port = free_port()
    log = tmp_path / "receiver.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(RECEIVER), "--port", str(port)],
            env={**os.environ, "WEBHOOK_SECRET": SECRET},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while "listening on" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.05)
        yield Running(f"http://127.0.0.1:{port}/hook", log)
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_signed_delivery_is_accepted_once(receiver: Running) -> None:
    body = orjson.dumps(EVENT)

    assert receiver.post(body, "msg_1") == 204
    assert receiver.post(body, "msg_1") == 204  # the notifier's retry: same webhook-id

    assert receiver.lines()[1:] == [
        "received io.healthscore.alert.health_below_threshold for acme (msg_1)",
        "duplicate msg_1: already handled",
    ]


@pytest.mark.parametrize(
    ("secret", "age"),
    [
        ("whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==", timedelta(0)),
        (SECRET, timedelta(minutes=10)),  # a captured request replayed later
    ],
    ids=["wrong-secret", "stale-timestamp"],
)
def test_forged_or_replayed_requests_are_rejected_and_not_remembered(
    receiver: Running, secret: str, age: timedelta
) -> None:
    body = orjson.dumps(EVENT)

    assert receiver.post(body, "msg_2", secret=secret, at=datetime.now(UTC) - age) == 401
    # The rejected id did not enter the seen set: the genuine delivery still gets in.
    assert receiver.post(body, "msg_2") == 204
    assert receiver.lines()[-1].startswith("received ")


def test_a_delivery_whose_handling_fails_is_retried_not_deduplicated(receiver: Running) -> None:
    body = orjson.dumps({k: v for k, v in EVENT.items() if k != "subject"})

    assert receiver.post(body, "msg_3") == 500  # 5xx: the notifier retries
    assert receiver.post(body, "msg_3") == 500  # handled again, not skipped as a duplicate


def test_an_oversized_body_is_refused_unread(receiver: Running) -> None:
    """Only the headers are sent: the receiver must answer from Content-Length alone."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n")
        status_line = sock.recv(200).split(b"\r\n", 1)[0]

    assert status_line.split()[1] == b"413"


def test_the_notifier_signature_verifies_with_the_reference_library() -> None:
    """What the receiver relies on: the notifier's headers are Standard Webhooks'."""
    body = orjson.dumps(EVENT).decode()
    headers = signed_headers(SECRET, "msg_4", datetime.now(UTC), body)

    assert Webhook(SECRET).verify(body, headers) == EVENT
