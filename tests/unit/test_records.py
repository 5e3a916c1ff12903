"""`loopgate.records` behaves as `dataclasses` does, for what the code base uses: each case builds the
same class body with both decorators and compares what instances do (the stdlib is the oracle)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys
from typing import Any, ClassVar

import pytest

from loopgate import _records, records


def _pair(body: dict[str, Any], **params: Any) -> tuple[Any, Any]:
    """The same class made by dataclasses and by records (each from its own copy of the body)."""
    real = dataclasses.dataclass(**params)(type("C", (), copy.copy(body)))
    ours = _records.record(**params)(type("C", (), _translated(body)))
    return real, ours


def _translated(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    for name, value in body.items():
        if isinstance(value, dataclasses.Field):
            def mine(v: Any) -> Any:
                return _records.MISSING if v is dataclasses.MISSING else v

            out[name] = _records.field(default=mine(value.default), default_factory=mine(value.default_factory),
                                       init=value.init, repr=value.repr, compare=bool(value.compare),
                                       metadata=dict(value.metadata))
    return out


def _outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except Exception as error:
        kind = "frozen" if isinstance(error, (dataclasses.FrozenInstanceError, _records.FrozenInstanceError)) \
            else type(error).__name__
        return ("error", kind)


BODIES: dict[str, dict[str, Any]] = {
    "plain": {"__annotations__": {"a": "int", "b": "str"}},
    "defaults": {"__annotations__": {"a": "int", "b": "str", "c": "tuple[int, ...]"}, "b": "x", "c": ()},
    "factory": {"__annotations__": {"a": "int", "items": "list[int]"},
                "items": dataclasses.field(default_factory=list)},
    "hidden": {"__annotations__": {"a": "int", "cache": "dict[str, int]", "note": "str"},
               "cache": dataclasses.field(init=False, repr=False, compare=False, default_factory=dict),
               "note": dataclasses.field(default="n", compare=False, metadata={"help": "h"})},
    # dataclasses reads a string ClassVar[...] as one where the module has `ClassVar` from typing, as here
    "classvar": {"__annotations__": {"a": "int", "LIMIT": "ClassVar[int]"}, "LIMIT": 3},
}


@pytest.mark.parametrize("params", [{}, {"frozen": True}, {"frozen": True, "order": True},
                                    {"frozen": True, "slots": True}, {"eq": False}, {"order": True}])
@pytest.mark.parametrize("name", sorted(BODIES))
def test_instances_do_what_dataclass_instances_do(name: str, params: dict[str, Any]) -> None:
    real, ours = _pair(BODIES[name], **params)
    assert [f.name for f in dataclasses.fields(real)] == [f.name for f in records.fields(ours)]
    assert [(f.default, dict(f.metadata), f.init, f.repr, f.compare) for f in dataclasses.fields(real)] == \
        [(f.default if f.default is not _records.MISSING else dataclasses.MISSING, dict(f.metadata), f.init, f.repr,
          f.compare) for f in records.fields(ours)]
    assert ours.__match_args__ == real.__match_args__
    assert ClassVar  # the name the "classvar" body's annotation names, for dataclasses to see
    args_cases: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((1,), {}), ((1, "y"), {}), ((), {"a": 2}), ((), {}), ((1, "y", (3,)), {}), ((), {"a": 1, "zz": 1}),
        ((1,), {"items": [5]}), ((1,), {"cache": {}}), ((1, 2, 3, 4), {})]
    for args, kwargs in args_cases:
        _same_instances(real, ours, args, kwargs)


def _same_instances(real: Any, ours: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    made = _outcome(lambda: real(*args, **kwargs))
    assert _outcome(lambda: ours(*args, **kwargs))[0] == made[0], (args, kwargs)
    if made[0] != "ok":
        return
    x, y, rx, ry = ours(*args, **kwargs), ours(*args, **kwargs), real(*args, **kwargs), real(*args, **kwargs)
    other, rother = records.replace(x, a=9), dataclasses.replace(rx, a=9)
    assert repr(x) == repr(rx)
    assert (x == y, x == other, x != y, x == "text") == (rx == ry, rx == rother, rx != ry, rx == "text")
    assert _outcome(lambda: hash(x) == hash(y))[0] == _outcome(lambda: hash(rx) == hash(ry))[0]
    assert _outcome(lambda: x < other) == _outcome(lambda: rx < rother)
    assert _outcome(lambda: setattr(x, "a", 5)) == _outcome(lambda: setattr(rx, "a", 5))
    assert _outcome(lambda: delattr(y, "a")) == _outcome(lambda: delattr(ry, "a"))
    assert _outcome(lambda: records.replace(other, a=7).a) == _outcome(lambda: dataclasses.replace(rother, a=7).a)
    assert _outcome(lambda: records.replace(other, cache={})) == _outcome(lambda: dataclasses.replace(rother, cache={}))
    assert records.asdict(other) == dataclasses.asdict(rother)
    assert hasattr(ours, "__slots__") == hasattr(real, "__slots__")


def test_pickled_and_copied_frozen_slotted_records_come_back_equal() -> None:
    # The links gate's workers send frozen, slotted Links back through pickle.
    from loopgate.gates._mdsyntax import Link

    link = Link("a.md#x", 3, 7, "link")
    assert pickle.loads(pickle.dumps(link)) == link
    assert copy.deepcopy(link) == link and copy.copy(link) == link
    with pytest.raises(AttributeError):
        link.line = 4  # type: ignore[misc]


def test_inherited_fields_come_first_and_post_init_runs() -> None:
    seen: list[str] = []

    @records.record(frozen=True)
    class Base:
        a: int
        b: int = 2

    @records.record(frozen=True)
    class Child(Base):
        c: int = 3

        def __post_init__(self) -> None:
            seen.append("post")

    assert repr(Child(1)) == "test_inherited_fields_come_first_and_post_init_runs.<locals>.Child(a=1, b=2, c=3)"
    assert seen == ["post"] and Child(1) != Base(1) and Child(1, 2, 3) == Child(1)
    assert [f.name for f in records.fields(Child)] == ["a", "b", "c"]


def test_the_dataclass_rules_on_bad_definitions_hold() -> None:
    with pytest.raises(ValueError, match="mutable default"):
        records.record(type("C", (), {"__annotations__": {"a": "list[int]"}, "a": []}))
    with pytest.raises(TypeError, match="non-default argument 'b'"):
        records.record(type("C", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))
    with pytest.raises(ValueError, match="both default and default_factory"):
        records.field(default=1, default_factory=list)
    with pytest.raises(TypeError):
        records.fields(object())


def test_fields_and_replace_accept_a_real_dataclass() -> None:
    # A test's gate options (and any plugin's) may be real dataclasses: the CLI reads them the same way.
    @dataclasses.dataclass(frozen=True)
    class Options:
        name: str = dataclasses.field(default="", metadata={"help": "h"})

    assert [f.metadata["help"] for f in records.fields(Options)] == ["h"]
    assert records.replace(Options(), name="x") == Options("x")
    assert records.is_record(Options) and records.asdict(Options("y")) == {"name": "y"}


def test_a_gate_starts_without_importing_dataclasses_or_inspect() -> None:
    # Why records exists: `import dataclasses` brings inspect, ast, dis and tokenize to every cold start.
    probe = ("import sys\nimport loopgate.gates.links, loopgate.cli.fast, loopgate.cli.gaterun\n"
             "print(sorted(m for m in ('dataclasses', 'inspect') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


@records.record(frozen=True, slots=True)
class _SlottedBase:
    x: int


@records.record(frozen=True)
class _Child(_SlottedBase):
    y: int


def test_the_shapes_a_hostile_review_found_behave_as_dataclasses() -> None:
    # a slot has no class attribute: an init=False default is set by __init__
    @records.record(slots=True)
    class Slotted:
        x: int = records.field(default=3, init=False)

    assert Slotted().x == 3

    # a frozen slotted record's subclass pickles with its own fields too
    assert pickle.loads(pickle.dumps(_Child(1, 2))) == _Child(1, 2)

    # fields named as the generated methods' parameters
    @records.record(frozen=True, order=True)
    class Odd:
        self: int
        other: int

    assert Odd(1, 2) == Odd(1, 2) and Odd(1, 2) < Odd(2, 0) and hash(Odd(1, 2)) == hash(Odd(1, 2))

    # an annotation that only starts like ClassVar is a field
    made = _records.record(type("C", (), {"__annotations__": {"a": "ClassVariant"}}))
    assert [f.name for f in records.fields(made)] == ["a"]


@pytest.mark.parametrize(("body", "params", "bases"), [
    ({"__annotations__": {}, "a": dataclasses.field(default=1)}, {}, ()),  # a field without annotation
    ({"__annotations__": {"a": "int"}, "__setattr__": lambda self, n, v: None}, {"frozen": True}, ()),
    ({"__annotations__": {"a": "int"}, "__lt__": lambda self, other: True}, {"order": True}, ()),
    ({"__annotations__": {"b": "int"}}, {"frozen": True}, ("mutable",)),  # frozen from non-frozen
    ({"__annotations__": {"b": "int"}}, {}, ("frozen",)),  # non-frozen from frozen
])
def test_what_dataclasses_refuses_is_refused(body: dict[str, Any], params: dict[str, Any],
                                             bases: tuple[str, ...]) -> None:
    def base(which: str, decorate: Any) -> type:
        return decorate(frozen=which == "frozen")(type("B", (), {"__annotations__": {"a": "int"}}))

    real_bases = tuple(base(b, dataclasses.dataclass) for b in bases)
    our_bases = tuple(base(b, _records.record) for b in bases)
    with pytest.raises(TypeError):
        dataclasses.dataclass(**params)(type("C", real_bases, copy.copy(body)))
    with pytest.raises(TypeError):
        _records.record(**params)(type("C", our_bases, _translated(body)))


class _Plain:
    x: int = 5  # an undecorated base's default


def test_a_default_from_an_undecorated_base_counts_as_dataclasses_has_it() -> None:
    real = dataclasses.dataclass(type("C", (_Plain,), {"__annotations__": {"x": "int"}}))
    ours = _records.record(type("C", (_Plain,), {"__annotations__": {"x": "int"}}))
    assert real().x == ours().x == 5


@pytest.mark.parametrize(("body", "params", "error"), [
    ({"__annotations__": {"a": "int"}}, {"order": True, "eq": False}, ValueError),
    ({"__annotations__": {"a": "InitVar[int]"}}, {}, TypeError),
    ({"__annotations__": {"a": dataclasses.InitVar(int)}}, {}, TypeError),
    ({"__annotations__": {"_": dataclasses.KW_ONLY, "a": "int"}}, {}, TypeError),
    ({"__annotations__": {"__record_self__": "int"}}, {}, TypeError),
])
def test_what_records_cannot_do_as_dataclasses_do_is_refused(body: dict[str, Any], params: dict[str, Any],
                                                             error: type[Exception]) -> None:
    # InitVar and KW_ONLY would be accepted by dataclasses with another __init__: refusing is safer than
    # a class that differs from what mypy checked
    with pytest.raises(error):
        _records.record(**params)(type("C", (), copy.copy(body)))
