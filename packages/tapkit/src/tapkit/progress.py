"""What a run is doing, in words a console shows: progress lines while it runs, a summary
per stream at the end (also when it fails).

Meltano's default console prints a plugin's log message and drops its fields, so singer-sdk's
``METRIC`` lines show no stream.  Every line here carries what it is about in its text:

    events: window 2024-01-01T00:00:00Z..2024-02-01T00:00:00Z: 12,000 records, 3,950/s
    summary  stream   records  requests  retries  429s  duration  bookmark
    summary  events    50,000       501        2     1    12.3 s  2024-03-01T00:00:00+00:00

Progress lines come at most once per ``progress_interval_seconds`` per stream (0: none), from
the pages the engine emits.  Requests, retries and 429s are counted on the workers that send
them, records as the tap writes them: the counters are thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tapkit.windows import Window

#: Seconds between a stream's progress lines when the setting is not given.
DEFAULT_INTERVAL = 30

_lock = threading.Lock()


class StreamTally:
    """What one stream did in the run."""

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self.records = 0
        self.requests = 0
        #: Requests sent again after a 5xx, a timeout, a dropped connection or an expired
        #: token (not after a 429: those are ``throttled``).
        self.retries = 0
        self.throttled = 0
        #: Records the engine emitted, for progress lines (``records`` counts those written).
        self.emitted = 0
        self.first: float | None = None
        self.last: float | None = None
        self._line_at: float | None = None
        self._line_emitted = 0

    def _touch(self) -> float:
        now = self._clock()
        if self.first is None:
            self.first = now
        self.last = now
        return now

    def request(self) -> None:
        with self._lock:
            self.requests += 1
            self._touch()

    def retry(self) -> None:
        with self._lock:
            self.retries += 1

    def throttle(self) -> None:
        with self._lock:
            self.throttled += 1

    def record(self) -> None:
        with self._lock:
            self.records += 1
            self._touch()

    def emit(self, records: int, interval: float) -> float | None:
        """Count records the engine emitted; the rate since the stream's last progress line
        (or its start) when a line is due, else None."""
        with self._lock:
            self.emitted += records
            now = self._touch()
            assert self.first is not None
            elapsed = now - (self.first if self._line_at is None else self._line_at)
            if interval <= 0 or elapsed < interval:
                return None
            rate = (self.emitted - self._line_emitted) / elapsed
            self._line_at, self._line_emitted = now, self.emitted
            return rate

    @property
    def duration(self) -> float | None:
        return None if self.first is None or self.last is None else self.last - self.first


class WindowProgress:
    """The engine's view of one run of a stream (or partition): ``page`` after each page it
    emits, with the window the page belongs to."""

    def __init__(
        self, tally: StreamTally, label: str, interval: float, logger: logging.Logger
    ) -> None:
        self._tally = tally
        self._label = label
        self._interval = interval
        self._logger = logger
        self._window_start: Any = None
        self._in_window = 0
        self._total = 0

    def page(self, window: Window, records: int) -> None:
        if window.start != self._window_start:
            self._window_start, self._in_window = window.start, 0
        self._in_window += records
        self._total += records
        rate = self._tally.emit(records, self._interval)
        if rate is not None:
            self._logger.info("%s", self.line(window, rate))

    def line(self, window: Window, rate: float) -> str:
        text = f"{self._label}: {_window(window)}{self._in_window:,} records, {rate:,.0f}/s"
        if self._total != self._in_window:
            text += f" ({self._total:,} in all so far)"
        return text


@dataclass(frozen=True)
class Row:
    """A stream's line of the summary: its tally (None: it did nothing) and final bookmark."""

    name: str
    tally: StreamTally | None
    bookmark: str


