"""Singer messages, read in large chunks and decoded by msgspec straight into typed structs
(``time_extracted`` into a datetime, in C; a record kept as its JSON, decoded by the loop)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

import msgspec


class RecordMessage(msgspec.Struct, tag_field="type", tag="RECORD"):
    stream: str
    record: msgspec.Raw  # as the tap wrote it: JSONL files keep these bytes
    version: int | None = None
    time_extracted: datetime | None = None


class SchemaMessage(msgspec.Struct, tag_field="type", tag="SCHEMA"):
    stream: str
    schema: dict[str, Any]
    key_properties: list[str] = msgspec.field(default_factory=list)
    bookmark_properties: list[str] | None = None


class StateMessage(msgspec.Struct, tag_field="type", tag="STATE"):
    value: Any


class ActivateVersionMessage(msgspec.Struct, tag_field="type", tag="ACTIVATE_VERSION"):
    stream: str
    version: int


class BatchMessage(msgspec.Struct, tag_field="type", tag="BATCH"):
    stream: str


Message = RecordMessage | SchemaMessage | StateMessage | ActivateVersionMessage | BatchMessage

_decode = msgspec.json.Decoder(Message).decode
_decode_record = msgspec.json.Decoder(dict[str, Any]).decode
CHUNK = 1 << 20


class BadMessageError(ValueError):
    pass


def decode(line: bytes, number: int) -> Message:
    try:
        return _decode(line)
    except msgspec.ValidationError as error:
        raise BadMessageError(f"input line {number} is not a Singer message: {error}") from None
    except msgspec.DecodeError as error:
        raise BadMessageError(f"input line {number} is not valid JSON: {error}") from None


def record_of(message: RecordMessage, number: int) -> dict[str, Any]:
    try:
        return _decode_record(message.record)
    except msgspec.ValidationError:
        raise BadMessageError(
            f"input line {number}: the record of stream {message.stream!r} is not a JSON object"
        ) from None


def lines(source: IO[Any]) -> Iterator[bytes]:
    binary = getattr(source, "buffer", source)
    try:
        fd = binary.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream
        for line in binary:
            yield line.encode() if isinstance(line, str) else line
        return
    pending = b""
    while chunk := os.read(fd, CHUNK):
        *complete, pending = (pending + chunk).split(b"\n")
        yield from complete
    if pending.strip():
        yield pending
