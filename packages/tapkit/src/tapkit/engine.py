"""The sync engine: a run's range cut into windows, fetched concurrently, emitted in order.

It knows nothing of HTTP, SQL or singer-sdk.  A transport is a function ``fetch(request)``
yielding the pages of one window; it receives the window's bounds as an argument (rendered
through the stream's ``ApiFilter``), so any number of windows can be in flight at once.

The rules that keep incremental loads lossless:

- records are emitted on the calling thread in window order, each window's pages in order;
- after a window's last record, the watermark moves to the window's end (never past the
  server's clock when the window was read, a second early for the ``Date`` header's
  precision): ``advance`` is called only for the contiguous prefix of finished windows, so a
  kill at any moment resumes from a point everything before which was emitted;
- after the last window it moves to the newest key emitted, capped at the run's end;
- it never moves backwards;
- where the API filters coarser than the key (a day) or cannot bound a window from above,
  records outside the window are dropped client-side, and read with the window they belong to.

With ``sorted`` streams the first request is the first page of the whole range: if that is
all there is, the run is one request; if not, windows start where its last record stands
(not at ``start_date``, which may be decades before the data), and a range that has no
natural windows is cut into ``slices`` fetched concurrently.  Records tied with that last
record are told apart by primary key, so none is emitted twice.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from queue import SimpleQueue
from typing import Any

from tapkit.incremental import ApiFilter, Bound
from tapkit.keys import KeyKind, KeyValue
from tapkit.windows import ONE_RANGE, Window, WindowPolicy

Record = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """One window's read as the transport receives it: ``bounds`` already carry lookback,
    rewind and the filter's granularity.  ``first_page_only``: the probe."""

    window: Window
    bounds: tuple[Bound, ...]
    first_page_only: bool = False


@dataclass
class Page:
    records: list[Record]
    #: The server's clock when it answered (its ``Date``), if it said.
    server_time: datetime | None = None
    #: Whether another page follows.
    more: bool = False


Fetch = Callable[[Request], Iterable[Page]]


@dataclass(frozen=True)
class Plan:
    """One run of one stream (or partition)."""

    key: KeyKind
    key_field: str
    api_filter: ApiFilter | None
    #: The bookmark, or ``start_date`` without one; None: from the beginning.
    start: KeyValue | None
    #: Exclusive; None: no end (integer keys).
    end: KeyValue | None
    windows: WindowPolicy = field(default=ONE_RANGE)
    sorted: bool = False
    #: A range the probe found larger than a page, with no windows of its own, is cut into
    #: this many slices (0 or 1: not cut).
    slices: int = 0
    primary_keys: tuple[str, ...] = ()

    @property
    def keep_from(self) -> KeyValue | None:
        """The lowest key the run keeps: its start, less the filter's lookback."""
        if self.start is None:
            return None
        lookback = self.api_filter.lookback if self.api_filter is not None else None
        return self.start - lookback if lookback else self.start

    @property
    def filters_key(self) -> bool:
        return self.api_filter is None or self.api_filter.on_key


class Engine:
    """Runs plans on ``pool`` with at most ``in_flight`` windows fetched at once (the pool's
    size bounds it too); at most twice that many windows are buffered ahead of the one being
    emitted.  ``in_flight`` 1 sends one request at a time, in window order."""

    def __init__(self, pool: Executor | None, in_flight: int = 1) -> None:
        self.pool = pool
        self.in_flight = max(1, in_flight)

    def run(
        self, plan: Plan, fetch: Fetch, advance: Callable[[KeyValue], None], *, inline: bool = False
    ) -> Iterator[Record]:
        """The plan's records; ``advance(value)`` moves the watermark.  ``inline`` fetches on
        the calling thread (a child stream read per parent record)."""
        walk = _Walk(plan, advance)
        api_filter = plan.api_filter
        start, end = plan.start, plan.end
        if api_filter is None or not api_filter.bounded:
            request = _request(plan, Window(start, end), first=True, upper=False)
            yield from walk.window(request.window, self._one(request, fetch, inline))
            walk.finish()
            return
        windows = plan.windows.cut(start, end)
        tied: frozenset[tuple[Any, ...]] = frozenset()
        if self._should_probe(plan):
            probe = Request(
                Window(start, end), tuple(api_filter.bounds(start, end)), first_page_only=True
            )
            pages = self._one(probe, fetch, inline)
            yield from walk.window(probe.window, pages, advance_at_end=False)
            if not walk.more:
                walk.finish()
                return
            if walk.newest is not None:  # else the page held only records before the start
                resume = walk.newest
                tied = walk.tied_at(resume)
                walk.advance_to(resume, walk.server_time)
                # the same window edges as without the probe (data-independent), less the
                # windows wholly before where the data starts
                windows = [w for w in windows if w.end > resume]
                windows[0] = Window(resume, windows[0].end)
                if len(windows) < plan.slices:
                    windows = plan.windows.slices(resume, end, plan.slices)
        requests = [
            _request(plan, window, first=index == 0 and not tied)
            for index, window in enumerate(windows)
        ]
        for request, pages in zip(requests, self._ordered(requests, fetch, inline), strict=True):
            yield from walk.window(request.window, pages, skip=tied)
            tied = frozenset()
        walk.finish()

    def _should_probe(self, plan: Plan) -> bool:
        return (
            plan.sorted
            and plan.windows.api_maximum is None
            and plan.start is not None
            and plan.end is not None
            and plan.start < plan.end
        )

    # -- fetching ---------------------------------------------------------------------------

    def _one(self, request: Request, fetch: Fetch, inline: bool) -> Iterator[Page]:
        for pages in self._ordered([request], fetch, inline):
            yield from pages

    def _ordered(
        self, requests: list[Request], fetch: Fetch, inline: bool
    ) -> Iterator[Iterator[Page]]:
        """Each request's pages, in request order, fetched up to ``in_flight`` at a time."""
        if inline or self.pool is None:
            for request in requests:
                yield iter(fetch(request))
            return
        pool = self.pool
        stop = threading.Event()
        pending: deque[tuple[SimpleQueue[Any], Future[None]]] = deque()
        todo = iter(requests)

        def submit() -> None:
            request = next(todo, None)
            if request is not None:
                inbox: SimpleQueue[Any] = SimpleQueue()
                pending.append((inbox, pool.submit(_fill, fetch, request, inbox, stop)))

        try:
            for _ in range(2 * self.in_flight):
                submit()
            while pending:
                inbox, _ = pending.popleft()
                submit()
                yield _drain(inbox)
        finally:  # stopped early (an error, a closed generator): windows not started never start
            stop.set()
            for _, future in pending:
                future.cancel()


