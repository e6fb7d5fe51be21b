"""The OpenAPI document: every model example is a valid instance of its model."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from services.api import models
from tests.api.support import make_settings

EXAMPLED = [
    models.AccountHealthPublic,
    models.AccountSummary,
    models.AlertPublic,
    models.DunningCasePublic,
    models.EventsAccepted,
    models.EventsRejected,
    models.SourceAccepted,
    models.SubscriptionCreate,
    models.SubscriptionPublic,
    models.SubscriptionCreated,
    models.DeadDeliveryPublic,
]


@pytest.mark.parametrize("model", EXAMPLED)
def test_examples_validate(model: type[BaseModel]) -> None:
    examples = model.model_json_schema()["examples"]
    assert examples
    for example in examples:
        model.model_validate(example)


def test_ingest_documents_all_or_nothing_and_examples() -> None:
    from services.api.main import create_app

    spec = create_app(make_settings("redis://127.0.0.1:1/0")).openapi()
    post = spec["paths"]["/v1/events"]["post"]
    assert "All-or-nothing" in post["description"]
    assert set(post["requestBody"]["content"]["application/json"]["examples"]) == {"one", "batch"}
    assert {"202", "413", "422"} <= set(post["responses"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_sources_are_documented_with_examples_and_their_credentials() -> None:
    from services.api.main import create_app

    spec = create_app(make_settings("redis://127.0.0.1:1/0")).openapi()
    stripe = spec["paths"]["/v1/sources/stripe"]["post"]
    segment = spec["paths"]["/v1/sources/segment"]["post"]
    for post, examples in ((stripe, {"payment_failed"}), (segment, {"track", "batch"})):
        assert post["summary"]
        assert set(post["requestBody"]["content"]["application/json"]["examples"]) == examples
        assert {"202", "413", "422"} <= set(post["responses"])
    # Stripe authenticates with its signature, Segment with an ingest key (Bearer or Basic).
    assert "security" not in stripe and "400" in stripe["responses"]
    assert segment["security"] == [{"HTTPBearer": []}, {"HTTPBasic": []}]
