"""``healthscore fit``: learn dimension weights and the alert threshold from churn outcomes.

Replays a JSON Lines history with a base model, fits the weights and the
threshold on the cut-offs before ``--split`` (``services.backtest.fit``),
writes the fitted model YAML, then replays the history with it and reports
the backtest of the *held-back* period after the split for both the base and
the fitted model, side by side with the baseline and the ceiling on the same
held-back samples. Training figures are printed only as context.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from services.cli.backtest import DEFAULT_WARM_UP, progress_line, until_seconds


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from-file", required=True, type=Path, help="JSON Lines of input events")
    parser.add_argument("--model", type=Path, default=None, help="base scoring model YAML")
    parser.add_argument(
        "--output", required=True, type=Path, help="where to write the fitted model YAML"
    )
    parser.add_argument(
        "--split", default=None, metavar="RFC3339",
        help="train on cut-offs whose outcome is known before this time, test after it "
        "(default: 60%% of the way through the history)",
    )  # fmt: skip
    parser.add_argument("--until", default=None, metavar="RFC3339", help="as for backtest")
    parser.add_argument("--warm-up-days", type=int, default=DEFAULT_WARM_UP)
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress output on stderr")


def run(args: argparse.Namespace) -> int:
    from services.backtest.fitrun import fit_file
    from services.backtest.run import BacktestError

    progress = None if args.quiet else progress_line
    try:
        text = fit_file(
            args.from_file,
            model_path=args.model,
            output=args.output,
            split_s=until_seconds(args.split),
            until_s=until_seconds(args.until),
            warm_up=args.warm_up_days,
            json_path=args.json,
            progress=progress,
        )
    except (BacktestError, ValueError) as exc:
        sys.stderr.write(f"healthscore fit: {exc}\n")
        return 2
    sys.stdout.write(text)
    return 0
