"""The e2e forced-decline account (``tests/e2e/test_alert_flow.py``), replayed
in-process: a healthy customer whose card is hard-declined and never paid.
Past the dunning retries its unpaid invoice caps the score under the at-risk
line, however good its usage, so it is not "healthy" and gets no referral ask."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from schemas import topics
from schemas.inputs import validate_python
from services.simulator import Simulation
from streams.processing.convert import to_domain
from streams.processing.rules import load_rules
from tests.unit.streams.engines import encoding_engine

DAY = 86_400
END = 20_700 * DAY  # day-aligned, as the e2e test's is


def replay(segment: str, open_days: int) -> list[dict[str, Any]]:
    """The account's outputs, its clock run to the day its invoice is ``open_days`` open."""
    sim = Simulation.forced_decline(
        account_id="acct-forced", decline_at=END - 13 * DAY, days=30, end=END, segment=segment
    )
    engine = encoding_engine(load_rules())
    out = []
    for _, _, value in sim.events():
        out += engine.process([to_domain(validate_python(orjson.loads(value)))])
    out += engine.advance(float(END - 13 * DAY + open_days * DAY))
    return [orjson.loads(e.value) | {"topic": e.topic} for e in out]


@pytest.mark.parametrize("segment", ["enterprise", "smb"])
def test_a_hard_declined_invoice_open_14_days_is_at_risk_without_a_referral_ask(
    segment: str,
) -> None:
    outputs = replay(segment, open_days=14)
    health = [o["data"] for o in outputs if o["topic"] == topics.HEALTH]
    assert (health[-1]["band"], health[-1]["score"]) == ("at_risk", 55.0)
    assert health[-1]["reasons"][0].endswith("(caps the score at 55)")
    kinds = [o["type"].rsplit(".", 1)[-1] for o in outputs]
    assert "referral_ask" not in kinds
    alerts = [o["data"]["alert"] for o in outputs if o["topic"] == topics.ALERTS]
    assert alerts.count("health_below_threshold") == 1
