"""Evaluation samples and per-account features at cut-offs, from a ``History``.

A sample is (account, cut-off day). For a horizon of *h* days:

- each churner gives one positive, at *h* days before its cancellation;
- each retained account (never canceled in the history) gives negatives at
  every ``SNAPSHOT_DAYS``-th day from the end of the warm-up (plus an offset
  of its own, see ``snapshot_days``) to *h* days before the end of the history;
- only cut-offs after the warm-up and after the account appeared count (a
  score of an account the history has not seen yet says nothing).

Features are computed only from what happened *before* the cut-off (the raw
grids up to the day before), so the ceiling classifier and the recency
baseline see exactly what the score could have seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.backtest.history import History
from streams.domain.scoring.windows import DAY_SECONDS

SNAPSHOT_DAYS = 14
SEGMENT_NAMES = ("free", "smb", "mid_market", "enterprise")

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Samples:
    """Aligned arrays: account index, cut-off day (history-relative), label (1 = churner)."""

    rows: IntArray
    days: IntArray
    labels: IntArray

    @property
    def positives(self) -> int:
        return int(self.labels.sum())

    @property
    def negatives(self) -> int:
        return int(len(self.labels) - self.labels.sum())


def churn_days(history: History) -> dict[int, int]:
    """History-relative day of each churner's cancellation."""
    return {i: o.at_s // DAY_SECONDS - history.first_day for i, o in history.outcomes.items()}


def samples(history: History, horizon: int, warm_up: int) -> Samples:
    """The positives and negatives of one horizon (see the module docstring)."""
    churn = churn_days(history)
    rows: list[int] = []
    days: list[int] = []
    labels: list[int] = []
    first_seen = history.created_day
    for i, day in churn.items():
        k = day - horizon
        if k >= warm_up and first_seen[i] < k:
            rows.append(i)
            days.append(k)
            labels.append(1)
    for i in range(len(history.account_ids)):
        if i in churn:
            continue
        for k in snapshot_days(i, warm_up, history.days - horizon):
            if first_seen[i] < k:
                rows.append(i)
                days.append(k)
                labels.append(0)
    return Samples(np.asarray(rows), np.asarray(days), np.asarray(labels))


def snapshot_days(account: int, start: int, stop: int) -> range:
    """A retained account's cut-offs: every ``SNAPSHOT_DAYS``-th day in
    ``[start, stop)``, from an offset of ``account % SNAPSHOT_DAYS``.

    The churners' cut-offs fall on any weekday (T-h before a cancellation);
    the retained ones must too. With one shared start every retained sample
    would be the same weekday, and anything with a weekly rhythm - a B2B
    account's weekend gap in "days since last activity" - would separate the
    two classes by the calendar, not by churn."""
    return range(start + account % SNAPSHOT_DAYS, stop, SNAPSHOT_DAYS)


class FeatureTable:
    """Window sums and recency over the raw grids, looked up for any samples."""

    def __init__(self, history: History) -> None:
        self.history = history
        raw = history.raw
        n, days = raw["usage"].shape
        zero = np.zeros((n, 1))
        self._cum = {
            name: np.concatenate([zero, np.cumsum(np.nan_to_num(grid), axis=1)], axis=1)
            for name, grid in raw.items()
            if name not in ("nps", "seats")
        }
        active = raw["usage"] > 0
        self._cum["active"] = np.concatenate([zero, np.cumsum(active, axis=1)], axis=1)
        # last_active[i, k]: the last day < k with usage (-1: none yet).
        marks = np.where(active, np.arange(days)[None, :], -1)
        last = np.maximum.accumulate(marks, axis=1)
        self._last_active = np.concatenate([np.full((n, 1), -1), last], axis=1)
        self._nps = _forward_fill(raw["nps"])

    def window(self, name: str, rows: IntArray, days: IntArray, width: int) -> Array:
        """Sum of ``name`` over the ``width`` days before each cut-off."""
        cum = self._cum[name]
        # numpy types fancy indexing as Any; the sums are float64 like ``cum``.
        sums: Array = cum[rows, days] - cum[rows, np.maximum(days - width, 0)]
        return sums

    def recency(self, rows: IntArray, days: IntArray) -> Array:
        """Days since the last usage before the cut-off (since first seen when never)."""
        last = self._last_active[rows, days].astype(np.float64)
        never = last < 0
        since = np.where(never, self.history.created_day[rows], last)
        return np.maximum(days - since, 0.0)

    def matrix(self, rows: IntArray, days: IntArray) -> tuple[Array, list[str]]:
        """The ceiling's feature matrix for the samples, and the column names."""
        w = self.window
        cols: dict[str, Array] = {
            "recency_days": np.log1p(self.recency(rows, days)),
            "active_7": w("active", rows, days, 7),
            "active_30": w("active", rows, days, 30),
            "active_90": w("active", rows, days, 90),
            "trend_28_vs_56": np.log((w("active", rows, days, 28) + 1) / 28)
            - np.log((w("active", rows, days, 84) - w("active", rows, days, 28) + 1) / 56),
            "usage_30": np.log1p(w("usage", rows, days, 30)),
            "features_30": np.log1p(w("features", rows, days, 30)),
            "records_30": np.sign(r := w("records", rows, days, 30)) * np.log1p(np.abs(r)),
            "tickets_30": w("tickets", rows, days, 30),
            "urgent_30": w("urgent", rows, days, 30),
            "reopened_30": w("reopened", rows, days, 30),
            "low_csat_90": w("low_csat", rows, days, 90),
            "failed_30": w("failed", rows, days, 30),
            "paid_30": w("paid", rows, days, 30),
            "age_days": np.log1p(np.maximum(days - self.history.created_day[rows], 0)),
            "log_arr": np.log1p(self.history.arr_cents[rows] / 100),
        }
        nps = self._nps[rows, np.maximum(days - 1, 0)]
        cols["has_nps"] = (~np.isnan(nps)).astype(np.float64)
        cols["nps"] = np.nan_to_num(nps, nan=7.5)
        # The score and its dimensions are features too: the ceiling sees all the
        # score sees, so it is the best this data allows, not a rival feature set.
        cols["score"] = score_at(self.history, rows, days)
        for name, grid in self.history.dims.items():
            values = grid[rows, days]
            cols[f"dim_{name}"] = np.nan_to_num(values, nan=100.0)
            cols[f"has_{name}"] = (~np.isnan(values)).astype(np.float64)
        segments = [self.history.segments[i] for i in rows]
        for name in SEGMENT_NAMES:
            cols[f"segment_{name}"] = np.asarray([s == name for s in segments], dtype=np.float64)
        return np.column_stack(list(cols.values())), list(cols)


def _forward_fill(grid: Array) -> Array:
    """Each NaN replaced by the last value before it in its row (NaN when none)."""
    n, days = grid.shape
    idx = np.where(~np.isnan(grid), np.arange(days)[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    filled = grid[np.arange(n)[:, None], idx]
    return filled


def score_at(history: History, rows: IntArray, days: IntArray, fill: float = 50.0) -> Array:
    """The health score each sample's account had at its cut-off (``fill`` if none)."""
    return np.nan_to_num(history.scores[rows, days], nan=fill)
