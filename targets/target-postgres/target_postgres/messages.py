"""Singer messages: lines read in large chunks (with a bounded wait, so buffered rows can be
committed while a tap is quiet), decoded by msgspec straight into typed structs.  JSON
decimals become ``Decimal``: a ``numeric`` column keeps every digit the tap wrote."""

from __future__ import annotations

import gzip
import os
import select
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

import msgspec

from target_postgres.columns import encode_json


class RecordMessage(msgspec.Struct, tag_field="type", tag="RECORD"):
    stream: str
    record: msgspec.Raw  # decoded by the stream's RecordDecoder
    version: int | None = None
    time_extracted: datetime | None = None  # parsed here, in C


class SchemaMessage(msgspec.Struct, tag_field="type", tag="SCHEMA"):
    stream: str
    schema: dict[str, Any]
    key_properties: list[str] = msgspec.field(default_factory=list)


class StateMessage(msgspec.Struct, tag_field="type", tag="STATE"):
    value: Any


class ActivateVersionMessage(msgspec.Struct, tag_field="type", tag="ACTIVATE_VERSION"):
    stream: str
    version: int


class BatchMessage(msgspec.Struct, tag_field="type", tag="BATCH"):
    stream: str
    encoding: dict[str, Any]
    manifest: list[str]


Message = RecordMessage | SchemaMessage | StateMessage | ActivateVersionMessage | BatchMessage

_decode_message = msgspec.json.Decoder(Message, float_hook=Decimal).decode
CHUNK = 1 << 20


class BadMessageError(ValueError):
    pass


def decode(line: bytes, number: int) -> Message:
    try:
        return _decode_message(line)
    except msgspec.ValidationError as error:
        raise BadMessageError(f"input line {number} is not a Singer message: {error}") from None
    except msgspec.DecodeError as error:
        raise BadMessageError(f"input line {number} is not valid JSON: {error}") from None


def lines(source: IO[Any], wait: float) -> Iterator[bytes | None]:
    """Input lines, and ``None`` each time ``wait`` seconds pass without one."""
    binary = getattr(source, "buffer", source)
    try:
        fd = binary.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream: no waiting
        for line in binary:
            yield line.encode() if isinstance(line, str) else line
        return
    pending = b""
    while True:
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            yield None
            continue
        chunk = os.read(fd, CHUNK)
        if not chunk:
            break
        *complete, pending = (pending + chunk).split(b"\n")
        yield from complete
    if pending.strip():
        yield pending


def batch_records(message: BatchMessage) -> Iterator[bytes]:
    """The records of a BATCH message's files as JSON: singer-sdk's JSONL (plain or gzip) and
    Parquet (with the ``parquet`` extra, pyarrow) files."""
    encoding = message.encoding
    kind = encoding.get("format")
    if kind not in ("jsonl", "parquet"):
        raise BadMessageError(
            f"{message.stream}: BATCH files in {kind!r} format are not supported; set the "
            "tap's batch_config encoding format to jsonl or parquet"
        )
    for url in message.manifest:
        parts = urlsplit(url)
        if parts.scheme not in ("", "file"):
            raise BadMessageError(f"{message.stream}: BATCH file {url} is not a local file:// path")
        path = Path(unquote(parts.path))
        if kind == "parquet":
            yield from _parquet_records(message.stream, path)
            continue
        opener = gzip.open if encoding.get("compression") == "gzip" else open
        with opener(path, "rb") as file:
            for line in file:
                if line.strip():
                    yield line


def _parquet_records(stream: str, path: Path) -> Iterator[bytes]:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise BadMessageError(
            f"{stream}: BATCH files in parquet format need pyarrow: install "
            "tapworks-target-postgres[parquet] (or set the tap's batch_config to jsonl)"
        ) from None
    for batch in parquet.ParquetFile(path).iter_batches(batch_size=10_000):
        for record in batch.to_pylist():
            yield encode_json(record)
