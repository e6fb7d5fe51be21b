"""``healthscore simulate``: realistic customer events, to Kafka or to a JSON Lines file.

It is both the demo's data source and the benchmarks' load generator, so it
paces accurately (``--rate``), can run forever (``--follow``) and is
byte-deterministic for a fixed ``--seed`` and ``--end``. Top-level imports stay
light: the simulator and aiokafka are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.simulator.feed import EventFeed
    from services.simulator.pacing import Progress

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_PRODUCE_RATE = 500.0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _timestamp(text: str) -> int:
    from services.simulator.clock import parse_rfc3339

    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{exc} (expected RFC 3339, e.g. 2026-11-23T00:00:00Z)"
        ) from None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.splitlines()[0] if __doc__ else None
    parser.add_argument(
        "--accounts", type=_positive_int, default=200, help="simulated accounts (default 200)"
    )
    parser.add_argument(
        "--days", type=_positive_int, default=30, help="days of history before --end (default 30)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--end",
        type=_timestamp,
        default=None,
        metavar="RFC3339",
        help="end of the history (default now); fix it for byte-identical output",
    )
    parser.add_argument(
        "--rate",
        type=_rate,
        default=None,
        metavar="EVENTS_PER_S",
        help="pace in events/s, 0 = as fast as possible "
        "(default 0 with --output, 500 when producing)",
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="after the history, keep generating live events (event time = now) until stopped",
    )
    parser.add_argument(
        "--max-events",
        type=_positive_int,
        default=None,
        metavar="N",
        help="stop after N events in all",
    )
    parser.add_argument(
        "--output",
        default=None,
        metavar="PATH|-",
        help="write JSON Lines (one input event per line) instead of producing",
    )
    parser.add_argument(
        "--bootstrap",
        default=None,
        metavar="HOST:PORT[,...]",
        help=f"Kafka bootstrap servers (default $KAFKA_BOOTSTRAP_SERVERS or {DEFAULT_BOOTSTRAP})",
    )


def _report(progress: Progress) -> None:
    phase = "live" if progress.live else "history"
    sys.stderr.write(
        f"simulate: {progress.sent:,} events sent, {progress.rate:,.0f} events/s ({phase})\n"
    )
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    import time

    from services.simulator import EventFeed, Simulation

    end = args.end if args.end is not None else int(time.time())
    rate = args.rate if args.rate is not None else (0.0 if args.output else DEFAULT_PRODUCE_RATE)
    sim = Simulation.create(accounts=args.accounts, days=args.days, seed=args.seed, end=end)
    feed = EventFeed(sim, follow=args.follow, max_events=args.max_events)
    started = time.monotonic()
    if args.output is not None:
        code, sent = _write(feed, args.output, rate=rate, follow=args.follow)
        target = "stdout" if args.output == "-" else args.output
    else:
        bootstrap = args.bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or DEFAULT_BOOTSTRAP
        code, sent = _produce(feed, bootstrap, rate=rate)
        target = bootstrap
    if code == 0:
        elapsed = max(time.monotonic() - started, 1e-9)
        sys.stderr.write(
            f"simulate: {sent:,} events to {target} in {elapsed:.1f} s "
            f"({sent / elapsed:,.0f} events/s)\n"
        )
    return code


def _write(feed: EventFeed, output: str, *, rate: float, follow: bool) -> tuple[int, int]:
    import asyncio

    from services.simulator.jsonl import write_jsonl

    try:
        stream = sys.stdout.buffer if output == "-" else open(output, "wb")  # noqa: SIM115
    except OSError as exc:
        sys.stderr.write(f"simulate: cannot write {output}: {exc.strerror}\n")
        return 1, 0
    try:
        sent = asyncio.run(write_jsonl(feed, stream, rate=rate, follow=follow, progress=_report))
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): that is a normal way to stop.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0, feed.taken
    finally:
        if stream is not sys.stdout.buffer:
            stream.close()
    return 0, sent


def _produce(feed: EventFeed, bootstrap: str, *, rate: float) -> tuple[int, int]:
    import asyncio

    from pydantic import ValidationError

    from services.simulator.producer import (
        BrokerUnavailableError,
        KafkaError,
        KafkaLoginError,
        ProducerSettings,
        produce,
    )
    from streams.worker.kafka_security import KafkaSecurity

    try:
        settings = ProducerSettings(bootstrap, security=KafkaSecurity())
    except ValidationError as exc:
        sys.stderr.write(f"simulate: bad Kafka security settings: {exc}\n")
        return 2, 0
    try:
        sent = asyncio.run(produce(feed, settings, rate=rate, progress=_report))
    except (BrokerUnavailableError, KafkaLoginError) as exc:
        sys.stderr.write(f"simulate: {exc}\n")
        return 1, 0
    except KafkaError as exc:
        sys.stderr.write(f"simulate: producing to {bootstrap} failed: {exc!r}\n")
        return 1, feed.taken
    return 0, sent
