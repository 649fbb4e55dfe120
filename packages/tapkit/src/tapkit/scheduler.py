"""Windows fetched by a few workers at once and handed over in order, splitting the largest
one still running whenever a worker has nothing left to do.

The engine walks ``spans()`` in key order and drains each span's pages; workers fill spans
ahead of it.  When a worker runs out of spans it looks at the ones in progress: for a sorted
stream, a span's pages so far show how far it has come and how fast, so the span expected to
run longest keeps ``[start, mid)`` and a new span ``[mid, end)`` is inserted right after it.
Its worker stops once a page passes ``mid`` (sorted: nothing below ``mid`` is still to come),
and the engine drops what that page holds past ``mid``.  So data bunched at one end of a range
(profiles updated mostly in the last weeks) still keeps every worker busy, at the cost of one
partly filled page per split.

A span's end only ever moves down past what its worker has fetched, under the lock, before the
page that crosses it is queued: whatever the engine has already emitted stays inside.

Memory is bounded whatever the range: records go out in key order, so what is fetched past the
span being emitted waits in memory.  That span may be ``PAGES_AHEAD`` pages ahead of the
engine, and the spans after it hold ``PAGES_AHEAD`` pages per worker between them; a worker
that would queue more waits for the engine.  (Enough to keep every worker busy when pages
take longer to fetch than to emit, the case concurrency is for.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from queue import SimpleQueue
from typing import Any

from tapkit.keys import KeyValue
from tapkit.pool import Pool
from tapkit.transport import Fetch, Page, Request
from tapkit.windows import Window

#: A span is split only while it is expected to need at least this many more pages: each
#: split costs one partly filled page.
MIN_PAGES_TO_SPLIT = 4
#: Pages fetched and not yet emitted: the span being emitted holds at most this many, the spans
#: after it this many per worker between them.
PAGES_AHEAD = 8

_DONE = object()


@dataclass
class Span:
    request: Request
    #: Exclusive; moves down when the span is split.
    end: Any
    inbox: SimpleQueue[Any] = field(default_factory=SimpleQueue)
    #: Pages queued and not yet taken by the engine.
    queued: int = 0
    #: Called by the engine for each page it takes (the scheduler's accounting).
    on_take: Callable[[Span], None] = lambda span: None
    started: bool = False
    done: bool = False
    pages: int = 0
    last: KeyValue | None = None  # the key of the last record fetched

    @property
    def start(self) -> Any:
        return self.request.window.start

    def pages_left(self) -> float:
        """Pages still to fetch, at the pace so far (0 when that cannot be told)."""
        if self.done or not self.pages or self.last is None or self.start is None:
            return 0.0
        covered, left = _number(self.last - self.start), _number(self.end - self.last)
        if not covered:
            return 0.0
        return self.pages * (left / covered)

    def drain(self) -> Iterator[Page]:
        while (item := self.inbox.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            self.on_take(self)
            yield item


def _number(span: Any) -> float:
    """A span of keys as a number: seconds for instants and dates (pendulum's intervals and
    plain timedeltas do not divide each other), the count for integers."""
    return span.total_seconds() if hasattr(span, "total_seconds") else float(span)


class Scheduler:
    """``key_of`` reads a record's key (None: the stream is not sorted, spans are never
    split); ``request_for`` builds the request of a window split off; ``split_at`` picks a
    point strictly inside ``(low, high)`` or returns None."""

    def __init__(
        self,
        pool: Pool,
        workers: int,
        fetch: Fetch,
        *,
        key_of: Callable[[dict[str, Any]], KeyValue | None] | None,
        request_for: Callable[[Window], Request],
        split_at: Callable[[Any, Any], Any],
        halt: threading.Event | None = None,
    ) -> None:
        self._pool = pool
        self._workers = workers
        self._fetch = fetch
        self._key_of = key_of
        self._request_for = request_for
        self._split_at = split_at
        self._spans: list[Span] = []
        self._emitting = 0
        self._lock = threading.Condition()
        self._stop = False
        #: Set when the whole run stops (the tap failed): workers leave whatever they wait for.
        self._halt = halt or threading.Event()

    def spans(self, requests: list[Request]) -> Iterator[Span]:
        """The spans in key order, each to be drained before the next is asked for."""
        self._spans = [Span(r, r.window.end, on_take=self._taken) for r in requests]
        for _ in range(self._workers if self._key_of else min(self._workers, len(requests))):
            self._pool.submit(self._work)
        index = 0
        try:
            while True:
                with self._lock:
                    if index >= len(self._spans):
                        return
                    self._emitting = index
                    self._lock.notify_all()
                    span = self._spans[index]
                yield span
                index += 1
        finally:  # done, failed or closed early: workers finish the page they are on, then stop
            with self._lock:
                self._stop = True
                self._lock.notify_all()

    # -- workers ----------------------------------------------------------------------------

    def _work(self) -> None:
        while (span := self._next()) is not None:
            self._fill(span)

    def _next(self) -> Span | None:
        """The first span nobody fetches yet (within twice the workers ahead of the one being
        emitted, to bound memory), else a split of the longest-running one; None once all are
        done."""
        with self._lock:
            while not self._stop and not self._halt.is_set():
                waiting = next((s for s in self._spans if not s.started), None)
                if waiting is not None:
                    if self._spans.index(waiting) - self._emitting < 2 * self._workers:
                        waiting.started = True
                        return waiting
                elif (split := self._split()) is not None:
                    return split
                elif all(s.done for s in self._spans):
                    return None
                self._lock.wait(0.5)  # and look at the halt flag now and then
            return None

    def _split(self) -> Span | None:
        if self._key_of is None:
            return None
        victim = max(self._spans, key=Span.pages_left)
        if victim.pages_left() < MIN_PAGES_TO_SPLIT:
            return None
        mid = self._split_at(victim.last, victim.end)
        if mid is None:
            return None
        span = Span(
            self._request_for(Window(mid, victim.end)),
            victim.end,
            started=True,
            on_take=self._taken,
        )
        victim.end = mid
        self._spans.insert(self._spans.index(victim) + 1, span)
        return span

    def _fill(self, span: Span) -> None:
        try:
            for page in self._fetch(span.request):
                with self._lock:
                    passed = self._note(span, page)
                    self._lock.notify_all()
                if not self._hand_over(span, page) or passed or self._stop or self._halt.is_set():
                    break
        except BaseException as exc:  # raised where the engine emits this span
            self._hand_over(span, exc)
        finally:
            with self._lock:
                span.done = True
                self._lock.notify_all()
            self._hand_over(span, _DONE)

    def _hand_over(self, span: Span, item: Any) -> bool:
        """Queue a page (or the end, or a failure) for the engine, waiting while too many are
        queued (``_full``); False once the run stops (nobody will take it)."""
        is_page = isinstance(item, Page)
        with self._lock:
            while is_page and self._full(span):
                if self._stop or self._halt.is_set():
                    return False
                self._lock.wait(0.2)
            if self._stop or self._halt.is_set():
                return False
            if is_page:
                span.queued += 1
        span.inbox.put(item)
        return True

    def _full(self, span: Span) -> bool:
        if self._spans.index(span) == self._emitting:
            return span.queued >= PAGES_AHEAD  # the engine is taking these
        ahead = sum(s.queued for s in self._spans[self._emitting + 1 :])
        return ahead >= PAGES_AHEAD * self._workers

    def _taken(self, span: Span) -> None:
        with self._lock:
            span.queued -= 1
            self._lock.notify_all()

    def _note(self, span: Span, page: Page) -> bool:
        """Record the span's progress; whether this page reached its (maybe moved) end."""
        if self._key_of is None or not page.records:
            return False
        last = self._key_of(page.records[-1])
        if last is None:
            return False
        span.pages += 1
        span.last = last
        return bool(last >= span.end)
