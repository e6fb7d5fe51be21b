"""Micro-benchmark of the domain hot path: CPU µs per event through process_batch.

Run from the repo root: ``python bench/bench_domain.py``. Not a test (no
timing assertions anywhere); it prints numbers to compare before/after.
Realistic mix: 300 accounts with 60 days of history, then 3 working days of
their traffic (logins 50 %, feature use 40 %, records 10 %, some tickets), fed
(a) one event per batch and (b) as 1000-event polls grouped by account.
"""

from __future__ import annotations

import random
import sys
import time
import timeit
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.domain.scoring.step import process_batch
from tests.unit.domain.factories import (
    at_day,
    default_model,
    make_login,
    typical_day,
)


@dataclass(frozen=True, slots=True)
class _Three:
    a: int
    b: int
    c: int


def main() -> None:
    model = default_model()
    states = {}
    for i in range(300):
        account, rng, state = f"a{i}", random.Random(i), None
        for day in range(60):
            events = typical_day(day, rng, account)
            if events:
                state = process_batch(state, events, model, max(e.at for e in events)).state
        states[account] = state
    rng = random.Random(1)
    events = [e for day in range(60, 63) for a in states for e in typical_day(day, rng, a)]
    events.sort(key=lambda e: e.at)
    mix = Counter(getattr(e, "kind", type(e).__name__) for e in events)
    print(f"{len(events)} events, mix: {dict(mix)}")
    calib = (
        timeit.Timer(lambda: _Three(1, 2, 3), timer=time.process_time).timeit(200_000)
        / 200_000
        * 1e6
    )
    print(f"calibration: a 3-field frozen dataclass takes {calib:.2f} µs here")

    def one_by_one() -> float:
        current = dict(states)
        start = time.process_time()
        for e in events:
            current[e.account_id] = process_batch(current[e.account_id], [e], model, e.at).state
        return (time.process_time() - start) / len(events) * 1e6

    def polled(size: int = 1000) -> float:
        current = dict(states)
        start = time.process_time()
        for i in range(0, len(events), size):
            chunk = events[i : i + size]
            by_account: dict[str, list] = {}
            for e in chunk:
                by_account.setdefault(e.account_id, []).append(e)
            for account, batch in by_account.items():
                current[account] = process_batch(current[account], batch, model, chunk[-1].at).state
        return (time.process_time() - start) / len(events) * 1e6

    for _ in range(3):
        print(
            f"1-event batches: {one_by_one():6.2f} µs/event   "
            f"1000-event polls: {polled():6.2f} µs/event"
        )
    state = states["a1"]
    state = process_batch(
        state, [make_login("a1", at_day(63, 1), "user-1")], model, at_day(63, 1)
    ).state
    login = make_login("a1", at_day(63, 2), "user-1")
    n = 20_000
    t = (
        timeit.Timer(
            lambda: process_batch(state, [login], model, login.at), timer=time.process_time
        ).timeit(n)
        / n
        * 1e6
    )
    print(f"a login on an already active day (the commonest event): {t:.2f} µs")


if __name__ == "__main__":
    main()
