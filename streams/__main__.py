"""``python -m streams worker``: run the healthscore worker."""

from __future__ import annotations

from streams import exporter  # noqa: F401  (registers the metrics server)
from streams.agents import track_accounts  # noqa: F401  (registers the agent)
from streams.app import app

if __name__ == "__main__":
    app.main()
