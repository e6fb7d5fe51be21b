"""The base of the pure domain's errors (an invalid scoring model, a dunning policy
that cannot work).

Separate from ``schemas.errors.HealthscoreError`` because the domain imports
nothing of ours, only the standard library; callers that want every error of the
project catch both.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class of the domain's own errors."""
