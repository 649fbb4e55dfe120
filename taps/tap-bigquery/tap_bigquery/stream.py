"""A configured stream: a table or query read with exact incremental, in parallel slices.

A run of an incremental stream:

1. (before any stream starts) a dry run of its whole read: more than ``maximum_bytes_billed``
   fails the run before any query runs;
2. one query for the range: ``MIN``, ``MAX`` and ``COUNT`` of the key at or after the bookmark
   (``start_value`` on a first run), and with ``max_parallel_reads`` > 1 its quantiles.  ``MAX``
   is the run's upper bound: rows written while the run goes on, above it, wait for the next run;
3. ``[bookmark, upper]`` cut at the quantiles into at most ``max_parallel_reads`` slices of
   about equal rows (never more than one per ``page_size`` rows), each one query ordered by key
   and primary key, read concurrently by tapkit's scheduler and emitted in key order;
4. STATE after each page (the last key emitted: every row before it is out), at each slice's
   end (its edge), and at the end the upper bound.  Killed at any moment, the next run starts at
   the last STATE and reads every row at or after it.

The bookmark's own value is read again on purpose (``>=``): a row written later with exactly
that value (an update in the same instant, a late insert) is not lost; the loader's upsert
absorbs the rows read twice.  A stream without a replication key is read whole, every run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context

from tap_bigquery.client import BigQueryError, Connection, translated
from tap_bigquery.keys import KeyType
from tap_bigquery.query import Range, Source, key_stats, rows
from tap_bigquery.schema import record_converter
from tapkit.incremental import Incremental
from tapkit.pool import WorkerPool
from tapkit.progress import run_progress
from tapkit.scheduler import Scheduler
from tapkit.stream import EngineStream
from tapkit.transport import Page, Request
from tapkit.windows import Window


@dataclass(frozen=True)
class StreamSpec:
    """One entry of the ``streams`` setting, its table resolved to ``project.dataset.table``."""

    name: str
    source: Source
    replication_key: str | None = None
    primary_keys: tuple[str, ...] = ()
    start_value: Any = None


class BigQueryStream(EngineStream):
    """Subclassed once per configured stream (``stream_class``)."""

    spec: ClassVar[StreamSpec]
    key_type: ClassVar[KeyType | None] = None

    @property
    def connection(self) -> Connection:
        return self._tap.connection  # type: ignore[attr-defined]

    @property
    def max_concurrent_requests(self) -> int:
        return int(self.config.get("max_parallel_reads") or 1)

    def _what(self) -> str:
        return f"stream {self.name}"

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        source = self.spec.source
        convert = record_converter(self._fields) or (lambda row: row)
        key, key_type = self.spec.replication_key, self.key_type
        order = tuple(k for k in (key, *self.spec.primary_keys) if k is not None)
        config = self.config
        if key is None or key_type is None:
            with translated(self._what(), config):
                for page in self.connection.pages(rows(source, order_by=order)):
                    yield from map(convert, page)
            return
        lower = self._lower(key_type)
        windows = self._slices(key, key_type, lower)
        if not windows:
            return  # nothing at or after the bookmark
        upper = windows[-1].end

        def fetch(request: Request) -> Iterator[Page]:
            window = request.window
            query = rows(
                source,
                key=key,
                key_type=key_type,
                window=Range(window.start, window.end, inclusive=window.end == upper),
                order_by=order,
            )
            tally = run_progress(self._tap).stream(self.name)
            with translated(self._what(), config):
                tally.request()
                for page in self.connection.pages(query):
                    yield Page([convert(row) for row in page], more=True)

        yield from self._emit(windows, fetch, key, key_type, context)

    def _emit(
        self,
        windows: list[Window],
        fetch: Any,
        key: str,
        key_type: KeyType,
        context: Context | None,
    ) -> Iterator[dict[str, Any]]:
        """The slices' records in key order; the bookmark after each page and slice."""
        kind = key_type.kind
        workers = self.max_concurrent_requests
        pool: WorkerPool = self.shared("pool", lambda: WorkerPool(workers, "tap-bigquery"))
        scheduler = Scheduler(
            pool,
            workers,
            fetch,
            key_of=None,  # never split a slice: each split would be one more billed query
            request_for=lambda window: Request(window, ()),
            split_at=lambda low, high: None,
        )
        progress = run_progress(self._tap).window_progress(self.name, context)
        advance = self._advancer(context)
        try:
            for span in scheduler.spans([Request(w, ()) for w in windows]):
                window = span.request.window
                for page in span.drain():
                    yield from page.records
                    progress.page(window, len(page.records))
                    if page.records and page.records[-1].get(key) is not None:
                        advance(kind.from_record(page.records[-1][key]))
                advance(window.end)  # the slice is out: every key below its edge (or upper)
        except Exception:
            self.halted.set()
            raise

    def _advancer(self, context: Context | None) -> Any:
        def advance(value: Any) -> None:
            self._advance(context, None, value)

        return advance

    # -- the run's range ------------------------------------------------------------------------

    def _lower(self, key_type: KeyType) -> Any:
        """The bookmark, else ``start_value``, else None (from the lowest key)."""
        state = self.get_context_state(None)
        bookmark = state.get("replication_key_value")
        if bookmark not in (None, "") and state.get("replication_key") == self.replication_key:
            return key_type.kind.from_state(bookmark)
        if self.spec.start_value not in (None, ""):
            return key_type.parse(self.spec.start_value)
        return None

    def _slices(self, key: str, key_type: KeyType, lower: Any) -> list[Window]:
        """``[lower, upper]`` in slices cut at key values (the last ends at ``upper``, the
        ``MAX`` read now), or none when no row has a key at or after ``lower``."""
        wanted = self.max_concurrent_requests
        with translated(self._what(), self.config):
            stats = self.connection.one_row(
                key_stats(self.spec.source, key, key_type, lower, parts=wanted)
            )
        if stats.get("high") is None:
            return []
        upper = key_type.parse(stats["high"])
        start = lower if lower is not None else key_type.parse(stats["low"])
        count = min(wanted, max(1, int(stats.get("count") or 0) // self.connection.page_size))
        raw = stats.get("edges") or []
        picked = (
            [raw[round(i * (len(raw) - 1) / count)] for i in range(1, count)] if count > 1 else []
        )
        edges = sorted({key_type.edge(key_type.parse(v)) for v in picked if v is not None})
        edges = [e for e in edges if start < e < upper]  # upper ends the last slice only
        bounds = [lower, *edges, upper]
        return [Window(a, b) for a, b in itertools.pairwise(bounds)]

    def check_bytes(self) -> None:
        """With ``maximum_bytes_billed``: a dry run of the run's whole read (before any stream
        starts), refused when BigQuery would bill more."""
        limit = self.connection.maximum_bytes_billed
        if not limit:
            return
        source, key, key_type = self.spec.source, self.spec.replication_key, self.key_type
        if key is not None and key_type is not None:
            window = Range(self._lower(key_type), None)
            query = rows(source, key=key, key_type=key_type, window=window)
        else:
            query = rows(source)
        with translated(self._what(), self.config):
            scanned = self.connection.dry_run(query)
        if scanned > limit:
            raise BigQueryError(
                f"{self._what()}: the query would process {scanned:,} bytes, more than "
                f"maximum_bytes_billed ({limit:,}); nothing was run. Raise the setting, read "
                "fewer columns, or filter on the table's partitioning column"
            )

    @property
    def _fields(self) -> list[Any]:
        return self._tap.discovered_fields[self.name]  # type: ignore[attr-defined]


def stream_class(spec: StreamSpec, key_type: KeyType | None) -> type[BigQueryStream]:
    """The stream class of one configured stream."""
    attributes: dict[str, Any] = {"name": spec.name, "spec": spec, "key_type": key_type}
    if spec.replication_key is not None and key_type is not None:
        attributes["incremental"] = Incremental(
            spec.replication_key, key=key_type.kind, sorted=True
        )
    return type(f"BigQueryStream_{spec.name}", (BigQueryStream,), attributes)
