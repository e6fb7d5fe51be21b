"""The caching monitor exports exactly what Faust's own does for partition end offsets."""

from __future__ import annotations

from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP
from prometheus_client import CollectorRegistry

from streams.speedups.faust_monitor import CachingPrometheusMonitor


def _exported(monitor_class: type[PrometheusMonitor]) -> tuple[dict[TP, int], list[object]]:
    registry = CollectorRegistry()
    monitor = monitor_class(metrics=FaustMetrics.create(registry, "faust"))
    for tp, offset in [(TP("a", 0), 5), (TP("a", 1), 7), (TP("a", 0), 9), (TP("b", 0), 1)]:
        monitor.track_tp_end_offset(tp, offset)
    samples = [
        (s.labels, s.value)
        for family in registry.collect()
        if family.name == "faust_topic_partition_end_offset"
        for s in family.samples
    ]
    return dict(monitor.tp_end_offsets), samples


def test_end_offsets_match_fausts_monitor() -> None:
    ours, faust = _exported(CachingPrometheusMonitor), _exported(PrometheusMonitor)
    assert ours == faust
    assert ours[0] == {TP("a", 0): 9, TP("a", 1): 7, TP("b", 0): 1}
    assert ({"topic": "a", "partition": "0"}, 9.0) in ours[1]


def test_the_worker_app_uses_it() -> None:
    from streams.worker.app import app

    assert isinstance(app.monitor, CachingPrometheusMonitor)
