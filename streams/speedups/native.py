"""Load the mypyc-compiled build of the scoring engine when it matches the source.

Why: the worker's CPU goes to the per-event domain path (apply, settle,
rescore, alerts: ``docs/scaling.md``, "The 50k events/s per worker target"),
and interpreted Python is the bulk of it. mypyc compiles the same typed modules to C
(``healthscore native``, ``make native``), about 1.6x faster on the engine,
with the very same outputs and stored state (``tests/unit/test_native.py``
compares both builds' digests). The Python source stays the one definition;
the compiled build is an artefact of it, never a second implementation.

The build lives outside the source tree (``build/native/``), so an edited
``.py`` is never shadowed by a stale extension next to it: :func:`install`,
called by each entry point (the worker, the CLI, the test suite) before it
imports the engine, puts the build's directory first on the compiled packages'
``__path__`` only when its manifest names this interpreter and the sha256 of
every compiled source as it is now. Importing a package has no such effect, so
the API and the domain's own users load plain modules. Otherwise the pure-Python modules load,
with a warning saying why when a build was left behind (none at all is the
normal state of an install without a C compiler).

``HEALTHSCORE_NATIVE``: ``auto`` (the default: the build when usable),
``off`` (always pure Python: the second pass of ``make test``, A/B runs) or
``require`` (fail at import unless the build is usable: ``.ci/run`` sets it,
and it is worth setting for ``make bench``, so a missing build is an error,
not a slower run).

Standard library only: entry points call it before anything else of ours.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
import sysconfig
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / "build" / "native"
MANIFEST = "manifest.json"
ENV = "HEALTHSCORE_NATIVE"
MODES = ("auto", "off", "require")

MODULES: tuple[str, ...] = (
    "streams/processing/engine.py",
    "streams/domain/account.py",
    "streams/domain/scoring/alerts.py",
    "streams/domain/scoring/alert_rules.py",
    "streams/domain/scoring/apply.py",
    "streams/domain/scoring/usage.py",
    "streams/domain/scoring/dimensions.py",
    "streams/domain/scoring/health.py",
    "streams/domain/scoring/lifecycle.py",
    "streams/domain/scoring/masks.py",
    "streams/domain/dunning/cases.py",
    "streams/domain/dunning/codec.py",
    "streams/domain/dunning/decision.py",
    "streams/domain/dunning/advance.py",
    "streams/domain/dunning/policy.py",
    "streams/domain/dunning/state.py",
    "streams/domain/dunning/days.py",
    "streams/domain/errors.py",
    "streams/domain/scoring/model.py",
    "streams/domain/scoring/normalisers.py",
    "streams/domain/scoring/parts.py",
    "streams/domain/scoring/step.py",
    "streams/domain/scoring/reasons.py",
    "streams/domain/dunning/reminders.py",
    "streams/domain/scoring/rescore.py",
    "streams/domain/scoring/score.py",
    "streams/domain/scoring/state.py",
    "streams/domain/scoring/touchpoint_rules.py",
    "streams/domain/scoring/touchpoints.py",
    "streams/domain/scoring/windows.py",
)
"""The compiled modules. Left interpreted on purpose: ``events.py`` (the
decoder builds its classes with ``object.__new__``, which native classes
refuse), ``frozen.py`` (it rewrites classes at import) and ``series.py``
(compiled, the day ints and buckets it shares between accounts would be
unboxed and rebuilt as new objects, and a worker's memory would grow)."""


@dataclass(frozen=True)
class Status:
    """Whether the compiled build is in use, and why (or why not)."""

    active: bool
    reason: str


def extension_suffix() -> str:
    """This interpreter's file suffix for extension modules."""
    return str(sysconfig.get_config_var("EXT_SUFFIX"))


def source_digests(root: Path = ROOT) -> dict[str, str]:
    """The sha256 of every compiled source under ``root``, by path."""
    return {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in MODULES}


def fingerprint(root: Path = ROOT) -> dict[str, object]:
    """What a build must have been made from to be loaded (its manifest): this
    interpreter's extension ABI and the sha256 of every compiled source."""
    return {
        "abi": extension_suffix(),
        "python": sys.implementation.cache_tag,
        "sources": source_digests(root),
    }


def check(build_dir: Path, root: Path = ROOT) -> str | None:
    """None when ``build_dir`` holds a build of the sources under ``root`` as
    they are now, for this interpreter; else the reason it cannot be used."""
    try:
        manifest = json.loads((build_dir / MANIFEST).read_text())
    except FileNotFoundError:
        return f"no compiled build in {build_dir} (make native)"
    except (OSError, ValueError) as exc:
        return f"unreadable {build_dir / MANIFEST}: {exc}"
    if not isinstance(manifest, dict):
        return f"malformed {build_dir / MANIFEST}"
    if (
        manifest.get("abi") != extension_suffix()
        or manifest.get("python") != sys.implementation.cache_tag
    ):
        return f"the build in {build_dir} is for another interpreter ({manifest.get('python')})"
    built = manifest.get("sources")
    current = source_digests(root)
    stale = sorted(n for n in current if not isinstance(built, dict) or built.get(n) != current[n])
    if stale:
        return f"the build in {build_dir} is older than {', '.join(stale)} (make native)"
    return None


def mode() -> str:
    """The ``HEALTHSCORE_NATIVE`` setting; ``ValueError`` for an unknown one."""
    value = os.environ.get(ENV, "auto").strip().lower() or "auto"
    if value not in MODES:
        raise ValueError(f"{ENV}={value!r}: expected one of {', '.join(MODES)}")
    return value


@cache
def status() -> Status:
    """Decided once per process, before any compiled module could load."""
    chosen = mode()
    if chosen == "off":
        return Status(False, f"{ENV}=off")
    problem = check(BUILD_DIR)
    if problem is None:
        return Status(True, f"compiled build in {BUILD_DIR}")
    if chosen == "require":
        raise ImportError(f"{ENV}=require: {problem}")
    if (BUILD_DIR / MANIFEST).exists():  # a build left behind is worth a word; none is not
        warnings.warn(f"running the pure-Python engine: {problem}", RuntimeWarning, stacklevel=2)
    return Status(False, problem)


def package_path(package: str, path: list[str]) -> list[str]:
    """``path`` (a package's ``__path__``) with the compiled build's directory
    for ``package`` first when the build is in use."""
    if not status().active:
        return path
    compiled = str(BUILD_DIR.joinpath(*package.split(".")))
    return [compiled, *path]


#: The packages that hold compiled modules; ``streams`` also holds the group's
#: shared library (``streams.compiled__mypyc``).
PACKAGES: tuple[str, ...] = (
    "streams",
    "streams.processing",
    "streams.domain",
    "streams.domain.scoring",
    "streams.domain.dunning",
)

_installed: list[bool] = []


def module_names() -> tuple[str, ...]:
    """The dotted names of the compiled modules."""
    return tuple(name.removesuffix(".py").replace("/", ".") for name in MODULES)


def install() -> Status:
    """Use the compiled build from now on, when it is usable (:func:`status`).

    Must run before any compiled module is imported: a process that mixed an
    interpreted class with compiled code using it would fail in odd places, so
    an import that came first is a ``RuntimeError`` naming it. Idempotent."""
    state = status()
    if not state.active or _installed:
        return state
    early = sorted(name for name in module_names() if name in sys.modules)
    if early:
        raise RuntimeError(f"native.install() after {', '.join(early)} was imported")
    for name in PACKAGES:
        package = importlib.import_module(name)
        package.__path__ = package_path(name, list(package.__path__))
    _installed.append(True)
    return state


def in_use() -> bool:
    """Whether this process runs the compiled build (:func:`install` took it)."""
    return bool(_installed)
