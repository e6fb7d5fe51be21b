"""A webhook receiver for healthscore deliveries: verify, de-duplicate, then act.

Run it (the secret is the ``secret`` of the ``POST /v1/subscriptions`` response):

    WEBHOOK_SECRET=whsec_... .venv/bin/python docs/examples/webhook_receiver.py --port 9009

It prints one line per delivery it accepts. What every receiver needs, in order:

1. Bound the body before reading it (healthscore's events are a few KiB).
2. Verify ``webhook-signature`` over ``webhook-id``, ``webhook-timestamp`` and
   the raw body with the subscription's secret, using the reference
   ``standardwebhooks`` library; it also rejects timestamps more than five
   minutes off, so a captured request cannot be replayed later. Verify
   before anything else: an unverified id must not enter the seen set.
3. De-duplicate on ``webhook-id``: delivery is at-least-once, and a retry (or a
   request the notifier sent just before it was killed) carries the same id.
   Answer a duplicate with 2xx so the notifier stops retrying it.
4. Act, and forget the id again if that fails (the retry must get in). Here
   "act" is printing a line and the seen set is bounded and in memory; a real
   receiver records the id in the same transaction as its effect (e.g. a
   unique key in its database).

Any 2xx ends the delivery. 5xx, 408, 425, 429, connection errors and no
answer within 10 s are retried with backoff (``Retry-After`` on 429/503 is
honoured); any other 4xx dead-letters the delivery at once. So answer quickly,
do slow work later, and use 5xx (not 4xx) for "try again".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_BODY = 1 << 20  # 1 MiB: far above any healthscore event, far below a memory problem
SEEN_MAX = 100_000  # webhook ids remembered; the oldest are forgotten first


class SeenIds:
    """The most recent ``limit`` webhook ids, safe to share between request threads."""

    def __init__(self, limit: int = SEEN_MAX) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def claim(self, webhook_id: str) -> bool:
        """True the first time an id is seen; check and insert are one step, so
        two concurrent deliveries of one id cannot both be handled."""
        with self._lock:
            if webhook_id in self._ids:
                return False
            self._ids[webhook_id] = None
            while len(self._ids) > self._limit:
                self._ids.popitem(last=False)
            return True

    def forget(self, webhook_id: str) -> None:
        """Handling failed: let the retry of this id in."""
        with self._lock:
            self._ids.pop(webhook_id, None)


def handle(event: dict[str, Any], webhook_id: str) -> None:
    """Your code goes here. ``event`` is a CloudEvent: ``type`` (e.g.
    ``io.healthscore.alert.health_below_threshold``), ``subject`` (the account),
    ``time``, ``id`` and ``data`` (score, band, reasons, owner, ...)."""
    print(f"received {event['type']} for {event['subject']} ({webhook_id})", flush=True)


def make_handler(secret: str, seen: SeenIds) -> type[BaseHTTPRequestHandler]:
    webhook = Webhook(secret)  # raises at start for a malformed secret, not per request

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("content-length") or 0)
            except ValueError:
                return self._answer(HTTPStatus.BAD_REQUEST)
            if not 0 <= length <= MAX_BODY:
                return self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                webhook.verify(body, headers)
            except WebhookVerificationError as exc:
                print(f"rejected: {exc}", flush=True)
                return self._answer(HTTPStatus.UNAUTHORIZED)
            webhook_id = headers["webhook-id"]
            if not seen.claim(webhook_id):
                print(f"duplicate {webhook_id}: already handled", flush=True)
                return self._answer(HTTPStatus.NO_CONTENT)
            try:
                handle(json.loads(body), webhook_id)
            except Exception as exc:  # any failure: let the sender retry
                seen.forget(webhook_id)
                print(f"failed {webhook_id}: {exc!r}", flush=True)
                return self._answer(HTTPStatus.INTERNAL_SERVER_ERROR)
            return self._answer(HTTPStatus.NO_CONTENT)

        def _answer(self, status: HTTPStatus) -> None:
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the lines above are the receiver's log."""

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9009)
    args = parser.parse_args(argv)
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret:
        print("set WEBHOOK_SECRET to the subscription's secret (whsec_...)", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer((args.host, args.port), make_handler(secret, SeenIds()))
    print(f"listening on http://{args.host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
