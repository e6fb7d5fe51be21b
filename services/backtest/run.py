"""One backtest run: a history (file or topics) and a model in, the report's figures out."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemas.errors import HealthscoreError
from services.backtest.history import History, collect
from services.backtest.metrics import evaluate
from services.replay import ReplayError, ReplaySummary
from streams.domain.scoring.model import ModelError
from streams.processing.rules import Rules, load_rules

if TYPE_CHECKING:
    from services.backtest.window import Source, Window

Progress = Callable[[str], None]


class BacktestError(HealthscoreError):
    """The backtest could not run: unreadable history or model, or no usable outcomes."""


def load(model_path: Path | None) -> Rules:
    try:
        return load_rules(model_path)
    except ModelError as exc:
        raise BacktestError(str(exc)) from None


def replay_history(
    source: Source, rules: Rules, window: Window, *, progress: Progress | None
) -> tuple[History, ReplaySummary]:
    """Collect the daily panel of ``source``'s events in ``window`` under
    ``rules`` (see ``history.collect``)."""
    summary = ReplaySummary()
    if progress is not None:
        progress(f"replaying {source.describe()} with model {rules.model.version}")
    try:
        with closing(source.events(window, summary, progress)) as events:
            history = collect(events, rules, until_s=window.until_s, progress=progress)
    except ReplayError as exc:
        raise BacktestError(str(exc)) from None
    except ValueError as exc:
        raise BacktestError(f"{source.describe()}: {exc}") from None
    return history, summary


def backtest(
    source: Source,
    window: Window,
    *,
    model_path: Path | None,
    warm_up: int,
    progress: Progress | None,
) -> dict[str, Any]:
    rules = load(model_path)
    history, summary = replay_history(source, rules, window, progress=progress)
    if warm_up < 0 or warm_up >= history.days:
        raise BacktestError(f"--warm-up-days {warm_up}: the history has {history.days} days")
    if progress is not None:
        progress(f"replayed {history.events:,} events ({summary.rejected} rejected); evaluating")
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
