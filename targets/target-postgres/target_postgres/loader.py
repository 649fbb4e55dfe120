"""The target's main loop: messages in, batches committed, STATE out only after the rows it
covers are committed.

Records are converted for their columns as they arrive (a bad value fails the run before
anything of its batch is written) and kept as tuples.  A batch is every stream's buffered rows,
committed in one transaction when ``batch_size_rows`` rows or 64 MiB of input are buffered,
when the oldest buffered row is ``batch_wait_limit_seconds`` old (checked while the tap is
quiet too), before a stream's schema changes, at ACTIVATE_VERSION and at the end of input.
The newest STATE received so far is written after the batch commits, or at once when nothing
is buffered.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import psycopg
from psycopg import sql

from target_postgres.columns import (
    BIGINT,
    CONVERTERS,
    TEXT,
    TIMESTAMPTZ,
    BadValueError,
    Column,
    checksum_json,
    conform,
    type_of,
    without_nul,
)
from target_postgres.messages import (
    ActivateVersionMessage,
    BatchMessage,
    RecordMessage,
    SchemaMessage,
    StateMessage,
    batch_records,
    decode,
    lines,
)
from target_postgres.table import Counts, Table, TableError

MAX_BATCH_BYTES = 64 << 20
_instant = CONVERTERS[TIMESTAMPTZ]
#: Always written: what merging and deleting need.
CORE_METADATA = (
    ("_sdc_deleted_at", TIMESTAMPTZ),
    ("_sdc_sequence", BIGINT),
    ("_sdc_table_version", BIGINT),
    ("_sdc_checksum", TEXT),
)
#: With ``add_record_metadata`` (MeltanoLabs' names and meanings).
RECORD_METADATA = (
    ("_sdc_extracted_at", TIMESTAMPTZ),
    ("_sdc_received_at", TIMESTAMPTZ),
    ("_sdc_batched_at", TIMESTAMPTZ),
    ("_sdc_sync_started_at", BIGINT),
)


class LoadError(Exception):
    """Stops the run: the message names the stream, record or setting, and what to do."""


@dataclass(frozen=True)
class Options:
    schema: str
    load_method: str = "upsert"
    hard_delete: bool = False
    batch_size_rows: int = 50_000
    batch_wait_limit_seconds: float = 30.0
    add_record_metadata: bool = True
    activate_version: bool = True


@dataclass
class Stream:
    name: str
    table: Table
    schema_message: SchemaMessage
    #: (record property, converter) per data column, in the table's column order.
    plan: list[tuple[str, Callable[[Any], Any]]]
    key_positions: list[int] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    versions: set[int] = field(default_factory=set)
    activated: set[int] = field(default_factory=set)
    truncated: bool = False
    unknown_warned: bool = False


class Loader:
    def __init__(
        self,
        connection: psycopg.Connection[Any],
        options: Options,
        logger: logging.Logger,
        out: IO[str] | None = None,
    ) -> None:
        self.connection = connection
        self.options = options
        self.logger = logger
        self.out = out or sys.stdout
        self.streams: dict[str, Stream] = {}
        self.pending_state: Any = None
        self.buffered_rows = 0
        self.buffered_bytes = 0
        self.oldest: float | None = None  # monotonic time of the oldest buffered row
        self.sequence = time.time_ns() // 1000  # microseconds: increasing across runs
        self.sync_started_at = int(time.time() * 1000)
        self.totals: dict[str, Counts] = {}
        self.received: datetime | None = None
        self.received_count = 0

    # -- the loop ------------------------------------------------------------------------------

    def run(self, source: IO[Any]) -> None:
        wait = max(0.05, min(self.options.batch_wait_limit_seconds, 5.0))
        number = 0
        for line in lines(source, wait):
            if line is not None:
                number += 1
                if line.strip():
                    self.buffered_bytes += len(line)
                    self.handle(decode(line, number), b"\\u0000" in line)
            if self.oldest is not None and (
                time.monotonic() - self.oldest >= self.options.batch_wait_limit_seconds
            ):
                self.flush("batch_wait_limit_seconds reached")
        self.flush("end of input")
        for name, counts in self.totals.items():
            self.logger.info(
                "%s: %d rows staged, %d inserted, %d updated, %d unchanged, %d deleted in this run",
                name,
                counts.staged,
                counts.inserted,
                counts.updated,
                counts.unchanged,
                counts.deleted,
            )

    def handle(self, message: Any, may_hold_nul: bool) -> None:
        if isinstance(message, RecordMessage):
            stream = self._stream(message.stream, "RECORD")
            record = without_nul(message.record) if may_hold_nul else message.record
            self._buffer(stream, record, message.version, message.time_extracted)
        elif isinstance(message, StateMessage):
            self.pending_state = message.value
            if self.buffered_rows == 0:
                self._write_state()
        elif isinstance(message, SchemaMessage):
            self._schema(message)
        elif isinstance(message, ActivateVersionMessage):
            self._activate_version(message)
        elif isinstance(message, BatchMessage):
            stream = self._stream(message.stream, "BATCH")
            for record in batch_records(message):
                self._buffer(stream, without_nul(record), None, None)

    # -- messages ------------------------------------------------------------------------------

    def _stream(self, name: str, kind: str) -> Stream:
        stream = self.streams.get(name)
        if stream is None:
            raise LoadError(
                f"{kind} for stream {name!r} before its SCHEMA message: the tap must send a "
                "stream's SCHEMA first"
            )
        return stream

    def _schema(self, message: SchemaMessage) -> None:
        known = self.streams.get(message.stream)
        if known is not None and known.schema_message == message:
            return  # taps repeat schemas
        if known is not None and known.rows:
            self.flush(f"{message.stream}: schema changed")
        properties: dict[str, Any] = message.schema.get("properties") or {}
        metadata = CORE_METADATA + (RECORD_METADATA if self.options.add_record_metadata else ())
        reserved = {name for name, _ in metadata}
        data = [
            Column(conform(name), type_of(spec), name)
            for name, spec in properties.items()
            if conform(name) not in reserved
        ]
        names = [c.name for c in data]
        if len(set(names)) != len(names):
            clash = sorted({n for n in names if names.count(n) > 1})
            raise LoadError(f"{message.stream}: properties map to the same column: {clash}")
        key = tuple(conform(k) for k in message.key_properties)
        if missing := [k for k in key if k not in names]:
            raise LoadError(
                f"{message.stream}: key_properties {missing} are not properties of its schema"
            )
        table = Table(
            self.options.schema,
            conform(message.stream),
            () if self.options.load_method == "append-only" else key,  # rows repeat keys
            data + [Column(name, kind, name) for name, kind in metadata],
        )
        try:
            with self.connection.transaction():
                changes = table.prepare(self.connection)
        except TableError as error:
            raise LoadError(f"{message.stream}: {error}") from None
        for change in changes:
            self.logger.info("%s: %s", message.stream, change)
        by_name = {c.name: c for c in table.columns}
        plan = [(c.source, by_name[c.name].convert) for c in data]
        positions = [[c.name for c in data].index(k) for k in key]
        stream = Stream(message.stream, table, message, plan, positions)
        if known is not None:
            stream.versions, stream.activated = known.versions, known.activated
            stream.truncated = known.truncated
        self.streams[message.stream] = stream

    def _buffer(
        self,
        stream: Stream,
        record: dict[str, Any],
        version: int | None,
        extracted: str | None,
    ) -> None:
        values: list[Any] = []
        source = ""
        try:
            for source, convert in stream.plan:
                value = record.get(source)
                values.append(None if value is None else convert(value))
            source = "_sdc_deleted_at"
            deleted = record.get(source)
            values.append(None if deleted is None else _instant(deleted))
            source = "time_extracted"
            extracted_at = _instant(extracted) if extracted else None
        except BadValueError as error:
            raise LoadError(self._describe(stream, record, source, error)) from None
        for position in stream.key_positions:
            if values[position] is None:
                raise LoadError(
                    f"{stream.name}: a record has no value for its key property "
                    f"{stream.plan[position][0]!r}: {json.dumps(record, default=str)[:200]}"
                )
        self.sequence += 1
        values += [self.sequence, version, hashlib.sha256(checksum_json(record)).hexdigest()]
        if self.options.add_record_metadata:
            # _sdc_batched_at stays empty until the batch is merged
            values += [extracted_at, self._received_at(), None, self.sync_started_at]
        stream.rows.append(tuple(values))
        if version is not None:
            stream.versions.add(version)
        self.buffered_rows += 1
        if self.oldest is None:
            self.oldest = time.monotonic()
        if (
            self.buffered_rows >= self.options.batch_size_rows
            or self.buffered_bytes >= MAX_BATCH_BYTES
        ):
            self.flush("batch full")

    def _received_at(self) -> datetime:
        """The time a record came in, read from the clock once per 1,000 records."""
        self.received_count += 1
        if self.received is None or self.received_count % 1_000 == 0:
            self.received = datetime.now(UTC)
        return self.received

    def _describe(
        self, stream: Stream, record: dict[str, Any], source: str, error: Exception
    ) -> str:
        key = {k: record.get(k) for k in stream.schema_message.key_properties}
        where = f"record {key}" if key else "a record"
        return (
            f"{stream.name}: {where}: property {source!r} ({_column_type(stream, source)} column): "
            f"{error}. Fix the tap's schema for this property, or the data."
        )

    def _activate_version(self, message: ActivateVersionMessage) -> None:
        stream = self._stream(message.stream, "ACTIVATE_VERSION")
        if not self.options.activate_version:
            return
        # The version is complete once its records are in: a tap announces a version before
        # its first record and again after its last; rows are retired only then.
        complete = message.version in stream.versions or message.version in stream.activated
        stream.activated.add(message.version)
        if not complete:
            return
        self.flush(f"{stream.name}: ACTIVATE_VERSION")
        with self.connection.transaction():
            retired = stream.table.retire_versions_before(
                self.connection, message.version, hard_delete=self.options.hard_delete
            )
        self.totals.setdefault(stream.name, Counts()).deleted += retired
        self.logger.info(
            "%s: version %d complete; %d rows of older versions %s",
            stream.name,
            message.version,
            retired,
            "deleted" if self.options.hard_delete else "marked _sdc_deleted_at",
        )

    # -- batches -------------------------------------------------------------------------------

    def flush(self, reason: str) -> None:
        dirty = [s for s in self.streams.values() if s.rows]
        if dirty:
            started = time.monotonic()
            batched_at = datetime.now(UTC)
            results: list[tuple[Stream, Counts]] = []
            with self.connection.transaction():
                for stream in dirty:
                    if self.options.load_method == "overwrite" and not stream.truncated:
                        self.connection.execute(sql.SQL("TRUNCATE {}").format(stream.table.ident))
                        stream.truncated = True
                    counts = stream.table.load(
                        self.connection,
                        stream.rows,
                        upsert=self.options.load_method != "append-only",
                        batched_at=batched_at,
                        hard_delete=self.options.hard_delete,
                    )
                    results.append((stream, counts))
            seconds = time.monotonic() - started
            for stream, counts in results:
                self.logger.info(
                    "%s: batch committed (%s): %d rows staged, %d inserted, %d updated, "
                    "%d unchanged, %d deleted in %.2f s",
                    stream.name,
                    reason,
                    counts.staged,
                    counts.inserted,
                    counts.updated,
                    counts.unchanged,
                    counts.deleted,
                    seconds,
                )
                total = self.totals.setdefault(stream.name, Counts())
                total.staged += counts.staged
                total.inserted += counts.inserted
                total.updated += counts.updated
                total.deleted += counts.deleted
                stream.rows = []
        self.buffered_rows = self.buffered_bytes = 0
        self.oldest = None
        if self.pending_state is not None:
            self._write_state()

    def _write_state(self) -> None:
        self.out.write(json.dumps(self.pending_state, separators=(",", ":")) + "\n")
        self.out.flush()
        self.pending_state = None


def _column_type(stream: Stream, source: str) -> str:
    return next((c.type for c in stream.table.columns if c.source == source), "?")
