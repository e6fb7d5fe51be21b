"""The stream processor. Its ``__path__`` may start with the compiled build's
directory (``streams.native``), so ``streams.engine`` can load compiled."""

from streams.native import package_path

__path__ = package_path(__name__, __path__)
