"""``healthscore bench``: the pipeline side by side with its ceiling and a naive baseline.

On a fresh embedded broker (Tansu, and Apache Kafka when it can be started)
and one simulated input: raw aiokafka (the ceiling), a first-draft Faust
agent, the real worker and the floor (the real worker with its scoring
domain looked up, not computed), each as its own process; then the worker's
latency at a fixed load, its state bytes per account and its recovery time.
Writes a JSON record and prints a table. Top-level imports stay light: the
bench, Faust and aiokafka load only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

QUICK = {
    "events": 3000,
    "accounts": 300,
    "partitions": 2,
    "latency_rate": 500.0,
    "latency_seconds": 4.0,
    "pipeline_runs": 2,
}


def _positive_int(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.splitlines()[0] if __doc__ else None
    parser.add_argument(
        "--events",
        type=_positive_int,
        default=1_000_000,
        help="events to produce and consume (default 1,000,000)",
    )
    parser.add_argument(
        "--accounts", type=_positive_int, default=50_000, help="simulated accounts (default 50,000)"
    )
    parser.add_argument(
        "--partitions", type=_positive_int, default=4, help="partitions per input topic (default 4)"
    )
    parser.add_argument(
        "--broker",
        choices=["tansu", "apache", "both"],
        default=None,
        help="broker(s) to run on (default: both when Apache Kafka can be started, else tansu)",
    )
    parser.add_argument(
        "--latency-rate",
        type=float,
        default=5000.0,
        metavar="EVENTS_PER_S",
        help="offered load for the latency phase (default 5000)",
    )
    parser.add_argument(
        "--latency-seconds",
        type=float,
        default=20.0,
        help="length of the latency phase (default 20)",
    )
    parser.add_argument(
        "--pipeline-runs",
        type=_positive_int,
        default=3,
        help="fresh pipeline workers over the same input; the median is reported (default 3)",
    )
    parser.add_argument("--seed", type=int, default=42, help="simulation seed (default 42)")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("bench/results.json"),
        help="results JSON (default bench/results.json)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes for a smoke test (3,000 events, 300 accounts, 2 pipeline runs)",
    )
    parser.add_argument(
        "--pipeline-dir",
        type=Path,
        default=None,
        help="checkout whose streams/ worker is measured (default: this one)",
    )
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the floor (the worker with its domain looked up; ~3 minutes at 1M events)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    parser.add_argument(
        "--workspace",
        action="store_true",
        help="instead: server time of the web app and workspace API routes with --accounts "
        "accounts in the read model (results under the 'workspace' key)",
    )
    parser.add_argument(
        "--requests",
        type=_positive_int,
        default=50,
        help="requests per route for --workspace (default 50)",
    )


def _brokers(choice: str | None) -> list[str]:
    from services.bench.run import apache_kafka_available

    if choice == "both":
        return ["tansu", "apache"]
    if choice is not None:
        return [choice]
    return ["tansu", "apache"] if apache_kafka_available() else ["tansu"]


def run(args: argparse.Namespace) -> int:
    import logging

    from services.bench.progress import ProgressLine
    from services.bench.report import format_table, write_json
    from services.bench.run import run_bench
    from services.bench.suite import BenchParams

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.workspace:
        from services.bench import workspace

        accounts = QUICK["accounts"] if args.quick else args.accounts
        return workspace.run(int(accounts), args.requests, args.seed, args.output)
    sizes = {
        "events": args.events,
        "accounts": args.accounts,
        "partitions": args.partitions,
        "latency_rate": args.latency_rate,
        "latency_seconds": args.latency_seconds,
        "pipeline_runs": args.pipeline_runs,
    }
    if args.quick:
        sizes.update(QUICK)
    if args.pipeline_dir is not None:
        sizes["pipeline_dir"] = args.pipeline_dir.resolve()
    params = BenchParams(seed=args.seed, floor=not args.no_floor, **sizes)
    bar = ProgressLine(enabled=not args.no_progress)
    results = run_bench(params, _brokers(args.broker), bar)
    results["parameters"]["quick"] = args.quick
    write_json(results, args.output)
    bar.note(f"results written to {args.output}")
    sys.stdout.write(format_table(results))
    failed = [kind for kind, result in results["brokers"].items() if "error" in result]
    for kind in failed:
        sys.stderr.write(f"bench: {kind} failed: {results['brokers'][kind]['error']}\n")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (``python -m services.cli.bench``), same as ``healthscore bench``."""
    from streams.speedups import native

    native.install()
    parser = argparse.ArgumentParser(prog="healthscore bench")
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
