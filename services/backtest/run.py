"""One backtest run: a history file and a model in, the report's figures out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from schemas.errors import HealthscoreError
from services.backtest.history import History, collect
from services.backtest.metrics import evaluate
from services.replay import ReplayError, ReplaySummary, read_events
from streams.domain.scoring.model import ModelError
from streams.processing.rules import Rules, load_rules

Progress = Callable[[str], None]


class BacktestError(HealthscoreError):
    """The backtest could not run: unreadable history or model, or no usable outcomes."""


def load(model_path: Path | None) -> Rules:
    try:
        return load_rules(model_path)
    except ModelError as exc:
        raise BacktestError(str(exc)) from None


def replay_history(
    path: Path, rules: Rules, *, until_s: int | None, progress: Progress | None
) -> tuple[History, ReplaySummary]:
    """Collect the daily panel of ``path`` under ``rules`` (see ``history.collect``)."""
    summary = ReplaySummary()
    if progress is not None:
        progress(f"replaying {path} with model {rules.model.version}")
    try:
        history = collect(read_events(path, summary), rules, until_s=until_s, progress=progress)
    except ReplayError as exc:
        raise BacktestError(str(exc)) from None
    except ValueError as exc:
        raise BacktestError(f"{path}: {exc}") from None
    return history, summary


def backtest_file(
    path: Path,
    *,
    model_path: Path | None,
    until_s: int | None,
    warm_up: int,
    progress: Progress | None,
) -> dict[str, Any]:
    rules = load(model_path)
    history, summary = replay_history(path, rules, until_s=until_s, progress=progress)
    if warm_up < 0 or warm_up >= history.days:
        raise BacktestError(f"--warm-up-days {warm_up}: the history has {history.days} days")
    if progress is not None:
        progress(f"replayed {summary.events:,} events ({summary.rejected} rejected); evaluating")
    result = evaluate(
        history, warm_up=warm_up, threshold=rules.model.alerts.threshold, progress=progress
    )
    result["history"] = describe(history, rules, warm_up, summary)
    return result


def describe(
    history: History, rules: Rules, warm_up: int, summary: ReplaySummary
) -> dict[str, Any]:
    return {
        "accounts": len(history.account_ids),
        "events": history.events,
        "rejected": summary.rejected,
        "days": history.days,
        "churners": len(history.outcomes),
        "warm_up_days": warm_up,
        "model_version": rules.model.version,
    }
