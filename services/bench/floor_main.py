"""``python -m services.bench.floor_main worker``: the floor contender's process.

A module of its own so the compiled engine is installed before
``services.bench.floor_app`` imports it, and so the oracle, pickled with
``services.bench.floor_app``'s classes, unpickles against that same module.
"""

from streams.speedups import native

native.install()

from services.bench.floor_app import main  # noqa: E402

if __name__ == "__main__":
    main()
