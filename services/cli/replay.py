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


def run(args: argparse.Namespace) -> int:
    from services.cli.backtest import until_seconds
    from services.replay import ReplayError, replay_file

    try:
        summary = replay_file(
            args.from_file,
            model_path=args.model,
            partitions=args.partitions,
            output=args.output,
            only=args.only,
            until_s=until_seconds(args.until),
        )
    except (ReplayError, ValueError) as exc:
        sys.stderr.write(f"healthscore replay: {exc}\n")
        return 2
    except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
        return 0
    sys.stderr.write(summary.render())
    return 0
