"""Cheaper construction of the domain's value objects.

A ``@dataclass(frozen=True)`` ``__init__`` stores each field with
``object.__setattr__(self, name, value)`` (a global lookup, an attribute lookup
and a generic setattr per field), which makes a 7-field value object cost about
twice what the same class costs unfrozen. The values built on most steps are
native classes instead (``by_fields``); the other frozen ones use ``fast_init``.

``fast_init`` regenerates ``__init__`` so that it writes each field through the
class's own slot descriptor (``Cls.field.__set__``, bound once). Nothing else
changes: the class is still frozen (assignment raises ``FrozenInstanceError``),
compares, hashes, prints and pickles as before, and ``dataclasses.replace``
works, since the signature (names, order, defaults) is the same.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

_T = TypeVar("_T")


def fast_init(cls: type[_T]) -> type[_T]:
    """Class decorator, applied *above* ``@dataclass(frozen=True, slots=True)``.

    Only plain fields are supported (no ``default_factory``, ``InitVar``,
    ``init=False``, ``kw_only`` or ``__post_init__``): anything else raises ``TypeError`` at
    import time rather than building objects differently."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or not hasattr(cls, "__slots__"):
        raise TypeError(f"fast_init: {cls.__name__} needs slots and no __post_init__")
    namespace: dict[str, Any] = {}
    params: list[str] = []
    body: list[str] = []
    for f in fields:
        if not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"fast_init: {cls.__name__}.{f.name} is not a plain field")
        namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {f.name})\n")
    source = f"def __init__(self, {', '.join(params)}):\n{''.join(body) or '    pass'}"
    exec(source, namespace)  # noqa: S102 (generated from the class's own field names)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = cls.__init__.__annotations__
    setattr(cls, "__init__", init)  # noqa: B010 (mypy forbids assigning a method)
    return cls


def by_fields(value: Any) -> tuple[type, tuple[Any, ...]]:
    """``__reduce__`` of the values built on most steps, rebuilt through
    ``__init__`` from their fields in order (a compiled one cannot be created
    empty and filled, as pickle would do).

    Those are, several times per health change, ``HealthScore`` with its
    ``DimensionScore`` and ``DimensionChange`` parts and ``HealthChange``, and
    per step ``AlertInput`` and the state parts ``UsageState``, ``ScoreMemo``
    and ``AlertState`` (``streams.domain.scoring.parts``). mypyc compiles a class with a
    decorator other than ``dataclass`` (such as ``fast_init``) as an interpreted
    class, and a frozen dataclass's ``__init__`` goes through
    ``object.__setattr__``; a ``@dataclass(slots=True, init=False,
    unsafe_hash=True)`` with a hand-written ``__init__`` is a native class with
    a C constructor: ~0.05 µs for a ``DimensionScore`` against ~0.5 µs with
    ``fast_init``. ``eq``, ``repr`` and a hash by value still come from
    ``dataclass``; what is given up is the run-time refusal of assignment, so
    nothing assigns to them after ``__init__`` (a review rule: they are
    replaced, never mutated, as the frozen ones)."""
    names = [f.name for f in dataclasses.fields(value)]
    return type(value), tuple([getattr(value, name) for name in names])
