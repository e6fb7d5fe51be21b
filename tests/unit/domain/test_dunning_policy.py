"""DunningPolicy invariants, YAML-shaped parsing, per-segment overrides and links."""

from __future__ import annotations

from typing import Any

import pytest

from streams.domain.dunning.policy import (
    HARD_DECLINE_CODES,
    DunningPolicies,
    DunningPolicy,
    parse_policies,
    parse_policy,
)


def test_default_policy_matches_the_issue() -> None:
    policy = DunningPolicy()
    assert policy.retry_days == (1, 3, 5, 7)
    assert (policy.grace_start_day, policy.restrict_day, policy.cancel_day) == (7, 14, 21)
    assert policy.renewal_reminder_days == (7, 3, 2)
    assert policy.card_reminder_days == (30, 7)
    assert policy.recover_on_any_success is False


@pytest.mark.parametrize(
    ("code", "hard"),
    [
        ("lost_card", True),
        ("Stolen_Card", True),
        ("fraudulent", True),
        ("expired_card", True),
        ("do_not_honor", True),
        ("pickup_card", True),
        ("restricted_card", True),
        ("invalid_account", True),
        ("insufficient_funds", False),
        ("card_declined", False),
        ("processing_error", False),
        ("something_new", False),
        (None, False),
    ],
)
def test_hard_and_soft_declines(code: str | None, hard: bool) -> None:
    assert DunningPolicy().is_hard_decline(code) is hard


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"retry_days": (3, 1)}, "strictly increasing"),
        ({"retry_days": (0, 1)}, "strictly increasing"),
        ({"retry_days": (1, 1)}, "strictly increasing"),
        ({"retry_days": (1, 9)}, "last retry <= grace_start_day"),
        ({"grace_start_day": 15}, "grace_start_day <= restrict_day"),
        ({"cancel_day": 10}, "restrict_day"),
        ({"renewal_reminder_days": (7, 7)}, "strictly increasing"),
        ({"card_reminder_days": (-1,)}, "strictly increasing"),
        ({"retention_days": -1}, "retention_days"),
        ({"payment_url_template": "https://x/{account}"}, "may only use"),
        ({"payment_url_template": "https://x/{}"}, "may only use"),
        ({"card_url_template": "https://x/{invoice_id}"}, "may only use"),
        ({"card_url_template": "https://x/{account_id"}, "valid format string"),
    ],
)
def test_invalid_policies_are_refused_at_construction(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        DunningPolicy(**changes)


def test_links_are_built_from_templates_with_quoted_ids() -> None:
    policy = DunningPolicy(payment_url_template="https://pay.test/{invoice_id}?a={account_id}")
    assert policy.payment_link("acme co", "in/7") == "https://pay.test/in%2F7?a=acme%20co"
    assert policy.card_link("acme") == "https://billing.example.com/card/acme"


def test_parse_policy_overrides_only_given_keys() -> None:
    policy = parse_policy(
        {
            "retry_days": [2, 4],
            "cancel_day": 30,
            "hard_decline_codes": ["Lost_Card"],
            "recover_on_any_success": True,
        }
    )
    assert policy.retry_days == (2, 4)
    assert policy.cancel_day == 30
    assert policy.hard_decline_codes == frozenset({"lost_card"})
    assert policy.recover_on_any_success is True
    assert policy.grace_start_day == DunningPolicy().grace_start_day


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"cancel_days": 30}, "unknown dunning policy keys"),
        ({"cancel_day": "30"}, "must be an integer"),
        ({"cancel_day": True}, "must be an integer"),
        ({"recover_on_any_success": 1}, "true or false"),
        ({"retry_days": 3}, "must be a list"),
        ({"retry_days": [1, "3"]}, "list of integers"),
        ({"hard_decline_codes": [1]}, "list of strings"),
        ({"card_url_template": 5}, "must be a string"),
        ({"retry_days": [1, 30]}, "last retry"),
    ],
)
def test_parse_policy_rejects_bad_input(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_policy(raw)


def test_parse_policies_merges_segments_onto_the_default() -> None:
    policies = parse_policies(
        {
            "default": {"cancel_day": 28},
            "segments": {
                "enterprise": {"grace_start_day": 14, "restrict_day": 30, "cancel_day": 45}
            },
        }
    )
    enterprise = policies.for_segment("enterprise")
    assert (enterprise.grace_start_day, enterprise.cancel_day) == (14, 45)
    assert policies.for_segment("smb").cancel_day == 28
    assert policies.for_segment(None) is policies.default
    assert enterprise.retry_days == (1, 3, 5, 7)


@pytest.mark.parametrize(
    "raw",
    [{"defaults": {}}, {"default": []}, {"segments": {"smb": [1]}}, {"segments": [1]}],
)
def test_parse_policies_rejects_bad_shapes(raw: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        parse_policies(raw)


def test_empty_config_gives_the_defaults() -> None:
    assert parse_policies({}) == DunningPolicies()
    assert DunningPolicy().hard_decline_codes == HARD_DECLINE_CODES
