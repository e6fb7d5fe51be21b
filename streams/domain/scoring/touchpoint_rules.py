"""What a touchpoint schedule is (model file, ``touchpoints``) and what an account remembers of it.

Kept apart from ``touchpoints`` (the decisions) so that the model parser and
the account state can use these without importing the scorer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.domain.frozen import fast_init
from streams.domain.scoring.normalisers import ModelError, as_mapping, number, only_keys, whole

#: The time-based touchpoints, in schedule order: (kind, model key, default days).
SCHEDULE: tuple[tuple[str, str, int], ...] = (
    ("onboarding_checkin", "onboarding_checkin_days", 7),
    ("milestone_30d", "milestone_30d_days", 30),
    ("milestone_90d", "milestone_90d_days", 90),
    ("milestone_1y", "milestone_1y_days", 365),
)
KINDS: tuple[str, ...] = (*(k for k, _, _ in SCHEDULE), "expansion_signal", "referral_ask")
BIT: dict[str, int] = {kind: 1 << i for i, kind in enumerate(KINDS)}
SCHEDULE_BITS = sum(BIT[k] for k, _, _ in SCHEDULE)


@dataclass(frozen=True, slots=True)
class TouchpointPolicy:
    """When each touchpoint is due (see default_model.yaml)."""

    schedule: tuple[tuple[str, int], ...] = tuple((k, d) for k, _, d in SCHEDULE)
    renewal_notice_days: int = 90
    expansion_seat_growth: float = 0.25
    referral_min_nps: int = 9
    referral_min_score: float = 75.0
    late_days: int = 7
    """A scheduled touchpoint first found due more than this late (an account
    first seen long after sign-up) is skipped: the moment has passed."""


@fast_init
@dataclass(frozen=True, slots=True)
class Touchpoints:
    """An account's touchpoint memory: ``sent`` bits (``BIT``), the seat count
    expansion is measured from, the renewal date known and the one notified."""

    sent: int = 0
    seats_base: int | None = None
    renewal_s: int | None = None
    renewal_sent_s: int | None = None

    def to_list(self) -> list[int | None]:
        return [self.sent, self.seats_base, self.renewal_s, self.renewal_sent_s]

    @classmethod
    def from_list(cls, data: list[Any]) -> Touchpoints:
        return cls(int(data[0]), data[1], data[2], data[3])


def parse_touchpoints(doc: Any) -> TouchpointPolicy:
    """Validate the model file's ``touchpoints`` section."""
    where = "touchpoints"
    body = as_mapping(doc, where)
    keys = {key for _, key, _ in SCHEDULE} | {
        "renewal_notice_days", "expansion_seat_growth", "referral_min_nps",
        "referral_min_score", "late_days",
    }  # fmt: skip
    only_keys(body, where, keys)
    schedule = tuple(
        (kind, whole(body.get(key, days), f"{where}.{key}", 1, 3650))
        for kind, key, days in SCHEDULE
    )
    days = [d for _, d in schedule]
    if days != sorted(days):
        raise ModelError(f"{where}: the check-in and milestones must come in that order")
    return TouchpointPolicy(
        schedule=schedule,
        renewal_notice_days=whole(
            body.get("renewal_notice_days", 90), f"{where}.renewal_notice_days", 1, 365
        ),
        expansion_seat_growth=number(
            body.get("expansion_seat_growth", 0.25), f"{where}.expansion_seat_growth", lo=0.01
        ),
        referral_min_nps=whole(body.get("referral_min_nps", 9), f"{where}.referral_min_nps", 0, 10),
        referral_min_score=number(
            body.get("referral_min_score", 75), f"{where}.referral_min_score", lo=0, hi=100
        ),
        late_days=whole(body.get("late_days", 7), f"{where}.late_days", 0, 90),
    )
