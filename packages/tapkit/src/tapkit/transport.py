"""What the engine and a transport exchange: a window's request, and its pages.

A transport is any ``fetch(request)`` yielding the pages of one window in order: the REST
adapter's page loop, a SQL query per window.  It runs on a worker thread and gets everything
it needs as the argument.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tapkit.incremental import Bound
from tapkit.timeformats import read_instant
from tapkit.windows import Window

Record = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """One window's read as the transport receives it: ``bounds`` already carry lookback,
    rewind and the filter's granularity.  ``first_page_only``: the probe.  ``stops_at``: the
    filter has no upper bound, so the transport reads in this field's order and stops at the
    window's end (``ApiFilter.stops_at``)."""

    window: Window
    bounds: tuple[Bound, ...]
    first_page_only: bool = False
    stops_at: str | None = None


@dataclass
class Page:
    records: list[Record]
    #: The server's clock when it answered (its ``Date``), if it said.
    server_time: datetime | None = None
    #: Whether another page follows.
    more: bool = False


Fetch = Callable[[Request], Iterable[Page]]


def within_window(records: list[Record], request: Request) -> tuple[list[Record], bool]:
    """For a filter with no upper bound (``stops_at``): the records inside the request's
    window, and whether the page reached past its end (the API sorts by that field, so no
    later page has any inside).  Without ``stops_at``, the records as they are."""
    field, window = request.stops_at, request.window
    if field is None:
        return records, False
    kept, past_end = [], False
    for record in records:
        raw = record.get(field)
        moment = _moment(raw) if raw not in (None, "") else None
        if moment is not None and window.end is not None and moment >= window.end:
            past_end = True
            continue
        if moment is not None and window.start is not None and moment < window.start:
            continue
        kept.append(record)
    return kept, past_end


def _moment(raw: Any) -> datetime:
    """An ISO 8601 instant or epoch seconds (an API's integer timestamps)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return datetime.fromtimestamp(raw, UTC)
    return read_instant(raw)
