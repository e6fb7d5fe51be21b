"""``--until``: every partition's clock reaches the same time after a replay."""

from __future__ import annotations

from pathlib import Path

import orjson

from services.replay import replay_file
from services.simulator.clock import parse_rfc3339


def _line(event_type: str, account: str, time: str, **fields: object) -> bytes:
    return orjson.dumps({"id": f"{account}-{event_type}-{time}", "account_id": account,
                         "type": event_type, "time": time, **fields})  # fmt: skip


def test_until_ages_accounts_on_partitions_without_later_events(tmp_path: Path) -> None:
    # One established account, active once and then silent for a month.
    lines = [
        _line("account_upserted", "quiet", "2026-09-01T08:00:00Z", name="Q", segment="smb",
              created_at="2024-01-01T00:00:00Z"),
        _line("login", "quiet", "2026-09-01T09:00:00Z", user_id="u1"),
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    plain = tmp_path / "plain.jsonl"
    aged = tmp_path / "aged.jsonl"
    replay_file(path, model_path=None, partitions=4, output=str(plain), only="alerts")
    summary = replay_file(
        path, model_path=None, partitions=4, output=str(aged), only="alerts",
        until_s=parse_rfc3339("2026-10-01T00:00:00Z"),
    )  # fmt: skip
    assert plain.read_bytes() == b""
    alerts = [orjson.loads(line)["data"]["alert"] for line in aged.read_bytes().splitlines()]
    assert "inactivity" in alerts
    assert summary.outputs["inactivity"] == 1
