"""A PATH without some tools: what a machine that never installed them sees."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def path_without(names: frozenset[str], path: str, into: Path) -> str:
    """A PATH of one directory linking every executable on ``path`` except ``names``.

    Directories inside this checkout's virtualenv are left out, so ``python3``
    is the machine's, as on a fresh clone.
    """
    into.mkdir(parents=True, exist_ok=True)
    venv = ROOT / ".venv"
    for directory in filter(None, path.split(os.pathsep)):
        folder = Path(directory)
        if folder.resolve().is_relative_to(venv.resolve()) or not folder.is_dir():
            continue
        for entry in folder.iterdir():
            link = into / entry.name
            if entry.name in names or link.exists() or link.is_symlink():
                continue
            if entry.is_file() and os.access(entry, os.X_OK):
                link.symlink_to(entry)
    return str(into)
