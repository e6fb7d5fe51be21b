"""The workspace bench, at toy size: it fills the read model through the projector's
write path, times every route, and records its figures under its own key."""

from __future__ import annotations

import json
from pathlib import Path

from services.bench import workspace
from services.cli.bench import main


def test_bench_times_every_route_and_keeps_other_keys(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"schema": "healthscore-bench/1", "brokers": {"tansu": {}}}))
    code = main(["--workspace", "--accounts", "120", "--requests", "3", "--output", str(results)])
    document = json.loads(results.read_text())
    assert document["brokers"] == {"tansu": {}}  # the pipeline bench's figures survive
    figures = document[workspace.RESULT_KEY]
    assert set(figures["routes"]) == {name for name, _ in workspace.ROUTES}
    assert all(r["median_ms"] > 0 and r["requests"] == 3 for r in figures["routes"].values())
    assert figures["fill"]["writes"] > 120 * 90  # history days alone
    assert code == (0 if figures["within_budget"] else 1)
