"""``healthscore worker|api|notifier|readmodel``: run one pipeline process.

Each runs the very module that ``python -m`` runs (``python -m streams
worker``, ``python -m services.api``, ``python -m services.notifier``,
``python -m services.readmodel``, all kept), as ``__main__``, so there is one
entry point per process and the two spellings cannot drift apart. Every
argument after the subcommand goes to that process untouched: the worker
takes Faust's options (``healthscore worker -l info``), the notifier its role
flags (``healthscore notifier --workers-only``). Settings come from the
environment, as for the ``python -m`` form.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from collections.abc import Sequence

#: subcommand -> (module run as __main__, arguments it is given before the user's)
PROCESSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "worker": ("streams", ("worker",)),
    "api": ("services.api", ()),
    "notifier": ("services.notifier", ()),
    "readmodel": ("services.readmodel", ()),
}

HELP = {
    "worker": "run the Faust worker (Faust's worker options follow, e.g. -l info)",
    "api": "serve the HTTP API on HEALTHSCORE_API_PORT",
    "notifier": "run the notifier (dispatcher and delivery workers; --help for its roles)",
    "readmodel": "run the read-model projector (output topics into Redis); `rebuild`: refill Redis",
}


def configure(parser: argparse.ArgumentParser) -> None:
    """Nothing to declare: :func:`run_process` hands every argument on."""


def run(args: argparse.Namespace) -> int:
    return run_process(args.command, [])


def run_process(name: str, argv: Sequence[str]) -> int:
    """Run process ``name`` with ``argv`` as ``python -m <module>`` would; its
    ``SystemExit`` (a code, or a message for stderr) passes through unchanged."""
    module, fixed = PROCESSES[name]
    sys.argv = [f"healthscore {name}", *fixed, *argv]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0
