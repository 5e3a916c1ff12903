"""The quick schema check may only ever say "valid" when jsonschema agrees: it lets `verify` skip
importing jsonschema for a valid loop, so an unsound "valid" would hide a finding."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from loopgate.artifacts.kinds import KINDS
from loopgate.artifacts.quickcheck import certainly_valid
from loopgate.artifacts.schema import load_schema, schema_names
from loopgate.verify import load_artifact

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "repo-maintenance"

leaves = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, width=32),
                   st.sampled_from(["", "x", "shadow", "passed", "30 minutes", "- [ ]"]))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["name", "mode", "status", "run_id", "items", "gates", "budgets", "max_iterations", "x"]),
    inner, max_size=4), max_leaves=12)


def example_data() -> dict[str, Any]:
    out = {}
    for kind in KINDS:
        artifact, _ = load_artifact(str(EXAMPLE / kind.filename), kind)
        assert artifact is not None
        out[kind.name] = artifact.data
    return out


def test_the_shipped_example_is_certainly_valid() -> None:
    for name, data in example_data().items():
        assert certainly_valid(load_schema(name), data), name  # else verify pays for jsonschema


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*here, index))
    return found


@settings(max_examples=300, deadline=None)
@given(st.data(), values)
def test_valid_only_when_jsonschema_agrees(data: st.DataObject, replacement: Any) -> None:
    examples = example_data()
    name = data.draw(st.sampled_from(sorted(examples)))
    instance = copy.deepcopy(examples[name])
    where = data.draw(st.sampled_from(_paths(instance)))
    if where:
        node = instance
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = replacement
    else:
        instance = replacement
    schema = load_schema(name)
    if certainly_valid(schema, instance):
        assert Draft202012Validator(schema).is_valid(instance), (name, where, replacement)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(schema_names()), values)
def test_random_documents_never_pass_wrongly(name: str, instance: Any) -> None:
    schema = load_schema(name)
    if certainly_valid(schema, instance):
        assert Draft202012Validator(schema).is_valid(instance)


def test_verify_of_a_valid_loop_does_not_import_jsonschema() -> None:
    code = ("import sys; from loopgate.verify import VerifySettings, run_verify; "
            f"r = run_verify(VerifySettings(({str(EXAMPLE)!r},), False)); "
            "assert not r.findings, r.findings; print('jsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
