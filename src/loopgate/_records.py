"""The run-time half of `loopgate.records`: dataclasses' behaviour without their start-up cost.

Why: on Python 3.10-3.12 `import dataclasses` pulls in `inspect` (and with it `ast`, `dis`,
`tokenize`), and `@dataclass` compiles five or six generated methods per class. On the links
gate's cold start that was about a quarter of the whole process (`bench/README.md`). Here a
class gets one compiled `__init__` (per-instance speed is the generated code's) and shares
plain functions for `__repr__`, `__eq__`, `__hash__`, ordering and frozenness.

What is kept from `dataclasses` (the subset this code base uses; mypy checks every use against
the real `dataclasses`, see records.py): `init`, `repr`, `eq`, `order`, `frozen`, `slots`;
`field(default=, default_factory=, init=, repr=, compare=, metadata=)`; fields inherited from
decorated bases; `__post_init__`; `__match_args__`; dataclasses' `__hash__` rule; pickling of
frozen slotted classes; `fields`, `replace`, `asdict` and `is_record` (which also accept a real
dataclass, as the tests' gate options are). Not kept: `InitVar`, `KW_ONLY`, `unsafe_hash`,
`weakref_slot`, a recursion guard in `__repr__`, the generated `__doc__`.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from operator import attrgetter
from typing import Any

_FIELDS = "__record_fields__"


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record (dataclasses' error of the same name)."""


class Field:
    __slots__ = ("compare", "default", "default_factory", "init", "metadata", "name", "repr", "type")

    def __init__(self, default: Any, default_factory: Any, init: bool, repr: bool,
                 compare: bool, metadata: Any) -> None:
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare
        self.metadata = types.MappingProxyType(dict(metadata or {}))

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


def field(*, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True, repr: bool = True,
          compare: bool = True, metadata: Any = None) -> Any:
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, init, repr, compare, metadata)


def record(cls: type | None = None, /, *, init: bool = True, repr: bool = True,
           eq: bool = True, order: bool = False, frozen: bool = False, slots: bool = False) -> Any:
    def wrap(cls: type) -> type:
        return _process(cls, init, repr, eq, order, frozen, slots)

    return wrap if cls is None else wrap(cls)


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return getattr(annotation, "__origin__", annotation) is getattr(sys.modules.get("typing"), "ClassVar", None)


def _collect(cls: type) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        fields.update(getattr(base, _FIELDS, None) or {})
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063 - inspect is what we avoid
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, Field):
            made = value
            if made.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, made.default)
        else:
            made = Field(value, MISSING, True, True, True, None)
        if made.default is not MISSING and type(made.default).__hash__ is None:
            raise ValueError(f"mutable default {type(made.default)} for field {name} is not allowed: "
                             "use default_factory")
        made.name, made.type = name, annotation
        fields[name] = made
    return fields


