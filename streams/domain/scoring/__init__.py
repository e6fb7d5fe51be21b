"""Health scoring: rolling windows, dimensions, the 0-100 score, its reasons and alerts."""
