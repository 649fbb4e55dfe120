"""``PoliteRESTStream``: the REST adapter of the sync engine.

Each window's bounds reach the request it builds as an argument (``request_params``), so
windows can be fetched from several threads at once; each thread has its own HTTP session.
Requests are paced under the API's limits (one shared throttle per budget), retried the way
the API asks (``Retry-After`` on 429, backoff on 5xx and dropped connections), and an OAuth
token the API refuses is renewed once.

A tap subclasses this once (its API's base stream: URL, auth, pagination, how bounds are
rendered into parameters) and each stream declares ``incremental`` and ``rate_limits``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import msgspec
import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.types import Context
from singer_sdk.pagination import SinglePagePaginator

from tapkit.auth import token_sent_with
from tapkit.http import RetryPolicy, error_detail, retry_after_seconds, scrub
from tapkit.incremental import Bound
from tapkit.progress import run_progress
from tapkit.stream import EngineStream
from tapkit.throttle import LeakyBucket, Limit, Throttle
from tapkit.transport import Page, Request, within_window

RETRIABLE_ERRORS = (
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


#: Renewals one request may ask for once the API has answered one of the run's tokens (so a 401
#: is an expiry): with requests in flight, a renewed token can expire again before this request's
#: retry reaches the API. Before any answer, a 401 is renewed once only.
MAX_EXPIRIES = 10


class UnauthorizedError(FatalAPIError):
    """A 401: fatal, unless the authenticator can renew its token."""

    def __init__(self, message: str, response: requests.Response) -> None:
        super().__init__(message)
        self.response = response


class PoliteRESTStream(EngineStream, RESTStream[Any]):
    #: The API's documented limits for this endpoint, e.g. ("75/s", "750/m").
    rate_limits: ClassVar[tuple[str, ...]] = ()
    #: Other limits some configurations of the endpoint have, by name; ``rate_limit_variant``
    #: picks one (e.g. Klaviyo's lower tier for profiles with predictive analytics).
    rate_limit_variants: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: How the API limits requests, when it is not by ``rate_limits`` (for the docs).
    rate_limit_description: ClassVar[str] = ""
    #: Parameters every first request carries (e.g. Shopify's ``status=any``).
    fixed_params: ClassVar[dict[str, str]] = {}
    #: Key of the records array in a response document (None: the document is the array).
    records_key: ClassVar[str | None] = "data"
    #: Waits go through here, so tests can record them instead of sleeping.
    sleep: Callable[[float], None] = staticmethod(time.sleep)

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

    @property
    def requests_session(self) -> requests.Session:
        """One session per thread (``requests.Session`` is not thread-safe), for the tap."""
        local: threading.local = self.shared("sessions", threading.local)
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        return session

    @property
    def throttle(self) -> Throttle | LeakyBucket | None:
        """Paces requests: the documented ``rate_limits`` by default; an API whose answers
        report a server-side bucket returns a ``shared`` ``LeakyBucket`` instead."""
        scale = self.rate_limit_scale
        variant = self.rate_limit_variant()
        limits = self.rate_limit_variants[variant] if variant else self.rate_limits
        if not limits or scale <= 0:
            return None
        return self.shared(
            self.rate_limit_key + (f"+{variant}" if variant else ""),
            lambda: Throttle(
                [Limit.parse(text).scaled(scale) for text in limits],
                sleep=self.sleep,
                headroom=self.max_concurrent_requests - 1,
            ),
        )

    def rate_limit_variant(self) -> str | None:
        """Which of ``rate_limit_variants`` this configuration is under (None: ``rate_limits``)."""
        return None

    @property
    def rate_limit_scale(self) -> float:
        return int(self.config.get("rate_limit_percent", 100)) / 100

    @property
    def rate_limit_key(self) -> str:
        """Requests sharing a key share a budget: by default, the endpoint path template."""
        return self.path or self.name

    def retry_wait(self, response: requests.Response) -> float | None:
        """Seconds a 429 asks to wait: ``Retry-After`` by default; an API that says it in
        another header (Pinterest's ``X-RateLimit-Reset``) overrides this."""
        return retry_after_seconds(response)

    def observe_response(self, response: requests.Response) -> None:
        """Called with every answer, refused ones included: override to read limit headers
        into the throttle or to check what the API says about itself (e.g. its version)."""

    # -- requests -----------------------------------------------------------------------------

    def request_params(
        self, context: Context | None, next_page_token: Any, bounds: tuple[Bound, ...]
    ) -> dict[str, Any]:
        """Query parameters of a page: the first page's carry ``bounds``, the window's range
        rendered by the stream's ``ApiFilter``; later pages usually only the cursor."""
        return {}

    def fetch(self, request: Request, context: Context | None) -> Iterator[Page]:
        """The window's pages, following the paginator; only the first for a probe."""
        paginator = self.get_new_paginator() or SinglePagePaginator()
        send = self.request_decorator(self._request)
        url = self.get_url(context)
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            while not paginator.finished:
                params = self.request_params(context, paginator.current_value, request.bounds)
                prepared = self.build_prepared_request(
                    method=self.http_method, url=url, params=params, headers=self.http_headers
                )
                response = send(prepared, context)
                counter.increment()
                self.update_sync_costs(prepared, response, context)
                records = list(self.parse_response(response))
                if not records and not paginator.continue_if_empty(response):
                    yield Page(records, answered_at(response))
                    return
                records, past_end = within_window(records, request)
                paginator.advance(response)
                more = not (paginator.finished or past_end)
                yield Page(records, answered_at(response), more=more)
                if request.first_page_only or not more:
                    return

    def send(
        self,
        method: str,
        url: str,
        context: Context | None,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """One request through the polite path (throttle, retries, token renewal, request
        counts), for a transport with its own page loop (OneTrust's continuation tokens,
        Pinterest's id batches) instead of a paginator."""
        prepared = self.build_prepared_request(
            method=method,
            url=url,
            params=params or {},
            headers={**self.http_headers, **(headers or {})},
            json=json,
        )
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            response = self.request_decorator(self._request)(prepared, context)
            counter.increment()
        self.update_sync_costs(prepared, response, context)
        return response

    def request_decorator(
        self, func: Callable[..., requests.Response]
    ) -> Callable[..., requests.Response]:
        policy = self.retry_policy
        tally = run_progress(self._tap).stream(self.name)  # counts every request sent

        def polite(
            prepared: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            failures = throttled = 0
            refused = expired = 0
            while True:
                if (throttle := self.throttle) is not None:
                    throttle.acquire()
                tally.request()
                try:
                    answer = func(prepared, context)
                    accepted = getattr(self.authenticator, "accepted", None)
                    if accepted is not None:
                        accepted()
                    return answer
                except UnauthorizedError:
                    authenticator = self.authenticator
                    renew = getattr(authenticator, "renew", None)
                    if renew is None:
                        raise
                    if getattr(authenticator, "answered", False):
                        expired += 1
                    else:
                        refused += 1
                    if refused > 1 or expired > MAX_EXPIRIES:
                        raise FatalAPIError(self._unauthorized_message(refused > 1)) from None
                    renew(token_sent_with(prepared))  # renews once, whichever thread asks first
                    tally.retry()
                    continue
                except RetriableAPIError as exc:
                    response = exc.response
                    if response is not None and response.status_code == 429:
                        throttled += 1
                        tally.throttle()  # every 429 answer, the last one too
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
                if self.halted.is_set():
                    raise FatalAPIError(f"{self.name}: stopped with the run; last error: {cause}")
                if failures >= policy.max_tries:
                    raise FatalAPIError(
                        f"{self.name}: giving up on {self.path} after {failures} attempts; last error: {cause}. "
                        "Raise max_retries or check that the API is reachable."
                    )
                wait = policy.backoff(failures)
                tally.retry()
                self.logger.warning(
                    "%s: attempt %d failed (%s); retrying in %.1f s",
                    self.name,
                    failures,
                    cause,
                    wait,
                )
                self.sleep(wait)

        return polite

    def _unauthorized_message(self, fresh_token_refused: bool) -> str:
        if fresh_token_refused:
            hint = getattr(self.authenticator, "rejected_hint", str)()
            text = f"{self.name}: 401 from {self.path} after renewing the token: {hint}"
        else:
            text = (
                f"{self.name}: 401 from {self.path} {MAX_EXPIRIES + 1} times in a row although the API "
                "accepted this client's tokens earlier in the run: the tokens were revoked, or the API "
                "grants them a lifetime shorter than a request takes. Check the credentials, or lower "
                "max_concurrent_requests."
            )
        return scrub(text, self._secrets())

    def _throttled_wait(
        self, response: requests.Response, policy: RetryPolicy, throttled: int
    ) -> float:
        wait = self.retry_wait(response)
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
        self.observe_response(response)
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status == 401:
            raise UnauthorizedError(self.response_error_message(response), response)
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
        document = self.document(response)
        records = document if self.records_key is None else document.get(self.records_key) or []
        yield from records

    @staticmethod
    def document(response: requests.Response) -> Any:
        """The answer's JSON, decoded once (by ``validate_response``)."""
        document = response.__dict__.get("tapkit_document")
        return msgspec.json.decode(response.content) if document is None else document

    def _secrets(self) -> list[str]:
        found = [str(self.config[name]) for name in self.secret_settings if self.config.get(name)]
        more = getattr(self.authenticator, "secrets", None)
        return found + (list(more()) if callable(more) else [])

    def backoff_handler(self, details: Any) -> None:  # unused: request_decorator retries itself
        self.log("retrying %s", self.path, level=logging.DEBUG)


def answered_at(response: requests.Response) -> datetime | None:
    """The server's clock when it answered (its ``Date`` header), if it said."""
    if date := response.headers.get("Date"):
        with contextlib.suppress(TypeError, ValueError):
            return parsedate_to_datetime(date)
    return None
