"""The ``healthscore`` command: one entry point, one module per subcommand.

Subcommand modules are imported only when chosen, so ``healthscore simulate``
does not pay for importing Faust and ``healthscore replay`` needs no broker.
Each module exposes ``configure(parser)`` and ``run(args) -> int``. The
pipeline processes (``worker``, ``api``, ``notifier``, ``readmodel``) take
their own options, so their arguments bypass this parser
(:mod:`services.cli.processes`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from services.cli.processes import HELP, PROCESSES, run_process
from streams.speedups import native

#: subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "stack": ("services.cli.stack", "run the embedded broker and Redis (and the pipeline)"),
    "simulate": ("services.cli.simulate", "produce realistic simulated events"),
    "replay": ("services.cli.replay", "score a file of events offline (backtest, what-if)"),
    "backtest": (
        "services.cli.backtest",
        "measure how well the score predicts churn, beside a baseline and a ceiling",
    ),
    "fit": ("services.cli.fit", "learn dimension weights from outcomes; report a held-back period"),
    "native": ("services.cli.native", "compile the scoring engine with mypyc (optional speed-up)"),
    "bench": (
        "services.cli.bench",
        "benchmark the pipeline against its ceiling and a naive baseline",
    ),
    **{name: ("services.cli.processes", HELP[name]) for name in PROCESSES},
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healthscore", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text)
        sub_parser.set_defaults(_module=module)
        # Only the chosen module is imported to run; configure() is cheap metadata.
        importlib.import_module(module).configure(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] != ["native"]:  # the build command must run without a usable build
        native.install()
    if arguments and arguments[0] in PROCESSES:
        return run_process(arguments[0], arguments[1:])
    args = build_parser().parse_args(arguments)
    code: int = importlib.import_module(args._module).run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
