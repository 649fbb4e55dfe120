"""BigQuery's table schema as JSON Schema, and BigQuery's values as JSON.

REPEATED columns are arrays (never null: BigQuery stores an empty array), RECORD/STRUCT
columns objects with their own fields; NULLABLE adds ``null``.  TIMESTAMP and DATETIME become
``date-time`` strings in UTC (a DATETIME has no zone and is read as UTC), DATE ``date``,
NUMERIC and BIGNUMERIC numbers written exactly (decimals), BYTES base64 text, JSON any JSON
value, GEOGRAPHY WKT text.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from google.cloud.bigquery import SchemaField

_SCALARS: dict[str, dict[str, Any]] = {
    "INT64": {"type": "integer"},
    "INTEGER": {"type": "integer"},
    "FLOAT64": {"type": "number"},
    "FLOAT": {"type": "number"},
    "NUMERIC": {"type": "number"},
    "BIGNUMERIC": {"type": "number"},
    "BOOL": {"type": "boolean"},
    "BOOLEAN": {"type": "boolean"},
    "STRING": {"type": "string"},
    "BYTES": {"type": "string", "contentEncoding": "base64"},
    "TIMESTAMP": {"type": "string", "format": "date-time"},
    "DATETIME": {"type": "string", "format": "date-time"},
    "DATE": {"type": "string", "format": "date"},
    "TIME": {"type": "string"},
    "GEOGRAPHY": {"type": "string"},
    "INTERVAL": {"type": "string"},
    "JSON": {},
}

Convert = Callable[[Any], Any]


def _is_record(field: SchemaField) -> bool:
    return field.field_type.upper() in ("RECORD", "STRUCT")


def json_schema(fields: Sequence[SchemaField]) -> dict[str, Any]:
    """The stream schema of a table or query result."""
    return {"type": "object", "properties": {f.name: _property(f) for f in fields}}


def _property(field: SchemaField) -> dict[str, Any]:
    if _is_record(field):
        inner: dict[str, Any] = json_schema(field.fields)
    else:
        inner = dict(_SCALARS.get(field.field_type.upper(), {"type": "string"}))
    if field.mode == "REPEATED":
        return {"type": "array", "items": inner}
    if field.mode != "REQUIRED" and "type" in inner:
        inner["type"] = [inner["type"], "null"]
    if field.description:
        inner["description"] = field.description
    return inner


def _instant(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    return value


def _scalar(value: Any) -> Any:
    if isinstance(value, date | time):  # a datetime is a date too
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _json(value: Any) -> Any:
    # the Storage Read API sends JSON columns as text; the REST API already parsed them
    return json.loads(value) if isinstance(value, str) else value


def converter(field: SchemaField) -> Convert | None:
    """What turns a field's value into JSON; None where the value already is."""
    kind = field.field_type.upper()
    one: Convert | None
    if _is_record(field):
        one = record_converter(field.fields)
    elif kind in ("TIMESTAMP", "DATETIME"):
        one = _instant
    elif kind in ("DATE", "TIME", "BYTES"):
        one = _scalar
    elif kind == "JSON":
        one = _json
    else:
        one = None
    if field.mode != "REPEATED":
        return one
    return _repeated(one)


def _repeated(one: Convert | None) -> Convert:
    """An array's converter: BigQuery never has a NULL array (the Storage Read API may say
    None for an empty one)."""

    def convert(values: Any) -> Any:
        if values is None:
            return []
        return values if one is None else [one(v) for v in values]

    return convert


def record_converter(fields: Sequence[SchemaField]) -> Callable[[Any], Any] | None:
    """A function converting a row (or a RECORD's value) to JSON values in place, touching
    only the fields that need it; None when none does."""
    steps = [(f.name, c) for f in fields if (c := converter(f)) is not None]
    if not steps:
        return None

    def convert(row: Any) -> Any:
        if row is None:
            return None
        for name, step in steps:  # each step passes None through (REPEATED: as [])
            if name in row:
                row[name] = step(row[name])
        return row

    return convert
