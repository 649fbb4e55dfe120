"""``PoliteRESTStream``: a singer-sdk REST stream that keeps its incremental contract, walks
backfill windows, paces itself under the API's limits and retries the way the API asks.

State is written by this class, not by singer-sdk's record-by-record progress markers:

- after each finished window the bookmark moves to the window's end (everything before it has
  been read), and a STATE message goes out, so an interrupted backfill resumes there; never
  past the server's clock (its ``Date`` when the window was read), so a local clock ahead of
  the server's cannot skip records the server has yet to write;
- after the last window it moves to the newest replication value seen (a server timestamp,
  so a fast local clock cannot push it past records not yet written), never backwards and
  never past the moment the sync started.

A tap subclasses this once (its API's base stream: URL, auth, pagination, how bounds are
rendered) and each stream declares ``incremental`` and ``rate_limits``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import msgspec
import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, InvalidRecord, RetriableAPIError
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers.types import Context
from singer_sdk.pagination import SinglePagePaginator
from singer_sdk.singerlib import RecordMessage

from tapkit.http import RetryPolicy, error_detail, retry_after_seconds, scrub
from tapkit.incremental import ApiFilter, Bound, Incremental
from tapkit.throttle import LeakyBucket, Limit, Throttle
from tapkit.timeformats import canonical, canonical_instant, parse_instant
from tapkit.validation import record_validator
from tapkit.windows import Window, walk


class InvalidRecordError(Exception):
    """A record the API sent does not match the stream's schema."""


