"""Profile the real worker under load with py-spy (a dev tool, not a test).

    .venv/bin/python -m bench.profile_worker [--events 100000] [--accounts 5000]
        [--broker tansu|apache] [--out .run/profile_worker.txt]
    .venv/bin/python -m bench.profile_worker --compare ../baseline-checkout [--rounds 2]
    .venv/bin/python -m bench.profile_worker --floor [--rounds 3]  # the worker without its domain
    .venv/bin/python -m bench.profile_worker --profile-floor  # py-spy of that floor worker
    .venv/bin/python -m bench.profile_worker --idle  # idle samples too, by thread: where it waits
    other/bin/python -m bench.profile_worker --baseline-python .venv/bin/python  # interpreters

Starts a fresh broker, produces the bench's simulated feed unpaced, starts one
pipeline worker exactly as ``healthscore bench`` does, and samples it with
``py-spy record`` from its start until it has consumed everything. Prints the
events/s and CPU-s per 1M events of that run and the top of the profile (by
own time and by inclusive time), and writes both to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from services.bench.contenders import REPO_ROOT, Contender
from services.bench.floor_app import OracleStore
from services.bench.produce import bench_history, history_end, produce_feed
from services.bench.run import start_broker
from services.bench.runner import wait_consumed
from services.simulator import Simulation
from streams.processing.rules import load_rules

PY_SPY = Path(sys.executable).with_name("py-spy")


def start_spy(
    pid: int,
    out: Path,
    *,
    idle: bool = False,
    threads: bool = False,
    seconds: float | None = None,
) -> subprocess.Popen[bytes]:
    """``py-spy record`` of ``pid`` into ``out`` (collapsed stacks, 200 Hz); stop
    it with SIGINT, or let ``seconds`` run out. ``idle`` keeps idle samples, so a
    thread's busy share shows; ``threads`` prefixes each stack with its thread."""
    argv = [str(PY_SPY), "record", "--pid", str(pid), "--format", "raw", "--rate", "200",
            "--nonblocking", "--output", str(out)]  # fmt: skip
    if idle:
        argv.append("--idle")
    if threads:
        argv.append("--threads")
    if seconds is not None:
        argv += ["--duration", str(int(seconds))]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


_LINE = re.compile(r":\d+\)$")


def _frames(line: str) -> tuple[list[str], int]:
    """A collapsed stack's frames, by function (line numbers dropped), and its count."""
    stack, _, count = line.rpartition(" ")
    return [_LINE.sub(")", frame) for frame in stack.split(";")], int(count)


#: Where a sample's time goes, by the first pattern its whole stack matches (so
#: the order matters: a stack under the fast path's batch handler that is
#: decoding counts as decode, and output records built inside the engine count
#: as domain). Start-up is left out of the shares.
AREAS = (
    ("start-up (imports, oracle load)", r"_find_and_load|read_oracle|_make_ssl_context"),
    ("domain (engine, state, score)", r"streams/engine\.py|streams/domain/|FloorEngine"),
    ("output records", r"streams/outputs\.py"),
    ("decode (fastdecode, ingest)", r"streams/fastdecode\.py|streams/ingest\.py"),
    ("persist (changelog records)", r"persist|changelog_writer|take_dirty|streams/(reread|clock)"),
    ("produce (sink, aiokafka producer)", r"streams/batching\.py|aiokafka/(producer|protocol)"),
    ("consumer thread (fetch, parse)", r"aiokafka/consumer"),
    ("metrics", r"streams/metrics\.py|prometheus_client|_observe|_append_times"),
    ("gc (young collections, freeze)", r"streams/gcwatch\.py"),
    ("Faust drain, ack, commit", r"streams/(faust_patches|fastpath)\.py|faust/transport/consumer"),
)


def by_area(stacks: list[tuple[list[str], int]]) -> list[str]:
    """Each area's share of the samples after start-up (``AREAS``)."""
    patterns = [(name, re.compile(pattern)) for name, pattern in AREAS]
    counts: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        stack = ";".join(frames)
        area = next((name for name, rx in patterns if rx.search(stack)), "other (asyncio, rest)")
        counts[area] += count
    startup = counts.pop(AREAS[0][0], 0)
    busy = sum(counts.values()) or 1
    rows = [f"\n-- by area ({startup:,} start-up samples left out) --"]
    rows += [f"{100 * n / busy:5.1f}%  {name}" for name, n in counts.most_common()]
    return rows


