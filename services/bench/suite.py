"""One broker's benchmark, in order: produce, ceiling, pipeline throughput
run(s), naive, the remaining pipeline runs, the floor, the last pipeline run
with latency, state and recovery. The contenders run one after another (never
together), each over the same produced events, so they compete for nothing
but the machine.

The floor (``services.bench.floor_app``) is the pipeline's worker with its
domain looked up instead of computed: what the worker costs around its
scoring domain, so the table shows how much of the pipeline's CPU is the
domain itself and how fast any domain, however cheap, could make the worker.

The pipeline's throughput is the median of ``pipeline_runs`` fresh workers
(three by default), some before the naive baseline and some after it. One
pipeline run lasts about a minute against the naive baseline's ten to
fifteen, so a single run is far more exposed to what else the machine does
in that minute: the same code has measured 53-76 CPU µs per event in
consecutive runs on this 2-core VM. Every run is kept in the results, so the
spread is visible too.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from services.bench.ceiling import run_ceiling
from services.bench.contenders import REPO_ROOT, Contender
from services.bench.floor_app import OracleStore
from services.bench.latency import measure_latency
from services.bench.machine import broker_facts, load_average
from services.bench.produce import (
    Produced,
    bench_history,
    history_days,
    history_end,
    produce_feed,
)
from services.bench.progress import ProgressLine
from services.bench.recovery import time_recovery
from services.bench.runner import Consumption, WorkerProcess, wait_consumed
from services.bench.state import measure_state
from services.simulator import Simulation

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BenchParams:
    events: int = 1_000_000
    accounts: int = 50_000
    partitions: int = 4
    latency_rate: float = 5000.0
    latency_seconds: float = 20.0
    seed: int = 42
    #: Fresh pipeline workers over the same input; the median one is reported.
    pipeline_runs: int = 3
    #: Checkout whose ``streams/`` worker is measured (default: this one).
    pipeline_dir: Path = REPO_ROOT
    #: Run the floor contender (only for this checkout's worker: the floor is
    #: this checkout's worker, so beside another checkout's it would mislead).
    floor: bool = True

    @property
    def with_floor(self) -> bool:
        return self.floor and self.pipeline_dir == REPO_ROOT

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["pipeline_dir"] = str(self.pipeline_dir)
        return {**data, "history_days": history_days(self.events, self.accounts)}


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


class BrokerBench:
    """Runs every phase against one broker at ``bootstrap``."""

    def __init__(
        self,
        kind: str,
        bootstrap: str,
        params: BenchParams,
        bar: ProgressLine,
        oracles: OracleStore | None = None,
    ) -> None:
        self.kind, self.bootstrap, self.params, self.bar = kind, bootstrap, params, bar
        self.oracles = oracles
        self.load: dict[str, list[float]] = {"start": load_average()}
        #: Where the produced history ends (the noon before now): the floor's
        #: oracle is computed over the same feed.
        self.history_end = history_end(time.time())

    def _bar(self, phase: str) -> Callable[[int, int], None]:
        return lambda done, total: self.bar.update(phase, done, total)

    async def produce(self) -> tuple[Simulation, Produced]:
        from services.stack.topics import ensure_topics

        p = self.params
        await ensure_topics(self.bootstrap, p.partitions)
        sim, feed = bench_history(p.events, p.accounts, p.seed, self.history_end, self.history_end)
        produced = await produce_feed(
            self.bootstrap,
            feed,
            partitions=p.partitions,
            rate=0,
            on_progress=lambda pr: self.bar.update("producing", pr.sent, p.events, pr.rate),
        )
        self.bar.note(
            f"[{self.kind}] produced {produced.events:,} events at {produced.rate:,.0f}/s"
        )
        return sim, produced

    def _done(self, name: str, result: Consumption) -> None:
        self.load[name] = load_average()
        self.bar.note(
            f"[{self.kind}] {name}: {result.events_per_s:,.0f} events/s, "
            f"{result.cpu_per_million:,.1f} CPU-s/1M, "
            f"{result.peak_rss_mb:,.0f} MB"
        )

    async def _consume(
        self,
        contender: Contender,
        worker: WorkerProcess,
        produced: Produced,
        run: int | None = None,
    ) -> Consumption:
        """Wait until ``worker`` has committed every produced event; report it.
        ``run``: which of the pipeline's runs this is (named in progress and load)."""
        name = contender.kind
        if run is not None and self.params.pipeline_runs > 1:
            name = f"{name} run {run}/{self.params.pipeline_runs}"
        result = await wait_consumed(
            worker,
            self.bootstrap,
            contender.app_id,
            produced.counts,
            on_progress=self._bar(name),
        )
        self._done(name, result)
        return result

    async def _run_once(
        self, contender: Contender, produced: Produced, run: int | None = None
    ) -> Consumption:
        """A fresh worker of ``contender`` over the produced events, then gone."""
        worker = contender.spawn()
        try:
            return await self._consume(contender, worker, produced, run)
        finally:
            worker.stop()
            contender.cleanup()

    async def naive(self, produced: Produced) -> dict[str, Any]:
        contender = Contender("naive", self.bootstrap, self.params.partitions)
        result = await self._run_once(contender, produced)
        state = await measure_state(self.bootstrap, contender.app_id, produced.events)
        return {**result.to_json(), "state": state}

    async def floor(self, produced: Produced, oracles: OracleStore) -> dict[str, Any]:
        """The floor worker over the same events; its oracle is computed first
        (once per history) by the real engine over the same feed."""
        from streams.processing.rules import load_rules

        total = self.params.events
        env, facts = oracles.get(
            self.history_end,
            load_rules(None),
            lambda done: self.bar.update("floor: computing its oracle", done, total),
        )
        if facts["input_ids"] != produced.events:
            # Invalid or repeated inputs have no lookup: the floor would do less.
            self.bar.note(
                f"[{self.kind}] floor: its oracle covers {facts['input_ids']:,} of "
                f"{produced.events:,} produced events"
            )
        contender = Contender("floor", self.bootstrap, self.params.partitions, extra_env=env)
        result = await self._run_once(contender, produced)
        return {**result.to_json(), "oracle": facts}

    def _pipeline_contender(self) -> Contender:
        """A fresh pipeline worker's settings (own group), the same for every run."""
        p = self.params
        return Contender("pipeline", self.bootstrap, p.partitions, root=p.pipeline_dir)

    async def throughput(self, produced: Produced, run: int) -> Consumption:
        """One pipeline run that only consumes (a fresh worker and group)."""
        return await self._run_once(self._pipeline_contender(), produced, run)

    async def pipeline(
        self, sim: Simulation, produced: Produced, earlier: list[Consumption]
    ) -> dict[str, Any]:
        """The last pipeline run: throughput, then latency, state and recovery
        on the same worker. Its throughput joins ``earlier`` runs' for the median."""
        p = self.params
        contender = self._pipeline_contender()
        worker = contender.spawn()
        try:
            result = await self._consume(contender, worker, produced, len(earlier) + 1)
            latency, counts = await measure_latency(
                self.bootstrap,
                sim,
                worker,
                contender.app_id,
                produced.counts,
                partitions=p.partitions,
                rate=p.latency_rate,
                seconds=p.latency_seconds,
                on_progress=lambda ph, d, t: self.bar.update(ph, d, t),
            )
        finally:
            worker.stop()
        try:
            consumed = sum(counts.values())
            state = await measure_state(self.bootstrap, contender.app_id, consumed)
            self.bar.update("recovery")
            recovery, restarted = await time_recovery(lambda: contender.spawn("info"))
            restarted.stop()
        finally:
            contender.cleanup()
        return {
            **median_run([*earlier, result]),
            **_headline(latency, state, recovery),
            "latency": latency,
            "state": state,
            "recovery": recovery,
        }

    async def run(self) -> dict[str, Any]:
        sim, produced = await self.produce()
        self.bar.update("ceiling")
        ceiling = run_ceiling(self.bootstrap, produced.counts, REPO_ROOT)
        self._done("ceiling", ceiling)
        runs = self.params.pipeline_runs
        earlier = [await self.throughput(produced, run) for run in range(1, runs // 2 + 1)]
        naive = await self.naive(produced)
        for run in range(len(earlier) + 1, runs):
            earlier.append(await self.throughput(produced, run))
        floor = None if self.oracles is None else await self.floor(produced, self.oracles)
        pipeline = await self.pipeline(sim, produced, earlier)
        contenders = {"ceiling": ceiling.to_json(), "naive": naive, "pipeline": pipeline}
        if floor is not None:
            contenders["floor"] = floor
        return {
            "broker": broker_facts(self.kind),
            "producer": {
                "events": produced.events,
                "events_per_s": round(produced.rate, 1),
                "seconds": round(produced.seconds, 3),
            },
            "contenders": contenders,
            "ratios": ratios(ceiling.to_json(), naive, pipeline, floor),
            "load_average": self.load,
        }


def median_run(runs: list[Consumption]) -> dict[str, Any]:
    """The run with the median events/s (the slower middle one of an even
    count), so every headline figure comes from one real run; all runs listed."""
    middle = statistics.median_low(run.events_per_s for run in runs)
    chosen = next(run for run in runs if run.events_per_s == middle)
    return {
        **chosen.to_json(),
        "median_of": len(runs),
        "runs": [run.to_json() for run in runs],
    }


def _headline(
    latency: dict[str, Any], state: dict[str, Any], recovery: dict[str, Any]
) -> dict[str, Any]:
    """The pipeline's one-number figures; latency from outputs when there are any,
    else from the dead-letter markers (``latency_source`` says which)."""
    source = "output" if latency["output"]["samples"] else "deadletter_marker"
    return {
        "latency_p50_ms": latency[source]["p50_ms"],
        "latency_p99_ms": latency[source]["p99_ms"],
        "latency_source": source,
        "state_bytes_per_account": state["bytes_per_account"],
        "recovery_seconds": recovery["recovery_seconds"],
    }


def ratios(
    ceiling: dict[str, Any],
    naive: dict[str, Any],
    pipeline: dict[str, Any],
    floor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Pipeline over ceiling and over naive (the median run), and over naive for
    every pipeline run, so a reader sees how far the spread reaches. With the
    floor: pipeline over floor, and the domain's share of the pipeline's CPU
    per event (1 - floor's / pipeline's), for the median run and each run."""
    rate, cpu = "events_per_s", "cpu_s_per_1m_events"
    by_floor: dict[str, Any] = {}
    if floor is not None:
        by_floor = {
            "pipeline_vs_floor": _ratio(pipeline[rate], floor[rate]),
            "domain_cpu_share": _ratio(pipeline[cpu] - floor[cpu], pipeline[cpu]),
            # Against each pipeline run too: the machine's speed can change by
            # 2x within minutes, and the floor ran in only one of those minutes.
            "domain_cpu_share_runs": [
                _ratio(run[cpu] - floor[cpu], run[cpu]) for run in pipeline.get("runs", [pipeline])
            ],
        }
    return {
        "pipeline_vs_ceiling": _ratio(pipeline[rate], ceiling[rate]),
        "pipeline_vs_naive": _ratio(pipeline[rate], naive[rate]),
        "cpu_pipeline_vs_ceiling": _ratio(pipeline[cpu], ceiling[cpu]),
        "cpu_pipeline_vs_naive": _ratio(pipeline[cpu], naive[cpu]),
        "pipeline_vs_naive_runs": [
            _ratio(run[rate], naive[rate]) for run in pipeline.get("runs", [pipeline])
        ],
        **by_floor,
    }
