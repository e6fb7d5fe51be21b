"""The engine's incremental rescoring agrees with a full score.

The engine re-measures only the dimensions an event's mask names; a wrong mask
would leave a stale value in the cache. This replays a simulation and, after
every poll, compares each account's cached parts with ``score_parts`` on the
same state and day. Pure: no broker.
"""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.inputs import decode_event
from services.simulator import Simulation
from streams.domain.scoring.rescore import cached_parts
from streams.domain.scoring.score import score_parts
from streams.processing.convert import to_domain
from streams.processing.engine import PartitionEngine
from streams.processing.rules import load_rules

END = datetime(2026, 11, 20, tzinfo=UTC)
RULES = load_rules()


def test_cached_dimension_values_equal_a_full_rescore() -> None:
    sim = Simulation.create(accounts=16, days=45, seed=9, end=int(END.timestamp()))
    events = [to_domain(decode_event(topic, value)) for topic, _key, value in sim.events()]
    engine = PartitionEngine(0, RULES.model, RULES.policies)
    compared = 0
    for i in range(0, len(events), 250):
        engine.process(events[i : i + 250])
        for account in engine.accounts.values():
            draft = account.draft
            if draft is None or draft.dim_day is None:
                continue
            expected = score_parts(draft, RULES.model, draft.dim_day)
            assert cached_parts(draft, RULES.model) == expected, account.account_id
            compared += 1
    assert compared > 300  # some accounts are created during the history
