"""The app's pages, its sign-in and its live feed. Thin: each page gathers what
the API's query functions return and hands it to a template."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Form, Header, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from redis.asyncio import Redis
from sse_starlette import EventSourceResponse

from services.api import queries, workspace_queries
from services.api.auth import Authenticator
from services.api.deps import SettingsDep, StoreDep
from services.api.errors import AccountNotFoundError
from services.api.routes.accounts import AccountId, FilterValue, Stage
from services.api.routes.analytics import Month
from services.api.webapp import throttle, views
from services.api.webapp.auth import (
    LoginRequiredError,
    PageViewer,
    StreamViewer,
    login_url,
    safe_next,
)
from services.api.webapp.sessions import COOKIE, close_session, open_session
from services.readmodel.listing import AccountQuery, Order, SortName

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix="/app", include_in_schema=False)

View = Literal["at_risk", "falling", "all"]
_HEADERS = {
    # Same-origin everything: no inline script, no third-party anything.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(_HEADERS)
    return response


def _login_page(
    request: Request, next_path: str | None, error: str | None, status: int
) -> Response:
    return _page(request, "login.html", {"next": safe_next(next_path), "error": error}, status)


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request, next_path: Annotated[str | None, Query(alias="next", max_length=512)] = None
) -> Response:
    return _login_page(request, next_path, None, 200)


@router.post("/login")
async def login(
    request: Request,
    settings: SettingsDep,
    api_key: Annotated[str, Form(max_length=512)],
    next_path: Annotated[str, Form(alias="next", max_length=512)] = "/app",
    origin: Annotated[str | None, Header(max_length=512)] = None,
) -> Response:
    """Exchange an API key for a session cookie (the key is never stored in it, nor
    logged). Unknown keys count against the client address (``throttle.py``)."""
    if origin and urlsplit(origin).netloc != request.url.netloc:
        return _login_page(request, "/app", "Cross-site sign-in refused.", 403)
    redis: Redis = request.app.state.redis
    address = request.client.host if request.client else "unknown"
    wait = await throttle.retry_after(redis, address, settings.login_max_failures)
    if wait is not None:
        log.warning("sign-in refused: too many failures from %s", address)
        response = _login_page(request, next_path, "Too many failed sign-ins; try later.", 429)
        response.headers["Retry-After"] = str(wait)
        return response
    authenticator: Authenticator = request.app.state.authenticator
    principal = authenticator.authenticate(api_key.strip())
    if principal is None:
        await throttle.record_failure(redis, address, settings.login_window_seconds)
        return _login_page(request, next_path, "Unknown API key.", 401)
    if not principal.has("read"):
        return _login_page(request, next_path, "This key lacks the read scope.", 403)
    ttl = settings.session_ttl_seconds
    session_id = await open_session(request.app.state.redis, principal, ttl)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        COOKIE, session_id, max_age=ttl, path="/app",
        httponly=True, samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await close_session(request.app.state.redis, request.cookies.get(COOKIE))
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(COOKIE, path="/app")
    return response


@router.get("", response_class=HTMLResponse)
async def at_risk(
    request: Request,
    viewer: PageViewer,
    store: StoreDep,
    view: Annotated[View, Query()] = "at_risk",
    segment: FilterValue = None,
    owner: FilterValue = None,
    plan: FilterValue = None,
    industry: FilterValue = None,
    stage: Annotated[Stage | None, Query()] = None,
    sort: Annotated[SortName | None, Query()] = None,
    order: Annotated[Order | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response:
    """At risk today: below the threshold (or falling), with why, live."""
    given = {"segment": segment, "owner": owner, "plan": plan, "industry": industry,
             "stage": stage, "band": "at_risk" if view == "at_risk" else None}  # fmt: skip
    chosen: SortName = sort or ("change" if view == "falling" else "score")
    query = AccountQuery({k: v for k, v in given.items() if v}, sort=chosen, order=order)
    page = await workspace_queries.list_accounts(store, query, cursor, 100)
    params = {k: v for k, v in {**given, "view": view}.items() if v and k != "band"}
    return _page(request, "at_risk.html", {
        "viewer": viewer, "rows": views.account_rows(page.items), "next_cursor": page.next_cursor,
        "view": view, "sort": chosen, "order": query.direction, "params": params,
    })  # fmt: skip


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
async def account(request: Request, account_id: AccountId, viewer: PageViewer,
                  store: StoreDep) -> Response:  # fmt: skip
    """One account: score history, explanation, timeline, dunning, profile."""
    try:
        health = await queries.account_health(store, account_id)
    except AccountNotFoundError:
        return _page(request, "not_found.html", {"viewer": viewer, "account_id": account_id}, 404)
    history = await workspace_queries.score_history(store, account_id, 90)
    timeline = await workspace_queries.timeline(store, account_id, 100)
    dunning = await workspace_queries.dunning_history(store, account_id)
    try:
        profile = await workspace_queries.profile(store, account_id)
    except AccountNotFoundError:
        profile = None
    return _page(request, "account.html", {
        "viewer": viewer, "health": health, "profile": profile, "timeline": timeline.items,
        "cases": dunning.cases, "score_chart": views.score_chart(history),
        "dimension_chart": views.dimension_chart(health), "points": len(history.points),
        "money": views.money, "words": views.words,
    })  # fmt: skip


@router.get("/churn", response_class=HTMLResponse)
async def churn(request: Request, viewer: PageViewer, store: StoreDep,
                from_month: Annotated[Month, Query(alias="from")] = None,
                to_month: Annotated[Month, Query(alias="to")] = None) -> Response:  # fmt: skip
    """Churn and revenue: rates, breakdowns, payment failures, dunning, NRR."""
    start, end, report = await workspace_queries.churn_figures(store, from_month, to_month)
    return _page(request, "churn.html", {
        "viewer": viewer, "start": start, "end": end, "report": report,
        "charts": views.churn_charts(report), "kinds": views.kind_counts(report),
        "percent": views.percent, "money": views.money,
    })  # fmt: skip


@router.get("/stream")
async def stream(
    _: StreamViewer,
    store: StoreDep,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> EventSourceResponse:
    """The alert feed for the browser: same events as ``/v1/alerts/stream``, but
    authenticated by the session cookie (``EventSource`` sends no headers)."""
    events = queries.alert_events(store, last_event_id, None, None, settings.sse_block_ms)
    return EventSourceResponse(events, ping=settings.sse_ping_seconds)


async def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequiredError)
    return RedirectResponse(login_url(exc.next_path), status_code=303)


def install_webapp(app: FastAPI) -> None:
    """Mount the pages, their static files and the sign-in redirect on ``app``."""
    app.include_router(router)
    app.mount("/app/static", StaticFiles(directory=HERE / "static"), name="app-static")
    app.add_exception_handler(LoginRequiredError, _to_login)
