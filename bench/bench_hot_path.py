"""Micro-benchmark of the per-message hot path, stage by stage (not a test).

    .venv/bin/python bench/bench_hot_path.py [--accounts 10000] [--days 2] [--save-baseline]
    .venv/bin/python bench/bench_hot_path.py --profile engine     # cProfile one stage

Input: a fixed simulated run (``Simulation.create``, seed 7, ending on a
Friday), encoded exactly as producers send it. It is fed in 1,000-message
polls, the way the consumer hands them over, through each stage:

    decode   schemas.inputs.decode_event      (bytes -> validated model)
    convert  streams.convert.to_domain        (model -> domain dataclass)
    engine   PartitionEngine.process          (domain steps + timers; output records stubbed)
    outputs  health/alert/dunning records     (domain decision -> CloudEvents JSON bytes)
    total    all of the above in one pass     (a fresh engine, real output records)

Then the day-boundary burst: ``--burst`` accounts (50,000) with a little
history each, and the cost of ``advance`` across the next event-time midnights.

Figures are CPU microseconds per event (``time.process_time``), so a loaded
machine inflates them less than wall time; still, compare runs made under the
same load. ``--save-baseline`` stores them in ``bench/hot_path_baseline.json``;
later runs print the ratio to it.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streams.engine as engine_module  # noqa: E402
from schemas.inputs import decode_event  # noqa: E402
from services.simulator import Simulation  # noqa: E402
from services.simulator.clock import parse_rfc3339  # noqa: E402
from streams.config import load_rules  # noqa: E402
from streams.convert import to_domain  # noqa: E402
from streams.domain.events import AccountProfile, DomainEvent, UsageEvent  # noqa: E402
from streams.engine import PartitionEngine  # noqa: E402
from streams.outputs import Emit, alert_record, dunning_record, health_record  # noqa: E402

BASELINE = Path(__file__).with_name("hot_path_baseline.json")
END = parse_rfc3339("2026-11-20T00:00:00Z")  # a Friday: the history is weekdays
POLL = 1000
RULES = load_rules()
STAGES = ("decode", "convert", "engine", "outputs", "total")


def messages(accounts: int, days: float) -> list[tuple[str, bytes]]:
    sim = Simulation.create(accounts=accounts, days=days, seed=7, end=END)
    return [(topic, value) for topic, _key, value in sim.events()]


def polls(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), POLL):
        yield items[i : i + POLL]


# -- output records stubbed out, so the engine stage is the domain alone -------------


@contextmanager
def captured_outputs(sink: list[tuple[str, tuple[Any, ...]]]) -> Iterator[None]:
    """Replace the engine's record builders by ones that only remember their
    arguments; the outputs stage then serialises what was remembered."""
    names = ("health_record", "alert_record", "dunning_record")
    saved = {name: getattr(engine_module, name) for name in names}

    def stub(name: str) -> Callable[..., Emit]:
        def record(*args: Any) -> Emit:
            sink.append((name, args))
            return _STUB_EMIT

        return record

    for name in names:
        setattr(engine_module, name, stub(name))
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(engine_module, name, fn)


_STUB_EMIT = Emit("stub", b"", b"", 0.0, "stub")
_BUILDERS: dict[str, Callable[..., Emit]] = {
    "health_record": health_record,
    "alert_record": alert_record,
    "dunning_record": dunning_record,
}


# -- stages ----------------------------------------------------------------------------


def staged(raw: list[tuple[str, bytes]]) -> tuple[dict[str, float], dict[str, int]]:
    """CPU seconds per stage, each timed poll by poll."""
    clock = time.process_time
    spent = dict.fromkeys(STAGES[:4], 0.0)
    engine = PartitionEngine(0, RULES.model, RULES.policies)
    counts = {"events": len(raw), "health": 0, "alert": 0, "dunning": 0}
    for poll in polls(raw):
        t0 = clock()
        models = [decode_event(topic, value) for topic, value in poll]
        t1 = clock()
        events = [to_domain(model) for model in models]
        t2 = clock()
        sink: list[tuple[str, tuple[Any, ...]]] = []
        with captured_outputs(sink):
            engine.process(events)
        t3 = clock()
        for name, args in sink:
            _BUILDERS[name](*args)
        t4 = clock()
        spent["decode"] += t1 - t0
        spent["convert"] += t2 - t1
        spent["engine"] += t3 - t2
        spent["outputs"] += t4 - t3
        for name, _ in sink:
            counts[name.split("_")[0]] += 1
    return spent, counts


def together(raw: list[tuple[str, bytes]]) -> float:
    engine = PartitionEngine(0, RULES.model, RULES.policies)
    start = time.process_time()
    for poll in polls(raw):
        engine.process([to_domain(decode_event(topic, value)) for topic, value in poll])
    return time.process_time() - start


# -- day-boundary burst ----------------------------------------------------------------

BURST_DAY = datetime(2026, 11, 16, tzinfo=UTC)


def burst_history(accounts: int) -> list[DomainEvent]:
    """Per account: a profile, feature use two days ago, records and a login yesterday."""
    out: list[DomainEvent] = []
    for i in range(accounts):
        acc = f"b{i:06d}"
        t0 = BURST_DAY - timedelta(days=2, hours=-9, seconds=-i % 3600)
        t1 = BURST_DAY - timedelta(days=1, hours=-10, seconds=-i % 3600)
        segment = ("smb", "enterprise", "free", "mid_market")[i % 4]
        out.append(AccountProfile(f"{acc}-p", acc, t0, f"Acct {i}", segment, 100_000, "c@x.io"))
        out.append(UsageEvent(f"{acc}-f", acc, "feature_used", t0, "u1", f"f{i % 7}"))
        out.append(UsageEvent(f"{acc}-r", acc, "records_changed", t1, "u1", None, 5 + i % 50))
        out.append(UsageEvent(f"{acc}-l", acc, "login", t1, "u2"))
    out.sort(key=lambda e: e.at)
    return out


def burst(accounts: int, boundaries: int = 3) -> list[float]:
    """CPU seconds of each of the next ``boundaries`` midnights (all accounts wake)."""
    engine = PartitionEngine(0, RULES.model, RULES.policies)
    for poll in polls(burst_history(accounts)):
        engine.process(poll)
    out = []
    for day in range(boundaries):
        moment = (BURST_DAY + timedelta(days=day, seconds=1)).timestamp()
        start = time.process_time()
        engine.advance(moment)
        out.append(time.process_time() - start)
    return out


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
    return {"accounts": args.accounts, "days": args.days, "burst": args.burst}


def profile(stage: str, raw: list[tuple[str, bytes]], args: argparse.Namespace) -> None:
    prof = cProfile.Profile()
    if stage == "burst":
        engine = PartitionEngine(0, RULES.model, RULES.policies)
        for poll in polls(burst_history(args.burst)):
            engine.process(poll)
        prof.runcall(engine.advance, (BURST_DAY + timedelta(seconds=1)).timestamp())
    elif stage in ("decode", "convert"):
        models = [decode_event(t, v) for t, v in raw] if stage == "convert" else []
        if stage == "decode":
            prof.runcall(lambda: [decode_event(t, v) for t, v in raw])
        else:
            prof.runcall(lambda: [to_domain(m) for m in models])
    else:
        events = [to_domain(decode_event(t, v)) for t, v in raw]
        engine = PartitionEngine(0, RULES.model, RULES.policies)
        sink: list[tuple[str, tuple[Any, ...]]] = []
        if stage == "engine":
            with captured_outputs(sink):
                prof.runcall(lambda: [engine.process(p) for p in polls(events)])
        else:
            prof.runcall(lambda: [engine.process(p) for p in polls(events)])
    pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=2)
    parser.add_argument("--burst", type=int, default=50_000, help="accounts waking at midnight")
    parser.add_argument("--save-baseline", action="store_true")
    parser.add_argument("--profile", choices=("decode", "convert", "engine", "total", "burst"))
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--skip-burst", action="store_true")
    parser.add_argument("--no-gc", action="store_true", help="gc.disable(): how much is GC's")
    args = parser.parse_args()
    raw = messages(args.accounts, args.days)
    if args.no_gc:
        gc.disable()
    print(f"{len(raw):,} messages, {args.accounts:,} accounts, {args.days} days, polls of {POLL}")
    if args.profile:
        profile(args.profile, raw, args)
        return
    spent, counts = staged(raw)
    n = len(raw)
    print(f"outputs per run: {counts}")
    results = {name: seconds / n * 1e6 for name, seconds in spent.items()}
    results["decode+convert"] = results["decode"] + results["convert"]
    results["engine+outputs"] = results["engine"] + results["outputs"]
    results["total (one pass)"] = together(raw) / n * 1e6
    if not args.skip_burst:
        for day, seconds in enumerate(burst(args.burst), start=1):
            results[f"burst midnight {day} (µs/acct)"] = seconds / args.burst * 1e6
    report(results, args)
    if args.save_baseline:
        BASELINE.write_text(json.dumps({"params": _params(args), "results": results}, indent=1))
        print(f"baseline saved to {BASELINE}")


if __name__ == "__main__":
    main()