RETRIABLE_ERRORS = (
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class PoliteRESTStream(RESTStream[Any]):
    #: The stream's incremental contract; None for a full-table stream.
    incremental: ClassVar[Incremental | None] = None
    #: The API's documented limits for this endpoint, e.g. ("75/s", "750/m").
    rate_limits: ClassVar[tuple[str, ...]] = ()
    #: Key of the records array in a response document (None: the document is the array).
    records_key: ClassVar[str | None] = "data"
    #: Settings whose values must never appear in messages.
    secret_settings: ClassVar[tuple[str, ...]] = ()
    #: Rewrite every top-level date-time field in UTC (an API writing local offsets, such as
    #: a shop's ``-05:00``): Postgres' ``timestamp`` drops an offset it is given, silently.
    utc_timestamps: ClassVar[bool] = False
    #: Waits go through here, so tests can record them instead of sleeping.
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        contract = cls.__dict__.get("incremental")
        if contract is not None:
            cls.replication_key = contract.replication_key  # type: ignore[method-assign]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bounds: list[Bound] = []
        self._newest: dict[str, str] = {}
        self._server_time: datetime | None = None  # Date of the window's first answer

    # -- settings -----------------------------------------------------------------------------

    @property
    def http_headers(self) -> dict[str, str]:
        """singer-sdk's, and the configured User-Agent; a tap adds its API's (auth, version)."""
        headers = dict(super().http_headers)
        if user_agent := self.config.get("user_agent"):
            headers["User-Agent"] = str(user_agent)
        return headers

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout_seconds", 60))

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_tries=int(self.config.get("max_retries", 8)),
            retry_after_cap=float(self.config.get("max_retry_after_seconds", 600)),
        )

    def api_filter(self, has_bookmark: bool) -> ApiFilter | None:
        """The filter for this run; override to apply settings such as a configured lookback."""
        return self.incremental.filter_for(has_bookmark) if self.incremental else None

    def window_length(self) -> timedelta | None:
        days = self.config.get("backfill_window_days")
        if days:
            return timedelta(days=int(days))
        return self.incremental.window if self.incremental else None

    @property
    def throttle(self) -> Throttle | LeakyBucket | None:
        """Paces requests: the documented ``rate_limits`` by default; an API whose answers
        report a server-side bucket returns a ``shared`` ``LeakyBucket`` instead."""
        scale = self.rate_limit_scale
        if not self.rate_limits or scale <= 0:
            return None
        return self.shared(
            self.rate_limit_key,
            lambda: Throttle(
                [Limit.parse(text).scaled(scale) for text in self.rate_limits], sleep=self.sleep
            ),
        )

    @property
    def rate_limit_scale(self) -> float:
        return int(self.config.get("rate_limit_percent", 100)) / 100

    def shared(self, key: str, make: Callable[[], Any]) -> Any:
        """One object per key for the whole tap (all streams and partitions)."""
        registry: dict[str, Any] = self._tap.__dict__.setdefault("_tapkit_shared", {})
        if key not in registry:
            registry[key] = make()
        return registry[key]

    def observe_response(self, response: requests.Response) -> None:
        """Called with every answer, refused ones included: override to read limit headers
        into the throttle or to check what the API says about itself (e.g. its version)."""

    @property
    def rate_limit_key(self) -> str:
        """Requests sharing a key share a budget: by default, the endpoint path template."""
        return self.path or self.name

    def _write_schema_message(self) -> None:
        """Once per run: singer-sdk would repeat it for every parent record of a child stream."""
        if not self.__dict__.get("_tapkit_schema_sent"):
            super()._write_schema_message()
            self.__dict__["_tapkit_schema_sent"] = True

    # -- records ------------------------------------------------------------------------------

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

    @property
    def current_bounds(self) -> list[Bound]:
        """The rendered range of the request being built (empty for full-table reads)."""
        return self._bounds

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if self.incremental is None:
            self._bounds = []
            yield from self.request_records(context)
            return
        state = self.get_context_state(context)
        has_bookmark = (
            bool(state.get("replication_key_value"))
            and state.get("replication_key") == self.replication_key
        )
        api_filter = self.api_filter(has_bookmark)
        start = self.get_starting_timestamp(context)
        signpost = self.get_replication_key_signpost(context)
        end = self._end(signpost)
        if api_filter is None:
            self._bounds = []
            yield from self._newer_than(self.request_records(context), start, end)
            self._finish(context, end)
            return
        length = self.window_length() if api_filter.bounded else None
        windows = walk(start, end, length) if start is not None else [Window(end, end)]
        for index, window in enumerate(windows):
            self._bounds = api_filter.bounds(
                window.start if start is not None else None, window.end
            )
            self._server_time = None
            records = self.request_records(context)
            if not api_filter.bounded and self.config.get("end_date"):
                records = self._newer_than(records, None, end)  # the API cannot stop at end_date
            yield from records
            if index < len(windows) - 1:
                self._advance(context, self._read_up_to(window.end))
        self._finish(context, end)

    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """singer-sdk's page loop, with the next page requested (in one background thread) as
        soon as this one's ``next`` link is known, while this page's records are processed:
        the API's latency and the tap's work overlap instead of adding up."""
        paginator = self.get_new_paginator() or SinglePagePaginator()
        request = self.request_decorator(self._request)

        def fetch() -> tuple[requests.PreparedRequest, requests.Response]:
            prepared = self._prepare_request(context=context, page=paginator)
            return prepared, request(prepared, context)

        with self.get_http_request_counter() as counter, ThreadPoolExecutor(1) as pool:
            counter.with_context(context)
            pending = None if paginator.finished else pool.submit(fetch)
            while pending is not None:
                prepared, response = pending.result()
                counter.increment()
                self.update_sync_costs(prepared, response, context)
                records = list(self.parse_response(response))
                if not records and not paginator.continue_if_empty(response):
                    return
                paginator.advance(response)
                pending = None if paginator.finished else pool.submit(fetch)
                yield from records

    def _read_up_to(self, window_end: datetime) -> datetime:
        """The window's end, or the server's time when it was read if that is earlier (a second
        early, for the Date header's precision): a record written after the read carries at
        least that time, so the next run still finds it."""
        server = self._server_time
        if server is None or server - timedelta(seconds=1) >= window_end:
            return window_end
        return server - timedelta(seconds=1)

    def _end(self, signpost: Any) -> datetime:
        now = signpost if isinstance(signpost, datetime) else datetime.now(UTC)
        configured = self.config.get("end_date")
        return min(parse_instant(configured), now) if configured else now

    def _newer_than(
        self, records: Iterable[dict[str, Any]], start: datetime | None, end: datetime | None
    ) -> Iterable[dict[str, Any]]:
        low = canonical(start) if start is not None else None
        high = canonical(end) if end is not None else None
        for record in records:
            value = self._replication_value(record)
            if value is None or ((low is None or value >= low) and (high is None or value < high)):
                yield record

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Keep the replication key in the one form state compares (UTC ISO 8601), and check the
        record against the stream's schema once, here, so the loader need not."""
        if self.replication_key and row.get(self.replication_key) is not None:
            row[self.replication_key] = canonical_instant(row[self.replication_key])
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

    def _replication_value(self, record: dict[str, Any]) -> str | None:
        value = record.get(self.replication_key or "")
        return None if value is None else canonical_instant(value)

    # -- state --------------------------------------------------------------------------------

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        """Track the newest value seen; the bookmark itself moves only at window ends."""
        if not self.replication_key:
            return
        value = self._replication_value(latest_record)
        key = _context_key(context)
        if value is not None and value > self._newest.get(key, ""):
            self._newest[key] = value

    def _advance(self, context: Context | None, moment: datetime | str) -> None:
        """Move the bookmark forward (never back) and emit STATE."""
        value = moment if isinstance(moment, str) else canonical(moment)
        state = self.get_context_state(context)
        if (
            state.get("replication_key") == self.replication_key
            and (state.get("replication_key_value") or "") >= value
        ):
            return
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = value
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _finish(self, context: Context | None, end: datetime) -> None:
        newest = self._newest.pop(_context_key(context), None)
        if newest is not None:
            self._advance(context, min(newest, canonical(end)))

    # -- HTTP ---------------------------------------------------------------------------------

    def request_decorator(
        self, func: Callable[..., requests.Response]
    ) -> Callable[..., requests.Response]:
        policy = self.retry_policy

        def polite(
            prepared: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            failures = throttled = 0
            while True:
                if (throttle := self.throttle) is not None:
                    throttle.acquire()
                try:
                    return func(prepared, context)
                except RetriableAPIError as exc:
                    response = exc.response
                    if response is not None and response.status_code == 429:
                        throttled += 1
                        wait = self._throttled_wait(response, policy, throttled)
                        self.logger.warning(
                            "%s: throttled (429); waiting %.1f s as the API asks", self.name, wait
                        )
                        self.sleep(wait)
                        continue
                    failures += 1
                    cause = str(exc)
                except RETRIABLE_ERRORS as exc:
                    failures += 1
                    cause = f"{type(exc).__name__}: {exc}"
                cause = scrub(cause, self._secrets())
                if failures >= policy.max_tries:
                    raise FatalAPIError(
                        f"{self.name}: giving up on {self.path} after {failures} attempts; last error: {cause}. "
                        "Raise max_retries or check that the API is reachable."
                    )
                wait = policy.backoff(failures)
                self.logger.warning(
                    "%s: attempt %d failed (%s); retrying in %.1f s",
                    self.name,
                    failures,
                    cause,
                    wait,
                )
                self.sleep(wait)

        return polite

    def _throttled_wait(
        self, response: requests.Response, policy: RetryPolicy, throttled: int
    ) -> float:
        wait = retry_after_seconds(response)
        if wait is None:
            wait = policy.backoff(throttled)
        if wait > policy.retry_after_cap:
            raise FatalAPIError(
                f"{self.name}: the API asks to wait {wait:.0f} s before retrying {self.path}, more than "
                f"max_retry_after_seconds ({policy.retry_after_cap:.0f}); a daily quota is probably used up. "
                "Run again later, or raise max_retry_after_seconds."
            )
        if throttled > policy.max_throttled:
            raise FatalAPIError(
                f"{self.name}: still throttled on {self.path} after {throttled} waits; giving up."
            )
        return wait

    def validate_response(self, response: requests.Response) -> None:
        if self._server_time is None and (date := response.headers.get("Date")):
            with contextlib.suppress(TypeError, ValueError):
                self._server_time = parsedate_to_datetime(date)
        self.observe_response(response)
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= 400:
            raise FatalAPIError(self.response_error_message(response))
        try:
            response.__dict__["tapkit_document"] = msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            message = f"{status} from {response.request.path_url.split('?')[0]} with a body that is not valid JSON ({len(response.content)} bytes)"
            raise RetriableAPIError(message, response) from None

    def response_error_message(self, response: requests.Response) -> str:
        path = (
            response.request.path_url.split("?")[0] if response.request is not None else self.path
        )
        text = f"{self.name}: {response.status_code} {response.reason} from {path}: {error_detail(response)}"
        hint = self.error_hint(response.status_code)
        return scrub(text + (f" {hint}" if hint else ""), self._secrets())

    def error_hint(self, status: int) -> str:
        """What the user should do about a fatal status; override per API."""
        if status in (401, 403):
            return "Check the API credentials in the tap's settings."
        return ""

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        document = response.__dict__.get("tapkit_document")
        if document is None:
            document = msgspec.json.decode(response.content)
        records = document if self.records_key is None else document.get(self.records_key) or []
        yield from records

    def _secrets(self) -> list[str]:
        return [str(self.config[name]) for name in self.secret_settings if self.config.get(name)]

    def backoff_handler(self, details: Any) -> None:  # unused: request_decorator retries itself
        self.log("retrying %s", self.path, level=logging.DEBUG)


def _without_nul(value: Any) -> Any:
    """U+0000 replaced by U+FFFD in every string and key, however deep."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def _context_key(context: Context | None) -> str:
    return msgspec.json.encode(dict(sorted((context or {}).items()))).decode()