def summarise(collapsed: Path, top: int) -> str:
    """Own and inclusive time per function from py-spy's collapsed stacks, and by area."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    stacks: list[tuple[list[str], int]] = []
    total = 0
    for line in collapsed.read_text().splitlines():
        if not line.strip():
            continue
        frames, count = _frames(line)
        stacks.append((frames, count))
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    rows = [f"{total:,} samples", *by_area(stacks)]
    for title, counter in (("own time", own), ("inclusive time", inclusive)):
        rows.append(f"\n-- top {top} by {title} --")
        for frame, count in counter.most_common(top):
            rows.append(f"{100 * count / total:5.1f}%  {frame}")
    return "\n".join(rows)


async def produce(
    bootstrap: str, events: int, accounts: int, partitions: int, end: int | None = None
) -> tuple[Simulation, dict[str, int]]:
    """The bench's simulated history (ending at ``end``, default the bench's
    noon), produced unpaced: (simulation, counts)."""
    from services.stack.topics import ensure_topics

    await ensure_topics(bootstrap, partitions)
    sim, feed = bench_history(events, accounts, 42, time.time(), end)
    produced = await produce_feed(bootstrap, feed, partitions=partitions, rate=0)
    return sim, produced.counts


def _env(pairs: list[str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs)


async def compare(bootstrap: str, args: argparse.Namespace) -> str:
    """Alternate runs of ``--compare``'s worker (the baseline) and this one on the
    same produced input, no profiler attached; report each and the ratios."""
    _, counts = await produce(bootstrap, args.events, args.accounts, args.partitions)
    envs = {"baseline": _env(args.env_baseline), "this": _env(args.env_this)}
    pythons = {"baseline": args.baseline_python or sys.executable, "this": sys.executable}
    sides = {
        name: Side("pipeline", root, envs[name], pythons[name])
        for name, root in (("baseline", args.compare or REPO_ROOT), ("this", REPO_ROOT))
    }
    return await alternate(bootstrap, args, counts, sides)


@contextlib.asynccontextmanager
async def floor_input(
    bootstrap: str, args: argparse.Namespace
) -> AsyncIterator[tuple[dict[str, int], dict[str, str]]]:
    """Produce the feed and compute the floor's oracle from the same feed (same
    seed, same end); yields the produced counts and the floor worker's env."""
    end = history_end(time.time())
    _, counts = await produce(bootstrap, args.events, args.accounts, args.partitions, end)
    print("computing the oracle (the real engine over the same feed) ...", flush=True)
    oracles = OracleStore(args.events, args.accounts, 42, args.partitions)
    try:
        env, facts = oracles.get(end, load_rules(None))
        print(f"oracle: {facts['input_ids']:,} input ids, {facts['output_records']:,} output "
              f"records, {facts['accounts']:,} accounts", flush=True)  # fmt: skip
        if facts["input_ids"] != sum(counts.values()):
            print(f"warning: {sum(counts.values()):,} events produced; the floor's lookups will "
                  "miss (invalid or repeated inputs) or the feeds differ", flush=True)  # fmt: skip
        yield counts, env
    finally:
        oracles.cleanup()


async def floor(bootstrap: str, args: argparse.Namespace) -> str:
    """Alternate runs of the floor worker (``services.bench.floor_app``: the
    domain looked up in an oracle the real engine computed first) and the real
    one on the same input: what the worker costs around its domain, and the rest."""
    async with floor_input(bootstrap, args) as (counts, floor_env):
        sides = {
            "floor": Side("floor", REPO_ROOT, floor_env, sys.executable),
            "this": Side("pipeline", REPO_ROOT, _env(args.env_this), sys.executable),
        }
        return await alternate(bootstrap, args, counts, sides)


@dataclass(frozen=True)
class Side:
    """One side of an A/B: which worker, from which checkout, with what."""

    kind: str
    root: Path
    env: dict[str, str]
    python: str


