"""Partition engines for tests that check output records.

``PartitionEngine`` returns the domain's decisions; the worker's runtime
encodes them (``streams.processing.encode.encode``). ``Encoding`` wraps an
engine so its steps return the records the worker would publish."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from streams.domain.events import DomainEvent
from streams.processing.encode import Emit, encode
from streams.processing.engine import PartitionEngine
from streams.processing.rules import Rules


class Encoding:
    """A partition engine whose steps return encoded records; anything else
    is the engine's own (``accounts``, ``restore``, ``record`` ...)."""

    def __init__(self, engine: PartitionEngine) -> None:
        self.engine = engine
        self._threshold = engine.model.alerts.threshold

    def process(
        self,
        events: Iterable[DomainEvent],
        *,
        defer_wakes: bool = False,
        held: Collection[tuple[str, str]] | None = None,
    ) -> list[Emit]:
        decided = self.engine.process(events, defer_wakes=defer_wakes, held=held)
        return encode(decided, self._threshold)

    def advance(self, now_s: float, *, defer_wakes: bool = False) -> list[Emit]:
        return encode(self.engine.advance(now_s, defer_wakes=defer_wakes), self._threshold)

    def fire_overdue(self, limit: int) -> list[Emit]:
        return encode(self.engine.fire_overdue(limit), self._threshold)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


def encoding_engine(rules: Rules, partition: int = 0) -> Encoding:
    """A fresh engine for ``partition`` under ``rules``, returning records."""
    return Encoding(PartitionEngine(partition, rules.model, rules.policies))
