"""The base of the pure domain's errors (an invalid scoring model, a dunning policy
that cannot work).

Separate from ``schemas.errors.HealthscoreError`` because the domain imports
nothing of ours, only the standard library; callers that want every error of the
project catch both.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class of the domain's own errors."""


class TooOldError(DomainError):
    """An input older than its account's retention: applying it could change
    no window and might count it twice (``streams.domain.account.RETENTION_S``).
    The caller dead-letters it with ``kind`` as the reason's kind."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        #: Set here, not on the class: compiled (mypyc), a class attribute
        #: of an exception is not seen through its instances.
        self.kind = "too_old"
