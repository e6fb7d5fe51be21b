"""Micro-benchmark of the per-message hot path, stage by stage (not a test).

    .venv/bin/python -m bench.bench_hot_path [--accounts 10000] [--days 2] [--save-baseline]
    .venv/bin/python -m bench.bench_hot_path --profile engine     # cProfile one stage

Input: a fixed simulated run (``Simulation.create``, seed 7, ending on a
Friday), encoded exactly as producers send it. It is fed in 1,000-message
polls, the way the consumer hands them over, through each stage:

    decode   streams.processing.decode.decode_domain (bytes -> domain event, what the worker runs)
    engine   PartitionEngine.process          (domain steps + timers -> decisions)
    outputs  streams.processing.encode.encode (decisions -> CloudEvents JSON bytes)
    total    all of the above in one pass     (a fresh engine, real output records)

For comparison, in the same poll loop: ``pydantic decode`` (schemas.inputs.
decode_event, bytes -> model) and ``pydantic convert`` (streams.processing.convert.to_domain,
model -> dataclass), the path ``decode_domain`` falls back to; and how many
messages the fast path declined.

Then the day-boundary burst: ``--burst`` accounts (50,000) with a little
history each, and the cost of ``advance`` across the next event-time midnights.

Figures are CPU microseconds per event (``time.process_time``), so a loaded
machine inflates them less than wall time; still, compare runs made under the
same load. ``--save-baseline`` stores them in ``.run/hot_path_baseline.json``
(this machine's, not committed); later runs print the ratio to it.

GC: the worker's settings (``gc.freeze()``, ``gc.set_threshold(50_000, 20, 20)``,
see ``streams/__main__.py``) unless ``--default-gc``: the worker is what counts.

Output check: the "total" pass prints a sha256 over every emitted record
(topic, key, value, in order) and one over every account's stored record; the
burst prints one over its records (``--burst-days 16`` adds untimed midnights
so decay and inactivity alerts fire). An optimisation must leave them all equal:

    bench_hot_path.py --accounts 5000 --days 1 --skip-burst
    bench_hot_path.py --accounts 2000 --days 3 --warm-days 30 --skip-burst
    bench_hot_path.py --only-burst --burst 10000 --burst-days 16
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import json
import pstats
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.hot_path_burst import TIMED_MIDNIGHTS, burst, burst_engine, digest_records, midnight
from schemas import topics
from schemas.inputs import decode_event
from services.simulator import Simulation
from services.simulator.clock import parse_rfc3339
from streams.domain.events import DomainEvent
from streams.processing.convert import to_domain
from streams.processing.decode import decode_domain, fast_decode
from streams.processing.encode import encode
from streams.processing.engine import PartitionEngine
from streams.processing.rules import load_rules

BASELINE = Path(".run/hot_path_baseline.json")
END = parse_rfc3339("2026-11-20T00:00:00Z")  # a Friday: the history is weekdays
POLL = 1000
RULES = load_rules()
THRESHOLD = RULES.model.alerts.threshold
KINDS = {topics.HEALTH: "health", topics.ALERTS: "alert", topics.DUNNING: "dunning"}
STAGES = ("decode", "engine", "outputs", "pydantic decode", "pydantic convert")


def messages(
    accounts: int, days: float, warm_days: float = 0
) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """(warm-up, measured): the last ``days`` are measured; the ``warm_days``
    before them only build the accounts' state (steady state, not newborns)."""
    sim = Simulation.create(accounts=accounts, days=days + warm_days, seed=7, end=END)
    cut = datetime.fromtimestamp(END - int(days * 86_400), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    warm: list[tuple[str, bytes]] = []
    measured: list[tuple[str, bytes]] = []
    for topic, _key, value in sim.events():
        (warm if _time_of(value) < cut.encode() else measured).append((topic, value))
    return warm, measured


def _time_of(value: bytes) -> bytes:
    """The event's timestamp text (the simulator writes UTC, second precision)."""
    i = value.index(b'"time":"') + 8
    return value[i : i + 19]


def warm_again(args: argparse.Namespace) -> list[tuple[str, bytes]]:
    return messages(args.accounts, args.days, args.warm_days)[0] if args.warm_days else []


def warmed_engine(warm: list[tuple[str, bytes]]) -> PartitionEngine:
    engine = PartitionEngine(0, RULES.model, RULES.policies)
    for poll in polls(warm):
        engine.process([decode_domain(topic, value) for topic, value in poll])
    return engine


def polls(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), POLL):
        yield items[i : i + POLL]


