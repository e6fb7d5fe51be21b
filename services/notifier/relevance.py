"""Which output events are worth a delivery at all, before any subscription filter.

Every score change travels on ``cs.health.v1``, but a CRM syncing health wants
the band, not each decimal: a ``health.changed`` is delivered only when the band
moved (or on the account's first score, so the CRM learns its starting band).
The previous band is the band of ``previous_score`` under the scoring model's
thresholds, the same rule the worker applied, so the decision needs no state and
a redelivered record decides the same way. Alerts, dunning steps, touchpoints
and lifecycle changes are each worth delivering.
"""

from __future__ import annotations

from typing import Any

from schemas.health import HEALTH_CHANGED
from streams.domain.scoring.model import BandThresholds
from streams.domain.scoring.score import band_of

#: The default model's bands, for callers that load no model file.
DEFAULT_BANDS = BandThresholds()


def is_band_change(data: dict[str, Any], bands: BandThresholds) -> bool:
    previous = data.get("previous_score")
    if not isinstance(previous, int | float) or isinstance(previous, bool):
        return True  # first score (or no previous to compare): the band is news
    return band_of(round(previous * 10), bands) != data.get("band")


def is_deliverable(event: dict[str, Any], bands: BandThresholds) -> bool:
    if event.get("type") != HEALTH_CHANGED:
        return True
    data = event.get("data")
    return isinstance(data, dict) and is_band_change(data, bands)
