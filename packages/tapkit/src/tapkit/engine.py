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
record are told apart by primary key, so none is emitted twice (without primary keys they
are all emitted again: none is lost).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from tapkit.incremental import ApiFilter, Bound
from tapkit.keys import KeyKind, KeyValue
from tapkit.pool import Pool
from tapkit.scheduler import Scheduler, Span
from tapkit.transport import Fetch, Page, Record, Request
from tapkit.windows import ONE_RANGE, Window, WindowPolicy


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


class Progress(Protocol):
    """Told of each page the engine emits: the window it belongs to and its records kept
    (``tapkit.progress.WindowProgress``)."""

    def page(self, window: Window, records: int) -> None: ...


class _Silent:
    def page(self, window: Window, records: int) -> None:
        pass


class Engine:
    """Runs plans on ``pool`` with at most ``in_flight`` requests at once (one per worker);
    ``in_flight`` 1 sends one request at a time, in key order."""

    def __init__(
        self, pool: Pool | None, in_flight: int = 1, halt: threading.Event | None = None
    ) -> None:
        self.pool = pool
        self.in_flight = max(1, in_flight)
        self.halt = halt

    def run(
        self,
        plan: Plan,
        fetch: Fetch,
        advance: Callable[[KeyValue], None],
        *,
        inline: bool = False,
        progress: Progress | None = None,
    ) -> Iterator[Record]:
        """The plan's records; ``advance(value)`` moves the watermark.  ``inline`` fetches on
        the calling thread (a child stream read per parent record).  ``progress`` hears of
        each page emitted, on the calling thread."""
        walk = _Walk(plan, advance, progress or _Silent())
        api_filter = plan.api_filter
        start, end = plan.start, plan.end
        if api_filter is None or not api_filter.bounded:
            request = _request(plan, Window(start, end), first=True, upper=False)
            yield from self._emit(walk, plan, [request], fetch, inline)
            return
        windows = plan.windows.cut(start, end)
        if self._should_probe(plan):
            probe = Request(
                Window(start, end),
                tuple(api_filter.bounds(start, end)),
                first_page_only=True,
                stops_at=api_filter.stops_at,
            )
            yield from self._emit(walk, plan, [probe], fetch, inline=True, finish=False)
            if not walk.more:
                walk.finish()
                return
            if walk.newest is not None:  # else the page held only records before the start
                resume = walk.newest
                walk.skip = walk.tied_at(resume)
                # the same window edges as without the probe (data-independent), less the
                # windows wholly before where the data starts
                windows = [w for w in windows if w.end > resume]
                windows[0] = Window(resume, windows[0].end)
                if len(windows) < plan.slices:
                    windows = plan.windows.slices(resume, end, plan.slices)
        requests = [
            _request(plan, window, first=index == 0 and not walk.skip)
            for index, window in enumerate(windows)
        ]
        yield from self._emit(walk, plan, requests, fetch, inline)

    def _should_probe(self, plan: Plan) -> bool:
        return (
            plan.sorted
            and plan.windows.api_maximum is None
            and plan.start is not None
            and plan.end is not None
            and plan.start < plan.end
        )

    def _emit(
        self,
        walk: _Walk,
        plan: Plan,
        requests: list[Request],
        fetch: Fetch,
        inline: bool,
        *,
        finish: bool = True,
    ) -> Iterator[Record]:
        """The requests' records in order: fetched here (``inline``, or without a pool), or
        by the pool's workers, ahead of what is emitted and split as they go."""
        if inline or self.pool is None:
            for request in requests:
                yield from walk.window(Span(request, request.window.end), iter(fetch(request)))
        else:
            key_of = partial(_key, plan.key_field, plan.key.from_record)
            # a split needs an end to cut at: integer keys have none
            splittable = plan.sorted and plan.filters_key and plan.end is not None
            scheduler = Scheduler(
                self.pool,
                self.in_flight,
                fetch,
                key_of=key_of if splittable else None,
                request_for=lambda window: _request(plan, window, first=False),
                split_at=partial(_split_at, plan),
                halt=self.halt,
            )
            for span in scheduler.spans(requests):
                yield from walk.window(span, span.drain())
        if finish:
            walk.finish()


