"""When to try a failed delivery again: pure decisions, no clock or I/O.

Exponential backoff with *full jitter* (AWS Architecture Blog, "Exponential
Backoff And Jitter"): the n-th retry waits ``uniform(0, min(cap, base * 2**(n-1)))``.
Jitter spreads the retries of many deliveries that failed together (a receiver
outage) so they do not return as a thundering herd. A receiver's ``Retry-After``
(429/503) is a lower bound we honour, capped so a hostile value cannot park a
delivery for days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

#: Client errors that are worth retrying: timeout, too early, rate limited.
RETRYABLE_4XX = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` counts every try, the first one included."""

    base_seconds: float = 1.0
    cap_seconds: float = 3600.0
    max_attempts: int = 15

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("need 0 < base_seconds <= cap_seconds")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one try through a channel came back with."""

    ok: bool
    error: str = ""
    status: int | None = None
    permanent: bool = False
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    action: Literal["delivered", "retry", "dead"]
    attempts: int
    delay_seconds: float = 0.0


def backoff_ceiling(policy: RetryPolicy, failures: int) -> float:
    """Upper bound of the wait after the ``failures``-th failed try (1-based)."""
    exponent = min(failures - 1, 62)  # beyond this the cap has long been reached
    return float(min(policy.cap_seconds, policy.base_seconds * 2.0**exponent))


def backoff_delay(policy: RetryPolicy, failures: int, rand: float) -> float:
    """Full-jitter delay; ``rand`` is a uniform sample in [0, 1) supplied by the caller."""
    if not 0.0 <= rand < 1.0:
        raise ValueError("rand must be in [0, 1)")
    return backoff_ceiling(policy, failures) * rand


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def is_permanent_status(status: int) -> bool:
    """4xx means the request itself is wrong (gone, forbidden, bad payload):
    retrying cannot help, except for the timing-related 408/425/429."""
    return 400 <= status < 500 and status not in RETRYABLE_4XX


def decide(
    result: AttemptResult, attempt: int, policy: RetryPolicy, now: datetime, rand: float
) -> Decision:
    """Next step for a delivery whose try number ``attempt + 1`` gave ``result``.

    ``attempt`` is the number of earlier failed tries (the queue's ``attempt`` field).
    """
    tries = attempt + 1
    if result.ok:
        return Decision("delivered", tries)
    if result.permanent or tries >= policy.max_attempts:
        return Decision("dead", tries)
    delay = backoff_delay(policy, tries, rand)
    asked = parse_retry_after(result.retry_after, now)
    if asked is not None:
        delay = max(delay, min(asked, policy.cap_seconds))
    return Decision("retry", tries, delay)


def http_result(status: int, retry_after: str | None) -> AttemptResult:
    """Classify an HTTP response: 2xx delivered, permanent 4xx, everything else retried."""
    if 200 <= status < 300:
        return AttemptResult(ok=True, status=status)
    return AttemptResult(
        ok=False,
        error=f"HTTP {status}",
        status=status,
        permanent=is_permanent_status(status),
        retry_after=retry_after if status in (429, 503) else None,
    )
