"""Merging partitions into event-time order: by watermark, within a capped buffer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.backtest.merge import EventTimeMerge
from streams.domain.events import UsageEvent

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _event(minute: int, name: str) -> UsageEvent:
    return UsageEvent(id=name, account_id="a", at=T0 + timedelta(minutes=minute), kind="login")


def _drain(merge: EventTimeMerge[str]) -> list[str]:
    return [event.id for event in merge.ready()]


def test_an_event_waits_until_every_active_source_is_past_it() -> None:
    merge = EventTimeMerge(["p0", "p1"])
    merge.add("p0", _event(1, "a1"))
    merge.add("p0", _event(5, "a5"))
    assert _drain(merge) == []  # p1 has no time yet: it may still hold minute 0
    assert merge.ahead() == {"p0"}

    merge.add("p1", _event(3, "b3"))
    assert _drain(merge) == ["a1"]  # b3 waits: p1 may still have more at minute 3
    assert merge.ahead() == {"p0"}

    merge.add("p1", _event(3, "b3-2"))
    merge.add("p1", _event(7, "b7"))
    assert _drain(merge) == ["b3", "b3-2"]
    assert merge.ahead() == {"p1"}

    merge.finish("p0")
    merge.finish("p1")
    assert _drain(merge) == ["a5", "b7"]
    assert merge.buffered == 0


def test_equal_times_go_out_in_the_engines_order_by_id() -> None:
    merge = EventTimeMerge(["p0", "p1"])
    merge.add("p0", _event(2, "z"))
    merge.add("p1", _event(2, "m"))
    merge.add("p0", _event(2, "a"))
    merge.finish("p0")
    merge.finish("p1")
    assert _drain(merge) == ["a", "m", "z"]


def test_an_event_skipped_for_the_range_still_moves_the_watermark() -> None:
    merge = EventTimeMerge(["p0", "p1"])
    merge.add("p0", _event(1, "a1"))
    merge.add("p0", _event(6, "a6"))
    assert _drain(merge) == []
    merge.seen("p1", T0 + timedelta(minutes=4))
    assert _drain(merge) == ["a1"]


def test_past_the_cap_the_earliest_goes_out_as_a_late_event_would() -> None:
    merge = EventTimeMerge(["fast", "stalled"], max_buffered=2)
    for minute in range(5):
        merge.add("fast", _event(minute, f"f{minute}"))
    assert _drain(merge) == ["f0", "f1", "f2"]  # "stalled" never answered
    assert merge.forced == 3
    merge.add("stalled", _event(0, "s0"))  # earlier than what went out: late, not lost
    merge.finish("fast")
    merge.finish("stalled")
    assert _drain(merge) == ["s0", "f3", "f4"]


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_buffered"):
        EventTimeMerge(["p0"], max_buffered=0)
