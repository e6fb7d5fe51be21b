"""Contract errors, and the base every healthscore error outside the pure domain
shares, so callers can catch the project's errors apart from everyone else's.

The base sits here, at the bottom of the import order (schemas <- streams <-
services). The pure domain imports nothing of ours, so its errors derive from
``streams.domain.errors.DomainError`` instead.
"""

from __future__ import annotations

__all__ = ["HealthscoreError", "InvalidEventError"]


class HealthscoreError(Exception):
    """Base of the project's errors (contract, API, CLI, stack)."""


class InvalidEventError(HealthscoreError, ValueError):
    """An input event broke the contract. It is dead-lettered with ``reason``;
    the producer should fix the field named there and re-send."""

    def __init__(self, reason: str, errors: list[str] | None = None, kind: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors if errors is not None else [reason]
        #: A small fixed vocabulary (``not_json``, ``too_large``, ``unknown_type``,
        #: ``missing_field``, ``unknown_field``, ``invalid_value``, ``not_object``,
        #: ``wrong_topic``) usable as a metric label, unlike the free-text reason.
        self.kind = kind