def _key(field_name: str, parse: Callable[[Any], KeyValue], record: Record) -> KeyValue | None:
    raw = record.get(field_name)
    return None if raw is None else parse(raw)


def _split_at(plan: Plan, low: Any, high: Any) -> Any:
    """Halfway between ``low`` and ``high``, on a value the filter can express exactly."""
    middle = low + (high - low) / 2 if not isinstance(low, int) else (low + high) // 2
    if plan.api_filter is not None:
        middle = plan.api_filter.format.ceil(middle)
    return middle if low < middle < high else None


def _request(plan: Plan, window: Window, *, first: bool, upper: bool = True) -> Request:
    """A window's request: the run's first window starts at the run's start (with lookback
    and rewind); later ones exactly at their start (a key boundary inside the run)."""
    assert plan.api_filter is not None or not upper
    if plan.api_filter is None:
        return Request(window, ())
    bounds = plan.api_filter.bounds(window.start, window.end if upper else None)
    if not first and window.start is not None:
        bounds = [_exact_lower(plan.api_filter, window.start), *bounds[1:]]
    return Request(window, tuple(bounds), stops_at=plan.api_filter.stops_at if upper else None)


def _exact_lower(api_filter: ApiFilter, start: KeyValue) -> Bound:
    """The lower bound at ``start`` without the run's lookback (still rewound if exclusive,
    so records tied at ``start`` are read)."""
    exact = ApiFilter(api_filter.field, api_filter.op, api_filter.format)
    return exact.bounds(start, None)[0]


class _Walk:
    """The emitting side of one run: client-side filtering, ties, the watermark."""

    def __init__(self, plan: Plan, advance: Callable[[KeyValue], None], progress: Progress) -> None:
        self.plan = plan
        self._advance = advance
        self._progress = progress
        self.mark: KeyValue | None = None
        self.newest: KeyValue | None = None
        #: Of the last window emitted: whether its last page said more follow, and the
        #: server's clock at its first answer.
        self.more = False
        self.server_time: datetime | None = None
        #: Primary keys the next window must not emit again (tied with the probe's last).
        self.skip: frozenset[tuple[Any, ...]] = frozenset()
        self._newest_keys: list[tuple[Any, ...]] = []

    def window(self, span: Span, pages: Iterator[Page]) -> Iterator[Record]:
        """A span's records, kept to its range; the watermark after each page of a sorted
        stream (everything before the page's last key is out) and at the span's end."""
        plan = self.plan
        start = span.start
        # the lookback belongs to the run's first window; after a probe has emitted records,
        # a window at the start (the probe's last key, a slice's edge) is not the first
        first = start == plan.start and self.newest is None
        low = plan.keep_from if first else start
        check = plan.filters_key
        key_of = plan.key.from_record
        field_name = plan.key_field
        skip, self.skip = self.skip, frozenset()
        if not plan.primary_keys:  # ties cannot be told apart: read them again, lose none
            skip = frozenset()
        server_time = None
        for page in pages:
            if server_time is None:
                server_time = page.server_time
            self.more = page.more
            high = span.end  # read per page: a split moves it before the page past it is queued
            last = None
            kept = 0
            for record in page.records:
                raw = record.get(field_name)
                value = None if raw is None else key_of(raw)
                if value is not None and check:
                    if (low is not None and value < low) or (high is not None and value >= high):
                        continue
                    if skip and value == start and self._pk(record) in skip:
                        continue
                if value is not None:
                    self._track(value, record)
                    last = value
                kept += 1
                yield record
            self._progress.page(Window(start, high), kept)
            if plan.sorted and check and last is not None and not span.request.first_page_only:
                self.advance_to(last, page.server_time)
        self.server_time = server_time
        end = span.end
        if span.request.first_page_only:
            if self.newest is not None and self.more:
                self.advance_to(self.newest, server_time)
        elif end is not None and end != plan.end:
            self.advance_to(end, server_time)

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
