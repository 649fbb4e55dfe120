"""Replication key kinds: how a record's key value is read, and the form state keeps it in.

Three kinds, each with one canonical, comparable form in state:

=============  ===================================  ==========================================
kind           record side                          in state
=============  ===================================  ==========================================
``Instant``    ISO 8601 with ``Z`` or an offset      UTC ISO 8601 with ``+00:00``, fractions only
               (default), or a declared format:      if any: ``2024-01-02T03:04:05+00:00``.
               epoch seconds, epoch milliseconds,   Naive values are UTC. Strings of this form
               OneTrust's ``...SSS'Z'``, Klaviyo's   sort in time order.
               six decimals without ``Z``
``Integer``    an integer (ids, sequences)          the integer
``DateKey``    ``YYYY-MM-DD`` (or a date-time,       ``YYYY-MM-DD``
               whose date is taken)
=============  ===================================  ==========================================

The engine compares parsed values (``datetime``, ``int``, ``date``), never strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from tapkit.timeformats import (
    EPOCH_MILLIS,
    EPOCH_SECONDS,
    TimestampFormat,
    canonical,
    parse_instant,
    read_instant,
)

#: A parsed key value: what windows are cut over and records compared by.
KeyValue = Any


class KeyKind(Protocol):
    @property
    def name(self) -> str: ...

    def from_record(self, value: Any) -> KeyValue: ...

    def to_state(self, value: KeyValue) -> str | int: ...

    def from_state(self, value: str | int) -> KeyValue: ...

    def run_end(self, now: datetime, end_date: str | None) -> KeyValue | None:
        """Where a run stops (exclusive): the sync's start, or ``end_date``; None: no end."""
        ...

    def start(self, start_date: str | None) -> KeyValue | None:
        """The first run's start, from ``start_date``."""
        ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Instant:
    """A moment in time; ``record_format`` says how records write it (None: ISO 8601)."""

    record_format: TimestampFormat | None = None
    name: str = "instant"

    def from_record(self, value: Any) -> datetime:
        fmt = self.record_format
        if fmt is None:
            return read_instant(value)
        if fmt is EPOCH_SECONDS or fmt is EPOCH_MILLIS:
            unit = timedelta(seconds=1) if fmt is EPOCH_SECONDS else timedelta(milliseconds=1)
            return _EPOCH + unit * _number(value)
        return fmt.parse(value)

    def to_state(self, value: datetime) -> str:
        return canonical(value)

    def from_state(self, value: str | int) -> datetime:
        return parse_instant(str(value))

    def run_end(self, now: datetime, end_date: str | None) -> datetime:
        return min(parse_instant(end_date), now) if end_date else now

    def start(self, start_date: str | None) -> datetime | None:
        return parse_instant(start_date) if start_date else None

    def describe(self) -> str:
        return f"instant, {self.record_format.name if self.record_format else 'ISO 8601'}"


@dataclass(frozen=True)
class Integer:
    """An integer key: ids, sequence numbers.  Runs have no natural end."""

    name: str = "integer"

    def from_record(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"{value!r} is not an integer key")
        return int(value)

    def to_state(self, value: int) -> int:
        return int(value)

    def from_state(self, value: str | int) -> int:
        return int(value)

    def run_end(self, now: datetime, end_date: str | None) -> None:
        return None

    def start(self, start_date: str | None) -> None:
        return None

    def describe(self) -> str:
        return "integer"


@dataclass(frozen=True)
class DateKey:
    """A calendar date (daily reports).  A run includes its own day, so ends the day after."""

    name: str = "date"

    def from_record(self, value: Any) -> date:
        if isinstance(value, datetime):
            return value.astimezone(UTC).date() if value.tzinfo else value.date()
        if isinstance(value, date):
            return value
        text = str(value)
        return date.fromisoformat(text) if len(text) == 10 else parse_instant(text).date()

    def to_state(self, value: date) -> str:
        return value.isoformat()

    def from_state(self, value: str | int) -> date:
        return self.from_record(value)

    def run_end(self, now: datetime, end_date: str | None) -> date:
        today = now.astimezone(UTC).date() + timedelta(days=1)
        return min(self.from_record(end_date), today) if end_date else today

    def start(self, start_date: str | None) -> date | None:
        return self.from_record(start_date) if start_date else None

    def describe(self) -> str:
        return "date"


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an epoch timestamp")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not an epoch timestamp") from None


ISO_INSTANT = Instant()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
