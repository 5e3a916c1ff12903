"""docs/gates.md, generated from the gate registry: each gate's docstring and options."""

from __future__ import annotations

import sys
import typing
from typing import Any

from loopgate import records
from loopgate.codes import Code
from loopgate.gates.base import GateSpec, bounds_text
from loopgate.gates.registry import all_codes, gates


def _type_name(annotation: Any) -> str:
    text = str(annotation).replace("typing.", "")
    return {"<class 'str'>": "text", "<class 'int'>": "integer", "<class 'float'>": "number",
            "<class 'bool'>": "flag"}.get(text, text.replace("tuple[str, ...]", "text, repeatable"))


def _options(spec: GateSpec) -> list[str]:
    hints = typing.get_type_hints(spec.options)
    rows = ["| option | type | default | meaning |", "|---|---|---|---|"]
    for f in records.fields(spec.options):
        meta = f.metadata
        flag = "`" + (f.name.upper() + "...`" if meta.get("argument") else
                      (meta.get("flag") or "--" + f.name.replace("_", "-")) + "`")
        default = "" if f.default in (records.MISSING, None, (), "") else f"`{f.default}`"
        help_text = str(meta.get("help") or "").replace("|", "\\|")
        if bounds_text(meta):
            help_text += f" Range: {bounds_text(meta)}."
        rows.append(f"| {flag} | {_type_name(hints[f.name])} | {default} | {help_text} |")
    return rows


def gates_markdown() -> str:
    all_codes()  # make sure every gate module, and so every code, is loaded
    out = ["# loopgate gates", "", "Generated from the gate registry (`loopgate gates-doc`); do not edit by hand.",
           "Each gate runs alone as `loopgate gate NAME` and inside `loopgate check`.", ""]
    for spec in gates().values():
        body = spec.doc.split("\n", 1)[1].strip() if "\n" in spec.doc else ""
        out += [f"## {spec.name}", "", f"**{spec.summary}**", ""]
        if body:
            out += [body, ""]
        out += _options(spec) + [""]
        own = _module_codes(spec)
        if own:
            out += ["Codes: " + ", ".join(f"[{c.code}](codes.md#{c.code.lower()}) {c.name}" for c in own), ""]
        if spec.hook:
            out += [f"pre-commit hook: `{spec.hook['id']}`", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _module_codes(spec: GateSpec) -> list[Code]:
    """The codes a gate can report: those its module defines or imports, and its SHARED_CODES."""
    module = sys.modules.get(spec.run.__module__)
    found = {v.code: v for v in vars(module).values() if isinstance(v, Code)} if module else {}
    # codes it shares with other gates (changed files, running a command), declared once where they live
    found.update({c.code: c for c in getattr(module, "SHARED_CODES", ())})
    return [found[k] for k in sorted(found)]
