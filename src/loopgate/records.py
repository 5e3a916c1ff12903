"""Dataclasses for loopgate's own classes: `@record` is `@dataclasses.dataclass` to mypy and to
the reader, and at run time a lighter implementation of the part of it this code base uses
(`_records.py` says which part and why: `import dataclasses` and its generated methods were about a
quarter of a gate's cold start).

Use `record`, `field`, `fields`, `replace`, `asdict` and `is_record` from here in place of
`dataclasses`; `fields`, `replace`, `asdict` and `is_record` accept a real dataclass too.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:  # mypy checks every record as the dataclass it behaves as
    from dataclasses import MISSING, Field, FrozenInstanceError, asdict, field, fields, replace
    from dataclasses import dataclass as record
    from dataclasses import is_dataclass as is_record
else:
    from loopgate._records import MISSING, Field, FrozenInstanceError, asdict, field, fields, is_record, record, replace

__all__ = ["MISSING", "Field", "FrozenInstanceError", "asdict", "field", "fields", "is_record", "record", "replace"]