class RunProgress:
    """The run's tallies, one per stream, and where their lines go."""

    def __init__(
        self,
        interval: float,
        logger: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.logger = logger
        self._clock = clock
        self.started = clock()
        self._tallies: dict[str, StreamTally] = {}
        self._lock = threading.Lock()

    def stream(self, name: str) -> StreamTally:
        tally = self._tallies.get(name)
        if tally is None:
            with self._lock:
                tally = self._tallies.setdefault(name, StreamTally(name, self._clock))
        return tally

    def tallies(self) -> list[StreamTally]:
        with self._lock:
            return list(self._tallies.values())

    def window_progress(self, name: str, context: Mapping[str, Any] | None) -> WindowProgress:
        label = name
        if context:
            label += " [" + ", ".join(f"{k}={v}" for k, v in context.items()) + "]"
        return WindowProgress(self.stream(name), label, self.interval, self.logger)

    def summary(self, rows: Iterable[Row], *, failed: bool) -> list[str]:
        """The summary's lines: a header, one per stream, the total."""
        rows = list(rows)
        table: list[tuple[str, ...]] = [
            ("stream", "records", "requests", "retries", "429s", "duration", "bookmark")
        ]
        for row in rows:
            t = row.tally
            counts = (t.records, t.requests, t.retries, t.throttled) if t else (0, 0, 0, 0)
            duration = t.duration if t else None
            table.append((row.name, *_counts(*counts), _seconds(duration), row.bookmark))
        tallies = [row.tally for row in rows if row.tally is not None]
        totals = (sum(getattr(t, field) for t in tallies) for field in _FIELDS)
        elapsed = self._clock() - self.started
        table.append(("total", *_counts(*totals), _seconds(elapsed), ""))
        widths = [max(len(line[i]) for line in table) for i in range(6)]
        title = "summary of the run until it failed" if failed else "summary of the run"
        lines = [f"{title}: {len(rows)} streams in {_seconds(elapsed)}"]
        for line in table:
            cells = [line[0].ljust(widths[0])] + [
                c.rjust(w) for c, w in zip(line[1:6], widths[1:], strict=True)
            ]
            lines.append(("summary  " + "  ".join(cells) + "  " + line[6]).rstrip())
        return lines

    def log_summary(self, rows: Iterable[Row], *, failed: bool) -> None:
        for line in self.summary(rows, failed=failed):
            self.logger.info("%s", line)


_FIELDS = ("records", "requests", "retries", "throttled")


def run_progress(tap: Any) -> RunProgress:
    """The tap's ``RunProgress``, made on first use (from any thread) with its settings."""
    found: RunProgress | None = tap.__dict__.get("_tapkit_progress")
    if found is None:
        with _lock:
            found = tap.__dict__.get("_tapkit_progress")
            if found is None:
                interval = tap.config.get("progress_interval_seconds")
                found = RunProgress(
                    DEFAULT_INTERVAL if interval is None else float(interval), tap.logger
                )
                tap.__dict__["_tapkit_progress"] = found
    return found


def bookmark(
    entry: Mapping[str, Any] | None, parse: Callable[[Any], Any] | None, incremental: bool
) -> str:
    """A stream's final bookmark from its state: the ``replication_key_value``, or the
    highest of its partitions' (``parse`` orders them: the key's ``from_state``)."""
    if not incremental:
        return "full table"
    entry = entry or {}
    partitions = entry.get("partitions")
    if partitions is None:
        value = entry.get("replication_key_value")
        return "none" if value in (None, "") else str(value)
    values = [
        p["replication_key_value"]
        for p in partitions
        if p.get("replication_key_value") not in (None, "")
    ]
    if not values:
        return f"none ({len(partitions)} partitions)"
    try:
        top = max(values, key=parse) if parse is not None else max(values)
    except (TypeError, ValueError):  # a value the key cannot read: the summary still prints
        top = max(values, key=str)
    of = f"{len(values)} of {len(partitions)}" if len(values) < len(partitions) else len(values)
    return f"{top} (the highest of {of} partitions)"


def _window(window: Window) -> str:
    start, end = window.start, window.end
    if start is None and end is None:
        return ""
    if end is None:
        return f"from {_key(start)}: "
    if start is None:
        return f"until {_key(end)}: "
    return f"window {_key(start)}..{_key(end)}: "


def _key(value: Any) -> str:
    if isinstance(value, datetime):  # to the second: a run's end is now, to the microsecond
        value = value.astimezone(UTC) if value.tzinfo else value
        return value.isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _counts(*values: int) -> tuple[str, ...]:
    return tuple(f"{v:,}" for v in values)


def _seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
