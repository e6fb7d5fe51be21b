"""/metrics of every process passes ``promtool check metrics`` and declares only
the agreed names, types and labels. Needs promtool (Debian ``prometheus``) for
the lint; the catalogue check always runs.

Adding a process is one line in EXPOSITIONS: a name and a callable returning its
exposition text (e.g. ``lambda: TestClient(app).get("/metrics").text``).
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable

import pytest

from tests.deploy.exposition import catalogue_problems, promtool_check_metrics
from tests.deploy.exposition import render_module_metrics as render


def _worker() -> str:
    return render(importlib.import_module("streams.observability.metrics"))


EXPOSITIONS: list[tuple[str, Callable[[], str]]] = [
    ("worker", _worker),
    # ("api", lambda: ...),       # lead: add when services/api merges
    # ("notifier", lambda: ...),  # lead: add when services/notifier merges
]

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not on PATH")


@needs_promtool
@pytest.mark.parametrize(("process", "produce"), EXPOSITIONS, ids=[p for p, _ in EXPOSITIONS])
def test_exposition_passes_promtool(process: str, produce: Callable[[], str]) -> None:
    code, output = promtool_check_metrics(produce())
    assert code == 0, f"{process}: {output}"


@pytest.mark.parametrize(("process", "produce"), EXPOSITIONS, ids=[p for p, _ in EXPOSITIONS])
def test_exposition_uses_agreed_names_and_labels(process: str, produce: Callable[[], str]) -> None:
    text = produce()
    assert "healthscore_" in text, f"{process} exposes no healthscore metric"
    assert catalogue_problems(text) == []


_BAD = """\
# HELP healthscore_events_consumed_total Input messages consumed.
# TYPE healthscore_events_consumed_total counter
healthscore_events_consumed_total{topic="a",partition="0"} 1.0
# HELP healthscore_event_consumed_total Typo.
# TYPE healthscore_event_consumed_total counter
healthscore_event_consumed_total{topic="a"} 1.0
# HELP healthscore_batch_seconds Batch time.
# TYPE healthscore_batch_seconds gauge
healthscore_batch_seconds 1.0
"""


def test_catalogue_check_reports_unknown_names_types_and_labels() -> None:
    problems = "\n".join(catalogue_problems(_BAD))
    assert "healthscore_event_consumed_total: not in the agreed" in problems
    assert "healthscore_events_consumed_total: labels" in problems
    assert "healthscore_batch_seconds: type gauge, agreed histogram" in problems


@needs_promtool
def test_promtool_lint_catches_a_bad_exposition() -> None:
    code, _ = promtool_check_metrics("# TYPE bad_metric counter\nbad_metric 1\n")
    assert code != 0
