"""The dead-letter limit: trips only when most recent inputs were invalid, and
its batch form keeps exactly the per-event bookkeeping."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.processing.deadletter import DeadLetterLimit, TooManyInvalidEventsError


def test_trips_only_over_the_ratio_once_the_window_is_full() -> None:
    limit = DeadLetterLimit(max_ratio=0.5, window=10)
    for _ in range(9):
        limit.record(False)  # 9 of 9 invalid, but the window is not full yet
    with pytest.raises(TooManyInvalidEventsError, match="9 of the last 10"):
        limit.record(True)  # the window is full now, and 9 of 10 is over 0.5


def test_valid_inputs_push_old_rejects_out_of_the_window() -> None:
    limit = DeadLetterLimit(max_ratio=0.5, window=10)
    for _ in range(5):
        limit.record(False)
    limit.record_valid(10)  # the five rejects leave the window
    for _ in range(5):
        limit.record(False)  # 5 of 10: not over 0.5
    with pytest.raises(TooManyInvalidEventsError):
        limit.record(False)


def test_record_valid_trips_when_it_fills_a_mostly_invalid_window() -> None:
    limit = DeadLetterLimit(max_ratio=0.5, window=10)
    for _ in range(8):
        limit.record(False)
    with pytest.raises(TooManyInvalidEventsError, match="8 of the last 10"):
        limit.record_valid(2)


@pytest.mark.parametrize(("ratio", "window"), [(0, 10), (1.5, 10), (0.5, 0)])
def test_rejects_nonsense_settings(ratio: float, window: int) -> None:
    with pytest.raises(ValueError):
        DeadLetterLimit(max_ratio=ratio, window=window)


# (invalid count, valid count) steps.
steps = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 25)), max_size=30)


def _outcome(action: Callable[..., None], *args: object) -> str | None:
    """The limit's message if ``action(*args)`` tripped it, else None."""
    try:
        action(*args)
    except TooManyInvalidEventsError as exc:
        return str(exc)
    return None


@given(steps=steps, window=st.integers(1, 20), ratio=st.sampled_from([0.3, 0.5, 0.9, 1.0]))
def test_record_valid_equals_one_record_per_event(
    steps: list[tuple[int, int]], window: int, ratio: float
) -> None:
    one, batch = DeadLetterLimit(ratio, window), DeadLetterLimit(ratio, window)

    def repeat(limit: DeadLetterLimit, valid: bool, count: int) -> None:
        for _ in range(count):
            limit.record(valid)

    for invalid, valid in steps:
        tripped = _outcome(repeat, one, False, invalid)
        assert _outcome(repeat, batch, False, invalid) == tripped
        if tripped:
            return  # a worker stops when the limit trips
        tripped = _outcome(repeat, one, True, valid)
        assert _outcome(batch.record_valid, valid) == tripped
        if tripped:
            return
        assert batch._invalid == one._invalid
        assert list(batch._outcomes)[-window:] == list(one._outcomes)[-window:]
