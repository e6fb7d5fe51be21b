"""Rolling daily windows and the series behind them: pure tuple functions, no fixtures."""

from __future__ import annotations

import pytest

from streams.domain.scoring import series as shared_series
from streams.domain.scoring.series import (
    add,
    decode_series,
    prune,
    prune_features,
    put_max,
    touch_feature,
)
from streams.domain.scoring.windows import (
    count_days,
    count_features,
    encode_series,
    estimate_users,
    total,
    user_bit,
    window_start,
)

SERIES = ((100, 3), (103, 5), (110, 2))


@pytest.mark.parametrize(
    ("day", "amount", "expected"),
    [
        (110, 4, ((100, 3), (103, 5), (110, 6))),  # today's bucket
        (111, 1, ((100, 3), (103, 5), (110, 2), (111, 1))),  # a new day
        (103, 1, ((100, 3), (103, 6), (110, 2))),  # late event, existing bucket
        (101, 7, ((100, 3), (101, 7), (103, 5), (110, 2))),  # late event, new bucket
    ],
)
def test_add_keeps_days_sorted_and_sparse(day: int, amount: int, expected: object) -> None:
    assert add(SERIES, day, amount) == expected


def test_put_max_never_lowers_a_bucket() -> None:
    assert put_max(SERIES, 110, 1) is SERIES
    assert put_max(SERIES, 110, 9)[-1] == (110, 9)
    assert put_max((), 5, 1) == ((5, 1),)


@pytest.mark.parametrize(
    ("since", "until", "sum_", "days"),
    [(100, None, 10, 3), (101, None, 7, 2), (111, None, 0, 0), (100, 110, 8, 2), (0, 101, 3, 1)],
)
def test_total_and_count_days_over_ranges(
    since: int, until: int | None, sum_: int, days: int
) -> None:
    assert total(SERIES, since, until) == sum_
    assert count_days(SERIES, since, until) == days


def test_window_start_is_inclusive() -> None:
    assert window_start(110, 7) == 104
    assert count_days(SERIES, window_start(110, 8)) == 2


@pytest.mark.parametrize(
    ("floor", "expected"), [(90, SERIES), (101, ((103, 5), (110, 2))), (200, ())]
)
def test_prune_drops_only_old_buckets(floor: int, expected: object) -> None:
    assert prune(SERIES, floor) == expected


def test_prune_returns_the_same_tuple_when_nothing_is_old() -> None:
    assert prune(SERIES, 100) is SERIES


@pytest.mark.parametrize("series", [(), SERIES, ((7, -3),), ((110, 1), (111, 0))])
def test_series_encoding_round_trips(series: tuple[tuple[int, int], ...]) -> None:
    assert decode_series(encode_series(series, 111), 111) == series


def test_series_encoding_is_small_ints() -> None:
    assert encode_series(SERIES, 110) == [10, 3, 3, 5, 7, 2]


def test_decode_rejects_malformed_lists() -> None:
    with pytest.raises(ValueError, match="even"):
        decode_series([1, 2, 3], 10)
    with pytest.raises(ValueError, match="ascending"):
        decode_series([1, 2, 0, 3], 10)


def test_touch_feature_is_lru_with_a_cap() -> None:
    features: tuple[tuple[str, int], ...] = ()
    for day, name in enumerate(["a", "b", "c", "a"]):
        features = touch_feature(features, name, 100 + day, cap=3)
    assert features == (("b", 101), ("c", 102), ("a", 103))
    features = touch_feature(features, "d", 104, cap=3)
    assert [name for name, _ in features] == ["c", "a", "d"]


def test_touch_feature_same_day_is_free() -> None:
    features = (("a", 100),)
    assert touch_feature(features, "a", 100, cap=3) is features


def test_touch_feature_late_event_does_not_age_a_feature() -> None:
    assert touch_feature((("a", 105),), "a", 100, cap=3) == (("a", 105),)


def test_count_and_prune_features() -> None:
    features = (("a", 50), ("b", 95), ("c", 100))
    assert count_features(features, 96) == 1
    assert count_features(features, 40, 96) == 2
    assert prune_features(features, 60) == (("b", 95), ("c", 100))


@pytest.mark.parametrize("users", [1, 2, 3, 5, 8])
def test_distinct_users_estimate_is_close_for_small_teams(users: int) -> None:
    bitmap = 0
    for n in range(users):
        bitmap |= user_bit(f"user-{n}")
    assert abs(estimate_users(bitmap) - users) <= 1
    assert estimate_users(bitmap | user_bit("user-0")) == estimate_users(bitmap)


def test_shared_values_are_one_object_and_stay_equal_past_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shared_series, "_SHARED", {})
    monkeypatch.setattr(shared_series, "_MAX_SHARED", 3)
    first = shared_series.shared(int("20000"))
    assert shared_series.shared(int("20000")) is first
    for day in range(30_000, 30_010):  # past the bound the table starts over
        assert shared_series.shared(day) == day
    assert len(shared_series._SHARED) <= 3
    assert shared_series.shared(int("20000")) == first


def test_only_small_past_buckets_are_sealed_into_shared_ones() -> None:
    small, large = (20_001, int("7")), (20_001, int("1000"))
    assert shared_series.sealed(small) is shared_series.sealed((20_001, 7))
    assert shared_series.sealed(large) is large
    series = put_max(((int("20000"), 3),), 20_001, 4)
    assert series[0] is shared_series.sealed((20_000, 3))  # the tail is sealed when a day follows


def test_a_late_events_bucket_is_sealed_like_any_past_one() -> None:
    inserted = add(((20_000, 3), (20_005, 1)), int("20002"), int("4"))
    assert inserted[1] is shared_series.sealed((20_002, 4))
    merged = put_max(((20_000, 3), (20_005, 1)), int("20000"), int("9"))
    assert merged[0] is shared_series.sealed((20_000, 9))
