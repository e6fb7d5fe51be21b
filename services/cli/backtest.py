"""``healthscore backtest``: how well the score predicts churn, beside a baseline and a ceiling.

Replays a JSON Lines history through the live engine a day at a time (the
live tick's clock), takes the churn outcomes from its ``subscription_canceled``
events and reports, in one run: ROC AUC at T-30 d and T-7 d, alert recall at
>= 30 d and >= 7 d lead and the false-alarm rate, recall at 20 % false
alarms, at-risk list precision, median lead time and alerts per
account-month, for the score, a days-since-last-activity baseline and a
cross-validated classifier on the same features and cut-offs (the ceiling).
Prints a table; ``--json`` and ``--html`` write the record and a report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_WARM_UP = 90


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from-file", required=True, type=Path, help="JSON Lines of input events")
    parser.add_argument("--model", type=Path, default=None, help="scoring model YAML")
    parser.add_argument(
        "--until", default=None, metavar="RFC3339",
        help="move every account's clock to this time after the last event (the live tick)",
    )  # fmt: skip
    parser.add_argument(
        "--warm-up-days", type=int, default=DEFAULT_WARM_UP,
        help=f"days of history before the first evaluated cut-off (default {DEFAULT_WARM_UP})",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--html", type=Path, default=None, help="write an HTML report with plots")
    parser.add_argument("--quiet", action="store_true", help="no progress output on stderr")


def until_seconds(text: str | None) -> int | None:
    """``--until`` as epoch seconds; ``ValueError`` names the expected format."""
    if text is None:
        return None
    from services.simulator.clock import parse_rfc3339

    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise ValueError(f"--until: {exc} (expected RFC 3339, e.g. 2026-11-23T00:00:00Z)") from None


def run(args: argparse.Namespace) -> int:
    from services.backtest.report import compact, html_page, table
    from services.backtest.run import BacktestError, backtest_file

    progress = None if args.quiet else progress_line
    try:
        result = backtest_file(
            args.from_file,
            model_path=args.model,
            until_s=until_seconds(args.until),
            warm_up=args.warm_up_days,
            progress=progress,
        )
        sys.stdout.write(table(result))
        write_outputs(result, args.json, args.html, compact, html_page)
    except (BacktestError, ValueError) as exc:
        sys.stderr.write(f"healthscore backtest: {exc}\n")
        return 2
    return 0


def write_outputs(
    result: dict[str, Any], json_path: Path | None, html_path: Path | None, compact: Any, page: Any
) -> None:
    import json

    from services.backtest.run import BacktestError

    try:
        if json_path is not None:
            json_path.write_text(json.dumps(compact(result), indent=2) + "\n", encoding="utf-8")
        if html_path is not None:
            html_path.write_text(page(result), encoding="utf-8")
    except OSError as exc:
        raise BacktestError(f"cannot write the report: {exc.strerror}") from None


def progress_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
