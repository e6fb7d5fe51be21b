"""One ``healthscore fit`` run: replay, fit on the training period, test on the held-back one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from services.backtest.fit import fit_weights, fitted_model_doc, training_samples
from services.backtest.metrics import evaluate
from services.backtest.report import compact, table
from services.backtest.run import BacktestError, describe, load, replay_history
from services.backtest.window import FileSource, Window
from streams.domain.scoring.model import ModelError, load_model
from streams.domain.scoring.windows import DAY_SECONDS

Progress = Callable[[str], None]
HORIZON = 30
SPLIT_SHARE = 0.6


def fit_file(
    path: Path,
    *,
    model_path: Path | None,
    output: Path,
    split_s: int | None,
    until_s: int | None,
    warm_up: int,
    json_path: Path | None,
    progress: Progress | None,
) -> str:
    """Fit, write the model to ``output``, return the report text."""
    rules = load(model_path)
    source, window = FileSource(path), Window(until_s=until_s)
    history, summary = replay_history(source, rules, window, progress=progress)
    split = (
        int(history.days * SPLIT_SHARE)
        if split_s is None
        else split_s // DAY_SECONDS - history.first_day
    )
    if not warm_up < split < history.days - HORIZON:
        raise BacktestError(
            f"the split (day {split}) must fall after the warm-up ({warm_up} d) and at least "
            f"{HORIZON} d before the end of the {history.days}-day history"
        )
    train = training_samples(history, HORIZON, warm_up, split)
    if train.positives < 5:
        raise BacktestError(f"only {train.positives} churners before the split: too few to fit")
    fit = fit_weights(history, train, rules.model)
    base_doc = _base_doc(model_path)
    doc = fitted_model_doc(base_doc, fit, f"{rules.model.version}-fit")
    _write_model(output, doc)
    threshold = rules.model.alerts.threshold
    held_base = evaluate(history, warm_up=split, threshold=threshold, progress=progress)
    held_base["history"] = describe(history, rules, split, summary)
    fitted_rules = load(output)
    refit, _ = replay_history(source, fitted_rules, window, progress=progress)
    held_fit = evaluate(refit, warm_up=split, threshold=fit.threshold, progress=progress)
    held_fit["history"] = describe(refit, fitted_rules, split, summary)
    record = {
        "split_day": split,
        "training": {
            "churners": fit.training_samples[0],
            "retained_samples": fit.training_samples[1],
            "auc_t30": fit.training_auc,
        },
        "weights": fit.weights,
        "threshold": fit.threshold,
        "held_back": {"base": compact(held_base), "fitted": compact(held_fit)},
    }
    if json_path is not None:
        try:
            json_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise BacktestError(f"cannot write {json_path}: {exc.strerror}") from None
    return (
        f"fitted on cut-offs before day {split} ({fit.training_samples[0]} churners, "
        f"{fit.training_samples[1]} retained samples; training AUC at T-30 d "
        f"{fit.training_auc:.3f}): weights {fit.weights}, threshold {fit.threshold:g}\n"
        f"wrote {output}\n\nheld-back period (cut-offs from day {split}), base model:\n"
        f"{table(held_base)}\nheld-back period, fitted model:\n{table(held_fit)}"
    )


def _base_doc(model_path: Path | None) -> dict[str, Any]:
    from streams.processing.rules import DEFAULT_MODEL_PATH

    source = model_path or DEFAULT_MODEL_PATH
    try:
        loaded = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BacktestError(f"cannot read the base model {source}: {exc}") from None
    if not isinstance(loaded, dict):
        raise BacktestError(f"the base model {source} is not a mapping")
    return loaded


def _write_model(output: Path, doc: dict[str, Any]) -> None:
    header = (
        "# Fitted by `healthscore fit` from churn outcomes: weights and threshold learned on the\n"
        "# training period; see the run's report for the held-back figures.\n"
    )
    try:
        output.write_text(header + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        load_model(output)
    except OSError as exc:
        raise BacktestError(f"cannot write {output}: {exc.strerror}") from None
    except ModelError as exc:
        raise BacktestError(f"the fitted model is invalid: {exc}") from None
