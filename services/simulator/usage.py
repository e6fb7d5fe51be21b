"""Dense daily product usage: logins, feature use and data growth per account.

This is where nearly every simulated event comes from, so it is written for
speed: per-account constants (JSON fragments included) are computed once,
random numbers come from ``random()`` scaled by hand (``randint`` costs five
times more), and an event is a 5-tuple the encoder completes with id and time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from schemas import topics
from services.simulator.clock import DAY, HOUR, weekday
from services.simulator.fragments import RawEvent, field, head
from services.simulator.population import Account

#: Seconds-of-day at which sessions start, weighted toward business hours (UTC).
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 4, 9, 10, 10, 10, 8, 10, 10, 10, 9, 7, 4, 3, 2, 2, 1, 1)
SESSION_STARTS = tuple(h * HOUR for h, w in enumerate(_HOUR_WEIGHTS) for _ in range(w))
#: Share of an account's users active on a weekday vs a weekend day.
_WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 0.95, 0.2, 0.15)
#: Feature events per session are uniform on 0..MAX_FEATURES_PER_SESSION-1.
MAX_FEATURES_PER_SESSION = 5
_RECORDS_PER_SEAT = {"free": 5, "smb": 20, "mid_market": 60, "enterprise": 150}


@dataclass(slots=True)
class _Profile:
    """The per-account constants the daily loop needs, resolved once."""

    key: bytes
    login: str
    feature_used: str
    records_changed: str
    users: tuple[str, ...]
    features: tuple[str, ...]
    activity: float
    records_scale: int
    start: int
    silent_from: int | None
    stopped_at: int | None
    created_at: int
    lull: tuple[int, int] | None


def _profile(acc: Account, start: int) -> _Profile:
    fade_from = start
    if acc.silent_from is not None:
        fade_from = max(start, min(acc.created_at, acc.silent_from), acc.silent_from - FADE)
    return _Profile(
        key=acc.account_id.encode(),
        login=head(acc.account_id, "login"),
        feature_used=head(acc.account_id, "feature_used"),
        records_changed=head(acc.account_id, "records_changed"),
        users=tuple(field("user_id", f"{acc.account_id}-u{j}") for j in range(1, acc.seats + 1)),
        features=tuple(field("feature", f) for f in acc.features),
        activity=acc.activity,
        records_scale=_RECORDS_PER_SEAT[acc.segment] * acc.seats,
        start=fade_from,
        silent_from=acc.silent_from,
        stopped_at=acc.cancel_at,
        created_at=acc.created_at,
        lull=acc.lull,
    )


#: How long a disengaging account's usage fades before it goes silent.
FADE = 45 * DAY
#: A new account's users arrive over its first weeks (onboarding ramp).
RAMP = 21 * DAY
#: Share of usual usage during a seasonal lull.
LULL_LEVEL = 0.15


class UsageModel:
    """Generates each calendar day's usage events for the whole population."""

    def __init__(self, accounts: list[Account], rng: random.Random, start: int) -> None:
        self._profiles = [_profile(a, start) for a in accounts]
        self._rng = rng

    def level(self, p: _Profile, day_start: int) -> float:
        """How engaged the account is that day, 0..1; 0 means no usage at all.

        A disengaging account fades linearly from its usual level to nothing by
        ``silent_from``: fewer of its users show up, and they use fewer features.
        A new account ramps up over ``RAMP``; a seasonal one drops to
        ``LULL_LEVEL`` during its lull; nothing happens before creation or
        after cancellation.
        """
        if (p.stopped_at is not None and day_start >= p.stopped_at) or (
            day_start + DAY <= p.created_at
        ):
            return 0.0
        level = p.activity
        age = day_start - p.created_at
        if age < RAMP and p.silent_from is None:
            level *= 0.3 + 0.7 * max(0.0, age) / RAMP
        if p.lull is not None and p.lull[0] <= day_start < p.lull[1]:
            level *= LULL_LEVEL
        if p.silent_from is None:
            return level
        if day_start >= p.silent_from:
            return 0.0
        remaining = (p.silent_from - day_start) / max(1, p.silent_from - p.start)
        return level * min(1.0, remaining)

    def day(self, day_start: int, lo: int, hi: int, out: list[RawEvent]) -> None:
        """Append the usage events of the day starting at ``day_start`` that fall in [lo, hi)."""
        factor = _WEEKDAY_FACTOR[weekday(day_start)]
        for p in self._profiles:
            level = self.level(p, day_start)
            if level > 0.0:
                until = hi if p.stopped_at is None else min(hi, p.stopped_at)
                since = max(lo, p.created_at)
                self._account_day(p, level, level * factor, day_start, since, until, out)

    def _account_day(
        self,
        p: _Profile,
        level: float,
        chance: float,
        day_start: int,
        lo: int,
        hi: int,
        out: list[RawEvent],
    ) -> None:
        rand = self._rng.random
        key, usage, feature_used = p.key, topics.USAGE, p.feature_used
        share = level / p.activity  # below 1.0 while fading, ramping up or in a lull
        users = p.users[: max(1, math.ceil(len(p.users) * share))]
        features = p.features[: max(2, math.ceil(len(p.features) * share))]
        n_features = len(features)
        starts = SESSION_STARTS
        n_starts = len(starts)
        max_features = MAX_FEATURES_PER_SESSION * share
        last = -1
        for user in users:
            if rand() >= chance:
                continue
            t = day_start + starts[int(rand() * n_starts)] + int(rand() * HOUR)
            if lo <= t < hi:
                out.append((t, usage, key, p.login, user))
                last = t
            for _ in range(int(rand() * max_features)):
                t += 30 + int(rand() * 900)
                if lo <= t < hi:
                    out.append(
                        (t, usage, key, feature_used, user + features[int(rand() * n_features)])
                    )
                    last = t
        if 0 <= last < hi - 1:
            # Data grows with use; a fading account mostly deletes and cleans up.
            scale = p.records_scale
            growing = share > 0.5 or p.silent_from is None
            quantity = int(rand() * scale) + 1 if growing else int((rand() - 0.7) * scale)
            out.append((last + 1, usage, key, p.records_changed, f',"quantity":{quantity}'))
