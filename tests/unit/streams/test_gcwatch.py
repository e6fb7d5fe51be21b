"""Every collection is timed into the histogram under its generation, a long
one is logged with its length, and ``unwatch`` removes the hook."""

from __future__ import annotations

import gc
import logging

import pytest
from prometheus_client import CollectorRegistry, Histogram

from streams.speedups import gcwatch

NAME = "t_gc_pause_seconds"


@pytest.fixture
def registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    Histogram(NAME, "test", ["generation"], registry=registry)
    return registry


def _histogram(registry: CollectorRegistry) -> Histogram:
    return registry._names_to_collectors[NAME]  # type: ignore[return-value]


def _sample(registry: CollectorRegistry, suffix: str, generation: int) -> float:
    value = registry.get_sample_value(f"{NAME}_{suffix}", {"generation": str(generation)})
    return value or 0.0


def _long(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "long garbage collection"]


def test_collections_are_timed_by_generation_and_long_ones_logged(
    registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    readings = iter(x * 0.4 for x in range(100_000))  # every collection "takes" 0.4 s
    hook = gcwatch.watch(_histogram(registry), warn_seconds=0.3, clock=lambda: next(readings))
    try:
        with caplog.at_level(logging.WARNING, logger="streams.speedups.gcwatch"):
            gc.collect(2)
            gc.collect(0)
    finally:
        gcwatch.unwatch(hook)
    for generation in (0, 2):
        count = _sample(registry, "count", generation)
        assert count >= 1
        assert _sample(registry, "sum", generation) == pytest.approx(0.4 * count)
    long = _long(caplog)
    assert {r.generation for r in long} >= {0, 2}  # type: ignore[attr-defined]
    assert all(r.seconds == pytest.approx(0.4) for r in long)  # type: ignore[attr-defined]


def test_short_collections_are_not_logged_and_unwatch_removes_the_hook(
    registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    hook = gcwatch.watch(_histogram(registry))
    with caplog.at_level(logging.WARNING, logger="streams.speedups.gcwatch"):
        gc.collect(0)
    gcwatch.unwatch(hook)
    assert hook not in gc.callbacks
    counted = _sample(registry, "count", 0)
    gc.collect(0)
    assert _sample(registry, "count", 0) == counted >= 1
    assert not _long(caplog)


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> None:
    a, b = _Node(), _Node()
    a.other, b.other = b, a


def test_freeze_young_freezes_without_collecting() -> None:
    """The freeze walks nothing (a walk of a second's survivors was 9-11 % of the
    worker's CPU and found no garbage): no collection starts, and a young dead
    cycle is frozen with the rest, for ``collect_all``."""
    starts: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            starts.append(info["generation"])

    try:
        gc.collect()
        _cycle()  # garbage at the freeze: frozen, not collected
        kept = [_Node() for _ in range(100)]
        frozen_before = gc.get_freeze_count()
        gc.callbacks.append(count)
        try:
            gcwatch.freeze_young()
        finally:
            gc.callbacks.remove(count)
        assert starts == []
        assert gc.get_freeze_count() >= frozen_before + len(kept) + 2
        assert gc.collect() == 0  # the dead cycle is out of reach ...
        assert gcwatch.collect_all() >= 2  # ... until the full collection
    finally:
        gc.unfreeze()


def test_collect_all_reclaims_cycles_that_died_after_a_freeze(
    caplog: pytest.LogCaptureFixture,
) -> None:
    try:
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gcwatch.freeze_young()  # the live cycle is frozen
        del a, b  # ... and dies frozen: no collection sees it
        assert gc.collect() == 0
        with caplog.at_level(logging.INFO, logger="streams.speedups.gcwatch"):
            assert gcwatch.collect_all() >= 2
        assert gc.get_freeze_count() > 0
        (full,) = [r for r in caplog.records if r.getMessage() == "full garbage collection"]
        assert full.collected >= 2  # type: ignore[attr-defined]
    finally:
        gc.unfreeze()
