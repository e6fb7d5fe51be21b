"""Seconds without progress per input partition (``streams.observability.progress``):
the measure behind HealthscorePartitionStalled (faust-streaming #175)."""

from __future__ import annotations

from streams.observability.lag import PartitionKey
from streams.observability.progress import ProgressWatch

P0, P1 = PartitionKey("cs.usage.v1", 0), PartitionKey("cs.usage.v1", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_partition_behind_with_its_commit_stuck_counts_up_the_others_stay_zero() -> None:
    clock = Clock()
    watch = ProgressWatch(clock)
    assert watch.observe({P0: 5, P1: 5}, {P0: 10, P1: 10}) == {P0: 0.0, P1: 0.0}
    clock.now += 30
    # P0 commits on; P1's committed offset stays while it is behind.
    assert watch.observe({P0: 5, P1: 9}, {P0: 20, P1: 10}) == {P0: 0.0, P1: 30.0}
    clock.now += 30
    assert watch.observe({P0: 0, P1: 14}, {P0: 25, P1: 10}) == {P0: 0.0, P1: 60.0}
    clock.now += 5
    assert watch.observe({P0: 0, P1: 2}, {P0: 25, P1: 22}) == {P0: 0.0, P1: 0.0}


def test_no_lag_is_no_stall_however_long_since_the_last_commit() -> None:
    clock = Clock()
    watch = ProgressWatch(clock)
    watch.observe({P0: 0}, {P0: 10})
    clock.now += 3600
    assert watch.observe({P0: 0}, {P0: 10}) == {P0: 0.0}
    clock.now += 10  # new input: counted from the last look that saw it caught up
    assert watch.observe({P0: 3}, {P0: 10}) == {P0: 10.0}
    clock.now += 10
    assert watch.observe({P0: 3}, {P0: 10}) == {P0: 20.0}


def test_a_revoked_partition_starts_afresh_when_it_comes_back() -> None:
    clock = Clock()
    watch = ProgressWatch(clock)
    watch.observe({P0: 3}, {})
    clock.now += 50
    assert watch.observe({P1: 1}, {}) == {P1: 0.0}
    clock.now += 50
    assert watch.observe({P0: 3, P1: 1}, {}) == {P0: 0.0, P1: 50.0}
