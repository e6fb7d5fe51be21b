"""The pure domain: scoring and dunning decisions, standard library only.

``scoring`` and ``dunning`` share the input events (``events``), the error base
(``errors``) and the frozen-dataclass helper (``frozen``), and nothing else.
"""
