"""The results: one JSON document and a side-by-side table.

The JSON is the record (machine, parameters, every figure, how it was
measured); the table is for a human reading a terminal: per broker, the
contenders in columns and the ratios that answer "how close to the ceiling,
how far above the naive version" and, with the floor (the worker with its
domain looked up), "how much of the worker's CPU is the domain".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA = "healthscore-bench/1"
CONTENDERS = ("ceiling", "naive", "pipeline", "floor")
ROWS = (
    ("events/s", "events_per_s", "{:,.0f}"),
    ("idle tail s (left out)", "tail_idle_seconds", "{:,.1f}"),
    ("events/s with the tail", "events_per_s_whole_window", "{:,.0f}"),
    ("CPU-s per 1M events", "cpu_s_per_1m_events", "{:,.1f}"),
    ("peak RSS MB", "peak_rss_mb", "{:,.0f}"),
    ("startup s (to 1st commit)", "startup_seconds", "{:,.1f}"),
)
PIPELINE_ROWS = (
    ("latency p50 ms", "latency_p50_ms", "{:,.0f}"),
    ("latency p99 ms", "latency_p99_ms", "{:,.0f}"),
    ("state bytes/account", "state_bytes_per_account", "{:,.0f}"),
    ("recovery s", "recovery_seconds", "{:,.2f}"),
)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")


def _cell(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _broker_table(name: str, result: dict[str, Any]) -> list[str]:
    contenders = result["contenders"]
    shown = [c for c in CONTENDERS if c in contenders]  # no floor before 2026-12-03
    broker = result["broker"]
    lines = [
        f"{name} ({broker['kind']} {broker.get('version') or '?'}), "
        f"producer {result['producer']['events_per_s']:,.0f} events/s"
    ]
    lines.append(f"  {'':<28}" + "".join(f"{c:>14}" for c in shown))
    for label, key, fmt in ROWS:
        cells = "".join(f"{_cell(contenders[c].get(key), fmt):>14}" for c in shown)
        lines.append(f"  {label:<28}{cells}")
    naive_state = contenders["naive"].get("state", {}).get("bytes_per_account")
    for label, key, fmt in PIPELINE_ROWS:
        naive = _cell(naive_state, fmt) if key == "state_bytes_per_account" else ""
        value = _cell(contenders["pipeline"].get(key), fmt)
        lines.append(f"  {label:<28}{'':>14}{naive:>14}{value:>14}")
    source = contenders["pipeline"].get("latency_source")
    lines.append(f"  (latency measured on: {source})")
    lines.extend(_runs(contenders["pipeline"]))
    r = result["ratios"]
    lines.append(
        f"  pipeline/ceiling {_cell(r['pipeline_vs_ceiling'], '{:.3f}')}x   "
        f"pipeline/naive {_cell(r['pipeline_vs_naive'], '{:.2f}')}x"
        f"{_spread(r.get('pipeline_vs_naive_runs', []), '{:.2f}', 'x')}   "
        f"CPU per event pipeline/naive {_cell(r['cpu_pipeline_vs_naive'], '{:.2f}')}x"
    )
    if "pipeline_vs_floor" in r:
        shares = r.get("domain_cpu_share_runs", [])
        lines.append(
            f"  pipeline/floor {_cell(r['pipeline_vs_floor'], '{:.3f}')}x   "
            f"domain's share of the pipeline's CPU per event {_percent(r['domain_cpu_share'])}"
            f"{_spread([100 * x for x in shares if x is not None], '{:.0f}', ' %')}"
        )
        lines.append("  (floor: the worker with its domain looked up; its RSS holds the lookup)")
    return lines


def _percent(share: float | None) -> str:
    return _cell(None if share is None else 100 * share, "{:.0f} %")


def _runs(pipeline: dict[str, Any]) -> list[str]:
    """Every pipeline run's events/s, when there was more than one."""
    runs = pipeline.get("runs", [])
    if len(runs) < 2:
        return []
    rates = " / ".join(f"{run['events_per_s']:,.0f}" for run in runs)
    return [f"  pipeline runs (events/s, in order): {rates}; the median one is reported"]


def format_table(results: dict[str, Any]) -> str:
    machine = results["machine"]
    params = results["parameters"]
    lines = [
        f"healthscore bench: {params['events']:,} events, {params['accounts']:,} accounts, "
        f"{params['partitions']} partitions; latency at {params['latency_rate']:,.0f} events/s "
        f"for {params['latency_seconds']:g} s",
        f"machine: {machine['cpu_model']}, {machine['cpu_cores']} cores, "
        f"{machine['memory_gb']} GB, Python {machine['python']}{_interpreter(machine)}, "
        f"load {machine['load_average_at_start']} -> {results['load_average_at_end']}",
    ]
    if "engine" in machine:  # results written before 2026-12-04 do not say
        engine = machine["engine"]
        lines.append(
            f"scoring engine: {'compiled (mypyc)' if engine['compiled'] else 'pure Python'}"
            f" ({engine['why']})"
        )
    for name, result in results["brokers"].items():
        lines.append("")
        if "error" in result:
            lines.append(f"{name}: failed: {result['error'].splitlines()[0]}")
            continue
        lines.extend(_broker_table(name, result))
    return "\n".join(lines) + "\n"


def _spread(runs: list[float | None], fmt: str, unit: str) -> str:
    """`` (runs 9.10-12.30x)``: the range of a figure over the pipeline's runs,
    if there were several (pipeline/naive, the domain's share)."""
    values = [x for x in runs if x is not None]
    if len(values) < 2:
        return ""
    return f" (runs {fmt.format(min(values))}-{fmt.format(max(values))}{unit})"


def _interpreter(machine: dict[str, Any]) -> str:
    """Which build of it (results written before 2026-12-02 do not say)."""
    build = machine.get("interpreter")
    return f" ({build['executable']}, libpython {build['libpython']})" if build else ""
