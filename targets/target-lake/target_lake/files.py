"""A stream's rows of one batch as lake files (Parquet or JSON Lines gzip), one per ``dt``
partition, and those files read back as records.

Rows arrive as tuples (``loader``): for Parquet ``(*values, extra, checksum, extracted,
sequence, version)`` with JSON columns already JSON text, for JSONL ``(record JSON as the tap
wrote it, checksum, extracted, sequence, version, partition field's value)``: a JSONL line is
the provenance properties followed by the record's own bytes.  Columns
are built by pyarrow from the transposed tuples; a value its column cannot hold (``"abc"`` for
an integer, ``1.5`` for an integer, an integer beyond float64's exact range for a number) is
moved, under its property name, into ``_sdc_extra_properties`` (JSON), next to the properties
the schema does not declare: nothing the tap sent is lost or altered, and the typed columns
stay clean.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from target_lake.records import BOOLEAN, EXTRA, INTEGER, JSON, NUMBER, STRING, StreamSchema

JSON_TYPE = pa.json_(pa.string())
TIMESTAMP = pa.timestamp("us", tz="UTC")
ARROW_TYPES = {
    INTEGER: pa.int64(),
    NUMBER: pa.float64(),
    BOOLEAN: pa.bool_(),
    STRING: pa.string(),
    JSON: JSON_TYPE,
}
_INT64 = (-(2**63), 2**63 - 1)
_EXACT_FLOAT = 2**53
ACCEPTS: dict[str, Callable[[Any], bool]] = {
    INTEGER: lambda v: type(v) is int and _INT64[0] <= v <= _INT64[1],
    NUMBER: lambda v: type(v) is float or (type(v) is int and abs(v) <= _EXACT_FLOAT),
    BOOLEAN: lambda v: type(v) is bool,
    STRING: lambda v: type(v) is str,
}
#: gzip level for JSONL: level 1 compresses Singer records about as well as 6 (a few %
#: larger, measured on Klaviyo events) at several times the speed.
GZIP_LEVEL = 1

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


@dataclass
class LakeFile:
    dt: str
    path: str
    data: bytes | pa.Buffer
    rows: int


@dataclass
class Batch:
    """What one stream's files need besides its rows."""

    schema: StreamSchema
    run_id: str
    partition_date_field: str | None
    received_at: datetime  # the day of records the tap sent without time_extracted
    path_of: Callable[[str], str]  # dt -> path relative to the root


# -- writing ---------------------------------------------------------------------------------


def encode(fmt: str, batch: Batch, rows: Sequence[tuple[Any, ...]]) -> list[LakeFile]:
    return _parquet(batch, rows) if fmt == "parquet" else _jsonl(batch, rows)


def _parquet(batch: Batch, rows: Sequence[tuple[Any, ...]]) -> list[LakeFile]:
    schema = batch.schema
    columns = list(zip(*rows, strict=True))
    width = len(schema.names)
    extras = list(columns[width])
    arrays = [
        _array(kind, columns[i], extras, name)
        for i, (name, kind) in enumerate(zip(schema.names, schema.kinds, strict=True))
    ]
    extracted = pa.array(columns[width + 2], TIMESTAMP)
    table = pa.table(
        [
            *arrays,
            _json_array(extras),
            extracted,
            pa.array(columns[width + 1], pa.string()),
            pa.array(columns[width + 3], pa.int64()),
            pa.array(columns[width + 4], pa.int64()),
        ],
        names=[
            *schema.names,
            EXTRA,
            "_sdc_extracted_at",
            "_sdc_checksum",
            "_sdc_sequence",
            "_sdc_table_version",
        ],
    )
    field = batch.partition_date_field
    if field in schema.keyset:
        values = columns[schema.names.index(field)]
        days = _days(values, extracted, batch.received_at)
    else:
        days = _days(None, extracted, batch.received_at)
    files = []
    for day, part in _split(table, days):
        path = batch.path_of(day)
        n = part.num_rows
        part = part.add_column(0, "_sdc_run_id", pa.repeat(batch.run_id, n))
        part = part.add_column(3, "_sdc_source_file", pa.repeat(path, n))
        part = part.select(_column_order(schema))
        meta = {"target_lake": _encode({"stream": schema.stream, "schema_hash": schema.hash})}
        sink = pa.BufferOutputStream()
        pq.write_table(part.replace_schema_metadata(meta), sink, compression="zstd")
        files.append(LakeFile(day, path, sink.getvalue(), n))
    return files


def _column_order(schema: StreamSchema) -> list[str]:
    return [
        *schema.names,
        EXTRA,
        "_sdc_run_id",
        "_sdc_extracted_at",
        "_sdc_source_file",
        "_sdc_checksum",
        "_sdc_sequence",
        "_sdc_table_version",
    ]


def _array(kind: str, values: Sequence[Any], extras: list[Any], name: str) -> pa.Array:
    wanted = ARROW_TYPES[kind]
    if kind == JSON:
        return pa.ExtensionArray.from_storage(JSON_TYPE, pa.array(values, pa.string()))
    try:
        if kind in (STRING, BOOLEAN):  # pyarrow refuses any other type for these
            return pa.array(values, wanted)
        # numbers: inferred first, as pyarrow would truncate 1.5 into an int64
        found = pa.array(values)
        if found.type == wanted:
            return found
        if found.type == pa.null() or (kind == NUMBER and found.type == pa.int64()):
            return found.cast(wanted)  # a safe cast: refuses ints float64 cannot hold
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    accepts = ACCEPTS[kind]
    kept = list(values)
    for row, value in enumerate(values):
        if value is not None and not accepts(value):
            kept[row] = None
            extras[row] = {**(extras[row] or {}), name: value}
    return pa.array(kept, wanted)


