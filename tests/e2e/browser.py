"""A real headless Chromium for the web-app tests: Debian's ``chromium`` driven by
Playwright's bundled driver (the wheel; no ``playwright install``, no download).

``launch()`` skips the calling test with a clear message when the machine has no
chromium or no playwright, so the suite still runs elsewhere; CI installs the
``chromium`` package (``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[2]
#: Screenshots land here (gitignored with build/), kept after the run.
ARTIFACTS = ROOT / "build" / "test-artifacts" / "webapp"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chromium_path() -> str | None:
    configured = os.environ.get("HEALTHSCORE_CHROMIUM")
    candidates = [configured, "/usr/bin/chromium", shutil.which("chromium"),
                  shutil.which("chromium-browser")]  # fmt: skip
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@contextmanager
def launch() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no chromium on this machine (apt-get install chromium) - browser tests skipped"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
