"""``python -m services.readmodel [rebuild]``: run the read-model projector, or
rebuild Redis from Kafka once (``healthscore readmodel rebuild``) and exit."""

from __future__ import annotations

import argparse
import asyncio
import sys

from services.readmodel.projector import run
from services.readmodel.rebuild import RebuildError, rebuild
from services.readmodel.settings import ReadModelSettings
from services.readmodel.subscription_log import SealError, SecretSealer
from streams.observability.logging import configure_logging


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="healthscore readmodel", description=__doc__)
    parser.add_argument(
        "action",
        nargs="?",
        choices=["project", "rebuild"],
        default="project",
        help="project (default): follow the output topics; rebuild: repopulate Redis "
        "from the beginning of the topics and exit",
    )
    return parser.parse_args(argv)


def rebuild_once(settings: ReadModelSettings) -> int:
    """Run a rebuild; progress on stdout, a clear error on stderr; the exit code."""

    def say(line: str) -> None:
        sys.stdout.write(f"rebuild: {line}\n")
        sys.stdout.flush()

    try:
        sealer = SecretSealer.from_setting(settings.subscription_keys)
        report = asyncio.run(rebuild(settings, sealer, say))
    except (RebuildError, SealError) as exc:
        sys.stderr.write(f"healthscore readmodel rebuild: {exc}\n")
        return 1
    say(report.summary())
    for problem in report.unreadable:
        sys.stderr.write(f"healthscore readmodel rebuild: subscription not restored: {problem}\n")
    return 1 if report.unreadable else 0


if __name__ == "__main__":
    configure_logging()  # JSON lines, level from HEALTHSCORE_LOG_LEVEL
    args = parse_args(sys.argv[1:])
    if args.action == "rebuild":
        sys.exit(rebuild_once(ReadModelSettings()))
    asyncio.run(run(ReadModelSettings()))