def _init_source(cls: type, fields: list[Field], frozen: bool) -> tuple[str, dict[str, Any]]:
    """`__init__`'s text and the names it reads: as dataclasses writes it, so as fast per instance."""
    names: dict[str, Any] = {"__MISSING": MISSING, "__set": object.__setattr__}
    params: list[str] = []
    body: list[str] = []
    seen_default = False
    for f in fields:
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        if f.init:
            if has_default:
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
        if f.default_factory is not MISSING:
            names[f"__factory_{f.name}"] = f.default_factory
            if f.init:
                params.append(f"{f.name}=__MISSING")
                value = f"__factory_{f.name}() if {f.name} is __MISSING else {f.name}"
            else:
                value = f"__factory_{f.name}()"
        elif f.init:
            if f.default is not MISSING:
                names[f"__default_{f.name}"] = f.default
                params.append(f"{f.name}=__default_{f.name}")
            else:
                params.append(f.name)
            value = f.name
        else:
            continue  # init=False without a factory: the class attribute (its default) is read
        body.append(f"__set(self, {f.name!r}, {value})" if frozen else f"self.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    text = f"def __init__(self, {', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body or ["pass"])
    return text.replace("(self, )", "(self)"), names


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda self: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return attrgetter(*names)


def _compare(values: Callable[[Any], tuple[Any, ...]], how: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return how(values(self), values(other))
        return NotImplemented

    return method


def _put(cls: type, **attributes: Any) -> None:
    for name, value in attributes.items():
        setattr(cls, name, value)


def _set_new(cls: type, name: str, value: Any) -> None:
    if name not in cls.__dict__:
        if callable(value) and hasattr(value, "__qualname__"):
            value.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, value)


def _process(cls: type, init: bool, repr: bool, eq: bool, order: bool,
             frozen: bool, slots: bool) -> type:
    by_name = _collect(cls)
    fields = list(by_name.values())
    if slots:
        cls = _with_slots(cls, by_name, frozen)
    setattr(cls, _FIELDS, by_name)
    if init:
        text, names = _init_source(cls, fields, frozen)
        exec(text, names)
        _set_new(cls, "__init__", names["__init__"])
    if repr:
        shown = tuple(f.name for f in fields if f.repr)

        def __repr__(self: Any) -> str:
            return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

        _set_new(cls, "__repr__", __repr__)
    compared = _values(tuple(f.name for f in fields if f.compare))
    if eq:
        _set_new(cls, "__eq__", _compare(compared, lambda a, b: a == b))
    if order:
        for name, how in (("__lt__", lambda a, b: a < b), ("__le__", lambda a, b: a <= b),
                          ("__gt__", lambda a, b: a > b), ("__ge__", lambda a, b: a >= b)):
            _set_new(cls, name, _compare(compared, how))
    if frozen:
        _freeze(cls, frozenset(by_name))
    _hash(cls, compared, eq, frozen)
    if "__match_args__" not in cls.__dict__:
        _put(cls, __match_args__=tuple(f.name for f in fields if f.init))
    return cls


def _hash(cls: type, compared: Callable[[Any], tuple[Any, ...]], eq: bool, frozen: bool) -> None:
    """dataclasses' rule: eq and frozen hash the compared fields; eq alone makes instances unhashable;
    a `__hash__` the class writes itself is kept."""
    own = cls.__dict__.get("__hash__", MISSING)
    explicit = not (own is MISSING or (own is None and "__eq__" in cls.__dict__))
    if not eq or explicit:
        return
    if frozen:
        def __hash__(self: Any) -> int:
            return hash(compared(self))

        _put(cls, __hash__=__hash__)
    else:
        _put(cls, __hash__=None)


def _freeze(owner: type, names: frozenset[str]) -> None:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is owner or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        object.__setattr__(self, name, value)  # a subclass's own attribute

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is owner or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        object.__delattr__(self, name)

    _put(owner, __setattr__=__setattr__, __delattr__=__delattr__)


def _with_slots(cls: type, fields: dict[str, Field], frozen: bool) -> type:
    """The class again with `__slots__` (a class's slots are fixed when it is made), as dataclasses does."""
    body = dict(cls.__dict__)
    body["__slots__"] = tuple(fields)
    for name in (*fields, "__dict__", "__weakref__"):
        body.pop(name, None)
    made: type = type(cls)(cls.__name__, cls.__bases__, body)
    made.__qualname__ = cls.__qualname__
    if frozen:  # pickle restores slots with setattr, which a frozen class refuses
        def __getstate__(self: Any) -> list[Any]:
            return [getattr(self, name) for name in fields]

        def __setstate__(self: Any, state: list[Any]) -> None:
            for name, value in zip(fields, state, strict=True):
                object.__setattr__(self, name, value)

        _put(made, __getstate__=__getstate__, __setstate__=__setstate__)
    return made


def _dataclass_module(obj: Any) -> Any:
    """The real `dataclasses` when `obj` is a real dataclass (a test's gate options), else None."""
    if hasattr(obj, "__dataclass_fields__"):
        import dataclasses  # noqa: PLC0415 - only for a real dataclass

        return dataclasses
    return None


def is_record(obj: Any) -> bool:
    return hasattr(obj, _FIELDS) or _dataclass_module(obj) is not None


def fields(obj: Any) -> tuple[Any, ...]:
    real = _dataclass_module(obj)
    if real is not None:
        return tuple(real.fields(obj))
    try:
        return tuple(getattr(obj, _FIELDS).values())
    except AttributeError:
        raise TypeError("must be called with a record type or instance") from None


def replace(obj: Any, /, **changes: Any) -> Any:
    real = _dataclass_module(obj)
    if real is not None:
        return real.replace(obj, **changes)
    for f in fields(obj):
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with replace()")
        elif f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


def asdict(obj: Any) -> dict[str, Any]:
    real = _dataclass_module(obj)
    if real is not None:
        return real.asdict(obj)  # type: ignore[no-any-return]
    return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}


def _plain(value: Any) -> Any:
    if hasattr(type(value), _FIELDS):
        return asdict(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*[_plain(v) for v in value])
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_plain(k), _plain(v)) for k, v in value.items())
    import copy  # noqa: PLC0415 - asdict's one use is the run's state dump

    return copy.deepcopy(value)
