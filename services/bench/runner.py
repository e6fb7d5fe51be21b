"""Measuring a consumer process from outside: progress, CPU and memory.

The naive baseline and the real worker are run the same way: as their own
process with a fresh consumer group, watched by polling

- the group's committed offsets (admin ``OffsetFetch``), against the counts the
  bench produced per partition (not the broker's high-water marks: Tansu's are
  short);
- ``/proc/<pid>/stat`` utime+stime (CPU seconds) and ``/proc/<pid>/status``
  VmHWM (peak resident memory).

The rate is measured over a steady window, not from process start, so the
import time and the group join (seconds, and not what we compare) stay out.
The window closes at the last sample at which the process was still busy
(CPU-wise) before everything was committed: committed offsets move only once
per commit interval (Faust: 2.8 s), and closing on the commit would add up to
one interval of idle time.

Where the window opens depends on what the contender can tell:

- a worker that exports ``healthscore_events_consumed_total`` (the pipeline and
  the floor; ``metrics_port``) opens it at the first sample at which that
  counter, less the inputs event-time alignment holds unapplied
  (``healthscore_events_held``), is above zero, and counts the events
  processed after it. Its first
  commit is no start: the fast path acks inputs only once their state is
  written, so at its first commit (2,000 events) a 1M-event run had already
  processed ~64,000, whose CPU lay before the window and whose count inside it,
  ~6 % too many events for the CPU measured (and far more in a short run);
- any other (the naive agent, which acks each event as it is processed and
  commits every 2.8 s) opens it at its first committed offset and counts the
  events committed after it.

A worker that counts also says when its input ran out, and the idle time after
that is left out of its rate (``Consumption.tail_idle_seconds``). The pipeline
and the floor write state once per persist interval, so after their last batch
they wait a second to see the feed is idle, write what is dirty (busy), then
wait for Faust's next commit (up to 2.8 s) and commit it (a busy sample that
keeps the window open). In two 1M-event runs (timed with
``python -m bench.worker_timeline``) that tail held 1.0-1.8 s of idle samples in a
30-33 s window, and up to ~4 s in an earlier one; the floor's window is ~10 s.
A stream that does not end has no such tail. The counter is asked only at
samples that look idle, so a busy worker is not scraped; an idle sample counts
only when the counter said "all handed over" at both of its ends (so the
first idle sample after a busy one stays in: 0.8 and 1.3 s were left out).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from services.bench.produce import Counts
from services.stack.process import die_with_parent

_CLK_TCK = os.sysconf("SC_CLK_TCK")
#: A sample counts as busy when its CPU rate is at least this share of the
#: window's average rate.
BUSY_SHARE = 0.3


class BenchError(RuntimeError):
    """A contender failed (exited, or made no progress in time); the message has
    the tail of its log."""


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (its threads included, children not)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def peak_rss_mb(pid: int) -> float:
    """VmHWM of ``pid``: the most resident memory it ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class WorkerProcess:
    """A contender's process, its output in a log file, stopped for sure."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        metrics_port: int | None = None,
    ) -> None:
        self.name = name
        #: Where it serves ``healthscore_events_consumed_total``, if it does.
        self.metrics_port = metrics_port
        self._tmp = tempfile.TemporaryDirectory(prefix=f"bench-{name}-")
        self.log_path = Path(self._tmp.name) / "output.log"
        self._log = self.log_path.open("wb")
        self.started = time.monotonic()
        # die_with_parent: a bench killed mid-run must not leave a worker behind.
        self.popen = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
        self.pid = self.popen.pid

    def check_alive(self) -> None:
        code = self.popen.poll()
        if code is not None:
            raise BenchError(f"{self.name} exited with {code}:\n{self.log_tail()}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        self._tmp.cleanup()


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # monotonic seconds
    committed: int  # events committed, capped per partition at the produced count
    cpu: float
    #: Events the worker counted as consumed; None where it was not asked (no
    #: counter; or, once it was first above zero, a sample that did not look idle).
    processed: int | None = None


@dataclass(frozen=True, slots=True)
class Consumption:
    """What one contender did with the produced events."""

    events: int  # events inside the measured window
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    startup_seconds: float  # spawn -> first committed offset
    window: str  # "steady" or "whole-process" (everything was done by the first commit)
    #: Idle time inside the window after the input ran out (module docstring),
    #: left out of ``events_per_s``; its CPU, if any, stays in.
    tail_idle_seconds: float = 0.0

    @property
    def events_per_s(self) -> float:
        busy = self.seconds - self.tail_idle_seconds
        return self.events / busy if busy > 0 else 0.0

    @property
    def events_per_s_whole_window(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_per_million(self) -> float:
        return self.cpu_seconds / self.events * 1e6 if self.events else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "events_per_s": round(self.events_per_s, 1),
            "cpu_s_per_1m_events": round(self.cpu_per_million, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "measured_events": self.events,
            "measured_seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "startup_seconds": round(self.startup_seconds, 2),
            "window": self.window,
            "tail_idle_seconds": round(self.tail_idle_seconds, 3),
            "events_per_s_whole_window": round(self.events_per_s_whole_window, 1),
        }


async def committed_total(admin: AIOKafkaAdminClient, group: str, counts: Counts) -> int:
    # Explicit partitions: Tansu 0.6 answers the "all partitions" form (null
    # topic list) with a response aiokafka cannot parse.
    wanted = [TopicPartition(t, p) for t, p in counts]
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=wanted)
    except KafkaError as exc:
        # Apache Kafka: no coordinator for a group that has not joined yet.
        if getattr(exc, "retriable", False):
            return 0
        raise
    total = 0
    for (topic, partition), count in counts.items():
        meta = offsets.get(TopicPartition(topic, partition))
        if meta is not None and meta.offset > 0:
            total += min(meta.offset, count)
    return total


async def wait_consumed(
    worker: WorkerProcess,
    bootstrap: str,
    group: str,
    counts: Counts,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    interval: float = 0.25,
    stall_timeout: float = 180.0,
    samples: list[Sample] | None = None,
) -> Consumption:
    """Sample ``worker`` until its group has committed every produced event
    (into ``samples``, if given: a timeline to print)."""
    total = sum(counts.values())
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    samples = [] if samples is None else samples
    port = worker.metrics_port
    opened: int | None = None  # the sample the window opens at, once the counter moved
    try:
        last_change = time.monotonic()
        while True:
            worker.check_alive()
            processed = None
            if port is not None and (
                opened is None
                or _looks_idle(samples, opened, time.monotonic(), cpu_seconds(worker.pid))
            ):
                processed = await consumed_counter(port)
                if opened is None and processed:
                    opened = len(samples)
            done = await committed_total(admin, group, counts)
            now = time.monotonic()
            sample = Sample(now, done, cpu_seconds(worker.pid), processed)
            if samples and sample.committed != samples[-1].committed:
                last_change = now
            samples.append(sample)
            if on_progress is not None:
                on_progress(done, total)
            if done >= total:
                break
            if now - last_change > stall_timeout:
                raise BenchError(
                    f"{worker.name} committed nothing new for {stall_timeout:.0f} s "
                    f"({done:,}/{total:,}):\n{worker.log_tail()}"
                )
            await asyncio.sleep(interval)
    finally:
        await admin.close()
    return summarize(samples, total, worker.started, peak_rss_mb(worker.pid))


def summarize(samples: list[Sample], total: int, spawned: float, rss: float) -> Consumption:
    """The steady window (see the module docstring) of a finished run's samples."""
    first = next((i for i, s in enumerate(samples) if s.processed), None)
    if first is not None:
        before = samples[first].processed or 0
    else:
        first = next(i for i, s in enumerate(samples) if s.committed > 0)
        before = samples[first].committed
    last = len(samples) - 1
    startup = samples[first].t - spawned
    if first == last or before >= total:  # all done at the window's start: no steady window
        return Consumption(
            total, samples[last].t - spawned, samples[last].cpu, rss, startup, "whole-process"
        )
    average = _average_rate(samples, first, last)
    end = _last_busy(samples, first, last, average)
    a, b = samples[first], samples[end]
    idle = _tail_idle(samples, first, end, total, average)
    return Consumption(total - before, b.t - a.t, b.cpu - a.cpu, rss, startup, "steady", idle)


