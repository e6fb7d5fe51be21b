"""``python -m services.readmodel``: run the read-model projector."""

from __future__ import annotations

import asyncio
import logging

from services.readmodel.projector import run
from services.readmodel.settings import ReadModelSettings

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run(ReadModelSettings()))
