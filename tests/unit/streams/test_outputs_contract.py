"""The fast output records (plain dicts + orjson) against the output contract.

``streams.processing.encode`` serialises without pydantic on the hot path;
this runs a simulation through the engine, encodes its decisions and checks
every record: byte-identical to the pydantic model's ``model_dump_json()``,
valid when parsed back by the topic's model, and with the headers of the
CloudEvents Kafka binding for the model's attributes. Pure: no broker.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from schemas.alerts import ALERT_TYPES, AlertEvent
from schemas.dunning import DunningEvent
from schemas.health import HealthEvent
from schemas.inputs import decode_event
from schemas.lifecycle import LifecycleEvent
from schemas.touchpoints import TouchpointEvent
from services.simulator import Simulation
from streams.domain.scoring.alerts import AlertType as DomainAlertType
from streams.processing import contract
from streams.processing import encode as outputs
from streams.processing.convert import to_domain
from streams.processing.rules import load_rules
from tests.unit.streams.engines import encoding_engine

END = datetime(2026, 11, 23, tzinfo=UTC)
RULES = load_rules()

_PAIRS: dict[str, tuple[Callable[..., outputs.Emit], Callable[..., BaseModel], type[BaseModel]]] = {
    "health_record": (outputs.health_record, contract.health_model, HealthEvent),
    "alert_record": (outputs.alert_record, contract.alert_model, AlertEvent),
    "dunning_record": (outputs.dunning_record, contract.dunning_model, DunningEvent),
    "lifecycle_record": (outputs.lifecycle_record, contract.lifecycle_model, LifecycleEvent),
    "touchpoint_record": (outputs.touchpoint_record, contract.touchpoint_model, TouchpointEvent),
}


def binding_headers(event: BaseModel) -> dict[str, bytes]:
    """The CloudEvents Kafka binding's headers for ``event``, from the contract
    model: structured mode's content type, and each attribute as a ``ce_``
    header but ``datacontenttype`` (binary mode's ``content-type``) and ``data``."""
    attributes = event.model_dump(mode="json", exclude={"data", "datacontenttype"})
    return {
        "content-type": b"application/cloudevents+json; charset=UTF-8",
        **{f"ce_{name}": str(value).encode() for name, value in attributes.items()},
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
            headers = binding_headers(model(*args))
            if dict(record.headers) != headers or record.headers[0][0] != "content-type":
                mismatches.append((repr(record.headers).encode(), repr(headers)))
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
        "usage_decline",
    ],
)
def test_every_output_kind_matches_its_model(checked: Counter[str], kind: str) -> None:
    assert checked[kind] > 0, f"the simulation produced no {kind}: {dict(checked)}"


def test_the_domain_raises_exactly_the_alert_types_the_contract_names() -> None:
    assert get_args(DomainAlertType) == ALERT_TYPES
