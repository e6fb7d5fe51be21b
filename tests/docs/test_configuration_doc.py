"""Every environment variable a product process reads is documented: in the
README's configuration table or in docs/configuration.md.

Found in the source, not in a list kept here: string literals naming
``HEALTHSCORE_*`` / ``KAFKA_*`` variables, and pydantic aliases built from a
module prefix (``f"{_P}WORKERS"`` with ``_P = "HEALTHSCORE_NOTIFIER_"``). The
benchmark harness (``services/bench``) is a developer tool with its own knobs.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("schemas", "streams", "services")
NOT_PRODUCT = (ROOT / "services" / "bench",)
_LITERAL = re.compile(r'"((?:HEALTHSCORE|KAFKA)_[A-Z0-9_]*[A-Z0-9])"')
_PREFIX = re.compile(r'^(_P\w*)\s*(?::\s*\w+\s*)?=\s*"([A-Z0-9_]+_)"', re.M)


def variables_read() -> dict[str, Path]:
    """variable -> a file that reads it."""
    found: dict[str, Path] = {}
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            if any(path.is_relative_to(skip) for skip in NOT_PRODUCT):
                continue
            text = path.read_text()
            names = set(_LITERAL.findall(text))
            for var, prefix in _PREFIX.findall(text):
                names |= {prefix + s for s in re.findall(r"\{" + var + r"\}([A-Z0-9_]+)", text)}
            for name in names:
                found.setdefault(name, path.relative_to(ROOT))
    return found


def test_the_scan_finds_the_known_shapes() -> None:
    found = variables_read()

    assert {"KAFKA_BOOTSTRAP_SERVERS", "HEALTHSCORE_NOTIFIER_WORKERS", "HEALTHSCORE_NATIVE"} <= set(
        found
    )


def test_every_variable_is_documented() -> None:
    docs = (ROOT / "README.md").read_text() + (ROOT / "docs" / "configuration.md").read_text()

    missing = {n: str(p) for n, p in variables_read().items() if f"`{n}`" not in docs}

    assert missing == {}, "document these in docs/configuration.md (variable: where it is read)"
