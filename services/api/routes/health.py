"""Probes and metrics: open, no API key (they reveal no customer data)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from services.api.deps import ProducerDep, RedisDep, SettingsDep
from services.api.metrics import render_metrics
from services.api.models import ReadyStatus

router = APIRouter(tags=["operations"])

HEALTHZ, READYZ, METRICS = "/healthz", "/readyz", "/metrics"
#: Polled on a timer by orchestrators and Prometheus: a successful call is
#: logged only at debug level (``quiet_probe_access_lines`` in ``main``).
PROBE_PATHS = frozenset({HEALTHZ, READYZ, METRICS})


@router.get(HEALTHZ, response_model=dict[str, str])
async def healthz() -> dict[str, str]:
    """The process is up (liveness): no dependency is checked."""
    return {"status": "ok"}


@router.get(
    READYZ,
    response_model=ReadyStatus,
    responses={503: {"model": ReadyStatus, "description": "Redis or Kafka does not answer."}},
)
async def readyz(redis: RedisDep, producer: ProducerDep, settings: SettingsDep) -> JSONResponse:
    """Ready for traffic only when Redis answers PING and the Kafka broker answers
    a metadata request; the body says which check failed."""
    timeout = settings.ready_timeout_seconds
    checks = {
        "redis": await _check_redis(redis, timeout),
        "kafka": await producer.check(timeout) or "ok",
    }
    ready = all(v == "ok" for v in checks.values())
    body = ReadyStatus(status="ready" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(METRICS, response_class=Response)
async def metrics() -> Response:
    """Prometheus exposition (aggregated across workers under PROMETHEUS_MULTIPROC_DIR)."""
    payload, content_type = render_metrics()
    return Response(payload, media_type=content_type)


async def _check_redis(redis: RedisDep, within_s: float) -> str:
    try:
        await asyncio.wait_for(redis.ping(), within_s)
    except (RedisError, OSError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"
