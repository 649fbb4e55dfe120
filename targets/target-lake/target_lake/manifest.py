"""The lake's manifests: ``<root>/<tap>/_manifests/<run_id>.json``, one per run, rewritten
(atomically) after each batch, and the only list of files a reader may take.

A file that no manifest lists is the leftover of a batch that was interrupted before its
manifest landed: readers ignore it, and it is safe to delete.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from target_lake.records import folder_name
from target_lake.storage import Store, StoreError

FORMAT_VERSION = 1
EXTENSIONS = {"parquet": "parquet", "jsonl": "jsonl.gz"}


class FileEntry(msgspec.Struct):
    path: str  # relative to the lake's root
    stream: str
    dt: str
    rows: int
    bytes: int
    sha256: str
    schema_hash: str


class Activation(msgspec.Struct):
    """An ACTIVATE_VERSION message, after ``sequence`` records of its batch."""

    stream: str
    version: int
    sequence: int
    schema_hash: str


class BatchEntry(msgspec.Struct):
    batch: int
    digest: str  # the batch's content: its records' checksums, versions and last STATE
    rows: int
    committed_at: str
    first_state: Any = None
    last_state: Any = None
    files: list[FileEntry] = msgspec.field(default_factory=list)
    activate_versions: list[Activation] = msgspec.field(default_factory=list)


class SchemaEntry(msgspec.Struct):
    stream: str
    schema: dict[str, Any]
    key_properties: list[str]
    bookmark_properties: list[str] | None = None


class Manifest(msgspec.Struct):
    run_id: str
    tap: str
    format: str
    partition_date_field: str | None
    created_at: str
    updated_at: str
    format_version: int = FORMAT_VERSION
    tap_version: str | None = None
    target: str = "target-lake"
    target_version: str | None = None
    complete: bool = False
    rows: int = 0
    first_state: Any = None
    last_state: Any = None
    schemas: dict[str, SchemaEntry] = msgspec.field(default_factory=dict)
    batches: list[BatchEntry] = msgspec.field(default_factory=list)

    @property
    def files(self) -> list[FileEntry]:
        return [f for b in self.batches for f in b.files]

    def recount(self) -> None:
        self.rows = sum(b.rows for b in self.batches)
        states = [b for b in self.batches if b.last_state is not None]
        firsts = [b for b in self.batches if b.first_state is not None]
        self.first_state = firsts[0].first_state if firsts else None
        self.last_state = states[-1].last_state if states else None


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Manifest).decode


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def folder(tap: str) -> str:
    return f"{folder_name(tap)}/_manifests"


def path(tap: str, run_id: str) -> str:
    return f"{folder(tap)}/{run_id}.json"


def data_path(tap: str, stream: str, dt: str, run_id: str, batch: int, fmt: str) -> str:
    return (
        f"{folder_name(tap)}/{folder_name(stream)}/dt={dt}/{run_id}-{batch:05d}.{EXTENSIONS[fmt]}"
    )


def save(store: Store, manifest: Manifest) -> None:
    store.put(path(manifest.tap, manifest.run_id), _encode(manifest))


def load(store: Store, tap: str, name: str) -> Manifest:
    where = f"{folder(tap)}/{name}"
    try:
        return _decode(store.get(where))
    except msgspec.DecodeError as error:
        raise StoreError(
            f"root: {store.url}/{where} is not a target-lake manifest: {error}"
        ) from None


def manifests(store: Store, tap: str) -> list[Manifest]:
    """Every manifest of ``tap``'s lake, oldest run first."""
    found = [load(store, tap, e.name) for e in store.list(folder(tap)) if e.name.endswith(".json")]
    return sorted(found, key=lambda m: (m.created_at, m.run_id))


def listed_files(store: Store, tap: str, stream: str | None = None) -> list[str]:
    """The files the manifests list (paths relative to the root), for readers such as DuckDB:
    ``read_parquet([root + '/' + p for p in listed_files(...)], hive_partitioning=true)``."""
    return [
        f.path
        for m in manifests(store, tap)
        for f in m.files
        if stream is None or f.stream == stream
    ]
