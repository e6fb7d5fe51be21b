"""A small process supervisor for ``healthscore stack``: all up, or all down.

The dev stack is several processes (worker, API, notifier, projector,
simulator) that are useless apart. The supervisor starts each in its own
process group, forwards its output with a name prefix, and stops all of them
(SIGTERM, then SIGKILL after a timeout) on SIGINT/SIGTERM or as soon as an
essential one dies, so a crash is loud and no orphan keeps a port or a
consumer-group membership. Children also get ``PR_SET_PDEATHSIG`` so that a
``kill -9`` of the supervisor, which runs no cleanup, still takes them down.

It does not restart children: in development a crash should be seen, and in
production that is the job of systemd or Kubernetes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from services.stack.process import die_with_parent


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one child. ``essential``: its exit stops the whole stack."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: str | None = None
    essential: bool = True
    urls: Mapping[str, str] = field(default_factory=dict)  # shown in the summary


class Watched(Protocol):
    """A process started elsewhere whose death should also stop the stack (a broker)."""

    name: str

    def poll(self) -> int | None: ...


@dataclass
class _Child:
    spec: ProcessSpec
    proc: asyncio.subprocess.Process
    pump: asyncio.Task[None]


class Supervisor:
    """Run ``specs`` until a signal or an essential child's death; then stop them all.

    ``run()`` returns 0 after a requested stop and 1 when something died. Start
    it from the main thread (``PR_SET_PDEATHSIG`` follows the forking thread).
    """

    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        *,
        watched: Sequence[Watched] = (),
        out: TextIO | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        self._specs = list(specs)
        self._watched = list(watched)
        self._out = out or sys.stdout
        self._stop_timeout = stop_timeout
        self._children: list[_Child] = []
        self._width = max([len(s.name) for s in self._specs] + [5])
        self._stop_requested = asyncio.Event()
        self._signals = 0

    def exit_codes(self) -> dict[str, int | None]:
        """Each started child's exit code (None while it runs); negative: killed by signal."""
        return {c.spec.name: c.proc.returncode for c in self._children}

    def say(self, name: str, line: str) -> None:
        """Write one prefixed line (the supervisor's own lines use the name ``stack``)."""
        self._out.write(f"{name:<{self._width}} | {line}\n")
        self._out.flush()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            try:
                for spec in self._specs:
                    self._children.append(await self._start(spec))
            except OSError as exc:
                self.say("stack", f"could not start a child: {exc}; stopping")
                return 1
            return await self._wait()
        finally:
            await self._stop_all()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: int) -> None:
        self._signals += 1
        if self._signals == 1:
            self.say("stack", f"{signal.Signals(sig).name}: stopping everything")
        else:  # impatient second Ctrl-C: no more grace
            self.say("stack", "second signal: killing")
            self._signal_children(signal.SIGKILL)
        self._stop_requested.set()

    async def _start(self, spec: ProcessSpec) -> _Child:
        proc = await asyncio.create_subprocess_exec(
            *spec.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(spec.env) if spec.env is not None else None,
            cwd=spec.cwd,
            start_new_session=True,
            preexec_fn=die_with_parent(),
            limit=1 << 20,
        )
        self.say("stack", f"started {spec.name} (pid {proc.pid})")
        return _Child(spec, proc, asyncio.create_task(self._pump(spec.name, proc)))

    async def _pump(self, name: str, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while True:
            try:
                line = await proc.stdout.readline()
            except ValueError:  # a line over the limit: forward what is buffered
                line = await proc.stdout.read(1 << 16)
            if not line:
                return
            self.say(name, line.decode(errors="replace").rstrip())

    async def _wait(self) -> int:
        """Block until a stop is requested or something essential dies."""
        waits: dict[asyncio.Future[Any], _Child] = {
            asyncio.create_task(c.proc.wait(), name=c.spec.name): c for c in self._children
        }
        stop = asyncio.create_task(self._stop_requested.wait())
        watch = asyncio.create_task(self._watch())
        pending: set[asyncio.Future[Any]] = {stop, watch, *waits}
        try:
            while True:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if stop in done:
                    return 0
                if watch in done:
                    self.say("stack", f"{watch.result()}; stopping everything")
                    return 1
                for task in done:
                    child = waits[task]
                    await child.pump
                    self.say("stack", f"{child.spec.name} exited with code {task.result()}")
                    if child.spec.essential:
                        self.say("stack", "an essential process died; stopping everything")
                        return 1
        finally:
            for task in pending:
                task.cancel()

    async def _watch(self) -> str:
        while True:
            for server in self._watched:
                code = server.poll()
                if code is not None:
                    return f"{server.name} exited with code {code}"
            await asyncio.sleep(0.5)

    def _signal_children(self, sig: int) -> None:
        for child in self._children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, sig)

    async def _stop_all(self) -> None:
        running = [c for c in self._children if c.proc.returncode is None]
        if running:
            self.say("stack", "stopping " + ", ".join(c.spec.name for c in running))
        self._signal_children(signal.SIGTERM)
        try:
            async with asyncio.timeout(self._stop_timeout):
                await asyncio.gather(*(c.proc.wait() for c in self._children))
        except TimeoutError:
            late = [c.spec.name for c in self._children if c.proc.returncode is None]
            self.say("stack", f"{', '.join(late)} did not stop in {self._stop_timeout:.0f} s: kill")
        # SIGKILL the whole groups: also catches grandchildren a child left behind.
        self._signal_children(signal.SIGKILL)
        await asyncio.gather(*(c.proc.wait() for c in self._children))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await asyncio.gather(*(c.pump for c in self._children), return_exceptions=True)
        for c in self._children:
            c.pump.cancel()