def _json_array(values: Sequence[Any]) -> pa.Array:
    texts = [None if v is None else _encode(v) for v in values]
    return pa.ExtensionArray.from_storage(JSON_TYPE, pa.array(texts, pa.string()))


def _days(values: Sequence[Any] | None, extracted: pa.Array, received: datetime) -> pa.Array:
    """The UTC day of each row (date32): of its ``values`` (date-time or date strings) where
    they have one, else of its extraction (or reception) time."""
    fallback = extracted.fill_null(pa.scalar(received, TIMESTAMP)).cast(pa.date32())
    if values is None:
        return fallback
    try:
        moments = pa.array(values, pa.string()).cast(TIMESTAMP)
        return pc.fill_null(moments.cast(pa.date32()), fallback)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        days = [_day(v) for v in values]  # naive or date-only values, or some not dates
        return pc.fill_null(pa.array(days, pa.date32()), fallback)


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UTC).date()


def _split(table: pa.Table, days: pa.Array) -> Iterator[tuple[str, pa.Table]]:
    """``table``'s rows by day, each day's in their order (a stable sort, then slices)."""
    distinct = pc.unique(days)
    if len(distinct) == 1:
        yield distinct[0].as_py().isoformat(), table
        return
    order = pc.sort_indices(days)
    table, days = table.take(order), days.take(order)
    runs = pc.run_end_encode(days)
    start = 0
    for end, day in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
        yield day.isoformat(), table.slice(start, end - start)
        start = end


def _jsonl(batch: Batch, rows: Sequence[tuple[Any, ...]]) -> list[LakeFile]:
    extracted = pa.array([r[2] for r in rows], TIMESTAMP)
    values = [r[5] for r in rows] if batch.partition_date_field in batch.schema.keyset else None
    days = _days(values, extracted, batch.received_at).to_pylist()
    grouped: dict[date, list[tuple[Any, ...]]] = {}
    for day, row in zip(days, rows, strict=True):
        grouped.setdefault(day, []).append(row)
    groups = {day.isoformat(): part for day, part in grouped.items()}
    files = []
    for day in sorted(groups):
        path = batch.path_of(day)
        lines = []
        for raw, digest, extracted_at, sequence, version, _ in groups[day]:
            provenance = _encode(
                {
                    "_sdc_run_id": batch.run_id,
                    "_sdc_extracted_at": extracted_at,
                    "_sdc_source_file": path,
                    "_sdc_checksum": digest,
                    "_sdc_sequence": sequence,
                    "_sdc_table_version": version,
                }
            )
            body = bytes(raw).strip()
            lines.append(provenance[:-1] + (b"}" if body == b"{}" else b"," + body[1:]))
        text = b"\n".join(lines) + b"\n"
        files.append(LakeFile(day, path, gzip.compress(text, GZIP_LEVEL, mtime=0), len(lines)))
    return files


# -- reading ---------------------------------------------------------------------------------

#: (sequence, record, time_extracted, version)
Row = tuple[int, dict[str, Any], str | None, int | None]
_JSONL_ONLY = ("_sdc_run_id", "_sdc_source_file", "_sdc_checksum")


def records(fmt: str, data: bytes, schema: StreamSchema) -> Iterator[Row]:
    """A lake file's records as the tap sent them (Parquet: without top-level nulls, which
    Parquet cannot tell from absent properties), in the order they came."""
    if fmt == "parquet":
        yield from _parquet_rows(data, schema)
        return
    for line in gzip.decompress(data).splitlines():
        record = _decode(line)
        sequence = record.pop("_sdc_sequence")
        version = record.pop("_sdc_table_version")
        extracted = record.pop("_sdc_extracted_at")
        for name in _JSONL_ONLY:
            record.pop(name, None)
        yield sequence, record, extracted, version


def _parquet_rows(data: bytes, schema: StreamSchema) -> Iterator[Row]:
    table = pq.read_table(pa.BufferReader(data))
    names = schema.names
    json_columns = [i for i, kind in enumerate(schema.kinds) if kind == JSON]
    for chunk in table.to_batches(max_chunksize=4096):
        columns = [_python(chunk.column(name)) for name in names]
        for i in json_columns:
            columns[i] = [None if v is None else _decode(v) for v in columns[i]]
        extras = [None if v is None else _decode(v) for v in _python(chunk.column(EXTRA))]
        extracted = pc.strftime(chunk.column("_sdc_extracted_at"), "%Y-%m-%dT%H:%M:%SZ")
        order = zip(
            chunk.column("_sdc_sequence").to_pylist(),
            extracted.to_pylist(),
            chunk.column("_sdc_table_version").to_pylist(),
            extras,
            strict=True,
        )
        rows = zip(*columns, strict=True) if columns else [()] * chunk.num_rows
        for values, (sequence, extracted_at, version, extra) in zip(rows, order, strict=True):
            record = {n: v for n, v in zip(names, values, strict=True) if v is not None}
            if extra:
                record.update(extra)
            yield sequence, record, extracted_at, version


def _python(column: pa.Array) -> list[Any]:
    if isinstance(column.type, pa.ExtensionType):
        column = column.storage
    return column.to_pylist()
