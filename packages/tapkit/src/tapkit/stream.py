"""``EngineStream``: a singer-sdk stream whose records come from the sync engine.

Transport-agnostic: a REST stream (``tapkit.rest``) or a SQL stream implements ``fetch``
(the pages of one window, whose bounds arrive as its argument); this class turns the
stream's declarations and its state into the engine's ``Plan``, writes STATE when the engine
moves the watermark, and emits records the way a loader wants them (validated once, the
replication key in its canonical form, NULs replaced on request).

State is written here, not by singer-sdk's record-by-record progress markers: see
``tapkit.engine`` for when the watermark moves.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Generator, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar

import msgspec
from singer_sdk import Stream
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.helpers.types import Context
from singer_sdk.singerlib import RecordMessage

from tapkit.engine import Engine, Plan
from tapkit.incremental import ApiFilter, Incremental
from tapkit.keys import ISO_INSTANT, Instant, Integer, KeyValue
from tapkit.pool import WorkerPool
from tapkit.progress import run_progress
from tapkit.sdk_private import pop_deselected_record_properties
from tapkit.settings import parse_duration
from tapkit.timeformats import canonical_instant
from tapkit.transport import Page, Request
from tapkit.validation import record_validator
from tapkit.windows import WindowPolicy


class InvalidRecordError(Exception):
    """A record the API sent does not match the stream's schema."""


#: Used when a tap's settings do not say (``max_concurrent_requests``).
DEFAULT_CONCURRENCY = 1
#: In a stream's state while a resumable first load is unfinished: when it began.
BACKFILL_STARTED = "backfill_started_at"


