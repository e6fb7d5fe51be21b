"""``python -m services.notifier``: dispatcher + delivery workers in one process.

Flags choose the role; everything else comes from the environment
(``services/notifier/settings.py``). SIGTERM/SIGINT stop gracefully: no new
reads, in-flight deliveries finish (up to the grace period).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from services.notifier.app import run
from services.notifier.metrics import serve_metrics
from services.notifier.settings import NotifierSettings
from streams.observability.logging import configure_logging


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m services.notifier", description=__doc__)
    role = parser.add_mutually_exclusive_group()
    role.add_argument("--dispatcher-only", action="store_true", help="only match and enqueue")
    role.add_argument("--workers-only", action="store_true", help="only deliver")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="delivery workers in this process (default: settings)",
    )
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace, settings: NotifierSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    workers = settings.workers if args.workers is None else args.workers
    await run(
        settings,
        dispatcher=not args.workers_only,
        workers=0 if args.dispatcher_only else workers,
        stop=stop,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = NotifierSettings()
    configure_logging(settings.log_level)  # JSON lines on stderr
    # httpx logs every request URL at INFO: Slack URLs are secrets.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    serve_metrics(settings.metrics_port, settings.metrics_host)
    asyncio.run(_main(args, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
