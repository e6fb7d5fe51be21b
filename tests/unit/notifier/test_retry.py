"""Backoff with full jitter, Retry-After, and the retry/dead decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.retry import (
    AttemptResult,
    RetryPolicy,
    backoff_ceiling,
    backoff_delay,
    decide,
    http_result,
    parse_retry_after,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_seconds=1.0, cap_seconds=3600.0, max_attempts=15)
FAIL = AttemptResult(ok=False, error="HTTP 503", status=503)


@pytest.mark.parametrize(
    ("failures", "ceiling"),
    [(1, 1.0), (2, 2.0), (3, 4.0), (12, 2048.0), (13, 3600.0), (40, 3600.0), (10_000, 3600.0)],
)
def test_ceiling_doubles_then_caps(failures: int, ceiling: float) -> None:
    assert backoff_ceiling(POLICY, failures) == ceiling


def test_ceilings_are_monotone_and_capped() -> None:
    ceilings = [backoff_ceiling(POLICY, n) for n in range(1, 80)]
    assert ceilings == sorted(ceilings)
    assert max(ceilings) == POLICY.cap_seconds


@given(failures=st.integers(1, 200), rand=st.floats(0.0, 1.0, exclude_max=True))
def test_jitter_stays_within_zero_and_ceiling(failures: int, rand: float) -> None:
    delay = backoff_delay(POLICY, failures, rand)
    assert 0.0 <= delay <= backoff_ceiling(POLICY, failures)


def test_default_schedule_spans_hours() -> None:
    worst_case = sum(backoff_ceiling(POLICY, n) for n in range(1, POLICY.max_attempts))
    assert worst_case > 3 * 3600


@pytest.mark.parametrize("rand", [-0.1, 1.0])
def test_rand_outside_unit_interval_is_refused(rand: float) -> None:
    with pytest.raises(ValueError):
        backoff_delay(POLICY, 1, rand)


@pytest.mark.parametrize(
    ("kwargs"), [{"base_seconds": 0}, {"base_seconds": 10, "cap_seconds": 5}, {"max_attempts": 0}]
)
def test_policy_invariants(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 02 Nov 2026 09:01:30 GMT", 90.0),
        ("Mon, 02 Nov 2026 08:00:00 GMT", 0.0),  # in the past: go now
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


@pytest.mark.parametrize(
    ("status", "ok", "permanent"),
    [
        (200, True, False),
        (204, True, False),
        (400, False, True),
        (401, False, True),
        (404, False, True),
        (410, False, True),
        (408, False, False),
        (425, False, False),
        (429, False, False),
        (500, False, False),
        (503, False, False),
        (302, False, False),
    ],
)
def test_http_result_classification(status: int, ok: bool, permanent: bool) -> None:
    result = http_result(status, None)
    assert (result.ok, result.permanent) == (ok, permanent)


def test_retry_after_kept_only_for_429_and_503() -> None:
    assert http_result(429, "7").retry_after == "7"
    assert http_result(500, "7").retry_after is None


def test_decide_delivered() -> None:
    assert decide(AttemptResult(ok=True), 3, POLICY, NOW, 0.5).action == "delivered"


def test_decide_retry_uses_jittered_backoff() -> None:
    decision = decide(FAIL, 2, POLICY, NOW, 0.5)
    assert (decision.action, decision.attempts, decision.delay_seconds) == ("retry", 3, 2.0)


def test_decide_honours_retry_after_as_lower_bound() -> None:
    result = AttemptResult(ok=False, status=429, retry_after="30")
    assert decide(result, 0, POLICY, NOW, 0.5).delay_seconds == 30.0


def test_decide_caps_hostile_retry_after() -> None:
    result = AttemptResult(ok=False, status=503, retry_after=str(10 * 24 * 3600))
    assert decide(result, 0, POLICY, NOW, 0.0).delay_seconds == POLICY.cap_seconds


def test_decide_retry_after_as_http_date() -> None:
    when = (NOW + timedelta(seconds=45)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    result = AttemptResult(ok=False, status=503, retry_after=when)
    assert decide(result, 0, POLICY, NOW, 0.0).delay_seconds == 45.0


def test_decide_dead_after_last_try() -> None:
    assert decide(FAIL, POLICY.max_attempts - 2, POLICY, NOW, 0.1).action == "retry"
    decision = decide(FAIL, POLICY.max_attempts - 1, POLICY, NOW, 0.1)
    assert (decision.action, decision.attempts) == ("dead", POLICY.max_attempts)


def test_decide_permanent_failure_is_dead_at_once() -> None:
    result = AttemptResult(ok=False, status=410, permanent=True)
    assert decide(result, 0, POLICY, NOW, 0.1).action == "dead"
