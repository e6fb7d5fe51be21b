"""Third-party payloads mapped to our input events: pure functions, no I/O.

``stripe`` and ``segment`` each turn one of the sender's messages into one
input event (a plain dict in the contract's JSON shape) or a ``Skipped``
saying why there is nothing to produce. The routes in
``services/api/routes/sources.py`` do the I/O: verify, map, then hand the
events to the same validate-and-produce path as ``POST /v1/events``.
"""
