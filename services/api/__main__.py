"""``python -m services.api``: serve the API with uvicorn on HEALTHSCORE_API_PORT."""

from __future__ import annotations

import os

import uvicorn

from services.api.main import create_app
from services.api.settings import ApiSettings

if __name__ == "__main__":
    settings = ApiSettings()
    host = os.environ.get("HEALTHSCORE_API_HOST", "127.0.0.1")
    uvicorn.run(create_app(settings), host=host, port=settings.port, proxy_headers=True)
