"""Backfill windows: ``[start, end)`` cut into consecutive spans, walked in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def walk(start: datetime, end: datetime, length: timedelta | None) -> list[Window]:
    """Consecutive windows covering ``[start, end)``; one window when ``length`` is None.

    An empty range (``start >= end``) still gives one window, ``[start, start)``, so a stream
    with nothing new makes one cheap request rather than none.
    """
    if length is not None and length <= timedelta(0):
        raise ValueError("a window must be longer than zero")
    if length is None or start >= end:
        return [Window(start, max(start, end))]
    windows = []
    cursor = start
    while cursor < end:
        stop = min(cursor + length, end)
        windows.append(Window(cursor, stop))
        cursor = stop
    return windows
