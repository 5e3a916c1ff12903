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
dataclass, as the tests' gate options are). Refused: `InitVar`, `KW_ONLY`. Not kept: `unsafe_hash`,
`weakref_slot`, a recursion guard in `__repr__`, the generated `__doc__`.
"""

from __future__ import annotations

import re
import sys
import types

from loopgate._memo import DiskMemo

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any

_FIELDS = "__record_fields__"
_FROZEN = "__record_frozen__"


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
    if order and not eq:
        raise ValueError("eq must be true if order is true")

    def wrap(cls: type) -> type:
        return _process(cls, init, repr, eq, order, frozen, slots)

    return wrap if cls is None else wrap(cls)


_CLASSVAR = re.compile(r"(?:typing\.)?ClassVar(?:\[|$)")
_INITVAR = re.compile(r"(?:dataclasses\.)?(?:InitVar|KW_ONLY)(?:\[|$)")


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return _CLASSVAR.match(annotation) is not None
    return getattr(annotation, "__origin__", annotation) is getattr(sys.modules.get("typing"), "ClassVar", None)


def _collect(cls: type, frozen: bool) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        inherited = getattr(base, _FIELDS, None)
        if inherited is not None:
            if getattr(base, _FROZEN) != frozen:  # dataclasses' rule, both ways
                raise TypeError("cannot inherit frozen dataclass from a non-frozen one" if frozen else
                                "cannot inherit non-frozen dataclass from a frozen one")
            fields.update(inherited)
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 - inspect is what we avoid
    for name, value in cls.__dict__.items():
        if isinstance(value, Field) and name not in annotations:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    for name, annotation in annotations.items():
        if not _is_classvar(annotation):
            fields[name] = _field(cls, name, annotation)
    return fields


def _field(cls: type, name: str, annotation: Any) -> Field:
    if (_INITVAR.match(annotation) if isinstance(annotation, str) else
            type(annotation).__name__ in ("InitVar", "_KW_ONLY_TYPE")):
        # silently made a field, it would change __init__'s signature from what mypy checked
        raise TypeError(f"field {name!r}: InitVar and KW_ONLY are not supported by loopgate.records")
    if name in (_SELF, _OTHER):
        raise TypeError(f"{name!r} is the name the generated methods use for themselves")
    # dataclasses' lookup: a default inherited from an undecorated base counts; a slot does not
    value = getattr(cls, name, MISSING)
    if isinstance(value, types.MemberDescriptorType):
        value = MISSING
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
    return made


# The generated methods' own names: a field may be called `self` or `other` (dataclasses allows it).
_SELF, _OTHER = "__record_self__", "__record_other__"


def _init_lines(cls: type, fields: list[Field], frozen: bool, slots: bool, names: dict[str, Any]) -> list[str]:
    """`__init__` as dataclasses writes it (so as fast per instance), as lines of source."""
    params: list[str] = []
    body: list[str] = []
    seen_default = False
    for f in fields:
        if f.init:
            if f.default is not MISSING or f.default_factory is not MISSING:
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
        value = _init_value(f, slots, names, params)
        if value:
            body.append(f"__set({_SELF}, {f.name!r}, {value})" if frozen else f"{_SELF}.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append(f"{_SELF}.__post_init__()")
    return [f"def __init__({', '.join([_SELF, *params])}):", *(f"    {line}" for line in body or ["pass"])]


def _init_value(f: Field, slots: bool, names: dict[str, Any], params: list[str]) -> str:
    """What `__init__` sets the field to ("" for nothing), its parameter added to `params`."""
    if f.default_factory is not MISSING:
        names[f"__factory_{f.name}"] = f.default_factory
        if not f.init:
            return f"__factory_{f.name}()"
        params.append(f"{f.name}=__MISSING")
        return f"__factory_{f.name}() if {f.name} is __MISSING else {f.name}"
    if f.default is not MISSING:
        names[f"__default_{f.name}"] = f.default
        if f.init:
            params.append(f"{f.name}=__default_{f.name}")
            return f.name
        # init=False: the class attribute (the default) is read; a slot has none, so it is set
        return f"__default_{f.name}" if slots else ""
    if f.init:
        params.append(f.name)
        return f.name
    return ""


def _tuple(names: list[str], who: str) -> str:
    return "(" + "".join(f"{who}.{name}," for name in names) + ")"


def _process(cls: type, init: bool, repr: bool, eq: bool, order: bool,
             frozen: bool, slots: bool) -> type:
    for wanted, own in ((frozen, ("__setattr__", "__delattr__")), (order, ("__lt__", "__le__", "__gt__", "__ge__"))):
        for name in own if wanted else ():
            if name in cls.__dict__:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    by_name = _collect(cls, frozen)
    fields = list(by_name.values())
    if slots:
        cls = _with_slots(cls, by_name, frozen)
    _put(cls, **{_FIELDS: by_name, _FROZEN: frozen})
    hashed = eq and frozen and not _explicit_hash(cls)
    for name, method in _compiled(cls, fields, init, eq, order, frozen, slots, hashed).items():
        if name == "__hash__":
            _put(cls, __hash__=method)
        else:
            _set_new(cls, name, method)
    if eq and not frozen and not _explicit_hash(cls):
        _put(cls, __hash__=None)  # dataclasses' rule: equal by value and mutable, so unhashable
    if repr:
        shown = tuple(f.name for f in fields if f.repr)

        def __repr__(self: Any) -> str:
            return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

        _set_new(cls, "__repr__", __repr__)
    if frozen:
        _freeze(cls, frozenset(by_name))
    if "__match_args__" not in cls.__dict__:
        _put(cls, __match_args__=tuple(f.name for f in fields if f.init))
    return cls


def _compiled(cls: type, fields: list[Field], init: bool, eq: bool, order: bool, frozen: bool, slots: bool,
              hashed: bool) -> dict[str, Any]:
    """The methods that read each field, compiled from one piece of source: one `exec` a class, where
    dataclasses has five or six; their code is what dataclasses generates, so as fast per call."""
    names: dict[str, Any] = {"__MISSING": MISSING, "__set": object.__setattr__}
    lines = _init_lines(cls, fields, frozen, slots, names) if init else []
    compared = [f.name for f in fields if f.compare]
    mine, theirs = _tuple(compared, _SELF), _tuple(compared, _OTHER)
    made = ["__init__"] if init else []
    for name, operator in ((("__eq__", "=="),) if eq else ()) + ((("__lt__", "<"), ("__le__", "<="), ("__gt__", ">"),
                                                                   ("__ge__", ">=")) if order else ()):
        lines += [f"def {name}({_SELF}, {_OTHER}):",
                  f"    if {_OTHER}.__class__ is {_SELF}.__class__:",
                  f"        return {mine} {operator} {theirs}",
                  "    return NotImplemented"]
        made.append(name)
    if hashed:
        lines += [f"def __hash__({_SELF}):", f"    return hash({mine})"]
        made.append("__hash__")
    if lines:
        exec(_code_for("\n".join(lines)), names)
    return {name: names[name] for name in made}


def _explicit_hash(cls: type) -> bool:
    """A `__hash__` the class writes itself, which dataclasses keeps (`__hash__ = None` beside its own
    `__eq__` is Python's doing, not the writer's)."""
    own = cls.__dict__.get("__hash__", MISSING)
    return not (own is MISSING or (own is None and "__eq__" in cls.__dict__))


def _put(cls: type, **attributes: Any) -> None:
    for name, value in attributes.items():
        setattr(cls, name, value)


def _set_new(cls: type, name: str, value: Any) -> None:
    if name not in cls.__dict__:
        if callable(value) and hasattr(value, "__qualname__"):
            value.__qualname__ = f"{cls.__qualname__}.{name}"
            value.__module__ = cls.__module__
        setattr(cls, name, value)


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
            return [getattr(self, name) for name in getattr(type(self), _FIELDS)]  # a subclass's fields too

        def __setstate__(self: Any, state: list[Any]) -> None:
            for name, value in zip(getattr(type(self), _FIELDS), state, strict=True):
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


# Compiling the generated source is most of a record's cost: kept between processes (see _memo).
# The version changes whenever what the source means could (a generator change alters the source).
_METHODS = DiskMemo("records_methods", "1", lambda value: isinstance(value, types.CodeType))


def _code_for(source: str) -> types.CodeType:
    code: types.CodeType | None = _METHODS.get(source)
    if code is None:
        code = compile(source, "<loopgate.records>", "exec")
        _METHODS.put(source, code)
        _METHODS.flush()  # (a class at a time: their number is bounded, and each is missed once)
    return code
