"""From a stream's JSON Schema to typed Postgres columns, and from JSON values to what binary
COPY writes into them.

Types: ``date-time`` is ``timestamptz`` (an offset is an instant, never dropped; a value without
one is read as UTC), ``date`` is ``date``, ``integer`` ``bigint``, ``number`` ``numeric`` (exact:
the decoder reads JSON decimals as ``Decimal``), ``boolean``, objects and arrays ``jsonb``,
every other string ``text``.  A property of several types is the narrowest type holding all of
them (``integer`` or ``number``: ``numeric``), else ``text``.

A column only ever widens (``common_type``): ``bigint`` to ``numeric``, ``date`` to
``timestamptz``, anything to ``text``.  A value is converted for the column's type in the
table, which may be wider than its schema says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec

TIMESTAMPTZ = "timestamptz"
DATE = "date"
BIGINT = "bigint"
NUMERIC = "numeric"
DOUBLE = "double precision"
BOOLEAN = "boolean"
JSONB = "jsonb"
TEXT = "text"

# Postgres's names for the same types, as information_schema reports them.
CANONICAL = {
    "timestamp with time zone": TIMESTAMPTZ,
    "timestamptz": TIMESTAMPTZ,
    "date": DATE,
    "bigint": BIGINT,
    "integer": BIGINT,
    "smallint": BIGINT,
    "numeric": NUMERIC,
    "double precision": DOUBLE,
    "real": DOUBLE,
    "boolean": BOOLEAN,
    "jsonb": JSONB,
    "json": JSONB,
    "text": TEXT,
    "character varying": TEXT,
    "timestamp without time zone": TIMESTAMPTZ,  # MeltanoLabs' tables: widened on first load
}

# pairs that widen to something narrower than text
_WIDER = {
    frozenset({BIGINT, NUMERIC}): NUMERIC,
    frozenset({BIGINT, DOUBLE}): NUMERIC,
    frozenset({NUMERIC, DOUBLE}): NUMERIC,
    frozenset({DATE, TIMESTAMPTZ}): TIMESTAMPTZ,
}

encode_json = msgspec.json.Encoder(decimal_format="number").encode


class BadValueError(ValueError):
    """A value its column cannot hold: the caller names the stream, record and column."""


def common_type(a: str, b: str) -> str:
    """The narrowest type holding both: what a column becomes when its schema changes."""
    if a == b:
        return a
    return _WIDER.get(frozenset({a, b}), TEXT)


def conform(name: str) -> str:
    """A stream or property name as a Postgres identifier: lower case, ``_`` for the rest."""
    conformed = re.sub(r"[^a-z0-9_]", "_", name.lower())
    return f"_{conformed}" if conformed[:1].isdigit() else conformed or "_"


def type_of(schema: Mapping[str, Any]) -> str:
    """The column type of one property's JSON Schema."""
    if "anyOf" in schema or "oneOf" in schema:
        options = [type_of(option) for option in schema.get("anyOf") or schema["oneOf"]]
        options = [o for o in options if o != "null"] or [TEXT]
        found = options[0]
        for option in options[1:]:
            found = common_type(found, option)
        return found
    declared = schema.get("type", [])
    kinds = [declared] if isinstance(declared, str) else list(declared)
    kinds = [k for k in kinds if k != "null"]
    if not kinds:
        return JSONB if not declared and "properties" not in schema else _single("object", schema)
    found = _single(kinds[0], schema)
    for kind in kinds[1:]:
        found = common_type(found, _single(kind, schema))
    return found


def _single(kind: str, schema: Mapping[str, Any]) -> str:
    if kind == "string":
        return {"date-time": TIMESTAMPTZ, "date": DATE}.get(schema.get("format", ""), TEXT)
    return {
        "integer": BIGINT,
        "number": NUMERIC,
        "boolean": BOOLEAN,
        "object": JSONB,
        "array": JSONB,
    }.get(kind, TEXT)


# -- values --------------------------------------------------------------------------------


def _timestamptz(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadValueError(f"{value!r} is not a date-time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadValueError(f"{value!r} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise BadValueError(f"{value!r} is not a date string")
    try:
        return date.fromisoformat(value)
    except ValueError:
        return _timestamptz(value).date()


BIGINT_RANGE = (-(2**63), 2**63 - 1)


def _bigint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise BadValueError(f"{value!r} is not an integer")
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise BadValueError(f"{value} is not an integer")
        value = int(value)
    if not BIGINT_RANGE[0] <= value <= BIGINT_RANGE[1]:
        raise BadValueError(
            f"{value} is beyond bigint; declare the property a number (a numeric column) "
            "if it can be this large"
        )
    return value


def _numeric(value: Any) -> Decimal:
    kind = type(value)
    if kind is Decimal:
        return value
    if kind is int:
        return Decimal(value)
    if kind is float:
        return Decimal(repr(value))  # the shortest repr: the digits the tap wrote
    raise BadValueError(f"{value!r} is not a number")


def _double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise BadValueError(f"{value!r} is not a number")
    return float(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadValueError(f"{value!r} is not a boolean")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else encode_json(value).decode()


def _jsonb(value: Any) -> Any:
    return value


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    TIMESTAMPTZ: _timestamptz,
    DATE: _date,
    BIGINT: _bigint,
    NUMERIC: _numeric,
    DOUBLE: _double,
    BOOLEAN: _boolean,
    JSONB: _jsonb,
    TEXT: _text,
}


@dataclass(frozen=True)
class Column:
    name: str  # conformed
    type: str
    source: str  # the record's property name


def without_nul(value: Any) -> Any:
    """``value`` with NUL characters removed at any depth (Postgres text and jsonb refuse them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value
