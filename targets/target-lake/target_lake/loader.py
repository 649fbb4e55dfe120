"""The target's main loop: Singer messages in, batches of rows handed to the writer thread.

Batch boundaries depend on the input only, never on the clock, so that a rerun cuts the same
batches and the writer can recognise those already in the lake: a batch ends at the first
STATE once ``batch_size_rows`` rows (or 128 MiB of input) are buffered, after four times that
without any STATE, before a stream's schema changes, and at the end of input.  A STATE belongs
to the batch it arrives in and is forwarded once that batch is durable.

Per record, on the reading thread: one msgspec decode, the checksum (canonical JSON, sha256),
and a row tuple; columns, partitions and files are built on the writer thread.  Garbage
collection is paused while loading, as in target-postgres: the buffers hold many containers
that the collector would otherwise scan over and over, and the loop makes no cycles.
"""

from __future__ import annotations

import gc
import hashlib
import logging
from datetime import UTC, datetime
from typing import IO, Any

import msgspec

from target_lake.manifest import Activation
from target_lake.messages import (
    ActivateVersionMessage,
    BatchMessage,
    RecordMessage,
    SchemaMessage,
    StateMessage,
    decode,
    lines,
    record_of,
)
from target_lake.records import RESERVED, SchemaError, StreamSchema, encode_sorted
from target_lake.writer import Options, PendingBatch, Writer

MAX_BATCH_BYTES = 128 << 20
HARD_FACTOR = 4  # without a STATE, a batch ends at this many times its limits
_sha256 = hashlib.sha256
_encode = msgspec.json.Encoder().encode


class LoadError(Exception):
    """Stops the run: the message names the stream, record or setting."""


class Loader:
    def __init__(self, writer: Writer, options: Options, logger: logging.Logger) -> None:
        self.writer = writer
        self.options = options
        self.logger = logger
        self.parquet = options.format == "parquet"
        self.schemas: dict[str, StreamSchema] = {}
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self._reset()

    def _reset(self) -> None:
        self.rows = {name: [] for name in self.schemas}
        self.batch = PendingBatch({}, datetime.now(UTC))
        self.sequence = 0
        self.buffered_bytes = 0

    def run(self, source: IO[Any]) -> None:
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._loop(source)
            self.close_batch()
        except BaseException:
            self.writer.close(failed=True)
            raise
        finally:
            if collecting:
                gc.enable()
        self.writer.close()

    def _loop(self, source: IO[Any]) -> None:
        soft_rows = self.options.batch_size_rows
        hard_rows, hard_bytes = soft_rows * HARD_FACTOR, MAX_BATCH_BYTES * HARD_FACTOR
        schemas, parquet = self.schemas, self.parquet
        partition_field = self.options.partition_date_field
        encode = _encode
        for number, line in enumerate(lines(source), start=1):
            if not line or line.isspace():
                continue
            self.buffered_bytes += len(line)
            message = decode(line, number)
            if type(message) is RecordMessage:  # the hot path
                schema = schemas.get(message.stream)
                if schema is None:
                    raise LoadError(
                        f"RECORD for stream {message.stream!r} before its SCHEMA message (input "
                        f"line {number}): the tap must send a stream's SCHEMA first"
                    )
                record = record_of(message, number)
                compact = (
                    {k: v for k, v in record.items() if v is not None}
                    if None in record.values()
                    else record
                )
                digest = _sha256(encode_sorted(compact)).hexdigest()
                extra = None
                if not record.keys() <= schema.keyset:
                    extra = {k: v for k, v in compact.items() if k not in schema.keyset} or None
                    if clash := sorted(RESERVED & record.keys()):
                        raise LoadError(
                            f"{message.stream}: a record (input line {number}) has properties "
                            f"{clash}, names of columns target-lake adds; rename them in the tap"
                        )
                sequence = self.sequence
                self.sequence = sequence + 1
                if parquet:
                    values = list(map(record.get, schema.names))
                    for i in schema.json_columns:  # as JSON now: far smaller than the objects
                        if values[i] is not None:
                            values[i] = encode(values[i])
                    row = (
                        *values,
                        extra,
                        digest,
                        message.time_extracted,
                        sequence,
                        message.version,
                    )
                else:
                    row = (
                        message.record,
                        digest,
                        message.time_extracted,
                        sequence,
                        message.version,
                        record.get(partition_field) if partition_field else None,
                    )
                self.rows[message.stream].append(row)
                if self.sequence >= hard_rows or self.buffered_bytes >= hard_bytes:
                    self.close_batch()
            elif isinstance(message, StateMessage):
                batch = self.batch
                if batch.first_state is None:
                    batch.first_state = message.value
                batch.last_state = message.value
                if self.sequence >= soft_rows or self.buffered_bytes >= MAX_BATCH_BYTES:
                    self.close_batch()
            elif isinstance(message, SchemaMessage):
                self._schema(message)
            elif isinstance(message, ActivateVersionMessage):
                schema = self._known(message.stream, "ACTIVATE_VERSION", number)
                self.batch.activations.append(
                    Activation(message.stream, message.version, self.sequence, schema.hash)
                )
            elif isinstance(message, BatchMessage):
                raise LoadError(
                    f"{message.stream}: BATCH messages are not supported (input line {number}); "
                    "turn off the tap's batch_config"
                )

    def _known(self, stream: str, kind: str, number: int) -> StreamSchema:
        schema = self.schemas.get(stream)
        if schema is None:
            raise LoadError(
                f"{kind} for stream {stream!r} before its SCHEMA message (input line {number})"
            )
        return schema

    def _schema(self, message: SchemaMessage) -> None:
        try:
            schema = StreamSchema(
                message.stream,
                message.schema,
                message.key_properties,
                message.bookmark_properties,
            )
        except SchemaError as error:
            raise LoadError(str(error)) from None
        known = self.schemas.get(message.stream)
        if known is not None and known.same(schema):
            return  # taps repeat schemas
        if known is not None and self.rows[message.stream]:
            self.close_batch()  # a file holds one schema
        self.schemas[message.stream] = schema
        self.rows.setdefault(message.stream, [])

    def close_batch(self) -> None:
        batch = self.batch
        for name, rows in self.rows.items():
            if rows:
                batch.streams[name] = (self.schemas[name], rows)
                batch.rows += len(rows)
        if batch.rows or batch.last_state is not None or batch.activations:
            self.writer.submit(batch)
        self._reset()
