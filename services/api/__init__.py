"""The healthscore HTTP API (FastAPI): read model, alert feed, ingestion, subscriptions."""
