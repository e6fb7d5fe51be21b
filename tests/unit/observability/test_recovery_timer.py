"""A table recovery's duration and bound (``streams.observability.recovery``),
the measure behind faust-streaming #432's guard."""

from __future__ import annotations

from streams.observability.recovery import RecoveryTimer


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def test_a_recovery_is_timed_from_assignment_to_ready() -> None:
    clock = Clock()
    timer = RecoveryTimer(clock)
    assert timer.end() is None  # a rebalance end with no recovery started
    timer.begin()
    clock.now += 2.5
    assert timer.running_for() == 2.5
    assert timer.end() == 2.5
    assert timer.running_for() is None


def test_overdue_only_past_the_bound_and_a_new_assignment_restarts_the_count() -> None:
    clock = Clock()
    timer = RecoveryTimer(clock)
    assert timer.overdue(5.0) is None
    timer.begin()
    clock.now += 5.0
    assert timer.overdue(5.0) is None
    clock.now += 1.0
    assert timer.overdue(5.0) == 6.0
    timer.begin()  # rebalanced again mid-recovery
    clock.now += 1.0
    assert timer.overdue(5.0) is None
