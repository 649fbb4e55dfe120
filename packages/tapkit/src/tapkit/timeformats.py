"""Timestamp formats, by name: how a bookmark is written into an API's filter.

Every format renders an aware datetime (any zone) in UTC unless it carries its own zone, and
parses its own output back.  ``precision`` is the smallest step the format can express; a
bookmark is floored to it before rendering, and an exclusive filter rewinds by it.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

import pendulum

UTC = pendulum.UTC


@dataclass(frozen=True)
class TimestampFormat:
    name: str
    example: str
    precision: timedelta
    _render: Callable[[pendulum.DateTime], str | int] = field(repr=False)
    _parse: Callable[[str | int], pendulum.DateTime] = field(repr=False)

    def floor(self, moment: datetime) -> pendulum.DateTime:
        """The moment in UTC, truncated to this format's precision."""
        value = pendulum.instance(moment).in_timezone(UTC)
        step = int(self.precision.total_seconds() * 1_000_000)
        micros = int(value.timestamp()) * 1_000_000 + value.microsecond
        floored = micros - micros % step
        return pendulum.from_timestamp(floored // 1_000_000, tz=UTC).add(
            microseconds=floored % 1_000_000
        )

    def ceil(self, moment: datetime) -> pendulum.DateTime:
        floored = self.floor(moment)
        return floored if floored == moment else floored + self.precision

    def render(self, moment: datetime) -> str | int:
        return self._render(self.floor(moment))

    def parse(self, value: str | int) -> pendulum.DateTime:
        try:
            return self._parse(value).in_timezone(UTC)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(
                f"{value!r} is not a {self.name} timestamp (like {self.example!r})"
            ) from exc


def _pattern(
    pattern: str,
) -> tuple[Callable[[pendulum.DateTime], str], Callable[[str | int], pendulum.DateTime]]:
    def render(moment: pendulum.DateTime) -> str:
        return moment.format(pattern)

    def parse(value: str | int) -> pendulum.DateTime:
        return pendulum.from_format(str(value), pattern, tz=UTC)

    return render, parse


def _iso_parse(value: str | int) -> pendulum.DateTime:
    parsed = pendulum.parse(str(value), strict=True)
    if not isinstance(parsed, pendulum.DateTime):
        raise ValueError(f"{value!r} is not a date and time")
    return parsed


def iso8601_with_offset(zone: str = "UTC") -> TimestampFormat:
    """ISO 8601 in a given zone with its numeric offset, e.g. a shop's ``-05:00``."""

    def render(moment: pendulum.DateTime) -> str:
        return moment.in_timezone(zone).format("YYYY-MM-DDTHH:mm:ssZ")

    return TimestampFormat(
        f"iso8601-offset({zone})",
        "2024-01-02T03:04:05+00:00",
        timedelta(seconds=1),
        render,
        _iso_parse,
    )


ISO8601_Z = TimestampFormat(
    "iso8601-z", "2024-01-02T03:04:05Z", timedelta(seconds=1), *_pattern("YYYY-MM-DD[T]HH:mm:ss[Z]")
)
ISO8601_OFFSET = iso8601_with_offset("UTC")
ISO8601_MILLIS_Z = TimestampFormat(
    "iso8601-millis-z",
    "2024-01-02T03:04:05.000Z",
    timedelta(milliseconds=1),
    *_pattern("YYYY-MM-DD[T]HH:mm:ss.SSS[Z]"),
)
# UTC without a zone designator (OneTrust's consent filters).
ISO8601_NO_ZONE = TimestampFormat(
    "iso8601-no-zone",
    "2024-01-02T03:04:05",
    timedelta(seconds=1),
    *_pattern("YYYY-MM-DD[T]HH:mm:ss"),
)
# Klaviyo's, as the seeds' connector wrote it: six decimals, UTC, no zone designator.
KLAVIYO = TimestampFormat(
    "klaviyo",
    "2024-01-02T03:04:05.000000",
    timedelta(microseconds=1),
    *_pattern("YYYY-MM-DD[T]HH:mm:ss.SSSSSS"),
)
# A day as ISO 8601 writes it, for APIs that filter instants by day.
ISO_DATE = TimestampFormat("iso-date", "2024-01-02", timedelta(days=1), *_pattern("YYYY-MM-DD"))
YYYYMMDD = TimestampFormat("yyyymmdd", "20240102", timedelta(days=1), *_pattern("YYYYMMDD"))
SQLSERVER_MILLIS = TimestampFormat(
    "sqlserver-millis",
    "2024-01-02 03:04:05.000",
    timedelta(milliseconds=1),
    *_pattern("YYYY-MM-DD HH:mm:ss.SSS"),
)
EPOCH_SECONDS = TimestampFormat(
    "epoch-seconds",
    "1704164645",
    timedelta(seconds=1),
    lambda moment: int(moment.timestamp()),
    lambda value: pendulum.from_timestamp(int(value), tz=UTC),
)
_EPOCH = pendulum.datetime(1970, 1, 1, tz=UTC)
EPOCH_MILLIS = TimestampFormat(
    "epoch-millis",
    "1704164645000",
    timedelta(milliseconds=1),
    lambda moment: calendar.timegm(moment.utctimetuple()) * 1000 + moment.microsecond // 1000,
    lambda value: pendulum.instance(_EPOCH + timedelta(milliseconds=int(value))),
)

