"""The Faust-free path: bytes in, domain events, per-partition engine, decisions,
CloudEvents bytes out. ``healthscore replay`` and the worker run this same code."""