class GcClock:
    """CPU time spent in the cyclic garbage collector (it lands in whichever
    stage allocated last, so it is reported on its own as well)."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.collections = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.process_time()
        else:
            self.spent += time.process_time() - self._start
            self.collections[info["generation"]] += 1


# -- stages ----------------------------------------------------------------------------


def staged(
    raw: list[tuple[str, bytes]], engine: PartitionEngine
) -> tuple[dict[str, float], dict[str, int]]:
    """CPU seconds per stage, each timed poll by poll."""
    clock = time.process_time
    spent = dict.fromkeys(STAGES, 0.0)
    declined = sum(fast_decode(topic, value) is None for topic, value in raw)
    counts = {"events": len(raw), "declined": declined, "health": 0, "alert": 0, "dunning": 0}
    for number, poll in enumerate(polls(raw)):
        events = decode_both(poll, spent, fast_first=bool(number % 2))
        t2 = clock()
        decided = engine.process(events)
        t3 = clock()
        records = encode(decided, THRESHOLD)
        t4 = clock()
        spent["engine"] += t3 - t2
        spent["outputs"] += t4 - t3
        for record in records:
            kind = KINDS.get(record.topic, "lifecycle")
            counts[kind] = counts.get(kind, 0) + 1
    return spent, counts


def decode_both(
    poll: list[tuple[str, bytes]], spent: dict[str, float], fast_first: bool
) -> list[DomainEvent]:
    """The worker's decoder and the pydantic path it falls back to, on one poll,
    timed; which goes first alternates (the second finds the bytes in cache).
    Both must give the same events."""

    def timed(stage: str, work: Callable[[], list[Any]]) -> list[Any]:
        start = time.process_time()
        out = work()
        spent[stage] += time.process_time() - start
        return out

    def fast() -> list[DomainEvent]:
        return timed("decode", lambda: [decode_domain(t, v) for t, v in poll])

    def slow() -> list[DomainEvent]:
        models = timed("pydantic decode", lambda: [decode_event(t, v) for t, v in poll])
        return timed("pydantic convert", lambda: [to_domain(m) for m in models])

    first, second = (fast(), slow()) if fast_first else (slow(), fast())
    assert first == second, "fastdecode and pydantic disagree"
    return first if fast_first else second


def together(
    raw: list[tuple[str, bytes]], engine: PartitionEngine, digest: Any
) -> tuple[float, int]:
    """CPU seconds of one real pass; every emitted record goes into ``digest``
    (outside the timed part), so an optimisation can prove its outputs unchanged."""
    spent = 0.0
    emitted = 0
    for poll in polls(raw):
        start = time.process_time()
        decided = engine.process([decode_domain(topic, value) for topic, value in poll])
        out = encode(decided, THRESHOLD)
        spent += time.process_time() - start
        emitted += len(out)
        digest_records(digest, out)
    return spent, emitted


def state_digest(engine: PartitionEngine) -> str:
    """sha256 of every account's stored record (``to_dict``, canonical JSON)."""
    digest = hashlib.sha256()
    for account_id in sorted(engine.accounts):
        record = engine.accounts[account_id].to_dict()
        digest.update(json.dumps(record, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


def use_worker_gc() -> None:
    """The worker's GC settings (streams/__main__.py): what a worker pays."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


# -- report ----------------------------------------------------------------------------


def report(results: dict[str, float], args: argparse.Namespace) -> None:
    baseline = _baseline(args)
    print(f"\n{'stage':<26}{'µs/event':>10}{'baseline':>10}{'ratio':>8}")
    for name, value in results.items():
        base = baseline.get(name)
        tail = f"{base:>10.2f}{value / base:>8.2f}" if base else ""
        print(f"{name:<26}{value:>10.2f}{tail}")


def _baseline(args: argparse.Namespace) -> dict[str, float]:
    if not BASELINE.exists():
        return {}
    stored = json.loads(BASELINE.read_text())
    if stored.get("params") != _params(args):
        print(f"(baseline was measured with {stored.get('params')}; no ratio)")
        return {}
    return dict(stored["results"])


def _params(args: argparse.Namespace) -> dict[str, Any]:
    params = {"accounts": args.accounts, "days": args.days, "burst": args.burst}
    # the stored baseline predates this key: it was measured with the default GC
    params["gc"] = "default" if args.default_gc else "worker"
    if args.warm_days:
        params["warm_days"] = args.warm_days
    return params


def profile(
    stage: str,
    raw: list[tuple[str, bytes]],
    args: argparse.Namespace,
    warm: list[tuple[str, bytes]],
) -> None:
    prof = cProfile.Profile()
    if stage == "burst":
        engine = burst_engine(RULES, args.burst, POLL)
        prof.runcall(lambda: [engine.advance(midnight(d)) for d in range(TIMED_MIDNIGHTS)])
    elif stage == "decode":
        prof.runcall(lambda: [decode_domain(t, v) for t, v in raw])
    elif stage == "pydantic":
        prof.runcall(lambda: [to_domain(decode_event(t, v)) for t, v in raw])
    else:
        events = [decode_domain(t, v) for t, v in raw]
        engine = warmed_engine(warm)
        if stage == "engine":
            prof.runcall(lambda: [engine.process(p) for p in polls(events)])
        else:
            prof.runcall(lambda: [encode(engine.process(p), THRESHOLD) for p in polls(events)])
    pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=2)
    parser.add_argument(
        "--warm-days", type=float, default=0, help="history before the measured days (untimed)"
    )
    parser.add_argument("--burst", type=int, default=50_000, help="accounts waking at midnight")
    parser.add_argument("--save-baseline", action="store_true")
    parser.add_argument("--profile", choices=("decode", "pydantic", "engine", "total", "burst"))
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative)")
    parser.add_argument(
        "--burst-days", type=int, default=0,
        help="untimed midnights after the timed ones (decay, inactivity alerts: try 16)",
    )  # fmt: skip
    parser.add_argument("--skip-burst", action="store_true")
    parser.add_argument("--only-burst", action="store_true")
    parser.add_argument("--no-gc", action="store_true", help="gc.disable(): how much is GC's")
    parser.add_argument(
        "--default-gc", action="store_true", help="CPython's GC thresholds, not the worker's"
    )
    args = parser.parse_args()
    if not args.default_gc:
        use_worker_gc()
    if args.profile == "burst":  # builds its own engine: no messages needed
        profile("burst", [], args, [])
        return
    if args.only_burst and args.profile:
        parser.error("--only-burst times the burst; profile it with --profile burst")
    if args.only_burst:
        results = {
            f"burst midnight {day} (µs/acct)": seconds / args.burst * 1e6
            for day, seconds in enumerate(
                burst(RULES, args.burst, POLL, days=args.burst_days), start=1
            )
        }
        report(results, args)
        return
    warm, raw = messages(args.accounts, args.days, args.warm_days)
    if args.no_gc:
        gc.disable()
    print(
        f"{len(raw):,} messages measured ({len(warm):,} warm-up), {args.accounts:,} accounts, "
        f"{args.days} days after {args.warm_days}, polls of {POLL}"
    )
    if args.profile:
        profile(args.profile, raw, args, warm)
        return
    engine = warmed_engine(warm)
    del warm
    gc.collect()
    gc_clock = GcClock()
    gc.callbacks.append(gc_clock)
    spent, counts = staged(raw, engine)
    gc.callbacks.remove(gc_clock)
    n = len(raw)
    print(f"outputs per run: {counts}; gc collections per generation: {gc_clock.collections}")
    results = {name: seconds / n * 1e6 for name, seconds in spent.items()}
    pydantic = results["pydantic decode"] + results["pydantic convert"]
    results["pydantic decode+convert"] = pydantic
    results["decode speed-up (x)"] = pydantic / results["decode"]
    results["engine+outputs"] = results["engine"] + results["outputs"]
    results["(gc, inside the above)"] = gc_clock.spent / n * 1e6
    del engine
    digest = hashlib.sha256()
    engine = warmed_engine(warm_again(args))
    spent_total, emitted = together(raw, engine, digest)
    results["total (one pass)"] = spent_total / n * 1e6
    print(f"total pass: {emitted:,} records, sha256 {digest.hexdigest()}")
    print(f"stored state sha256 {state_digest(engine)}")
    del engine
    if not args.skip_burst:
        for day, seconds in enumerate(
            burst(RULES, args.burst, POLL, days=args.burst_days), start=1
        ):
            results[f"burst midnight {day} (µs/acct)"] = seconds / args.burst * 1e6
    report(results, args)
    if args.save_baseline:
        BASELINE.parent.mkdir(parents=True, exist_ok=True)
        BASELINE.write_text(json.dumps({"params": _params(args), "results": results}, indent=1))
        print(f"baseline saved to {BASELINE}")


if __name__ == "__main__":
    main()
