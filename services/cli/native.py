"""``healthscore native``: compile the scoring engine with mypyc into ``build/native``.

The build is an optional speed-up of the same Python source (see
``streams/speedups/native.py``): without a C compiler everything still runs, on the
pure-Python modules. ``make native`` runs this when a compiled source changed.

The manifest's source digests are taken *before* compiling, so a file edited
during the build leaves the build stale (never used) rather than mislabelled.
The new build is assembled in a scratch directory and swapped in whole, so a
failed or interrupted build leaves the previous one (or none) in place.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

GROUP = "streams.compiled"
"""The shared library's module name: inside ``streams``, so it loads from the
build directory through ``streams.__path__`` like the modules do."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=("build", "status"), nargs="?", default="build",
        help="build (default) or say whether the compiled build is in use",
    )  # fmt: skip
    parser.add_argument("--opt-level", default="3", choices=("0", "1", "2", "3"))
    parser.add_argument(
        "--verbose", action="store_true",
        help="show mypyc's and the C compiler's output (else in build/native-build.log)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    if args.action == "status":
        from streams.speedups import native

        state = native.status()
        sys.stdout.write(f"{'compiled' if state.active else 'pure Python'}: {state.reason}\n")
        return 0
    # The build reads the sources and must not load an old build of them, nor
    # refuse to start because there is none yet (HEALTHSCORE_NATIVE=require in CI).
    os.environ["HEALTHSCORE_NATIVE"] = "off"
    from streams.speedups import native

    started = time.monotonic()
    _say(f"compiling {len(native.MODULES)} modules with mypyc (about a minute)")
    log = native.BUILD_DIR.parent / "native-build.log"
    try:
        build(
            native.ROOT, native.BUILD_DIR, opt_level=args.opt_level,
            log=None if args.verbose else log,
        )  # fmt: skip
    except (Exception, SystemExit) as exc:  # any failure: the pure-Python modules still run
        tail = log.read_text(errors="replace").splitlines()[-20:] if log.exists() else []
        sys.stderr.write("".join(f"  {line}\n" for line in tail))
        sys.stderr.write(
            f"healthscore native: build failed ({exc!r}; full output in {log}); "
            "the pure-Python engine stays in use\n"
        )
        return 1
    _say(f"built {native.BUILD_DIR} in {time.monotonic() - started:.0f} s")
    return 0


def _say(message: str) -> None:
    sys.stdout.write(f"healthscore native: {message}\n")
    sys.stdout.flush()


def build(root: Path, out: Path, *, opt_level: str = "3", log: Path | None = None) -> None:
    """Compile ``streams.speedups.native.MODULES`` of ``root`` into ``out`` (replaced whole);
    mypyc's and the compiler's output go to ``log`` when given."""
    from streams.speedups import native

    manifest = native.fingerprint(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".native-") as scratch:
        stage = Path(scratch) / "lib"
        with _output_to(log), _cwd(root):
            _compile(Path(scratch), stage, opt_level)
        (stage / native.MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        old = Path(scratch) / "old"
        if out.exists():
            out.rename(old)
        stage.rename(out)


def _compile(scratch: Path, stage: Path, opt_level: str) -> None:
    from mypyc.build import mypycify
    from setuptools import Distribution

    from streams.speedups import native

    extensions = mypycify(
        list(native.MODULES),
        opt_level=opt_level,
        group_name=GROUP,
        target_dir=str(scratch / "c"),
    )
    dist = Distribution({"name": "healthscore-native", "ext_modules": extensions})
    command = dist.get_command_obj("build_ext")
    command.build_lib = str(stage)
    command.build_temp = str(scratch / "obj")
    dist.run_command("build_ext")
    # Only the extensions belong in the build directory.
    for leftover in stage.rglob("*"):
        if leftover.is_file() and not leftover.name.endswith(native.extension_suffix()):
            leftover.unlink()


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    """mypyc names modules by their paths relative to the working directory."""
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@contextlib.contextmanager
def _output_to(log: Path | None) -> Iterator[None]:
    """Send mypyc's and the compiler's screens of output to ``log`` (file
    descriptors 1 and 2, since gcc writes there directly)."""
    if log is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("w") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
