"""A growable accounts x days numeric grid (numpy), for data that arrives as a stream.

Neither the number of accounts nor of days is known until a history has been
read, so both axes grow by doubling; ``array()`` returns the used part.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class Grid:
    """``values[account, day]``, initialised to ``fill``."""

    __slots__ = ("_dtype", "_fill", "days", "rows", "values")

    def __init__(self, dtype: npt.DTypeLike = np.float32, fill: float = 0.0) -> None:
        self._dtype = np.dtype(dtype)
        self._fill = fill
        self.values = np.full((64, 64), fill, dtype=self._dtype)
        self.rows = 0
        self.days = 0

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
        self.ensure(max(0, rows - 1), max(0, days - 1))
        return np.asarray(self.values[:rows, :days], dtype=np.float64)