class EngineStream(Stream):
    #: The stream's incremental contract; None for a full-table stream.
    incremental: ClassVar[Incremental | None] = None
    #: Settings whose values must never appear in messages.
    secret_settings: ClassVar[tuple[str, ...]] = ()
    #: Rewrite every top-level date-time field in UTC (an API writing local offsets, such as
    #: a shop's ``-05:00``): Postgres' ``timestamp`` drops an offset it is given, silently.
    utc_timestamps: ClassVar[bool] = False
    #: The setting (and its default duration, e.g. ``"1h"``) that widens a run's start from
    #: its bookmark, for late arrivals.
    lookback_setting: ClassVar[tuple[str, str] | None] = None
    #: Context keys of the stream's partitions (e.g. ``("list_id",)``), for the docs.
    partitioned_by: ClassVar[tuple[str, ...]] = ()
    #: Where a stream that makes no request of its own gets its records, for the docs.
    derived_from: ClassVar[str | None] = None
    #: The setting (and its unit) that sets this stream's window length, e.g.
    #: ``("consent_window_hours", timedelta(hours=1))``; checked against the API's maximum
    #: before any request.  It takes precedence over ``backfill_window_days``.
    window_setting: ClassVar[tuple[str, timedelta] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        contract = cls.__dict__.get("incremental")
        if contract is not None:
            cls.replication_key = contract.replication_key  # type: ignore[method-assign]

    # -- the transport's part ---------------------------------------------------------------

    def fetch(self, request: Request, context: Context | None) -> Iterable[Page]:
        """The pages of one window, in order.  Runs on a worker thread: everything it needs
        arrives as arguments, and what it shares with other windows must be thread-safe."""
        raise NotImplementedError

    def fetcher(self, context: Context | None) -> Callable[[Request], Iterable[Page]]:
        """``fetch`` for this run of the stream (or partition), called on the calling thread
        before any request: a stream that must look something up once per run (Pinterest's
        entity ids) does it here and passes it to its fetch as an argument."""
        return partial(self.fetch, context=context)

    # -- settings -----------------------------------------------------------------------------

    def api_filter(self, has_bookmark: bool) -> ApiFilter | None:
        """The filter for this run: with a bookmark, widened by ``lookback_setting``."""
        found = self.incremental.filter_for(has_bookmark) if self.incremental else None
        if found is None or not has_bookmark or self.lookback_setting is None:
            return found
        setting, default = self.lookback_setting
        given = self.config.get(setting)
        return found.with_lookback(parse_duration(default if given in (None, "") else given))

    def window_policy(self) -> WindowPolicy:
        """The contract's windows, shortened by ``backfill_window_days`` if set (checked
        against the API's maximum before any request, see ``PoliteTap``)."""
        assert self.incremental is not None
        policy = self.incremental.windows
        if self.window_setting is not None and self.config.get(self.window_setting[0]):
            name, unit = self.window_setting
            return policy.with_length(unit * int(self.config[name]), setting=name)
        days = self.config.get("backfill_window_days")
        if days and not isinstance(self.incremental.key, Integer):
            return policy.with_length(timedelta(days=int(days)))
        return policy

    @property
    def max_concurrent_requests(self) -> int:
        return int(self.config.get("max_concurrent_requests") or DEFAULT_CONCURRENCY)

    def shared(self, key: str, make: Callable[[], Any]) -> Any:
        """One object per key for the whole tap (all streams and partitions)."""
        registry: dict[str, Any] = self._tap.__dict__.setdefault("_tapkit_shared", {})
        if key not in registry:
            registry[key] = make()
        return registry[key]

    @property
    def engine(self) -> Engine:
        """One thread pool serves the whole run; its size bounds requests in flight."""
        workers = self.max_concurrent_requests
        pool = self.shared("pool", lambda: WorkerPool(workers))
        return Engine(pool, workers, self.halted)

    @property
    def halted(self) -> threading.Event:
        """Set when the run ends, however: workers and retries still going stop."""
        event: threading.Event = self.shared("halt", threading.Event)
        return event

    # -- versions: what a whole read tells the loader -----------------------------------------

    @property
    def emit_activate_version_messages(self) -> bool:
        """Off for singer-sdk's own (one ACTIVATE_VERSION before a full-table read): ``sync``
        frames every whole read itself, before and after, so a loader retires older rows only
        once the read is complete."""
        return False

    # singer-sdk marks ``sync`` final; this wraps it (calling it unchanged) to frame the read.
    def sync(self, context: Context | None = None) -> None:  # type: ignore[misc]
        if self.parent_stream_type is not None:  # framed by the top-level stream's sync
            super().sync(context)
            return
        framed = (
            self._whole_reads() if self.config.get("emit_activate_version_messages", True) else []
        )
        version = time.time_ns() // 1_000_000  # milliseconds: two runs a second apart differ
        for stream in framed:
            stream._stream_version = version
            stream._write_schema_message()  # loaders want a stream's SCHEMA first (sent once)
            stream._write_activate_version_message(version)
        super().sync(context)
        for stream in framed:
            stream._write_activate_version_message(version)

    def _whole_reads(self) -> list[EngineStream]:
        """This stream and its descendants whose run reads every record the source has (from
        ``start_date`` on): a child only under a parent read whole."""
        if not self.reads_whole():
            return []
        found = [self] if self.selected else []
        for child in self.child_streams:
            if isinstance(child, EngineStream):
                found += child._whole_reads()
        return found

    def reads_whole(self) -> bool:
        """Full-table streams always; incremental ones when no partition has a bookmark (the
        first run, ``--full-refresh``, cleared state) and nothing bounds the read."""
        if self.incremental is None:
            return True
        if self.config.get("end_date") or self.config.get("reread_last_days"):
            return False
        entry = (self.tap_state.get("bookmarks") or {}).get(self.name) or {}
        states = [entry, *entry.get("partitions", [])]
        return all(s.get("replication_key_value") in (None, "") for s in states)

    # -- records ------------------------------------------------------------------------------

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        inline = self.parent_stream_type is not None  # read per parent record: no overlap
        fetch = self.fetcher(context)
        plan = self.plan(context)
        backfill = self._backfill_started(context, plan)
        try:
            yield from self.engine.run(
                plan,
                fetch,
                partial(self._advance, context, backfill),
                inline=inline,
                progress=run_progress(self._tap).window_progress(self.name, context),
            )
        except Exception:
            self.halted.set()  # the run fails: fetching workers and retries still going stop
            raise
        if backfill is not None:
            self._finish_backfill(context, backfill)

    def plan(self, context: Context | None) -> Plan:
        """This run of the stream (or partition): from its bookmark or ``start_date`` to
        ``end_date`` or now."""
        contract = self.incremental
        if contract is None:
            return Plan(ISO_INSTANT, "", None, None, None)
        state = self.get_context_state(context)
        bookmark = state.get("replication_key_value")
        has_bookmark = (
            bookmark not in (None, "") and state.get("replication_key") == self.replication_key
        )
        # an unfinished resumable first load goes on from its last window, by the same filter
        backfilling = has_bookmark and bool(state.get(BACKFILL_STARTED))
        key = contract.key
        now = datetime.now(UTC)
        start = (
            key.from_state(bookmark)  # type: ignore[arg-type]
            if has_bookmark
            else key.start(self.config.get("start_date"))
        )
        api_filter = self.api_filter(has_bookmark and not backfilling)
        reread = self.config.get("reread_last_days")
        if reread and isinstance(key, Instant):
            # a reconcile: the last days again with the incremental filter, whatever the
            # bookmark (``_advance`` never moves one back)
            floor = key.start(self.config.get("start_date"))
            start = now - timedelta(days=int(reread))
            start = max(start, floor) if floor is not None else start
            api_filter = contract.filter_for(True)
        end = key.run_end(now, self.config.get("end_date"))
        workers = self.max_concurrent_requests
        return Plan(
            key,
            contract.replication_key,
            api_filter,
            start,
            end,
            self.window_policy(),
            contract.sorted,
            slices=workers,
            primary_keys=tuple(self.primary_keys or ()),
        )

    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[RecordMessage, None, None]:
        """singer-sdk's, minus two walks over every record that change nothing here: popping
        deselected properties when none is deselected, and conforming types of a record that
        already passed the schema (JSON from an API has JSON types). Unknown top-level fields
        are still dropped, as singer-sdk's conformance would."""
        if not self.config.get("validate_records", True):
            yield from super()._generate_record_messages(record)
            return
        if self.__dict__.get("_tapkit_all_selected") is None:
            self.__dict__["_tapkit_all_selected"] = all(self.mask.values())
            self.__dict__["_tapkit_known"] = frozenset(self.schema.get("properties", {}))
        if not self.__dict__["_tapkit_all_selected"]:
            pop_deselected_record_properties(record, self.schema, self.mask)
        if unknown := record.keys() - self.__dict__["_tapkit_known"]:
            for key in unknown:
                del record[key]
            if not self.__dict__.get("_tapkit_warned_unknown"):
                self.__dict__["_tapkit_warned_unknown"] = True
                self.logger.warning(
                    "%s: the API sent fields the schema does not have, left out: %s",
                    self.name,
                    ", ".join(sorted(unknown)),
                )
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=datetime.now(UTC),
                )

    def _write_schema_message(self) -> None:
        """Once per run: singer-sdk would repeat it for every parent record of a child stream."""
        if not self.__dict__.get("_tapkit_schema_sent"):
            super()._write_schema_message()
            self.__dict__["_tapkit_schema_sent"] = True

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """An ISO replication key in the one form state compares (UTC ISO 8601; other kinds
        stay as the API wrote them), and the record checked against the stream's schema once,
        here, so the loader need not."""
        key = self.replication_key
        if key and row.get(key) is not None and self._key_is_iso:
            row[key] = canonical_instant(row[key])
        if self.utc_timestamps:
            for name in self._date_time_fields:
                # A value that is not a date-time stays as sent: validation names it.
                if isinstance(row.get(name), str):
                    with contextlib.suppress(ValueError):
                        row[name] = canonical_instant(row[name])
        if self.config.get("replace_nul_characters") and b"\\u0000" in msgspec.json.encode(row):
            row = _without_nul(row)
        if self.config.get("validate_records", True):
            self._validate(row)
        return row

    @property
    def _key_is_iso(self) -> bool:
        kind = self.incremental.key if self.incremental else None
        return isinstance(kind, Instant) and kind.record_format is None

    @property
    def _date_time_fields(self) -> tuple[str, ...]:
        fields = self.__dict__.get("_tapkit_date_times")
        if fields is None:
            properties = self.schema.get("properties", {})
            fields = tuple(n for n, p in properties.items() if p.get("format") == "date-time")
            self.__dict__["_tapkit_date_times"] = fields
        return fields

    def _validate(self, row: dict[str, Any]) -> None:
        validator = self.__dict__.get("_tapkit_validator")
        if validator is None:
            validator = self.__dict__["_tapkit_validator"] = record_validator(self.schema)
        try:
            validator(row)
        except InvalidRecord as exc:
            key = {k: row.get(k) for k in self.primary_keys or []}
            raise InvalidRecordError(
                f"{self.name}: record {key} does not match the stream's schema: {exc}. "
                "The API sent a shape the tap does not expect: report it, or set validate_records: false to load it as is."
            ) from None

    # -- state --------------------------------------------------------------------------------

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        """Nothing: the engine moves the bookmark (``_advance``), not each record."""

    def _advance(self, context: Context | None, backfill: Any, value: KeyValue) -> None:
        """Move the bookmark to ``value`` (never back) and emit STATE; during a resumable
        first load (``backfill``: when it began), the state also says it is unfinished."""
        assert self.incremental is not None
        kind = self.incremental.key
        state = self.get_context_state(context)
        current = state.get("replication_key_value")
        if (
            state.get("replication_key") == self.replication_key
            and current not in (None, "")
            and kind.from_state(current) >= value
        ):
            return
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = kind.to_state(value)
        if backfill is not None:
            state[BACKFILL_STARTED] = kind.to_state(backfill)
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _backfill_started(self, context: Context | None, plan: Plan) -> Any:
        """When this run's resumable first load began (an earlier run's, if it is resumed);
        None when the run is not one."""
        contract = self.incremental
        if (
            contract is None
            or not contract.resumable_backfill
            or contract.historical_filter is None
        ):
            return None
        if self.config.get("reread_last_days") or plan.api_filter is not contract.historical_filter:
            return None
        started = self.get_context_state(context).get(BACKFILL_STARTED)
        if started:
            return contract.key.from_state(started)
        return plan.end if plan.end is not None else datetime.now(UTC)

    def _finish_backfill(self, context: Context | None, started: Any) -> None:
        """The first load is complete: the bookmark becomes an ordinary one, no later than
        when the load began, so what changed while it ran (in windows read before the change,
        perhaps by an earlier run) is read by the next run's incremental filter."""
        assert self.incremental is not None
        kind = self.incremental.key
        state = self.get_context_state(context)
        current = state.get("replication_key_value")
        if current in (None, ""):
            state.pop(BACKFILL_STARTED, None)
            return
        state["replication_key_value"] = kind.to_state(min(kind.from_state(current), started))
        state.pop(BACKFILL_STARTED, None)
        self.state_manager.is_flushed = False
        self._write_state_message()


def _without_nul(value: Any) -> Any:
    """U+0000 replaced by U+FFFD in every string and key, however deep."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value