CONSUMED_METRIC = b"healthscore_events_consumed_total{"
#: Inputs read but held back by event-time alignment (``streams.processing.align``).
HELD_METRIC = b"healthscore_events_held "


async def consumed_counter(port: int, host: str = "127.0.0.1") -> int | None:
    """The events the worker has handed to its engine, from its Prometheus
    endpoint (``consumed_in``); None while that is not up yet."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (OSError, TimeoutError):
        return None
    try:
        writer.write(b"GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n")
        body = await asyncio.wait_for(reader.read(), 5.0)
    except (OSError, TimeoutError):
        return None
    finally:
        writer.close()
    return consumed_in(body)


def consumed_in(exposition: bytes) -> int:
    """The consumed counter's samples summed over topics, less the inputs
    alignment holds (``healthscore_events_held``): a backlog's first batches
    are read and held in a fraction of the time applying them takes, so
    counting them as done would open the window with ~20 % of a 100k-event
    run already "processed" and the cost of applying it still inside."""
    consumed = held = 0
    for line in exposition.splitlines():
        if line.startswith(CONSUMED_METRIC):
            consumed += int(float(line.rsplit(b" ", 1)[1]))
        elif line.startswith(HELD_METRIC):
            held += int(float(line.rsplit(b" ", 1)[1]))
    return consumed - held


def _average_rate(samples: list[Sample], first: int, last: int) -> float:
    """CPU seconds per second from sample ``first`` to ``last``."""
    span = samples[last].t - samples[first].t
    return (samples[last].cpu - samples[first].cpu) / span if span > 0 else 0.0


def cpu_rate(samples: list[Sample], j: int) -> float | None:
    """CPU seconds per second between sample ``j - 1`` and ``j``."""
    dt = samples[j].t - samples[j - 1].t
    return (samples[j].cpu - samples[j - 1].cpu) / dt if dt > 0 else None


def _last_busy(samples: list[Sample], first: int, last: int, average: float) -> int:
    for j in range(last, first, -1):
        rate = cpu_rate(samples, j)
        if rate is not None and rate >= BUSY_SHARE * average:
            return j
    return last


def _tail_idle(samples: list[Sample], first: int, end: int, total: int, average: float) -> float:
    """Seconds of idle sample intervals in the window during which the worker
    had been handed every input: the counter said so at both ends."""
    idle = 0.0
    for j in range(first + 1, end + 1):
        rate = cpu_rate(samples, j)
        if (
            rate is not None
            and rate < BUSY_SHARE * average
            and (samples[j - 1].processed or 0) >= total
            and (samples[j].processed or 0) >= total
        ):
            idle += samples[j].t - samples[j - 1].t
    return idle


def _looks_idle(samples: list[Sample], opened: int, t: float, cpu: float) -> bool:
    """Whether the worker, at ``cpu`` CPU seconds at time ``t``, was idle since
    the last sample, by the window's average so far: only then is its counter
    worth asking (a scrape costs the worker CPU)."""
    last = samples[-1]
    dt = t - last.t
    average = _average_rate(samples, opened, len(samples) - 1)
    return dt > 0 and (cpu - last.cpu) / dt < BUSY_SHARE * average
