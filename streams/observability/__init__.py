"""Metric definitions, consumer lag and structured logs for every process."""
