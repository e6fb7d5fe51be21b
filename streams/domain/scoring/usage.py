"""Folding a usage event into the account's usage state.

``apply_usage`` marks the active day and user, the feature, the records delta
or the seats, and says which scored usage dimensions changed (a mask), so a
step can skip rescoring when an event only repeated what the state knew.
"""

from __future__ import annotations

from dataclasses import replace

from streams.domain.events import UsageEvent
from streams.domain.scoring.masks import (
    DIM_ACTIVE_DAYS,
    DIM_DATA_GROWTH,
    DIM_FEATURE_DEPTH,
    DIM_USAGE,
    SEEN_FEATURE,
    SEEN_LOGIN,
    SEEN_RECORDS,
    SEEN_SEATS,
)
from streams.domain.scoring.parts import UsageState
from streams.domain.scoring.series import add, put_max, touch_feature
from streams.domain.scoring.state import FEATURE_CAP
from streams.domain.scoring.windows import (
    Features,
    Series,
    day_index,
    estimate_users,
    has_day,
    user_bit,
)

_KIND_BIT = {
    "login": SEEN_LOGIN,
    "feature_used": SEEN_FEATURE,
    "records_changed": SEEN_RECORDS,
    "seats_changed": SEEN_SEATS,
}


def apply_usage(
    usage: UsageState, event: UsageEvent, at_s: int, feature_window: int = 1
) -> tuple[UsageState, int]:
    """Mark the active day and user, the feature, the records delta or the seats.

    Returns the same ``usage`` object when nothing changed (the second login of
    a user on a day), and the mask of the usage dimensions whose inputs changed.
    A feature use only counts as a scored change when it brings the feature
    back into the ``feature_window`` the model counts.
    """
    day = day_index(at_s)
    bit = _KIND_BIT[event.kind]
    if _repeats_today(usage, event, day):
        return usage, 0
    if event.kind == "seats_changed":
        return replace(usage, kinds_seen=usage.kinds_seen | bit, seats=event.quantity), 0
    mask = 0 if usage.kinds_seen & bit else DIM_USAGE
    active, bitmap, marked = _mark_active(usage, event, day)
    mask |= marked
    features, records = usage.features, usage.records
    if event.kind == "feature_used" and event.feature:
        features = touch_feature(features, event.feature, day, FEATURE_CAP)
        if features is not usage.features:
            seen = next((d for name, d in usage.features if name == event.feature), None)
            if seen is None or seen <= day - feature_window:
                mask |= DIM_FEATURE_DEPTH
    elif event.kind == "records_changed" and event.quantity:
        records = add(records, day, event.quantity)
        mask |= DIM_DATA_GROWTH
    kinds = usage.kinds_seen | bit
    if (
        active is usage.active_users
        and features is usage.features
        and records is usage.records
        and bitmap == usage.users_bitmap
        and kinds == usage.kinds_seen
    ):
        return usage, mask
    first_day = day if usage.first_day is None else min(usage.first_day, day)
    if first_day != usage.first_day:
        mask |= DIM_ACTIVE_DAYS | DIM_DATA_GROWTH  # the account's age changed
    return (
        UsageState(
            kinds_seen=kinds,
            first_day=first_day,
            active_users=active,
            users_day=max(day, usage.users_day),
            users_bitmap=bitmap,
            features=features,
            records=records,
            seats=usage.seats,
        ),
        mask,
    )


def _mark_active(usage: UsageState, event: UsageEvent, day: int) -> tuple[Series, int, int]:
    """The active-day series and today's user bitmap with ``event`` counted, and
    ``DIM_ACTIVE_DAYS`` if it made a day active (else 0)."""
    active = usage.active_users
    mask = 0
    if day >= usage.users_day:
        same_day = day == usage.users_day
        bitmap = usage.users_bitmap if same_day else 0
        if event.user_id is not None:
            bitmap |= user_bit(event.user_id)
        has_bucket = bool(active) and active[-1][0] == day
        if not (same_day and has_bucket and bitmap == usage.users_bitmap):
            if not has_bucket:
                mask = DIM_ACTIVE_DAYS
            active = put_max(active, day, max(1, estimate_users(bitmap)))
    else:  # late event for an older day: only the active day is certain
        bitmap = usage.users_bitmap
        if not has_day(active, day):
            mask = DIM_ACTIVE_DAYS
        active = put_max(active, day, 1)
    return active, bitmap, mask


def _repeats_today(usage: UsageState, event: UsageEvent, day: int) -> bool:
    """Whether ``event`` is a known user of today's active day using a feature
    already marked today: over half of all feature uses, which change nothing,
    so they skip building anything. Other kinds are rarely repeats (a login is
    usually a user's first event of the day) and take the full path."""
    feature = event.feature
    if event.kind != "feature_used" or not feature or day != usage.users_day:
        return False
    if not usage.kinds_seen & SEEN_FEATURE or not _marked_today(usage.features, feature, day):
        return False
    active = usage.active_users
    if not active or active[-1][0] != day:
        return False
    user = event.user_id
    return user is None or bool(usage.users_bitmap & user_bit(user))


def _marked_today(features: Features, name: str, day: int) -> bool:
    """``(name, day) in features``, scanning only today's tail: features are in
    ascending last-use order, so today's are the last ones (a miss is only a
    missed shortcut - the full path then decides)."""
    for feature, last in reversed(features):
        if last != day:
            return False
        if feature == name:
            return True
    return False
