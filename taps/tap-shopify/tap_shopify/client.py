"""``ShopifyStream``: what every Shopify REST stream shares.

The shop's versioned base URL and token header, ``Link`` pagination that sends only
``page_info`` and ``limit`` after the first page (Shopify refuses filters next to page_info),
bounds rendered as ``*_min``/``*_max`` parameters, and a leaky bucket fed by the
``X-Shopify-Shop-Api-Call-Limit`` header of every answer.  Streams only declare.

A stream with an ``event_subject`` (orders, products) also reads the ``destroy`` events of its
subject for the run's range, before its records, and emits each deleted id as a record with
``_sdc_deleted_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import ParseResult, parse_qsl

import requests
from singer_sdk.helpers.types import Context
from singer_sdk.pagination import HeaderLinkPaginator
from singer_sdk.schema.source import SchemaDirectory, StreamSchema

from tap_shopify import schemas
from tapkit.incremental import ApiFilter, Bound, Incremental, Op
from tapkit.rest import PoliteRESTStream
from tapkit.throttle import LeakyBucket
from tapkit.timeformats import iso8601_with_offset

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
VERSION_HEADER = "X-Shopify-API-Version"
MAX_PAGE_SIZE = 250
#: Shopify reads any ISO 8601 offset; UTC keeps requests readable next to the state.
SHOPIFY_TIME = iso8601_with_offset("UTC")
DELETED_AT = "_sdc_deleted_at"
#: Shopify writes an event "a few seconds, in rare cases a few minutes" after the action: the
#: deletion read starts this much before the run's start, so a late event is not passed over.
EVENT_DELAY = timedelta(minutes=10)


def updated_since(*, bounded: bool = True) -> Incremental:
    """``updated_at`` kept in state; ``updated_at_min`` (and ``_max``), both inclusive."""
    return Incremental(
        "updated_at",
        ApiFilter(
            "updated_at_min",
            Op.GTE,
            SHOPIFY_TIME,
            upper_field="updated_at_max" if bounded else None,
            upper_op=Op.LTE,
        ),
    )


class ShopifyStream(PoliteRESTStream):
    schema = StreamSchema(SchemaDirectory(schemas))
    secret_settings = ("access_token",)
    # Shopify writes the shop's offset. Our target-postgres keeps instants either way; MeltanoLabs'
    # (the project's alternative) with use_copy drops offsets: tests/test_loaders.py shows it.
    utc_timestamps = True
    records_key: ClassVar[str | None] = None  # set per stream: the envelope key
    rate_limit_description = "the shop's bucket (40, leaking `calls_per_second`), read from `X-Shopify-Shop-Api-Call-Limit`"
    #: Whether the endpoint pages with ``Link`` headers (locations does not).
    paged: ClassVar[bool] = True
    #: The Events API's subject type of the stream's records (``Order``): its ``destroy``
    #: events become records with ``_sdc_deleted_at``. None: the API has no events for them.
    event_subject: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("records_key") is None and "name" in cls.__dict__:
            cls.records_key = cls.__dict__["name"]

    @property
    def url_base(self) -> str:
        return f"{shop_url(self.config)}/admin/api/{self.config['api_version']}"

    @property
    def http_headers(self) -> dict[str, str]:
        return {**super().http_headers, "X-Shopify-Access-Token": str(self.config["access_token"])}

    @property
    def throttle(self) -> LeakyBucket | None:
        """One bucket per shop, mirrored from the call-limit header (not fixed limits)."""
        scale = self.rate_limit_scale
        if scale <= 0:
            return None
        leak = float(self.config.get("calls_per_second", 2)) * scale
        # room for every request in flight, and a little for the shop's other apps
        headroom = self.max_concurrent_requests + 2
        return self.shared(
            "shop-bucket", lambda: LeakyBucket(40, leak, headroom=headroom, sleep=self.sleep)
        )

    def observe_response(self, response: requests.Response) -> None:
        used, _, size = (response.headers.get(CALL_LIMIT_HEADER) or "").partition("/")
        if used.isdigit() and size.isdigit() and (bucket := self.throttle) is not None:
            bucket.report(int(used), int(size))
        served = response.headers.get(VERSION_HEADER)
        wanted = str(self.config["api_version"])
        if served and served != wanted and not self._tap.__dict__.get("_version_warned"):
            self._tap.__dict__["_version_warned"] = True
            self.logger.warning(
                "Shopify served API version %s, not the configured api_version %s: %s is "
                "no longer supported and requests fall forward to the oldest supported version. "
                "Set api_version to %s or later (check the stream schemas against its release notes).",
                served,
                wanted,
                wanted,
                served,
            )

    def error_hint(self, status: int) -> str:
        if status == 401:
            return (
                "Check access_token: it must be an Admin API access token (shpat_...) of this shop."
            )
        if status == 403:
            return "The app's token lacks the read scope named above; grant it in the app's configuration."
        if status in (400, 422):
            return "Shopify refused the request's parameters: check start_date, end_date and api_version."
        if status == 404:
            return "Check shop and api_version: the shop or the version's endpoint was not found."
        return ""

    # -- deletions ----------------------------------------------------------------------------

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if self.event_subject is not None:
            yield from self.deleted_records(context)
        yield from super().get_records(context)

    def deleted_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """``{key: id, _sdc_deleted_at: event's created_at}`` per id destroyed in the run's
        range (from the incremental read's start, less ``EVENT_DELAY``, to the run's end).

        Read before the range's records: the bookmark those move never passes a deletion not
        yet emitted, and a run killed at any point reads the deletions again from its last
        bookmark. Only the engine's records move the bookmark, so these never do."""
        plan = self.plan(context)
        params: dict[str, Any] = {
            "filter": self.event_subject,
            "verb": "destroy",
            "limit": int(self.config.get("page_size", MAX_PAGE_SIZE)),
        }
        if plan.keep_from is not None:
            params["created_at_min"] = SHOPIFY_TIME.render(
                SHOPIFY_TIME.floor(plan.keep_from - EVENT_DELAY)
            )
        if plan.end is not None:
            params["created_at_max"] = SHOPIFY_TIME.render(SHOPIFY_TIME.ceil(plan.end))
        deleted: dict[Any, str] = {}
        for event in self._events(params, context):
            if event.get("verb") == "destroy" and event.get("subject_type") == self.event_subject:
                deleted[event["subject_id"]] = event["created_at"]  # ids are not reused
        (key,) = self.primary_keys or ("id",)
        for subject_id, moment in deleted.items():
            yield {key: subject_id, DELETED_AT: moment}

    def _events(self, params: dict[str, Any], context: Context | None) -> Iterator[dict[str, Any]]:
        """Every event the parameters select, following ``Link`` pages (``page_info`` only)."""
        url = f"{self.url_base}/events.json"
        paginator = HeaderLinkPaginator()
        send = self.request_decorator(self._request)
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            while not paginator.finished:
                page = paginator.current_value
                query = dict(parse_qsl(page.query, keep_blank_values=True)) if page else params
                prepared = self.build_prepared_request(
                    method="GET", url=url, params=query, headers=self.http_headers
                )
                response = send(prepared, context)
                counter.increment()
                yield from self.document(response).get("events") or []
                paginator.advance(response)

    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        if DELETED_AT in record:  # a deleted order has no transactions left to read
            return
        yield from super().generate_child_contexts(record, context)

    def get_new_paginator(self) -> HeaderLinkPaginator | None:
        return HeaderLinkPaginator() if self.paged else None

    def request_params(
        self,
        context: Context | None,
        next_page_token: ParseResult | None,
        bounds: tuple[Bound, ...],
    ) -> dict[str, Any]:
        if next_page_token is not None:
            # Only page_info and limit: Shopify refuses any filter next to page_info (the
            # cursor already carries the first request's filters).
            return dict(parse_qsl(next_page_token.query, keep_blank_values=True))
        params: dict[str, Any] = dict(self.fixed_params)
        if self.paged:
            params["limit"] = int(self.config.get("page_size", MAX_PAGE_SIZE))
        params.update({bound.field: bound.value for bound in bounds})
        params.update(self.context_params(context))
        return params

    def context_params(self, context: Context | None) -> dict[str, Any]:
        """Parameters from the parent record (e.g. ``location_ids``)."""
        return {}


def shop_url(config: dict[str, Any] | Any) -> str:
    """``base_url`` if set (a proxy or the sandbox), else ``https://<shop>.myshopify.com``."""
    if base := config.get("base_url"):
        return str(base).rstrip("/")
    shop = str(config["shop"]).strip().removeprefix("https://").removeprefix("http://")
    shop = shop.split("/")[0].removesuffix(".myshopify.com")
    return f"https://{shop}.myshopify.com"
