"""Imports follow the data flow: ``schemas`` <- ``streams`` <- ``services``.

Read from the source with ``ast`` (nothing is imported), so a violation is
caught in a module no test happens to load. The domain's rule is stricter: the
standard library, itself and a YAML parser (the model file), nothing else, so
it stays the pure, Faust-free core a reader can run in a REPL.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def imported_modules(path: Path) -> set[str]:
    """Absolute module names ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module:
                found.add(node.module)
    return found


def imports_under(folder: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import in every module under ``folder``."""
    return [
        (str(path.relative_to(ROOT)), name)
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in sorted(imported_modules(path))
    ]


def top(name: str) -> str:
    return name.split(".", 1)[0]


def test_schemas_import_nothing_of_ours() -> None:
    wrong = [(f, m) for f, m in imports_under("schemas") if top(m) in {"streams", "services"}]
    assert wrong == []


def test_streams_import_nothing_from_services() -> None:
    wrong = [(f, m) for f, m in imports_under("streams") if top(m) == "services"]
    assert wrong == []


def test_the_domain_imports_the_standard_library_itself_and_yaml_only() -> None:
    wrong = [
        (f, m)
        for f, m in imports_under("streams/domain")
        if top(m) not in STDLIB | {"yaml"} and not (m + ".").startswith("streams.domain.")
    ]
    assert wrong == []


@pytest.mark.parametrize("module", ["streams.domain", "streams.domain.scoring.step"])
def test_importing_the_domain_loads_no_framework_and_no_native_loader(module: str) -> None:
    probe = (
        f"import sys, {module}\n"
        "banned = ('faust', 'aiokafka', 'redis', 'pydantic', 'pydantic_settings', "
        "'streams.speedups', 'services', 'schemas')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned "
        "or m.startswith('streams.speedups')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
