"""``python -m services.api``: serve the API with uvicorn on HEALTHSCORE_API_PORT."""

from __future__ import annotations

import os

import uvicorn

from services.api.main import create_app
from services.api.settings import ApiSettings
from streams.observability.logging import configure_logging

if __name__ == "__main__":
    configure_logging()  # JSON lines; uvicorn's loggers propagate to it (log_config=None)
    settings = ApiSettings()
    host = os.environ.get("HEALTHSCORE_API_HOST", "127.0.0.1")
    uvicorn.run(
        create_app(settings), host=host, port=settings.port, proxy_headers=True, log_config=None
    )
