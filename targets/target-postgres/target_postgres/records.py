"""A stream's records, from their JSON to the row tuples binary COPY writes.

The fast path decodes a record straight into a msgspec Struct typed from the table's columns:
parsing, type checks and date-time conversion happen in C, with no dict per record.  What it
refuses takes the slow path, decoded to a dict and converted value by value by
``columns.CONVERTERS``, which either accepts it (a date-time without an offset, read as UTC;
``1.0`` for an integer; a date-time for a date column; a number for a text column) or names the
property it cannot hold.  Lines holding a NUL escape also go the slow path, to remove NUL at any
depth.  Both paths build the same Struct, so a record's checksum does not depend on the path.

``_sdc_checksum`` is the sha256 of the record's canonical JSON: its schema's properties, keys
sorted at every depth, nulls left out, date-times and numbers in one spelling.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from target_postgres.columns import (
    BIGINT,
    BIGINT_RANGE,
    BOOLEAN,
    CONVERTERS,
    DATE,
    DOUBLE,
    JSONB,
    NUMERIC,
    TEXT,
    TIMESTAMPTZ,
    BadValueError,
    Column,
    without_nul,
)

DELETED_AT = "_sdc_deleted_at"
_AWARE = Annotated[datetime, msgspec.Meta(tz=True)]  # naive date-times go the slow path
PYTHON_TYPES: dict[str, Any] = {
    TIMESTAMPTZ: _AWARE,
    DATE: date,
    BIGINT: Annotated[int, msgspec.Meta(ge=BIGINT_RANGE[0], le=BIGINT_RANGE[1])],
    NUMERIC: Decimal,
    DOUBLE: float,
    BOOLEAN: bool,
    JSONB: Any,
    TEXT: str,
}
_decode_dict = msgspec.json.Decoder(dict[str, Any], float_hook=Decimal).decode
_encode_sorted = msgspec.json.Encoder(decimal_format="number", order="sorted").encode
_astuple = msgspec.structs.astuple
_sha256 = hashlib.sha256


class BadRecordError(ValueError):
    """A record its columns cannot hold; the message names the stream, record and property."""


class RecordDecoder:
    """One stream's records as ``(values, checksum)``: ``values`` are the data columns in
    ``columns`` order, then ``_sdc_deleted_at``."""

    def __init__(self, stream: str, columns: Sequence[Column], key: Sequence[str]) -> None:
        self.stream = stream
        self.key = list(key)  # record property names
        fields: list[Any] = []
        rename = {}
        #: (struct field, record property, converter, column type) for the slow path
        self.plan: list[tuple[str, str, Callable[[Any], Any], str]] = []
        for number, column in enumerate([*columns, Column(DELETED_AT, TIMESTAMPTZ, DELETED_AT)]):
            field = f"c{number}"
            rename[field] = column.source
            kind = PYTHON_TYPES[column.type]
            required = column.source in self.key
            fields.append((field, kind) if required else (field, kind | None, None))
            self.plan.append((field, column.source, CONVERTERS[column.type], column.type))
        self.struct: type[msgspec.Struct] = msgspec.defstruct(
            "Record", fields, kw_only=True, rename=rename, omit_defaults=True
        )
        self._decode = msgspec.json.Decoder(self.struct, float_hook=Decimal).decode

    def row(self, raw: bytes, may_hold_nul: bool) -> tuple[tuple[Any, ...], str]:
        if may_hold_nul:
            record = self._convert(raw, may_hold_nul=True)
        else:
            try:
                record = self._decode(raw)
            except msgspec.ValidationError:
                record = self._convert(raw, may_hold_nul=False)
        return _astuple(record), _sha256(_encode_sorted(record)).hexdigest()

    def _convert(self, raw: bytes, *, may_hold_nul: bool) -> msgspec.Struct:
        record = _decode_dict(raw)
        if may_hold_nul:
            record = without_nul(record)
        values = {}
        for field, source, convert, kind in self.plan:
            value = record.get(source)
            if value is None:
                continue
            try:
                values[field] = convert(value)
            except BadValueError as error:
                raise BadRecordError(
                    f"{self.stream}: {self._which(record)}: property {source!r} ({kind} column): "
                    f"{error}. Fix the tap's schema for this property, or the data."
                ) from None
        for source in self.key:
            if record.get(source) is None:
                raise BadRecordError(
                    f"{self.stream}: a record has no value for its key property {source!r}: "
                    f"{json.dumps(record, default=str)[:200]}"
                )
        return self.struct(**values)

    def _which(self, record: dict[str, Any]) -> str:
        key = {k: record.get(k) for k in self.key}
        return f"record {key}" if key else "a record"
