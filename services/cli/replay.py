"""``healthscore replay``: run the worker's domain code over a file of events.

No broker: events are validated with the contract, placed on the partition
Kafka's default partitioner would choose, and fed to the same
``PartitionEngine`` the live worker uses, so a replay with the same model
gives the same scores and alert ids as the live run (backtesting), and a
replay with another model shows what it would have flagged (what-if).
Outputs are printed as CloudEvents JSON lines; a summary goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from-file", required=True, type=Path, help="JSON Lines of input events")
    parser.add_argument("--model", type=Path, default=None, help="scoring model YAML")
    parser.add_argument("--partitions", type=int, default=4, help="as on the live topics")
    parser.add_argument(
        "--output", default="-", help="where to write output events (default: stdout)"
    )
    parser.add_argument(
        "--until", default=None, metavar="RFC3339",
        help="after the last event, move every partition's clock to this time (as the live "
        "tick does), so silent accounts age and alert the same on every partition",
    )  # fmt: skip
    parser.add_argument(
        "--only",
        choices=("all", "health", "alerts", "dunning", "lifecycle"),
        default="all",
        help="which outputs to print",
    )
    parser.add_argument(
        "--now",
        type=_timestamp,
        default=None,
        help="the wall-clock time the events are bounded by (ISO 8601; default: now): one"
        " more than HEALTHSCORE_MAX_FUTURE_SECONDS (default 3600) after it is rejected,"
        " as the live worker dead-letters it",
    )


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _limit(now: datetime | None) -> datetime:
    """The latest event time accepted: ``now`` plus the worker's tolerance."""
    from services.replay import future_tolerance_s

    return (now or datetime.now(UTC)) + timedelta(seconds=future_tolerance_s())


def run(args: argparse.Namespace) -> int:
    from services.cli.backtest import until_seconds
    from services.replay import ReplayError, replay_file

    try:
        limit = _limit(args.now)
    except ValueError as exc:
        sys.stderr.write(f"healthscore replay: {exc}\n")
        return 2
    try:
        summary = replay_file(
            args.from_file,
            model_path=args.model,
            partitions=args.partitions,
            output=args.output,
            only=args.only,
            until_s=until_seconds(args.until),
            limit=limit,
        )
    except (ReplayError, ValueError) as exc:
        sys.stderr.write(f"healthscore replay: {exc}\n")
        return 2
    except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
        return 0
    sys.stderr.write(summary.render())
    return 0
