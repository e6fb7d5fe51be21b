"""The worker's consumer fetches with ``HEALTHSCORE_FETCH_MAX_WAIT_MS``, not
Faust's hard-coded 1500 ms: checked on the fetcher of a consumer that Faust
built and started against a real broker (the value only reaches aiokafka's
``Fetcher`` at start). Why it matters is in ``streams/speedups/faust_patches.py``:
Tansu holds every fetch for about that long."""

from __future__ import annotations

from collections.abc import Iterator

import faust
import pytest

from streams.speedups import faust_patches


@pytest.fixture
def restore_fetch_wait() -> Iterator[None]:
    yield
    faust_patches.set_fetch_max_wait(None)


async def _started_fetch_wait(bootstrap: str, app_id: str) -> int:
    app = faust.App(app_id, broker=f"kafka://{bootstrap}", store="memory://", autodiscover=False)
    thread = app.consumer._thread
    consumer = thread._create_worker_consumer(app.consumer.transport)
    await consumer.start()
    try:
        return int(consumer._fetcher._fetch_max_wait_ms)
    finally:
        await consumer.stop()


@pytest.mark.usefixtures("restore_fetch_wait")
async def test_worker_consumer_fetches_with_the_configured_wait(
    tansu_bootstrap: str, consumer_group: str
) -> None:
    faust_patches.set_fetch_max_wait(100)
    assert await _started_fetch_wait(tansu_bootstrap, consumer_group) == 100


@pytest.mark.usefixtures("restore_fetch_wait")
async def test_unset_or_fausts_value_leaves_faust_unpatched(
    tansu_bootstrap: str, consumer_group: str
) -> None:
    faust_patches.set_fetch_max_wait(100)
    faust_patches.set_fetch_max_wait(faust_patches.FAUST_FETCH_MAX_WAIT_MS)
    assert await _started_fetch_wait(tansu_bootstrap, consumer_group + "-b") == 1500