_DONE = object()


def _fill(fetch: Fetch, request: Request, inbox: SimpleQueue[Any], stop: threading.Event) -> None:
    try:
        for page in fetch(request):
            inbox.put(page)
            if stop.is_set():
                break
    except BaseException as exc:  # handed to the consumer, raised where the window is emitted
        inbox.put(exc)
    finally:
        inbox.put(_DONE)


def _drain(inbox: SimpleQueue[Any]) -> Iterator[Page]:
    while (item := inbox.get()) is not _DONE:
        if isinstance(item, BaseException):
            raise item
        yield item


def _request(plan: Plan, window: Window, *, first: bool, upper: bool = True) -> Request:
    """A window's request: the run's first window starts at the run's start (with lookback
    and rewind); later ones exactly at their start (a key boundary inside the run)."""
    assert plan.api_filter is not None or not upper
    if plan.api_filter is None:
        return Request(window, ())
    bounds = plan.api_filter.bounds(window.start, window.end if upper else None)
    if not first and window.start is not None:
        bounds = [_exact_lower(plan.api_filter, window.start), *bounds[1:]]
    return Request(window, tuple(bounds))


def _exact_lower(api_filter: ApiFilter, start: KeyValue) -> Bound:
    """The lower bound at ``start`` without the run's lookback (still rewound if exclusive,
    so records tied at ``start`` are read)."""
    exact = ApiFilter(api_filter.field, api_filter.op, api_filter.format)
    return exact.bounds(start, None)[0]


class _Walk:
    """The emitting side of one run: client-side filtering, ties, the watermark."""

    def __init__(self, plan: Plan, advance: Callable[[KeyValue], None]) -> None:
        self.plan = plan
        self._advance = advance
        self.mark: KeyValue | None = None
        self.newest: KeyValue | None = None
        #: Of the last window emitted: whether its last page said more follow, and the
        #: server's clock at its first answer.
        self.more = False
        self.server_time: datetime | None = None
        self._newest_keys: list[tuple[Any, ...]] = []

    def window(
        self,
        window: Window,
        pages: Iterator[Page],
        *,
        advance_at_end: bool = True,
        skip: frozenset[tuple[Any, ...]] = frozenset(),
    ) -> Iterator[Record]:
        plan = self.plan
        low = plan.keep_from if window.start == plan.start else window.start
        high = window.end
        check = plan.filters_key
        key_of = plan.key.from_record
        field_name = plan.key_field
        server_time = None
        for page in pages:
            if server_time is None:
                server_time = page.server_time
            self.more = page.more
            for record in page.records:
                raw = record.get(field_name)
                value = None if raw is None else key_of(raw)
                if value is not None and check:
                    if (low is not None and value < low) or (high is not None and value >= high):
                        continue
                    if skip and value == window.start and self._pk(record) in skip:
                        continue
                if value is not None:
                    self._track(value, record)
                yield record
        self.server_time = server_time
        if advance_at_end and window.end is not None and window.end != plan.end:
            self.advance_to(window.end, server_time)

    def _track(self, value: KeyValue, record: Record) -> None:
        # keys taken now: a consumer may add fields to the record once it is emitted
        if self.newest is None or value > self.newest:
            self.newest = value
            self._newest_keys = [self._pk(record)]
        elif value == self.newest:
            self._newest_keys.append(self._pk(record))

    def _pk(self, record: Record) -> tuple[Any, ...]:
        return tuple(record.get(k) for k in self.plan.primary_keys)

    def tied_at(self, value: KeyValue) -> frozenset[tuple[Any, ...]]:
        """Primary keys of the records emitted with key ``value`` (the newest)."""
        return frozenset(self._newest_keys if value == self.newest else ())

    def advance_to(self, value: KeyValue, server_time: datetime | None) -> None:
        """Move the watermark to ``value``, or to the server's clock if that is behind."""
        if isinstance(value, datetime) and server_time is not None:
            value = min(value, server_time - timedelta(seconds=1))
        if self.mark is None or value > self.mark:
            if self.plan.start is not None and value <= self.plan.start:
                return
            self.mark = value
            self._advance(value)

    def finish(self) -> None:
        newest = self.newest
        if newest is None:
            return
        end = self.plan.end
        self.advance_to(min(newest, end) if end is not None else newest, None)