FORMATS = {
    f.name: f
    for f in (
        ISO8601_Z,
        ISO8601_OFFSET,
        ISO8601_MILLIS_Z,
        ISO8601_NO_ZONE,
        KLAVIYO,
        ISO_DATE,
        YYYYMMDD,
        SQLSERVER_MILLIS,
        EPOCH_SECONDS,
        EPOCH_MILLIS,
    )
}


class FilterFormat(Protocol):
    """How a key value is written into a filter: a ``TimestampFormat`` for instants, or one
    of the two below.  ``precision`` is the smallest step it expresses, in the key's units."""

    @property
    def name(self) -> str: ...

    @property
    def example(self) -> str: ...

    @property
    def precision(self) -> Any: ...

    def floor(self, value: Any) -> Any: ...

    def ceil(self, value: Any) -> Any: ...

    def render(self, value: Any) -> str | int: ...


@dataclass(frozen=True)
class IntegerFormat:
    """Integer keys (ids, sequences), sent as numbers."""

    name: str = "integer"
    example: str = "12345"
    precision: int = 1

    def floor(self, value: int) -> int:
        return int(value)

    def ceil(self, value: int) -> int:
        return int(value)

    def render(self, value: int) -> int:
        return int(value)


@dataclass(frozen=True)
class DateFormat:
    """Date keys, written with a ``strftime`` pattern."""

    name: str = "date"
    example: str = "2024-01-02"
    pattern: str = "%Y-%m-%d"
    precision: timedelta = timedelta(days=1)

    def floor(self, value: date) -> date:
        return value.date() if isinstance(value, datetime) else value

    def ceil(self, value: date) -> date:
        if isinstance(value, datetime):
            day = value.date()
            return day if value.time() == time(0) else day + timedelta(days=1)
        return value

    def render(self, value: date) -> str:
        return self.floor(value).strftime(self.pattern)


INTEGER = IntegerFormat()
DATE = DateFormat()


def canonical(moment: datetime) -> str:
    """The form bookmarks are kept in: UTC ISO 8601 with ``+00:00``, fractions only if any.

    One form for every value matters: singer-sdk compares bookmarks as strings.
    """
    value = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def parse_instant(value: str | datetime) -> pendulum.DateTime:
    """An ISO 8601 instant (or datetime) as aware UTC; a value without an offset is UTC."""
    if isinstance(value, datetime):
        parsed = pendulum.instance(value if value.tzinfo else value.replace(tzinfo=UTC))
    else:
        parsed = _iso_parse(value)
    return parsed.in_timezone(UTC)


def read_instant(value: str | datetime) -> datetime:
    """An ISO 8601 instant as an aware datetime (naive: UTC), fast for what APIs send most:
    a full date and time, which ``datetime.fromisoformat`` reads ten times faster than
    pendulum.  Anything else (a bare date, an unusual form, an invalid value) takes the strict
    path of ``parse_instant``."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and len(value) > 10:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return parse_instant(value)


def canonical_instant(value: str | datetime) -> str:
    """``canonical(parse_instant(value))``, by the fast path of ``read_instant``."""
    return canonical(read_instant(value))
