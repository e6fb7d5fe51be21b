"""Contract errors. They share ``HealthscoreError`` with the rest of the
project; the base lives in the dependency-free domain package."""

from __future__ import annotations

from streams.domain.errors import HealthscoreError

__all__ = ["HealthscoreError", "InvalidEventError"]


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
