"""Micro-benchmark of the domain hot path: CPU µs per event through the
domain's entry point (``streams.domain.account.step_event``), the step the
worker's engine takes for every event.

Run from the repo root: ``python -m bench.bench_domain``. Not a test (no
timing assertions anywhere); it prints numbers to compare before/after.
Realistic mix: 300 accounts with 60 days of history, then 3 working days of
their traffic (logins 50 %, feature use 40 %, records 10 %, some tickets),
each event stepped at its own time, as the engine does.
"""

from __future__ import annotations

import random
import time
import timeit
from collections import Counter
from dataclasses import dataclass

from streams.domain.account import Account, Decision, step_event
from streams.domain.dunning.policy import DunningPolicies
from streams.domain.events import DomainEvent
from streams.domain.scoring.model import ScoringModel
from tests.unit.domain.factories import (
    at_day,
    default_model,
    make_login,
    typical_day,
)

POLICIES = DunningPolicies()


@dataclass(frozen=True, slots=True)
class _Three:
    a: int
    b: int
    c: int


def _step(account: Account, event: DomainEvent, model: ScoringModel, out: list[Decision]) -> None:
    at_s = event.at.timestamp()
    step_event(account, event, at_s, at_s, model, POLICIES, out)


def _history(model: ScoringModel) -> dict[str, dict]:
    """300 accounts' stored records after 60 days of history."""
    stored = {}
    for i in range(300):
        account, rng = Account(f"a{i}"), random.Random(i)
        out: list[Decision] = []
        for day in range(60):
            for event in sorted(typical_day(day, rng, account.account_id), key=lambda e: e.at):
                _step(account, event, model, out)
        stored[account.account_id] = account.to_dict()
    return stored


def main() -> None:
    model = default_model()
    stored = _history(model)
    rng = random.Random(1)
    events = [e for day in range(60, 63) for a in stored for e in typical_day(day, rng, a)]
    events.sort(key=lambda e: e.at)
    mix = Counter(getattr(e, "kind", type(e).__name__) for e in events)
    print(f"{len(events)} events, mix: {dict(mix)}")
    calib = (
        timeit.Timer(lambda: _Three(1, 2, 3), timer=time.process_time).timeit(200_000)
        / 200_000
        * 1e6
    )
    print(f"calibration: a 3-field frozen dataclass takes {calib:.2f} µs here")

    def stepped() -> float:
        accounts = {a: Account.from_dict(a, data, model) for a, data in stored.items()}
        out: list[Decision] = []
        start = time.process_time()
        for e in events:
            _step(accounts[e.account_id], e, model, out)
        return (time.process_time() - start) / len(events) * 1e6

    for _ in range(3):
        print(f"one step per event: {stepped():6.2f} µs/event")
    account = Account.from_dict("a1", stored["a1"], model)
    out: list[Decision] = []
    _step(account, make_login("a1", at_day(63, 1), "user-1"), model, out)
    n = 20_000
    logins = iter([make_login("a1", at_day(63, 2), "user-1") for _ in range(n)])
    t = (
        timeit.Timer(
            lambda: _step(account, next(logins), model, out), timer=time.process_time
        ).timeit(n)
        / n
        * 1e6
    )
    print(f"a login on an already active day (the commonest event): {t:.2f} µs")


if __name__ == "__main__":
    main()
