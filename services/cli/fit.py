"""``healthscore fit``: learn dimension weights and the alert threshold from churn outcomes."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from-file", required=True, help="JSON Lines of input events")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
