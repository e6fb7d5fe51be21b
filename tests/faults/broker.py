"""An Apache Kafka the fault suite can kill -9 and start again on the same
port and log directory, as a host losing its broker process would."""

from __future__ import annotations

import os
import signal

from services.stack.probe import kafka_is_ready
from services.stack.process import ServerProcess, spawn, wait_ready


class RestartableBroker:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    @property
    def address(self) -> str:
        return self.server.address

    def kill_9(self) -> None:
        """SIGKILL the broker's process group: no controlled shutdown, no flush."""
        os.killpg(self.server.pid, signal.SIGKILL)
        self.server.popen.wait()

    def restart(self, timeout: float = 120.0) -> None:
        """The same command line in the same working directory (data, config,
        ports); returns once the broker answers Metadata again."""
        old = self.server
        new = spawn(old.name, [str(a) for a in old.popen.args], old.address, tmp=old._tmp)
        old._tmp = None  # the new process owns the directory now
        self.server = new
        wait_ready(new, lambda: kafka_is_ready(new.address, timeout=1.0), timeout, interval=0.25)

    def stop(self) -> None:
        self.server.stop()
