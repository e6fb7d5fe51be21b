"""``healthscore bench --workspace``: server time of every web-app page and
workspace API route with 50,000 accounts in the read model.

Fills a fresh embedded Redis through the projector's own write path
(``workspace_fill.py``), then calls each route in-process through the ASGI app
(``httpx.ASGITransport``: no socket, so the time is the server's: routing,
Redis reads, model validation, template rendering) ``--requests`` times each,
with accounts and filters drawn at random, and reports median and p95. The
figures go into ``bench/results.json`` under the ``workspace`` key; the file's
other keys are kept.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx
from redis.asyncio import Redis

from services.api.main import create_app
from services.api.settings import ApiSettings
from services.bench.machine import load_average, machine_facts
from services.bench.workspace_fill import INDUSTRIES, PLANS, FillSize, fill
from services.readmodel.store import ReadModelStore

RESULT_KEY: Final = "workspace"
BUDGET_MS: Final = 300.0
_KEY = "bench-reader-0123456789abcdef"

#: (name, path); ``{account}``, ``{plan}`` and ``{industry}`` are drawn at random per request.
ROUTES: Final = (
    ("page /app (at risk)", "/app"),
    ("page /app?view=falling", "/app?view=falling"),
    ("page /app?view=all&sort=arr&plan=", "/app?view=all&sort=arr&plan={plan}"),
    ("page /app/accounts/{id}", "/app/accounts/{account}"),
    ("page /app/churn", "/app/churn"),
    ("GET /v1/accounts?band=at_risk", "/v1/accounts?band=at_risk&limit=100"),
    ("GET /v1/accounts?sort=arr", "/v1/accounts?sort=arr&limit=100"),
    (
        "GET /v1/accounts?sort=days_at_risk&plan=&industry=",
        "/v1/accounts?sort=days_at_risk&plan={plan}&industry={industry}&limit=100",
    ),
    ("GET /v1/accounts?sort=change&arr_min=", "/v1/accounts?sort=change&arr_min=500000"),
    ("GET /v1/accounts/{id}/history", "/v1/accounts/{account}/history"),
    ("GET /v1/accounts/{id}/timeline", "/v1/accounts/{account}/timeline"),
    ("GET /v1/accounts/{id}/dunning/history", "/v1/accounts/{account}/dunning/history"),
    ("GET /v1/analytics/churn", "/v1/analytics/churn?dimension=reason"),
)


def draw(template: str, rng: random.Random, accounts: int) -> str:
    return template.format(
        account=f"acct-{rng.randrange(accounts):05d}",
        plan=rng.choice(PLANS),
        industry=rng.choice(INDUSTRIES),
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def time_routes(redis_url: str, accounts: int, requests: int, seed: int) -> dict[str, Any]:
    settings = ApiSettings(
        REDIS_URL=redis_url, HEALTHSCORE_API_KEYS=f"bench:{_KEY}:read", HEALTHSCORE_ENV="test"
    )
    app = create_app(settings)
    redis = Redis.from_url(redis_url, decode_responses=True)
    app.state.redis, app.state.store = redis, ReadModelStore(redis)  # no Kafka needed to read
    rng = random.Random(seed)
    figures: dict[str, Any] = {}
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {_KEY}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers
    ) as c:
        for name, template in ROUTES:
            await c.get(draw(template, rng, accounts))  # warm: script loads, template compile
            samples = []
            for _ in range(requests):
                path = draw(template, rng, accounts)
                started = time.perf_counter()
                response = await c.get(path)
                samples.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status_code}")
            figures[name] = {
                "median_ms": round(statistics.median(samples), 2),
                "p95_ms": round(percentile(samples, 0.95), 2),
                "max_ms": round(max(samples), 2),
                "requests": requests,
            }
    await redis.aclose()
    return figures


async def run_workspace_bench(
    size: FillSize, requests: int, out: Callable[[str], object]
) -> dict[str, Any]:
    from services.stack.redis import start_redis

    server = start_redis()
    try:
        redis = Redis.from_url(server.address, decode_responses=True)
        started = time.perf_counter()
        ops = await fill(
            ReadModelStore(redis), size, lambda n: out(f"\rfilled {n:,}/{size.accounts:,} accounts")
        )
        fill_s = time.perf_counter() - started
        memory = await redis.info("memory")
        await redis.aclose()
        out(f"\n{ops:,} writes in {fill_s:.0f} s; timing routes...\n")
        routes = await time_routes(server.address, size.accounts, requests, size.seed)
    finally:
        server.stop()
    worst = max(r["p95_ms"] for r in routes.values())
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "load_average_at_end": load_average(),
        "how": "in-process ASGI (httpx.ASGITransport), embedded Redis on loopback; server "
        "time = request in to last response byte, no network",
        "parameters": {**asdict(size), "requests_per_route": requests},
        "fill": {
            "writes": ops,
            "seconds": round(fill_s, 1),
            "redis_used_memory_mb": round(memory["used_memory"] / 2**20, 1),
        },
        "routes": routes,
        "budget_ms": BUDGET_MS,
        "worst_p95_ms": worst,
        "within_budget": worst < BUDGET_MS,
    }


def write_result(path: Path, result: dict[str, Any]) -> None:
    """Put ``result`` under ``RESULT_KEY``, keeping every other key of the file."""
    document = json.loads(path.read_text()) if path.exists() else {}
    document[RESULT_KEY] = result
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{'route':<52}{'median ms':>11}{'p95 ms':>10}"]
    for name, fig in result["routes"].items():
        lines.append(f"{name:<52}{fig['median_ms']:>11.1f}{fig['p95_ms']:>10.1f}")
    verdict = "within" if result["within_budget"] else "OVER"
    lines.append(
        f"worst p95 {result['worst_p95_ms']:.1f} ms: {verdict} the {BUDGET_MS:.0f} ms budget"
    )
    return "\n".join(lines) + "\n"


def run(accounts: int, requests: int, seed: int, output: Path) -> int:
    size = FillSize(accounts=accounts, seed=seed)
    result = asyncio.run(run_workspace_bench(size, requests, sys.stderr.write))
    write_result(output, result)
    sys.stdout.write(format_table(result))
    return 0 if result["within_budget"] else 1