async def alternate(
    bootstrap: str, args: argparse.Namespace, counts: dict[str, int], sides: dict[str, Side]
) -> str:
    """``args.rounds`` rounds of one run per side, the order reversed every
    round (neither side always runs on the warmer broker); the best of each."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    order = list(sides)
    for _ in range(args.rounds):
        for name in order:
            side = sides[name]
            contender = Contender(
                side.kind, bootstrap, args.partitions, root=side.root, extra_env=side.env,
                python=side.python,
            )  # fmt: skip
            worker = contender.spawn()
            try:
                result = await wait_consumed(worker, bootstrap, contender.app_id, counts)
            finally:
                worker.stop()
                contender.cleanup()
            runs[name].append((result.events_per_s, result.cpu_per_million))
            rate, cpu = result.events_per_s, result.cpu_per_million
            # "whole-process": all done by the first commit, start-up included (tiny runs)
            window = "" if result.window == "steady" else f"  ({result.window})"
            print(f"{name:9} {rate:9,.0f} events/s {cpu:7.1f} CPU-s/1M "
                  f"{result.peak_rss_mb:7,.0f} MB peak RSS, {result.events:,} events in "
                  f"{result.seconds:.1f} s{window}", flush=True)  # fmt: skip
        order.reverse()
    best = {name: (max(r[0] for r in rs), min(r[1] for r in rs)) for name, rs in runs.items()}
    first, second = list(sides)
    return (
        f"{args.events:,} events, {args.accounts:,} accounts, {args.broker}, "
        f"best of {args.rounds}: "
        + "; ".join(
            f"{name} {best[name][0]:,.0f} events/s {best[name][1]:.1f} CPU-s/1M" for name in sides
        )
        + f"; events/s ratio {best[second][0] / best[first][0]:.2f}, "
        f"CPU ratio {best[second][1] / best[first][1]:.2f}"
    )


async def profile(bootstrap: str, args: argparse.Namespace, collapsed: Path) -> str:
    if args.profile_floor:
        async with floor_input(bootstrap, args) as (counts, floor_env):
            contender = Contender("floor", bootstrap, args.partitions, extra_env=floor_env)
            return await _spied(bootstrap, args, contender, counts, collapsed)
    _, counts = await produce(bootstrap, args.events, args.accounts, args.partitions)
    contender = Contender("pipeline", bootstrap, args.partitions)
    return await _spied(bootstrap, args, contender, counts, collapsed)


async def _spied(
    bootstrap: str,
    args: argparse.Namespace,
    contender: Contender,
    counts: dict[str, int],
    collapsed: Path,
) -> str:
    """One run of ``contender``'s worker under py-spy, from its start."""
    worker = contender.spawn()
    spy = start_spy(worker.pid, collapsed, idle=args.idle, threads=args.idle)
    try:
        result = await wait_consumed(worker, bootstrap, contender.app_id, counts)
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
        spy.wait(timeout=60)
        worker.stop()
        contender.cleanup()
    return (
        f"{args.events:,} events, {args.accounts:,} accounts, {args.broker}, "
        f"{contender.kind}: "
        f"{result.events_per_s:,.0f} events/s, {result.cpu_per_million:,.1f} CPU-s/1M"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--broker", choices=("tansu", "apache"), default="tansu")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path(".run/profile_worker.txt"))
    parser.add_argument("--compare", type=Path, help="baseline checkout: A/B, no profile")
    parser.add_argument("--baseline-python", help="the baseline's interpreter: A/B, no profile")
    parser.add_argument("--floor", action="store_true", help="A/B against the domain-less floor")
    parser.add_argument("--profile-floor", action="store_true", help="profile the floor worker")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--idle", action="store_true", help="keep idle samples, with thread ids (where it waits)"
    )
    parser.add_argument("--env-this", action="append", default=[], metavar="K=V")
    parser.add_argument("--env-baseline", action="append", default=[], metavar="K=V")
    args = parser.parse_args()
    server = start_broker(args.broker)
    ab_test = floor if args.floor else compare
    if args.floor or args.compare is not None or args.baseline_python is not None:
        try:
            print(asyncio.run(ab_test(server.address, args)))
        finally:
            server.stop()
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    collapsed = args.out.with_suffix(".collapsed")  # kept: summarise again, or flamegraph it
    try:
        headline = asyncio.run(profile(server.address, args, collapsed))
    finally:
        server.stop()
    report = headline + "\n" + summarise(collapsed, args.top)
    args.out.write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
