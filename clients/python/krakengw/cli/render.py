"""Output of the `krakengw` command: aligned text tables for people, JSON for scripts.

JSON keeps the contract's exactness: prices and quantities are strings, never floats (sequences
are JSON integers); enums are their names; times are ISO 8601; durations are seconds as decimal
strings.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

__all__ = ["jsonable", "print_json", "print_record", "print_table", "text"]


def jsonable(value: Any) -> Any:
    """`value` (client models, lists, scalars) as plain JSON types; `raw` messages are left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "raw"
        }
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(Decimal(str(value.total_seconds())))
    if isinstance(value, frozenset | set):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def print_json(value: Any, out: TextIO, *, compact: bool = False) -> None:
    if compact:  # one line per value: a stream is JSON Lines
        out.write(json.dumps(jsonable(value), separators=(",", ":")) + "\n")
    else:
        out.write(json.dumps(jsonable(value), indent=2) + "\n")
    out.flush()


def text(value: Any) -> str:
    """One cell: empty for None, names for enums, plain decimals."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, frozenset | set):
        return ",".join(sorted(text(v) for v in value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.dumps(jsonable(value), separators=(",", ":"))
    if isinstance(value, list | tuple):
        return ",".join(text(v) for v in value)
    return str(value)


def print_table(rows: Iterable[Any], columns: Sequence[str], out: TextIO) -> None:
    """Rows (objects) as columns named by attribute; headers upper-case, widths aligned."""
    cells = [[text(getattr(row, c)) for c in columns] for row in rows]
    headers = [c.upper() for c in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    for line in [headers, *cells]:
        out.write("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() + "\n")
    if not cells:
        out.write("(none)\n")
    out.flush()


def print_record(value: Any, out: TextIO) -> None:
    """One object as `field  value` lines (nested objects on one line as JSON)."""
    fields = [f.name for f in dataclasses.fields(value) if f.name != "raw"]
    width = max(len(f) for f in fields)
    for name in fields:
        out.write(f"{name.ljust(width)}  {text(getattr(value, name))}".rstrip() + "\n")
    out.flush()
