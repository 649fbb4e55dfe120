"""Windows: a run's key range ``[start, end)`` cut into consecutive spans, walked in order.

A ``WindowPolicy`` cuts by a fixed length or by calendar months, then splits every piece so
none is longer than the API's maximum (OneTrust: consent transactions at most 24 hours, data
subjects at most 7 days).  A setting may shorten windows but never lengthen them past that
maximum: ``with_length`` refuses, and the tap checks it before any request.

Spans are in the key's units: ``timedelta`` for instants and dates, ``int`` for integer keys.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

Span = timedelta | int


class WindowTooLongError(ValueError):
    """A configured window is longer than the API allows."""


@dataclass(frozen=True)
class Window:
    """``[start, end)``; ``start`` None: from the beginning, ``end`` None: to the end."""

    start: Any
    end: Any


@dataclass(frozen=True)
class Months:
    """Calendar months (UTC), the first window ending at the next month's start."""

    count: int = 1


@dataclass(frozen=True)
class WindowPolicy:
    #: A fixed length, calendar ``Months``, or None for one window.
    every: Span | Months | None = None
    #: The longest range the API accepts in one request, if it has one.
    api_maximum: Span | None = None

    def with_length(
        self, length: Span | None, setting: str = "backfill_window_days"
    ) -> WindowPolicy:
        """This policy with windows of ``length`` (a setting's value); None keeps it as is."""
        if length is None:
            return self
        if _positive(length) is False:
            raise WindowTooLongError(f"{setting}: a window must be longer than zero")
        if self.api_maximum is not None and length > self.api_maximum:  # type: ignore[operator]
            raise WindowTooLongError(
                f"{setting}: {_show(length)} is longer than the API allows in one request "
                f"({_show(self.api_maximum)}); use at most that, or leave it unset"
            )
        return replace(self, every=length)

    def cut(self, start: Any, end: Any) -> list[Window]:
        """Consecutive windows covering ``[start, end)``.  An empty range gives one empty
        window, so a stream with nothing new still makes one cheap request."""
        if start is None or end is None or start >= end:
            return [Window(start, end if start is None or end is None else max(start, end))]
        pieces = []
        cursor = start
        while cursor < end:
            stop = min(self._step(cursor), end)
            pieces.append(Window(cursor, stop))
            cursor = stop
        return [part for piece in pieces for part in self._under_maximum(piece)]

    def slices(self, start: Any, end: Any, count: int) -> list[Window]:
        """``[start, end)`` in ``count`` equal slices (for fetching one range concurrently),
        none longer than the API's maximum."""
        if count <= 1 or start is None or end is None or start >= end:
            return self.cut(start, end)
        width = (end - start) / count
        if isinstance(width, float):  # integer keys
            width = max(1, int(width))
        # integer slices are at least 1 wide: with fewer ids than slices, edges past the end
        edges = [edge for index in range(count) if (edge := start + width * index) < end] + [end]
        if isinstance(start, date) and not isinstance(start, datetime):
            edges = sorted(set(edges))
        pieces = [Window(a, b) for a, b in itertools.pairwise(edges) if a < b]
        return [part for piece in pieces for part in self._under_maximum(piece)]

    def _step(self, cursor: Any) -> Any:
        if self.every is None:
            return _infinity(cursor)
        if isinstance(self.every, Months):
            return _month_start(cursor, self.every.count)
        return cursor + self.every

    def _under_maximum(self, window: Window) -> list[Window]:
        if self.api_maximum is None:
            return [window]
        parts = []
        cursor = window.start
        while cursor < window.end:
            stop = min(cursor + self.api_maximum, window.end)
            parts.append(Window(cursor, stop))
            cursor = stop
        return parts

    def describe(self) -> str:
        if isinstance(self.every, Months):
            text = (
                "calendar months" if self.every.count == 1 else f"{self.every.count}-month windows"
            )
        elif self.every is not None:
            text = f"windows of {_show(self.every)}"
        else:
            text = "one range"
        if self.api_maximum is not None:
            text += f", at most {_show(self.api_maximum)} (API maximum)"
        return text


ONE_RANGE = WindowPolicy()


def _month_start(value: Any, months: int) -> Any:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
        index = moment.year * 12 + moment.month - 1 + months
        return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
    if isinstance(value, date):
        index = value.year * 12 + value.month - 1 + months
        return date(index // 12, index % 12 + 1, 1)
    raise TypeError(f"calendar months need date or instant keys, not {type(value).__name__}")


def _infinity(value: Any) -> Any:
    if isinstance(value, datetime):
        return datetime.max.replace(tzinfo=UTC)
    if isinstance(value, date):
        return date.max
    return float("inf")


def _positive(length: Span) -> bool:
    if isinstance(length, timedelta):
        return length > timedelta(0)
    return length > 0


def _show(span: Span | None) -> str:
    if isinstance(span, timedelta):
        seconds = span.total_seconds()
        for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
            if seconds >= size and seconds % size == 0:
                count = int(seconds // size)
                return f"{count} {unit}" + ("s" if count != 1 else "")
        return f"{seconds:g} seconds"
    return f"{span} ids"
