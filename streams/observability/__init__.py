"""Metrics, gauges, consumer lag and structured logs for every process."""
