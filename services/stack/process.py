"""Server processes for the dev stack and the tests: start, wait until ready, stop.

Every server (Tansu, Redis, the Apache Kafka JVM) is started the same way: in its
own process group, so a terminal's Ctrl-C reaches only our supervisor, which then
stops the group in order; with ``PR_SET_PDEATHSIG`` on Linux, so even a ``kill -9``
of the parent takes the server down instead of leaving an orphan holding a port;
with its output in a log file in a temporary directory, so a failing start can
show the tail of what the server said and nothing is written into the repo.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    """A server of the stack could not be started; the message says why and what to do."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now on ``host``.

    Another process may take it before we bind it; callers that picked the port
    this way retry the start with a new one (see :func:`start_with_free_ports`).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """``"host:port"`` (or a URL) to ``(host, port)``; the first of a comma list."""
    first = address.split(",")[0].strip()
    parsed = urlsplit(first if "://" in first else f"//{first}")
    return parsed.hostname or "127.0.0.1", parsed.port if parsed.port is not None else default_port


def is_port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn`` that makes the child receive ``sig`` when its parent dies.

    Belt and braces for the supervisor: its normal stop path signals every child,
    but a ``kill -9`` of the supervisor (or of pytest) runs no code at all. The
    kernel delivers ``sig`` when the *thread* that forked the child exits, so
    start children from the main thread. No-op off Linux.
    """
    parent = os.getpid()

    def _preexec() -> None:
        if not sys.platform.startswith("linux"):
            return
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return _preexec


@dataclass
class ServerProcess:
    """A running server: its process, the address it serves and its log file."""

    name: str
    address: str
    popen: subprocess.Popen[bytes]
    workdir: Path
    log_path: Path
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        """The TCP port of ``address``."""
        return split_host_port(self.address, 0)[1]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        """The exit code, or None while the server runs."""
        return self.popen.poll()

    def tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines the server wrote (stdout and stderr)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the server's process group, SIGKILL it after ``timeout`` s; clean up.

        Idempotent. Returns the exit code (None if it could not be reaped).
        """
        if self.popen.poll() is None:
            _signal_group(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s; killing it", self.name, timeout)
                _signal_group(self.popen.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(5)
        # Grandchildren left in the group (none expected) go too.
        _signal_group(self.popen.pid, signal.SIGKILL)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return self.popen.returncode


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def make_workdir(name: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory for one server's files (configs, data, log)."""
    return tempfile.TemporaryDirectory(prefix=f"healthscore-{name}-")


def spawn(
    name: str,
    argv: Sequence[str],
    address: str,
    *,
    env: Mapping[str, str] | None = None,
    tmp: tempfile.TemporaryDirectory[str] | None = None,
    logdir: Path | None = None,
    cwd: Path | None = None,
) -> ServerProcess:
    """Start ``argv`` in a new session, in ``tmp``, output to ``<tmp>/<name>.log``.

    ``tmp`` (made when not given) becomes the server's working directory and is
    removed when the server is stopped. With ``logdir``, the log goes there
    instead and is kept (no ``tmp`` is made); ``cwd`` overrides the working
    directory (processes that import the project run from its root).
    """
    if logdir is None:
        if tmp is None:
            tmp = make_workdir(name)
        workdir = Path(tmp.name)
    else:
        workdir = logdir
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as out:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd or workdir,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
    log.debug("started %s pid=%d: %s", name, popen.pid, " ".join(argv))
    return ServerProcess(name, address, popen, workdir, log_path, tmp)


def wait_ready(
    server: ServerProcess,
    is_ready: Callable[[], bool],
    timeout: float,
    interval: float = 0.1,
) -> None:
    """Poll ``is_ready`` until it is true; on exit or timeout stop the server and raise.

    The error carries the server's output tail, which nearly always names the
    cause (port in use, bad option, missing Java class).
    """
    deadline = time.monotonic() + timeout
    while True:
        code = server.poll()
        if code is not None:
            tail = server.tail()
            server.stop()
            raise StackError(
                f"{server.name} exited with code {code} before it was ready "
                f"at {server.address}. Its last output:\n{tail}"
            )
        if is_ready():
            return
        if time.monotonic() > deadline:
            tail = server.tail()
            server.stop()
            raise StackError(
                f"{server.name} did not answer at {server.address} within {timeout:.0f} s. "
                f"Its last output:\n{tail}"
            )
        time.sleep(interval)


def start_with_free_ports(start: Callable[[], ServerProcess], attempts: int = 3) -> ServerProcess:
    """Call ``start`` (which picks free ports) again when a port was taken meanwhile."""
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except StackError as exc:
            if attempt == attempts or "in use" not in str(exc).lower():
                raise
            log.info("port taken between choosing and binding; retrying (%s)", exc)
    raise AssertionError("unreachable")
