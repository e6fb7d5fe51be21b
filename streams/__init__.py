"""The stream processor, in the order data flows through it.

``domain`` (pure decisions) <- ``processing`` (bytes -> decisions -> bytes, no
Faust) <- ``worker`` (the Faust shell); ``speedups`` holds what exists only for
speed, ``observability`` the metrics and logs. Importing a package has no side
effect: entry points call :func:`streams.speedups.native.install` themselves.
"""
