"""A stream's schema as lake columns, and the record checksum.

Column kinds, from each property's JSON Schema: ``integer`` (int64), ``number`` (float64),
``boolean``, ``string`` (every string, date-times included: the lake keeps the text the tap
wrote), and ``json`` for objects, arrays, properties of several types or of no type: JSON text
(Parquet's JSON type), so a nested value comes back exactly as it went in, with no key added.

``_sdc_checksum`` is the sha256 of the record's canonical JSON: the record as the tap sent it,
every property (declared or not) except those whose value is null, keys sorted at every depth,
no whitespace, numbers as msgspec writes them.  It is defined here rather than imported from
target-postgres (whose checksum covers the values as its columns hold them), so this package
depends on no loader; the replay tap's records hash to the same value.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

INTEGER, NUMBER, BOOLEAN, STRING, JSON = "integer", "number", "boolean", "string", "json"

#: What every row carries besides the record (the first four are its provenance; sequence and
#: table version let the replay tap send the records in their order, with their version).
PROVENANCE = ("_sdc_run_id", "_sdc_extracted_at", "_sdc_source_file", "_sdc_checksum")
ORDER = ("_sdc_sequence", "_sdc_table_version")
#: Parquet only: properties the schema does not declare, and values their column cannot hold.
EXTRA = "_sdc_extra_properties"
RESERVED = frozenset((*PROVENANCE, *ORDER, EXTRA))

encode_sorted = msgspec.json.Encoder(order="sorted").encode
_sha256 = hashlib.sha256


def canonical(record: dict[str, Any]) -> bytes:
    if None in record.values():
        record = {k: v for k, v in record.items() if v is not None}
    return encode_sorted(record)


def checksum(record: dict[str, Any]) -> str:
    return _sha256(canonical(record)).hexdigest()


def schema_hash(schema: dict[str, Any], key_properties: list[str]) -> str:
    document = {"schema": schema, "key_properties": key_properties}
    return _sha256(encode_sorted(document)).hexdigest()[:16]


def kind_of(schema: Any) -> str:
    if not isinstance(schema, dict):
        return JSON
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        kinds = {kind_of(o) for o in options if not _is_null(o)}
        return kinds.pop() if len(kinds) == 1 else JSON
    declared = schema.get("type")
    kinds_listed = [declared] if isinstance(declared, str) else list(declared or [])
    kinds = {k for k in kinds_listed if k != "null"}
    if kinds == {"integer", "number"}:
        return NUMBER
    if len(kinds) != 1:
        return JSON
    return {"integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN, "string": STRING}.get(
        kinds.pop(), JSON
    )


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") in ("null", ["null"])


def folder_name(name: str) -> str:
    """A stream or tap name as one path segment."""
    return re.sub(r"[^A-Za-z0-9_.=-]", "_", name).lstrip(".") or "_"


class SchemaError(ValueError):
    pass


@dataclass
class StreamSchema:
    """One stream's SCHEMA message, and what the target needs from it on the hot path."""

    stream: str
    schema: dict[str, Any]
    key_properties: list[str]
    bookmark_properties: list[str] | None = None
    hash: str = ""
    names: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    keyset: frozenset[str] = field(default_factory=frozenset)
    json_columns: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        properties = self.schema.get("properties") or {}
        if not isinstance(properties, dict):
            raise SchemaError(f"{self.stream}: the schema's properties are not an object")
        if clash := sorted(RESERVED & set(properties)):
            raise SchemaError(
                f"{self.stream}: properties {clash} have the names of columns target-lake "
                "adds; rename them in the tap (or with a mapper)"
            )
        self.hash = schema_hash(self.schema, self.key_properties)
        self.names = tuple(properties)
        self.kinds = tuple(kind_of(properties[n]) for n in self.names)
        self.keyset = frozenset(self.names)
        self.json_columns = tuple(i for i, k in enumerate(self.kinds) if k == JSON)

    def same(self, other: StreamSchema) -> bool:
        return self.hash == other.hash
