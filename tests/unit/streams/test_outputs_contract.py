"""The fast output records (plain dicts + orjson) against the output contract.

``streams.processing.encode`` serialises without pydantic on the hot path;
this runs a simulation through the engine, encodes its decisions and checks
every record: byte-identical to the pydantic model's ``model_dump_json()``,
and valid when parsed back by the topic's model. Pure: no broker.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from schemas.alerts import AlertEvent
from schemas.dunning import DunningEvent
from schemas.health import HealthEvent
from schemas.inputs import decode_event
from schemas.lifecycle import LifecycleEvent
from schemas.touchpoints import TouchpointEvent
from services.simulator import Simulation
from streams.processing import encode as outputs
from streams.processing.convert import to_domain
from streams.processing.rules import load_rules
from tests.unit.streams.engines import encoding_engine

END = datetime(2026, 11, 23, tzinfo=UTC)
RULES = load_rules()

_PAIRS: dict[str, tuple[Callable[..., outputs.Emit], Callable[..., BaseModel], type[BaseModel]]] = {
    "health_record": (outputs.health_record, outputs.health_model, HealthEvent),
    "alert_record": (outputs.alert_record, outputs.alert_model, AlertEvent),
    "dunning_record": (outputs.dunning_record, outputs.dunning_model, DunningEvent),
    "lifecycle_record": (outputs.lifecycle_record, outputs.lifecycle_model, LifecycleEvent),
    "touchpoint_record": (outputs.touchpoint_record, outputs.touchpoint_model, TouchpointEvent),
}


@pytest.fixture(scope="module")
def checked() -> Counter[str]:
    """Run the simulation with every record builder checked against its model."""
    seen: Counter[str] = Counter()
    mismatches: list[tuple[bytes, str]] = []
    patch = pytest.MonkeyPatch()

    def checking(name: str) -> Callable[..., outputs.Emit]:
        fast, model, schema = _PAIRS[name]

        def build(*args: Any) -> outputs.Emit:
            record = fast(*args)
            expected = model(*args).model_dump_json()
            if record.value.decode() != expected:
                mismatches.append((record.value, expected))
            schema.model_validate_json(record.value)
            seen[record.kind if name == "alert_record" else name] += 1
            return record

        return build

    for name in _PAIRS:
        patch.setattr(outputs, name, checking(name))
    try:
        sim = Simulation.create(accounts=40, days=45, seed=3, end=int(END.timestamp()))
        events = [to_domain(decode_event(topic, value)) for topic, _key, value in sim.events()]
        engine = encoding_engine(RULES)
        engine.process(events)
        for day in range(1, 40):
            engine.advance(END.timestamp() + day * 86_400)
    finally:
        patch.undo()
    assert mismatches == []
    return seen


@pytest.mark.parametrize(
    "kind",
    [
        "health_record",
        "dunning_record",
        "lifecycle_record",
        "touchpoint_record",
        "health_below_threshold",
        "inactivity",
        "sudden_drop",
        "onboarding_stalled",
    ],
)
def test_every_output_kind_matches_its_model(checked: Counter[str], kind: str) -> None:
    assert checked[kind] > 0, f"the simulation produced no {kind}: {dict(checked)}"


def test_emit_is_frozen_and_built_through_fast_init() -> None:
    """One ``Emit`` is built per output: its ``__init__`` is ``fast_init``'s
    (slot setters, not ``object.__setattr__`` per field), and it stays frozen."""
    emit = outputs.Emit("t", b"k", b"v", 1.0, "health")
    assert "__setattr__" not in outputs.Emit.__init__.__code__.co_names
    assert emit == outputs.Emit("t", b"k", b"v", 1.0, "health")
    with pytest.raises(dataclasses.FrozenInstanceError):
        emit.kind = "other"  # type: ignore[misc]
