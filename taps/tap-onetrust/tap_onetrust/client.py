"""``OneTrustStream``: what every OneTrust stream shares.

The tenant's host, an OAuth client-credentials token (renewed when it expires), bounds
rendered as query parameters, and OneTrust's three ways of paging: 0-based Spring pages
(``page``/``size``), a continuation token sent back in the POST body (consent transactions),
and one sent back in a request header (data subjects v4).  Streams only declare.

Page-number paging shifts under the reader when a record before the current page is
deleted: the next page then starts one record late.  A page whose ``totalElements`` fell is
read again from the page before, so a deletion while reading loses no other record.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any, ClassVar

from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers.types import Context
from singer_sdk.schema.source import SchemaDirectory, StreamSchema

from tap_onetrust import schemas
from tapkit.auth import ClientCredentials
from tapkit.rest import PoliteRESTStream, answered_at
from tapkit.transport import Page, Request, within_window

TOKEN_PATH = "/api/access/v1/oauth/token"
CONTINUATION = "requestContinuation"
#: Reads of one window again after its total fell, before giving up (deletions keep coming).
MAX_REREADS = 20


class Paging(StrEnum):
    PAGES = "page and size"
    BODY_TOKEN = "continuation token in the POST body"
    HEADER_TOKEN = "continuation token in the requestContinuation header"


def tenant_url(config: dict[str, Any] | Any) -> str:
    """``base_url`` if set (a proxy, the sandbox), else ``https://<hostname>``."""
    if base := config.get("base_url"):
        return str(base).rstrip("/")
    host = str(config["hostname"]).strip().removeprefix("https://").removeprefix("http://")
    return f"https://{host.rstrip('/')}"


class OneTrustStream(PoliteRESTStream):
    schema = StreamSchema(SchemaDirectory(schemas))
    secret_settings = ("client_secret",)
    #: The consent APIs write instants without a zone (they are UTC), DSAR with ``Z``, history
    #: with microseconds: every one leaves the tap as UTC ISO 8601 with its offset.
    utc_timestamps = True
    records_key: ClassVar[str | None] = "content"
    #: OneTrust's documented limit per endpoint (a Sandbox tenant has a quarter of it:
    #: rate_limit_percent 25); the account's 200,000 an hour is far above what one tap sends.
    rate_limits: ClassVar[tuple[str, ...]] = ("1000/m",)
    paging: ClassVar[Paging] = Paging.PAGES
    #: The endpoint's largest ``size``.
    max_page_size: ClassVar[int] = 500
    #: ``sort`` sent with every request (None: the API's default order).
    sort: ClassVar[str | None] = None

    @property
    def url_base(self) -> str:
        return tenant_url(self.config)

    @property
    def authenticator(self) -> ClientCredentials:
        """One token for the whole tap, renewed once when the API says it expired."""
        url = f"{self.url_base}{TOKEN_PATH}"
        return self.shared(
            "oauth",
            lambda: ClientCredentials(
                self.config,
                token_url=url,
                timeout=float(self.config.get("request_timeout_seconds", 60)),
                logger=self.logger,
            ),
        )

    @property
    def page_size(self) -> int:
        return min(int(self.config.get("page_size") or self.max_page_size), self.max_page_size)

    def error_hint(self, status: int) -> str:
        if status == 401:
            return "Check client_id and client_secret: the OAuth client must belong to this tenant (hostname)."
        if status == 403:
            return (
                "The OAuth client lacks the scope this endpoint needs: DSAR_READ for DSAR streams, "
                "CONSENT_READ for consent streams. Grant it, or deselect the stream."
            )
        if status == 400:
            return "OneTrust refused the request's parameters: check start_date, end_date and the window settings."
        return ""

    def sort_for(self, request: Request) -> str | None:
        return self.sort

    def get_url(self, context: Context | None) -> str:
        """The path's ``{language}`` from the settings, the rest from the parent record."""
        return super().get_url(
            {"language": self.config.get("language", "en-us"), **(context or {})}
        )

    def first_params(self, request: Request, context: Context | None) -> dict[str, Any]:
        params: dict[str, Any] = {"size": self.page_size}
        if sort := self.sort_for(request):
            params["sort"] = sort
        params.update({bound.field: bound.value for bound in request.bounds})
        return params

    # -- paging -------------------------------------------------------------------------------

    def fetch(self, request: Request, context: Context | None) -> Iterator[Page]:
        if self.paging is Paging.PAGES:
            yield from self._numbered_pages(request, context)
        else:
            yield from self._continued_pages(request, context)

    def _numbered_pages(self, request: Request, context: Context | None) -> Iterator[Page]:
        params = self.first_params(request, context)
        number, total, rereads = 0, None, 0
        while True:
            response = self.send(
                self.http_method, self.get_url(context), context, params={**params, "page": number}
            )
            document = self.document(response)
            records, last, now_total = _spring_page(document, self.page_size)
            if total is not None and now_total is not None and now_total < total and number > 0:
                rereads += 1
                if rereads > MAX_REREADS:
                    raise FatalAPIError(
                        f"{self.name}: records kept being deleted while paging {self.path}; run again"
                    )
                self.logger.info(
                    "%s: %d record(s) deleted while paging; reading page %d again",
                    self.name,
                    total - now_total,
                    number - 1,
                )
                total, number = now_total, number - 1
                continue
            total = now_total
            records, past_end = within_window(records, request)
            more = not (last or past_end)
            yield Page(records, answered_at(response), more=more)
            if not more or request.first_page_only:
                return
            number += 1

    def _continued_pages(self, request: Request, context: Context | None) -> Iterator[Page]:
        params = self.first_params(request, context)
        token: str | None = None
        while True:
            headers: dict[str, str] = {}
            body: dict[str, Any] | None = None
            if self.paging is Paging.BODY_TOKEN:
                body = {CONTINUATION: token} if token else {}
            elif token:
                headers[CONTINUATION] = token
            response = self.send(
                self.http_method,
                self.get_url(context),
                context,
                params=params,
                json=body,
                headers=headers,
            )
            document = self.document(response)
            records = list(document.get("content") or [])
            pageable = document.get("pageable") or {}
            token = document.get(CONTINUATION) or pageable.get(CONTINUATION) or None
            more = bool(token) and not document.get("last", False) and bool(records)
            yield Page(records, answered_at(response), more=more)
            if not more or request.first_page_only:
                return


def _spring_page(document: Any, size: int) -> tuple[list[dict[str, Any]], bool, int | None]:
    """A page's records, whether it is the last, and ``totalElements``.  The specs' DSAR
    answers are bare arrays while the API sends Spring pages: both are read."""
    if isinstance(document, list):
        return document, len(document) < size, None
    records = list(document.get("content") or [])
    last = document.get("last")
    if last is None:
        last = len(records) < size
    total = document.get("totalElements")
    return records, bool(last) or not records, total if isinstance(total, int) else None
