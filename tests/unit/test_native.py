"""The compiled engine (``streams.speedups.native``): loaded only when it was built from
the sources as they are, and giving exactly the pure-Python engine's outputs
and stored state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.speedups import native

PARITY_RUN = """
import hashlib, json
from datetime import UTC, datetime, timedelta
from schemas.inputs import decode_event
from services.simulator import Simulation
from streams.speedups import native
native.install()
from streams.processing.rules import load_rules
from streams.processing.convert import to_domain
from streams.processing.engine import PartitionEngine
from tests.unit.streams.engines import Encoding

rules = load_rules()
end = datetime(2026, 11, 23, tzinfo=UTC)
outputs, stored, again = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()
emitted = count = 0
# Deep histories (timers, decay, dunning), then many young accounts (some
# with no usage yet: their state keeps default parts).
for accounts, days in ((150, 25), (1000, 2)):
    sim = Simulation.create(accounts=accounts, days=days, seed=11, end=int(end.timestamp()))
    events = [to_domain(decode_event(t, v)) for t, _k, v in sim.events()]
    count += len(events)
    engine = Encoding(PartitionEngine(0, rules.model, rules.policies))
    records = []
    for start in range(0, len(events), 500):
        records += engine.process(events[start : start + 500], defer_wakes=True)
        records += engine.fire_overdue(10_000)
    records += engine.advance((end + timedelta(days=30)).timestamp())
    for record in records:
        outputs.update(record.topic.encode() + record.value)
    emitted += len(records)
    state = {k: engine.record(k) for k in sorted(engine.accounts)}
    stored.update(json.dumps(state, sort_keys=True).encode())
    restored = PartitionEngine(0, rules.model, rules.policies)
    restored.restore(state.items())
    state = {k: restored.record(k) for k in sorted(restored.accounts)}
    again.update(json.dumps(state, sort_keys=True).encode())
print(json.dumps({
    "compiled": native.in_use(),
    "engine_file": __import__("streams.processing.engine").processing.engine.__file__,
    "events": count,
    "emitted": emitted,
    "outputs": outputs.hexdigest(),
    "state": stored.hexdigest(),
    "restored": again.hexdigest(),
}))
"""


def _run(mode: str) -> dict[str, object]:
    env = {**os.environ, native.ENV: mode}
    done = subprocess.run(
        [sys.executable, "-c", PARITY_RUN],
        env=env, cwd=native.ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def _build_usable() -> bool:
    return native.check(native.BUILD_DIR) is None


@pytest.mark.skipif(
    not _build_usable() and os.environ.get(native.ENV) != "require",
    reason=f"no usable compiled build ({native.check(native.BUILD_DIR)}); CI requires one",
)
def test_the_compiled_engine_gives_the_pure_engines_outputs_and_state() -> None:
    pure, compiled = _run("off"), _run("require")
    assert pure["compiled"] is False and str(pure["engine_file"]).endswith(".py")
    assert compiled["compiled"] is True
    assert str(compiled["engine_file"]).startswith(str(native.BUILD_DIR))
    assert int(str(pure["emitted"])) > 1_000, "too small a run to compare"
    assert pure["state"] == pure["restored"]
    for key in ("events", "emitted", "outputs", "state", "restored"):
        assert compiled[key] == pure[key], key


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for name in native.MODULES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")
    return root


def _built(root: Path, tmp_path: Path) -> Path:
    build = tmp_path / "build"
    build.mkdir()
    (build / native.MANIFEST).write_text(json.dumps(native.fingerprint(root)))
    return build


def test_a_build_of_the_current_sources_is_used(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert native.check(_built(root, tmp_path), root) is None


def test_no_build_is_reported_not_used(tmp_path: Path) -> None:
    reason = native.check(tmp_path / "nowhere", _tree(tmp_path))
    assert reason is not None and "no compiled build" in reason


def test_an_edited_source_makes_the_build_stale(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    build = _built(root, tmp_path)
    (root / "streams/domain/scoring/apply.py").write_text("# edited\n")
    reason = native.check(build, root)
    assert reason is not None and "older than streams/domain/scoring/apply.py" in reason


def test_a_build_for_another_interpreter_is_not_used(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    build = _built(root, tmp_path)
    manifest = json.loads((build / native.MANIFEST).read_text())
    manifest["python"] = "cpython-399"
    (build / native.MANIFEST).write_text(json.dumps(manifest))
    reason = native.check(build, root)
    assert reason is not None and "another interpreter" in reason


def test_a_garbled_manifest_is_reported_not_raised(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (build / native.MANIFEST).write_text("{not json")
    reason = native.check(build, _tree(tmp_path))
    assert reason is not None and "unreadable" in reason


@pytest.mark.parametrize("value", ["", "auto", "OFF", " require "])
def test_the_mode_setting_is_read_leniently(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(native.ENV, value)
    assert native.mode() in native.MODES


def test_an_unknown_mode_is_an_error_naming_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.ENV, "fast")
    with pytest.raises(ValueError, match="auto, off, require"):
        native.mode()


@pytest.fixture
def decide_again() -> Iterator[None]:
    """``status()`` is decided once per process; let a test decide it anew
    (and the process again after it, with its own settings restored)."""
    native.status.cache_clear()
    yield
    native.status.cache_clear()


@pytest.mark.usefixtures("decide_again")
def test_require_without_a_usable_build_is_an_import_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(native.ENV, "require")
    monkeypatch.setattr(native, "BUILD_DIR", tmp_path)
    with pytest.raises(ImportError, match="HEALTHSCORE_NATIVE=require: no compiled build"):
        native.status()


@pytest.mark.usefixtures("decide_again")
def test_a_stale_build_left_behind_is_named_in_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / native.MANIFEST).write_text(json.dumps({"python": "cpython-399"}))
    monkeypatch.setenv(native.ENV, "auto")
    monkeypatch.setattr(native, "BUILD_DIR", tmp_path)
    with pytest.warns(RuntimeWarning, match="pure-Python engine: the build in .* another"):
        state = native.status()
    assert not state.active
    assert native.package_path("streams", ["/src/streams"]) == ["/src/streams"]


@pytest.mark.usefixtures("decide_again")
def test_off_never_looks_for_a_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(native.ENV, "off")
    monkeypatch.setattr(native, "check", lambda *_: pytest.fail("looked for a build"))
    assert native.status() == native.Status(False, "HEALTHSCORE_NATIVE=off")
