"""Domain errors of the API and the one table that maps them to HTTP.

Queries and stores raise these typed errors; only this module knows status
codes (lago's ``render_error_response``). Anything not in the table is a bug:
it is logged server-side with the request id and the client gets a generic 500
without a stack trace.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from schemas.errors import HealthscoreError

log = logging.getLogger(__name__)


class ApiError(HealthscoreError):
    """Base of errors a client can cause; ``detail`` is safe to show them."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail}


class NotFoundError(ApiError):
    """The thing asked for does not exist (yet): check the id."""


class AccountNotFoundError(NotFoundError):
    """No health score for this account yet: it has no events, or the worker
    and the read-model projector have not caught up."""


class SubscriptionNotFoundError(NotFoundError):
    """No subscription with this id (deleted, or never created)."""


class DeadDeliveryNotFoundError(NotFoundError):
    """No dead delivery with this id: already re-driven, or never dead."""


class InvalidCursorError(ApiError):
    """The cursor was not returned by this endpoint: restart without one."""


class InvalidRangeError(ApiError):
    """The month range is reversed or too long: narrow ``from``/``to``."""


class RequestTooLargeError(ApiError):
    """The body is over the size or item limit: split the batch."""


class InvalidBatchError(ApiError):
    """At least one event broke the contract; nothing was produced. Fix the
    items listed in ``errors`` and re-send the whole batch."""

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "errors": self.errors}


class BrokerUnavailableError(ApiError):
    """Kafka did not acknowledge the events: retry the request (ids make the
    retry safe; the worker drops duplicates)."""


class InvalidSignatureError(ApiError):
    """A third-party webhook's signature is missing, wrong or too old: check the
    signing secret configured on both sides and that clocks are in sync."""


class SourceNotConfiguredError(ApiError):
    """A third-party source's secret is not set on this deployment: set the
    environment variable named in the message and restart the API."""


class SubscriptionKeysMissingError(ApiError):
    """Webhook secrets cannot be stored durably: set HEALTHSCORE_SUBSCRIPTION_KEYS
    (a Fernet key) on the API and restart it. Slack and email need no key."""


class DeliveryInFlightError(ApiError):
    """The same webhook delivery is being processed by another request: retry
    later (the sender's retry is answered as a duplicate once it is done)."""


#: The one place status codes are chosen.
STATUS_BY_ERROR: Final[dict[type[ApiError], int]] = {
    NotFoundError: 404,
    InvalidCursorError: 400,
    InvalidRangeError: 400,
    RequestTooLargeError: 413,
    InvalidBatchError: 422,
    InvalidSignatureError: 400,
    DeliveryInFlightError: 409,
    BrokerUnavailableError: 503,
    SourceNotConfiguredError: 503,
    SubscriptionKeysMissingError: 503,
}


def status_of(error: ApiError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def request_id_of(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    return rid if isinstance(rid, str) else uuid.uuid4().hex


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=status_of(exc))


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    rid = request_id_of(request)
    log.exception(
        "unhandled error on %s %s (request_id=%s)",
        request.method,
        request.url.path,
        rid,
        exc_info=exc,
    )
    return JSONResponse(
        {"detail": "internal error", "request_id": rid},
        status_code=500,
        headers={"X-Request-ID": rid},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(Exception, _internal_error)


#: OpenAPI fragment for the error responses routes may return.
def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "Invalid cursor or parameter.",
        401: "Missing or unknown API key.",
        403: "The API key lacks the required scope.",
        404: "Not found.",
        409: "The same delivery is being processed: retry later.",
        413: "Body over the size limit.",
        503: "A backing service (Kafka or Redis) is unavailable.",
    }
    return {
        c: {
            "description": described[c],
            "content": {"application/json": {"example": {"detail": described[c]}}},
        }
        for c in codes
    }
