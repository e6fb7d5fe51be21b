"""Without Java the Apache Kafka tests skip and say why; under
``HEALTHSCORE_REQUIRE_APACHE_KAFKA=1`` (CI) they fail instead.

Runs one real Apache Kafka test in a child pytest on a PATH without ``java``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.barepath import ROOT, path_without

pytestmark = pytest.mark.integration

TEST = "tests/integration/test_stack.py::test_ensure_topics_is_idempotent[apache]"


def _run_without_java(tmp_path: Path, require: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PYTEST_ADDOPTS")}
    env["PATH"] = path_without(frozenset({"java"}), env.get("PATH", ""), tmp_path / "bin")
    env["HEALTHSCORE_REQUIRE_APACHE_KAFKA"] = "1" if require else "0"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", TEST],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_without_java_the_apache_tests_skip_with_the_reason(tmp_path: Path) -> None:
    done = _run_without_java(tmp_path, require=False)

    assert done.returncode == 0, done.stdout
    assert "1 skipped" in done.stdout
    assert "Apache Kafka could not be started: `java` not found on PATH" in done.stdout


def test_without_java_the_apache_tests_fail_when_required(tmp_path: Path) -> None:
    done = _run_without_java(tmp_path, require=True)

    assert done.returncode == 1, done.stdout
    assert "1 error" in done.stdout or "1 failed" in done.stdout
    assert "HEALTHSCORE_REQUIRE_APACHE_KAFKA=1" in done.stdout
