"""``python -m services.readmodel``: run the read-model projector."""

from __future__ import annotations

import asyncio

from services.observability.logging import configure_logging
from services.readmodel.projector import run
from services.readmodel.settings import ReadModelSettings

if __name__ == "__main__":
    configure_logging()  # JSON lines, level from HEALTHSCORE_LOG_LEVEL
    asyncio.run(run(ReadModelSettings()))
