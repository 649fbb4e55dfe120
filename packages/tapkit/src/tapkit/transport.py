"""What the engine and a transport exchange: a window's request, and its pages.

A transport is any ``fetch(request)`` yielding the pages of one window in order: the REST
adapter's page loop, a SQL query per window.  It runs on a worker thread and gets everything
it needs as the argument.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tapkit.incremental import Bound
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
