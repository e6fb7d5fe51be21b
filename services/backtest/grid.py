"""A growable accounts x days numeric grid (numpy), for data that arrives as a stream.

Neither the number of accounts nor of days is known until a history has been
read, so both axes grow by doubling; ``array()`` returns the used part.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class Grid:
    """``values[account, day]``, initialised to ``fill``."""

    __slots__ = ("_dtype", "_fill", "_pending", "_sum", "days", "rows", "values")

    def __init__(
        self, dtype: npt.DTypeLike = np.float32, fill: float = 0.0, *, sum_pending: bool = True
    ) -> None:
        self._dtype = np.dtype(dtype)
        self._fill = fill
        self.values = np.full((64, 64), fill, dtype=self._dtype)
        self.rows = 0
        self.days = 0
        self._sum = sum_pending
        self._pending: tuple[list[int], list[int], list[float]] = ([], [], [])

    def defer(self, row: int, day: int, value: float) -> None:
        """Add (or, for a grid of latest values, set) ``value`` at the next ``flush``:
        three list appends per event instead of a numpy scalar update."""
        rows, days, values = self._pending
        rows.append(row)
        days.append(day)
        values.append(value)

    def flush(self) -> None:
        rows, days, values = self._pending
        if not rows:
            return
        self.ensure(max(rows), max(days))
        index = (np.asarray(rows), np.asarray(days))
        if self._sum:
            np.add.at(self.values, index, np.asarray(values, dtype=self._dtype))
        else:
            self.values[index] = np.asarray(values, dtype=self._dtype)  # the latest wins
        self._pending = ([], [], [])

    def ensure(self, row: int, day: int) -> None:
        """Make ``[row, day]`` addressable (growing either axis by doubling)."""
        rows, days = self.values.shape
        if row >= rows or day >= days:
            new_rows = rows
            while row >= new_rows:
                new_rows *= 2
            new_days = days
            while day >= new_days:
                new_days *= 2
            grown = np.full((new_rows, new_days), self._fill, dtype=self._dtype)
            grown[:rows, :days] = self.values
            self.values = grown
        self.rows = max(self.rows, row + 1)
        self.days = max(self.days, day + 1)

    def add(self, row: int, day: int, value: float) -> None:
        self.ensure(row, day)
        self.values[row, day] += value

    def put(self, row: int, day: int, value: float) -> None:
        self.ensure(row, day)
        self.values[row, day] = value

    def column(self, day: int, values: npt.ArrayLike) -> None:
        """Set a whole day for the first ``len(values)`` accounts."""
        data = np.asarray(values, dtype=self._dtype)
        self.ensure(max(0, len(data) - 1), day)
        self.values[: len(data), day] = data

    def array(self, rows: int, days: int) -> npt.NDArray[np.float64]:
        """The ``rows`` x ``days`` grid (padded with ``fill`` where never written)."""
        self.flush()
        self.ensure(max(0, rows - 1), max(0, days - 1))
        return np.asarray(self.values[:rows, :days], dtype=np.float64)
