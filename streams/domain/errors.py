"""The base of every healthscore error, so callers can catch the project's errors apart.

It lives in the domain package because the domain must not import anything
outside it; the rest of the project can import it from here.
"""

from __future__ import annotations


class HealthscoreError(Exception):
    """Base class of the project's own errors."""
