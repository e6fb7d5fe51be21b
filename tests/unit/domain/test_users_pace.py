"""``users_pace``, the activity_trend raw and the ``usage_decline`` check:
people per day, on complete days, against the account's own baseline."""

from __future__ import annotations

import pytest

from streams.domain.scoring.dimensions import users_pace
from streams.domain.scoring.normalisers import BaselineRatio

RULE = BaselineRatio(recent_days=28, baseline_days=84, lo=0.25, hi=0.9)
NOW = 1_000


def daily(people: dict[int, int]) -> tuple[tuple[int, int], ...]:
    """A series of (day, distinct users) from day offsets before ``NOW``."""
    return tuple(sorted((NOW + offset, n) for offset, n in people.items()))


def test_a_steady_team_keeps_its_pace() -> None:
    steady = daily({-d: 10 for d in range(1, 85)})
    assert users_pace(steady, RULE, NOW - 200, NOW) == pytest.approx(1.0)


def test_fewer_people_on_the_same_days_is_a_decline() -> None:
    # Active every day throughout (a count of active days sees nothing), but
    # the last four weeks had 3 people a day where there used to be 10.
    thinned = daily({-d: 3 if d <= 28 else 10 for d in range(1, 85)})
    expected = 3 / ((3 * 28 + 10 * 56) / 84)
    assert users_pace(thinned, RULE, NOW - 200, NOW) == pytest.approx(expected)
    assert expected < 0.6


def test_today_is_not_counted_until_it_is_over() -> None:
    steady = daily({-d: 10 for d in range(1, 85)})
    early_morning = (*steady, (NOW, 1))  # one person so far today
    assert users_pace(early_morning, RULE, NOW - 200, NOW) == users_pace(
        steady, RULE, NOW - 200, NOW
    )


def test_a_young_account_is_compared_with_the_days_it_has_lived() -> None:
    young = daily({-d: 4 for d in range(1, 11)})  # ten days old, four people a day
    assert users_pace(young, RULE, NOW - 10, NOW) == pytest.approx(1.0)
    assert users_pace((), RULE, NOW, NOW) == 1.0  # its first day: nothing to compare
    assert users_pace((), RULE, NOW - 30, NOW) == 0.0  # a month and nobody
