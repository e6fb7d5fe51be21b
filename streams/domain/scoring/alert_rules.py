"""The alert and lifecycle sections of a model file: each alert type's episode
rule as validated numbers (the rules themselves run in ``alerts``).

Kept apart from ``model`` so the model module stays about dimensions and
weights; ``model`` re-exports both policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from streams.domain.events import Segment
from streams.domain.scoring.normalisers import ModelError, as_mapping, number, only_keys, whole

SEGMENTS: tuple[str, ...] = get_args(Segment)


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Alert thresholds and each alert type's episode rule (see default_model.yaml).

    ``rearm`` above ``threshold`` is the hysteresis of ``health_below_threshold``;
    ``sudden_drop_rearm``, held for ``sudden_drop_rearm_days``, ends a
    ``sudden_drop`` episode; ``usage_decline_rearm`` above
    ``usage_decline_ratio`` is the hysteresis of ``usage_decline`` (0 turns it
    off); ``segment_thresholds`` overrides ``(threshold, rearm)`` per segment."""

    threshold: float = 60.0
    rearm: float = 65.0
    sudden_drop_points: float = 20.0
    sudden_drop_days: int = 7
    sudden_drop_rearm: float = 85.0
    sudden_drop_rearm_days: int = 7
    inactivity_days: int = 14
    segment_thresholds: tuple[tuple[str, float, float], ...] = ()
    """``(segment, threshold, rearm)`` overrides; a tuple keeps the policy hashable."""
    usage_decline_ratio: float = 0.6
    usage_decline_rearm: float = 0.9

    def thresholds(self, segment: str | None) -> tuple[float, float]:
        """``(threshold, rearm)`` for ``segment`` (the default when it has none)."""
        for name, threshold, rearm in self.segment_thresholds:
            if name == segment:
                return threshold, rearm
        return self.threshold, self.rearm


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    """Onboarding: how long an account counts as new, and when it has stalled."""

    onboarding_days: int = 30
    stalled_after_days: int = 14
    stalled_quiet_days: int = 7


_ALERT_KEYS = {
    "threshold", "rearm", "sudden_drop_points", "sudden_drop_days", "sudden_drop_rearm",
    "sudden_drop_rearm_days", "inactivity_days", "segments", "usage_decline_ratio",
    "usage_decline_rearm",
}  # fmt: skip


def parse_alerts(doc: Any) -> AlertPolicy:
    """The ``alerts`` section; ``ModelError`` names the key that is wrong."""
    body = as_mapping(doc, "alerts")
    only_keys(body, "alerts", _ALERT_KEYS)
    threshold, rearm = _threshold_pair(body, "alerts", (60.0, 65.0))
    segments: dict[str, tuple[float, float]] = {}
    for segment, override in as_mapping(body.get("segments", {}), "alerts.segments").items():
        where = f"alerts.segments.{segment}"
        if segment not in SEGMENTS:
            raise ModelError(f"{where}: unknown segment (known: {', '.join(SEGMENTS)})")
        only_keys(as_mapping(override, where), where, {"threshold", "rearm"})
        segments[segment] = _threshold_pair(override, where, (threshold, rearm))
    drop = body.get("sudden_drop_points", 20)
    decline = number(body.get("usage_decline_ratio", 0.6), "alerts.usage_decline_ratio", lo=0, hi=1)
    decline_rearm = number(
        body.get("usage_decline_rearm", 0.9), "alerts.usage_decline_rearm", lo=0, hi=10
    )
    if decline and decline_rearm <= decline:
        raise ModelError(
            "alerts.usage_decline_rearm: must be above alerts.usage_decline_ratio "
            "(the hysteresis gap)"
        )
    return AlertPolicy(
        threshold=threshold,
        rearm=rearm,
        sudden_drop_points=number(drop, "alerts.sudden_drop_points", lo=1, hi=100),
        sudden_drop_days=whole(body.get("sudden_drop_days", 7), "alerts.sudden_drop_days", 1, 30),
        sudden_drop_rearm=number(
            body.get("sudden_drop_rearm", 85), "alerts.sudden_drop_rearm", lo=0, hi=100
        ),
        sudden_drop_rearm_days=whole(
            body.get("sudden_drop_rearm_days", 7), "alerts.sudden_drop_rearm_days", 0, 90
        ),
        inactivity_days=whole(body.get("inactivity_days", 14), "alerts.inactivity_days", 1, 89),
        segment_thresholds=tuple((k, t, r) for k, (t, r) in segments.items()),
        usage_decline_ratio=decline,
        usage_decline_rearm=decline_rearm,
    )


def _threshold_pair(body: Any, where: str, default: tuple[float, float]) -> tuple[float, float]:
    threshold = number(body.get("threshold", default[0]), f"{where}.threshold", lo=0, hi=100)
    rearm = number(body.get("rearm", default[1]), f"{where}.rearm", lo=0, hi=100)
    if rearm <= threshold:
        raise ModelError(f"{where}.rearm: must be above {where}.threshold (the hysteresis gap)")
    return threshold, rearm


def parse_lifecycle(doc: Any) -> LifecyclePolicy:
    """The ``lifecycle`` section (onboarding)."""
    body = as_mapping(doc, "lifecycle")
    keys = {"onboarding_days", "stalled_after_days", "stalled_quiet_days"}
    only_keys(body, "lifecycle", keys)
    onboarding = whole(body.get("onboarding_days", 30), "lifecycle.onboarding_days", 0, 365)
    stalled = whole(body.get("stalled_after_days", 14), "lifecycle.stalled_after_days", 1, 60)
    quiet = whole(body.get("stalled_quiet_days", 7), "lifecycle.stalled_quiet_days", 1, 60)
    if quiet > stalled:
        raise ModelError("lifecycle.stalled_quiet_days: must not exceed stalled_after_days")
    return LifecyclePolicy(onboarding, stalled, quiet)
