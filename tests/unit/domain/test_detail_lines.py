"""Per-dimension detail lines: the ones said by the raw value alone are
formatted once per value (every health change carries one per dimension)."""

from __future__ import annotations

from streams.domain.scoring import reasons
from streams.domain.scoring.health import DimensionScore
from streams.domain.scoring.reasons import detail
from streams.domain.scoring.state import AccountState
from tests.unit.domain.factories import ACCOUNT, default_model

STATE = AccountState(ACCOUNT)


def _dim(name: str, raw: float) -> DimensionScore:
    return DimensionScore(name, raw, 50.0, 12.5, 6.3, 500, 63)


def test_raw_said_lines_are_the_same_words_and_formatted_once() -> None:
    model = default_model()
    expected = {
        ("recency", 1.0): "no usage for 1 full day",
        ("recency", 9.0): "no usage for 9 full days",
        ("activity_trend", 0.625): "62% as many active users per day lately as usual",
        ("activity_trend", 1.5): "150% as many active users per day lately as usual",
        ("data_growth", 0.4): "data added at 40% of its usual pace",
        ("nps", 8.0): "latest NPS is 8 (passive)",
        ("nps", 10.0): "latest NPS is 10 (promoter)",
    }
    for (name, raw), words in expected.items():
        first = detail(STATE, _dim(name, raw), model, 20_000)
        again = detail(STATE, _dim(name, raw), model, 20_400)  # another day: same words
        assert first == again == words
        assert again is first  # formatted once


def test_zero_and_state_dependent_lines_are_worked_out_each_time() -> None:
    model = default_model()
    assert detail(STATE, _dim("recency", 0.0), model, 20_000) == "active today or yesterday"
    assert detail(STATE, _dim("activity_trend", 0.0), model, 20_000) == (
        "0% as many active users per day lately as usual"
    )
    assert detail(STATE, _dim("activity_trend", -0.0), model, 20_000) == (
        "-0% as many active users per day lately as usual"
    )
    assert detail(STATE, _dim("data_growth", 0.0), model, 20_000) == "no data added recently"
    assert ("usage_frequency", 3.0) not in reasons._RAW_TEXTS
    detail(STATE, _dim("usage_frequency", 3.0), model, 20_000)  # counts the state's days
    assert ("usage_frequency", 3.0) not in reasons._RAW_TEXTS


def test_the_memory_of_lines_is_bounded() -> None:
    model = default_model()
    for i in range(1, reasons._MAX_RAW_TEXTS + 10):
        assert detail(STATE, _dim("data_growth", i / 7), model, 20_000).startswith("data added")
    assert len(reasons._RAW_TEXTS) <= reasons._MAX_RAW_TEXTS
