"""The target's main loop: messages in, batches handed to the writer thread, STATE out only
after the rows it covers are committed.

Records are converted for their columns as they arrive (``records``: a bad value fails the run
before anything of its batch is written) and kept as row tuples.  A batch is every stream's
buffered rows, committed in one transaction (``writer``) when ``batch_size_rows`` rows or 64 MiB
of input are buffered, when the oldest buffered row is ``batch_wait_limit_seconds`` old (checked
while the tap is quiet too), before a stream's schema changes, at ACTIVATE_VERSION and at the
end of input.  The newest STATE received is forwarded after the batch holding the records
before it commits, or at once when no row is buffered or in flight.

Garbage collection is paused while loading: the buffers hold hundreds of thousands of
containers that the collector would otherwise scan over and over (measured: 2-3x slower), and
the loop makes no reference cycles.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import psycopg

from target_postgres.columns import (
    BIGINT,
    TEXT,
    TIMESTAMPTZ,
    Column,
    conform,
    type_of,
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
from target_postgres.records import BadRecordError, RecordDecoder
from target_postgres.table import Table, TableError
from target_postgres.writer import LoadSettings, Retirement, StreamBatch, Work, Writer

MAX_BATCH_BYTES = 64 << 20
#: Always written: what merging and deleting need (``_sdc_deleted_at`` comes with the record).
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
    batch_size_rows: int = 20_000
    batch_wait_limit_seconds: float = 30.0
    add_record_metadata: bool = True
    activate_version: bool = True


@dataclass
class Stream:
    name: str
    table: Table
    schema_message: SchemaMessage
    decoder: RecordDecoder
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    versions: set[int] = field(default_factory=set)
    activated: set[int] = field(default_factory=set)
    announced: int | None = None  # announced once, complete at the end of input
    truncated: bool = False


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
        self.received: datetime | None = None
        self.received_count = 0
        self.retirements: list[Retirement] = []
        self.writer = Writer(
            connection,
            LoadSettings(
                upsert=options.load_method != "append-only", hard_delete=options.hard_delete
            ),
            logger,
            self.out,
        )

    # -- the loop ------------------------------------------------------------------------------

    def run(self, source: IO[Any]) -> None:
        writer = self.writer
        writer.start()
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._loop(source)
        except BaseException:
            writer.close(failed=True)
            raise
        finally:
            if collecting:
                gc.enable()
        writer.close()
        for name, counts in writer.totals.items():
            self.logger.info(
                "%s: %d rows staged, %d inserted, %d updated, %d unchanged, %d deleted in this run",
                name,
                counts.staged,
                counts.inserted,
                counts.updated,
                counts.unchanged,
                counts.deleted,
            )

    def _loop(self, source: IO[Any]) -> None:
        wait = max(0.05, min(self.options.batch_wait_limit_seconds, 5.0))
        number = 0
        streams = self.streams
        for line in lines(source, wait):
            if line is not None:
                number += 1
                if line and not line.isspace():  # (strip would copy every line)
                    self.buffered_bytes += len(line)
                    message = decode(line, number)
                    if type(message) is RecordMessage and message.stream in streams:  # hot path
                        self._buffer(
                            streams[message.stream],
                            message.record,
                            b"\\u0000" in line,
                            message.version,
                            message.time_extracted,
                        )
                    else:
                        self.handle(message, b"\\u0000" in line)
            if self.oldest is not None and (
                time.monotonic() - self.oldest >= self.options.batch_wait_limit_seconds
            ):
                self.flush("batch_wait_limit_seconds reached")
        for stream in self.streams.values():
            if stream.announced is not None:
                self.retirements.append(Retirement(stream.name, stream.table, stream.announced))
                stream.announced = None
        self.flush("end of input")

    def handle(self, message: Any, may_hold_nul: bool) -> None:
        if isinstance(message, RecordMessage):
            stream = self._stream(message.stream, "RECORD")
            self._buffer(
                stream, message.record, may_hold_nul, message.version, message.time_extracted
            )
        elif isinstance(message, StateMessage):
            if self.buffered_rows:
                self.pending_state = message.value
            else:
                self.writer.state(message.value)
        elif isinstance(message, SchemaMessage):
            self._schema(message)
        elif isinstance(message, ActivateVersionMessage):
            self._activate_version(message)
        elif isinstance(message, BatchMessage):
            stream = self._stream(message.stream, "BATCH")
            for line in batch_records(message):
                self._buffer(stream, line, b"\\u0000" in line, None, None)

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
        self.writer.drain()  # the connection is ours until the next batch is handed over
        try:
            with self.connection.transaction():
                changes = table.prepare(self.connection)
        except TableError as error:
            raise LoadError(f"{message.stream}: {error}") from None
        for change in changes:
            self.logger.info("%s: %s", message.stream, change)
        by_name = {c.name: c for c in table.columns}
        decoder = RecordDecoder(
            message.stream,
            [Column(c.name, by_name[c.name].type, c.source) for c in data],
            message.key_properties,
        )
        stream = Stream(message.stream, table, message, decoder)
        if known is not None:
            stream.versions, stream.activated = known.versions, known.activated
            stream.truncated = known.truncated
        self.streams[message.stream] = stream

    def _buffer(
        self,
        stream: Stream,
        raw: bytes,
        may_hold_nul: bool,
        version: int | None,
        extracted: datetime | None,
    ) -> None:
        try:
            values, checksum = stream.decoder.row(raw, may_hold_nul)
        except BadRecordError as error:
            raise LoadError(str(error)) from None
        self.sequence += 1
        row = (*values, self.sequence, version, checksum)
        if self.options.add_record_metadata:
            # _sdc_batched_at: Postgres's, at commit (table.row_columns)
            if extracted is not None and extracted.tzinfo is None:
                extracted = extracted.replace(tzinfo=UTC)  # as Singer means it
            row += (extracted, self._received_at(), self.sync_started_at)
        stream.rows.append(row)
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

    def _activate_version(self, message: ActivateVersionMessage) -> None:
        stream = self._stream(message.stream, "ACTIVATE_VERSION")
        if not self.options.activate_version:
            return
        # Older rows are retired once the version's records are all in, in the transaction
        # that commits the last of them. Some taps announce a version before its first record
        # and again after its last: complete at the second. singer-sdk taps announce it only
        # before: complete when the input ends (the tap finished; Meltano kills the target
        # instead when a tap fails).
        complete = message.version in stream.versions or message.version in stream.activated
        stream.activated.add(message.version)
        if complete:
            stream.announced = None
            self.retirements.append(Retirement(stream.name, stream.table, message.version))
            self.flush(f"{stream.name}: ACTIVATE_VERSION")
        else:
            stream.announced = message.version

    # -- batches -------------------------------------------------------------------------------

    def flush(self, reason: str) -> None:
        """Hand every buffered row (and pending retirements) to the writer as one batch."""
        work = Work(reason, retirements=self.retirements, state=self.pending_state)
        for stream in self.streams.values():
            if stream.rows:
                overwrite = self.options.load_method == "overwrite" and not stream.truncated
                work.loads.append(StreamBatch(stream.name, stream.table, stream.rows, overwrite))
                stream.truncated = stream.truncated or overwrite
                stream.rows = []
        if work.loads or work.retirements:
            self.writer.submit(work)
        elif work.state is not None:
            self.writer.state(work.state)
        self.retirements = []
        self.pending_state = None
        self.buffered_rows = self.buffered_bytes = 0
        self.oldest = None
