"""Replication key columns: which BigQuery types can be one, how their values are kept in state
(tapkit's key kinds), and how a bound becomes a typed query parameter.

=============  ==============  ===================  =========================================
column type    state           ISO bound            ``yyyy-MM-dd HH:mm:ss.SSS`` bound
=============  ==============  ===================  =========================================
INT64          the integer     INT64 parameter      (the same)
TIMESTAMP      UTC ISO 8601    TIMESTAMP parameter  STRING parameter in ``TIMESTAMP(@p)``
DATETIME       UTC ISO 8601    DATETIME parameter   STRING parameter in ``DATETIME(@p)``
DATE           ``YYYY-MM-DD``  DATE parameter       (the same)
STRING         UTC ISO 8601    (not allowed)        STRING parameter, compared as text
=============  ==============  ===================  =========================================

A DATETIME has no zone: it is read as UTC, as BigQuery's ``TIMESTAMP(datetime)`` does.  A
STRING key holds the seeds' SQL Server literals, fixed-width text that sorts in time order.
Bounds in the millisecond format are floored to the millisecond, the last one (the run's upper
bound) ceiled: a superset, never a row short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from google.cloud.bigquery import ScalarQueryParameter

from tapkit.keys import DateKey, Instant, Integer, KeyKind
from tapkit.timeformats import SQLSERVER_MILLIS, parse_instant

ISO = "ISO"
SQLSERVER = "yyyy-MM-dd HH:mm:ss.SSS"
BOUND_FORMATS = (ISO, SQLSERVER)

#: BigQuery's legacy type names, as the table schema may report them.
_ALIASES = {"INTEGER": "INT64"}
KEY_TYPES = ("INT64", "TIMESTAMP", "DATETIME", "DATE", "STRING")


class KeyTypeError(ValueError):
    """A column that cannot be a replication key, or a value that is not one."""


@dataclass(frozen=True)
class KeyType:
    """A replication key column's type and the run's ``bound_format``."""

    column_type: str
    bound_format: str = ISO

    @staticmethod
    def of(column_type: str, bound_format: str, column: str) -> KeyType:
        kind = _ALIASES.get(column_type.upper(), column_type.upper())
        if kind not in KEY_TYPES:
            raise KeyTypeError(
                f"replication_key {column!r} is a {column_type} column; a key must be one of "
                "INT64, TIMESTAMP, DATETIME, DATE (or STRING with bound_format "
                f"{SQLSERVER!r})"
            )
        if kind == "STRING" and bound_format != SQLSERVER:
            raise KeyTypeError(
                f"replication_key {column!r} is a STRING column: only text in the "
                f"{SQLSERVER!r} form sorts in time order; set bound_format to that, or use a "
                "TIMESTAMP, DATETIME, DATE or INT64 key"
            )
        return KeyType(kind, bound_format)

    @property
    def kind(self) -> KeyKind:
        if self.column_type == "INT64":
            return Integer()
        if self.column_type == "DATE":
            return DateKey()
        if self.column_type == "STRING":
            return Instant(SQLSERVER_MILLIS)
        return Instant()

    @property
    def millis(self) -> bool:
        """Bounds go out as millisecond text (``bound_format``), not as typed values."""
        return self.bound_format == SQLSERVER and self.column_type in (
            "TIMESTAMP",
            "DATETIME",
            "STRING",
        )

    def parse(self, text: Any) -> Any:
        """A ``start_value`` (or the key's value from BigQuery) as the key kind's value."""
        try:
            if self.column_type == "INT64":
                if isinstance(text, bool):
                    raise ValueError(text)
                return int(text)
            if self.column_type == "DATE":
                return text if isinstance(text, date) else date.fromisoformat(str(text))
            if isinstance(text, datetime):
                return text if text.tzinfo else text.replace(tzinfo=UTC)
            if self.bound_format == SQLSERVER and _looks_sqlserver(str(text)):
                return SQLSERVER_MILLIS.parse(str(text))
            return parse_instant(str(text))
        except (TypeError, ValueError):
            example = {"INT64": "12345", "DATE": "2024-01-31"}.get(
                self.column_type, "2024-01-31T00:00:00Z" if not self.millis else SQLSERVER
            )
            raise KeyTypeError(
                f"{text!r} is not a {self.column_type} key value; use e.g. {example}"
            ) from None

    def sql(self, placeholder: str) -> str:
        """The parameter as the SQL compares it with the column."""
        if self.millis and self.column_type != "STRING":
            return f"{self.column_type}({placeholder})"
        return placeholder

    def parameter(self, name: str, value: Any, *, upper: bool = False) -> ScalarQueryParameter:
        """``value`` (the key kind's) as a typed parameter; ``upper``: the run's inclusive
        upper bound, rounded up where the format is coarser than the column."""
        if self.column_type == "INT64":
            return ScalarQueryParameter(name, "INT64", int(value))
        if self.column_type == "DATE":
            return ScalarQueryParameter(name, "DATE", value)
        if self.millis:
            moment = SQLSERVER_MILLIS.ceil(value) if upper else value
            return ScalarQueryParameter(name, "STRING", SQLSERVER_MILLIS.render(moment))
        moment = value.astimezone(UTC)
        if self.column_type == "DATETIME":
            return ScalarQueryParameter(name, "DATETIME", moment.replace(tzinfo=None))
        return ScalarQueryParameter(name, "TIMESTAMP", moment)

    def edge(self, value: Any) -> Any:
        """A slice edge the parameters express exactly, so two slices meet with no gap."""
        if self.millis:
            return SQLSERVER_MILLIS.floor(value)
        return value


def _looks_sqlserver(text: str) -> bool:
    return len(text) == len("2024-01-02 03:04:05.000") and text[10] == " "
