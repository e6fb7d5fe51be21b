"""The pipeline's repeated runs: which one is reported, and how the table shows them.

No broker: ``Consumption`` figures are made up by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.bench.report import format_table
from services.bench.runner import Consumption
from services.bench.suite import median_run, ratios


def run(events_per_s: float, cpu_us: float) -> Consumption:
    """A run of 100,000 events at ``events_per_s`` costing ``cpu_us`` per event."""
    seconds = 100_000 / events_per_s
    return Consumption(100_000, seconds, cpu_us * 0.1, 800.0, 5.0, "steady")


def test_the_median_run_is_reported_whole_and_every_run_is_listed() -> None:
    runs = [run(12_000, 70.0), run(18_000, 50.0), run(15_000, 61.0)]
    reported = median_run(runs)
    assert reported["events_per_s"] == 15_000.0
    # CPU comes from the same run as the rate, not the median of each figure.
    assert reported["cpu_s_per_1m_events"] == 61.0
    assert reported["median_of"] == 3
    assert [r["events_per_s"] for r in reported["runs"]] == [12_000.0, 18_000.0, 15_000.0]


def test_of_an_even_count_the_slower_middle_run_is_reported() -> None:
    reported = median_run([run(20_000, 45.0), run(14_000, 66.0)])
    assert reported["events_per_s"] == 14_000.0 and reported["median_of"] == 2


def test_one_run_is_its_own_median() -> None:
    reported = median_run([run(16_000, 55.0)])
    assert reported["events_per_s"] == 16_000.0 and len(reported["runs"]) == 1


def test_ratios_use_the_median_and_give_each_run_against_naive() -> None:
    naive = run(1_500, 650.0).to_json()
    ceiling = run(300_000, 3.0).to_json()
    pipeline = median_run([run(12_000, 70.0), run(18_000, 50.0), run(15_000, 61.0)])
    r = ratios(ceiling, naive, pipeline)
    assert r["pipeline_vs_naive"] == pytest.approx(10.0)
    assert r["pipeline_vs_naive_runs"] == pytest.approx([8.0, 12.0, 10.0])
    assert r["pipeline_vs_ceiling"] == pytest.approx(0.05)


def test_with_the_floor_the_domains_share_is_what_the_floor_does_not_spend() -> None:
    naive, ceiling = run(1_500, 650.0).to_json(), run(300_000, 3.0).to_json()
    pipeline = median_run([run(12_000, 80.0), run(15_000, 60.0)])  # the slower one: 80 µs
    r = ratios(ceiling, naive, pipeline, run(40_000, 20.0).to_json())
    assert r["pipeline_vs_floor"] == pytest.approx(0.3)
    assert r["domain_cpu_share"] == pytest.approx(0.75)  # (80 - 20) / 80
    assert r["domain_cpu_share_runs"] == [0.75, 0.6667]  # and (60 - 20) / 60, rounded
    assert "pipeline_vs_floor" not in ratios(ceiling, naive, pipeline)


def _results(
    pipeline: dict[str, Any], naive: dict[str, Any], floor: dict[str, Any] | None = None
) -> dict[str, Any]:
    ceiling = run(300_000, 3.0).to_json()
    headline = {
        "latency_p50_ms": 20, "latency_p99_ms": 120, "latency_source": "output",
        "state_bytes_per_account": 590.0, "recovery_seconds": 11.5,
    }  # fmt: skip
    broker = {
        "broker": {"kind": "tansu", "version": "0.6.0"},
        "producer": {"events_per_s": 200_000.0},
        "contenders": {"ceiling": ceiling, "naive": naive, "pipeline": {**pipeline, **headline}},
        "ratios": ratios(ceiling, naive, pipeline, floor),
    }
    if floor is not None:
        broker["contenders"]["floor"] = floor
    return {
        "machine": {"cpu_model": "x", "cpu_cores": 2, "memory_gb": 24, "python": "3.11",
                    "load_average_at_start": [0.1, 0.1, 0.1]},
        "parameters": {"events": 100_000, "accounts": 5_000, "partitions": 4,
                       "latency_rate": 5000.0, "latency_seconds": 20.0},
        "load_average_at_end": [0.2, 0.2, 0.2],
        "brokers": {"tansu": broker},
    }  # fmt: skip


def test_the_table_lists_the_runs_and_the_spread_of_the_ratio() -> None:
    naive = run(1_500, 650.0).to_json()
    pipeline = median_run([run(12_000, 70.0), run(18_000, 50.0), run(15_000, 61.0)])
    table = format_table(_results(pipeline, naive))
    assert "pipeline runs (events/s, in order): 12,000 / 18,000 / 15,000" in table
    assert "pipeline/naive 10.00x (runs 8.00-12.00x)" in table


def test_a_single_run_table_has_no_runs_line() -> None:
    naive = run(1_500, 650.0).to_json()
    table = format_table(_results(median_run([run(15_000, 61.0)]), naive))
    assert "pipeline runs" not in table and "(runs " not in table
    assert "pipeline/naive 10.00x " in table


def test_the_table_has_a_floor_column_and_line_only_when_the_floor_ran() -> None:
    naive, pipeline = run(1_500, 650.0).to_json(), median_run([run(15_000, 64.0)])
    with_floor = format_table(_results(pipeline, naive, run(45_000, 16.0).to_json()))
    header = next(line for line in with_floor.splitlines() if "ceiling" in line)
    assert header.split() == ["ceiling", "naive", "pipeline", "floor"]
    assert "45,000" in with_floor
    share = "domain's share of the pipeline's CPU per event 75 %"
    assert f"pipeline/floor 0.333x   {share}\n" in with_floor
    runs = median_run([run(15_000, 64.0), run(20_000, 40.0)])
    spread = format_table(_results(runs, naive, run(45_000, 16.0).to_json()))
    assert f"pipeline/floor 0.333x   {share} (runs 60-75 %)" in spread
    without = format_table(_results(pipeline, naive))
    assert "floor" not in without
