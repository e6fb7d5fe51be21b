"""``healthscore backtest``: how well the score predicts churn, beside a baseline and a ceiling.

Replays a history - a JSON Lines file, or the input topics of a Kafka cluster
(``--from-kafka``) - through the live engine a day at a time (the live tick's
clock), over the event-time range ``--since``/``--until`` (default: all of
it), takes the churn outcomes from its ``subscription_canceled``
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
from typing import TYPE_CHECKING, Any

from services.backtest import DEFAULT_LATENESS_S

if TYPE_CHECKING:
    from services.backtest.window import Source

DEFAULT_WARM_UP = 90


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Measure how well the score predicts churn, beside a recency baseline and a "
        "cross-validated ceiling, over a JSON Lines history or the input topics of a Kafka "
        "cluster, between --since and --until (event time)."
    )
    parser.epilog = (
        "With --from-kafka each partition is read from its first record stamped an hour "
        "(HEALTHSCORE_MAX_FUTURE_SECONDS) before --since up to the end offsets when the read "
        "starts, merged into event-time order; undecodable records are counted, not fatal. "
        "See docs/model.md, section Tuning."
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-file", type=Path, metavar="PATH", help="JSON Lines of input events")
    source.add_argument(
        "--from-kafka", action="store_true",
        help="read the five input topics (cs.usage.v1, ...) at --bootstrap instead, from the "
        "first record stamped at --since up to the end offsets when reading starts; "
        "TLS/SASL from KAFKA_SECURITY_PROTOCOL and KAFKA_SASL_*/KAFKA_SSL_CAFILE",
    )  # fmt: skip
    parser.add_argument(
        "--bootstrap", default=None, metavar="HOST:PORT[,...]",
        help="with --from-kafka: Kafka bootstrap servers (default $KAFKA_BOOTSTRAP_SERVERS, as "
        "every process)",
    )  # fmt: skip
    parser.add_argument("--model", type=Path, default=None, help="scoring model YAML")
    parser.add_argument(
        "--since", default=None, metavar="RFC3339",
        help="leave out events (by their event time) before this time",
    )  # fmt: skip
    parser.add_argument(
        "--until", default=None, metavar="RFC3339",
        help="leave out events at or after this time, and move every account's clock to it "
        "after the last event (the live tick)",
    )  # fmt: skip
    parser.add_argument(
        "--max-lateness-hours", type=float, default=DEFAULT_LATENESS_S / 3600, metavar="H",
        help="with --from-kafka and --until: stop reading a partition once its events are "
        "this far past --until (a later late event is missed; default %(default)g)",
    )  # fmt: skip
    parser.add_argument(
        "--warm-up-days", type=int, default=DEFAULT_WARM_UP,
        help=f"days of history before the first evaluated cut-off (default {DEFAULT_WARM_UP})",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--html", type=Path, default=None, help="write an HTML report with plots")
    parser.add_argument("--quiet", action="store_true", help="no progress output on stderr")


def until_seconds(text: str | None, flag: str = "--until") -> int | None:
    """``--until`` (or ``flag``) as epoch seconds; ``ValueError`` names the expected format."""
    if text is None:
        return None
    from services.simulator.clock import parse_rfc3339

    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise ValueError(f"{flag}: {exc} (expected RFC 3339, e.g. 2026-11-23T00:00:00Z)") from None


def source_of(args: argparse.Namespace) -> Source:
    """The history the arguments name; ``ValueError`` for bad Kafka settings."""
    from services.backtest.window import FileSource

    if args.from_kafka is False:
        if args.bootstrap is not None:
            raise ValueError("--bootstrap goes with --from-kafka")
        return FileSource(args.from_file)
    from pydantic import ValidationError

    from services.backtest.kafka_history import KafkaSource
    from streams.worker.connections import KafkaSettings

    if not args.max_lateness_hours >= 0:
        raise ValueError("--max-lateness-hours must be 0 or more")
    try:
        settings = KafkaSettings()
    except ValidationError as exc:
        raise ValueError(f"bad Kafka settings: {exc}") from None
    bootstrap = args.bootstrap or settings.kafka_bootstrap_servers
    return KafkaSource(bootstrap, settings, lateness_s=round(args.max_lateness_hours * 3600))


def run(args: argparse.Namespace) -> int:
    from services.backtest.report import compact, html_page, table
    from services.backtest.run import BacktestError, backtest
    from services.backtest.window import Window

    progress = None if args.quiet else progress_line
    try:
        window = Window(until_seconds(args.since, "--since"), until_seconds(args.until))
        result = backtest(
            source_of(args),
            window,
            model_path=args.model,
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
