"""``python -m services.readmodel``: run the read-model projector."""

from __future__ import annotations

import asyncio

from services.readmodel.projector import run
from services.readmodel.settings import ReadModelSettings
from streams.observability.logging import configure_logging

if __name__ == "__main__":
    configure_logging()  # JSON lines, level from HEALTHSCORE_LOG_LEVEL
    asyncio.run(run(ReadModelSettings()))
