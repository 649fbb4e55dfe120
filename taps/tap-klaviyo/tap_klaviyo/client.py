"""``KlaviyoStream``: what every Klaviyo stream shares.

Base URL and revision from settings, the private-key header, JSON:API records flattened,
``links.next`` pagination, bounds rendered into Klaviyo's filter grammar, page sizes capped at
each endpoint's maximum, related objects embedded on request.  Streams only declare.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import ParseResult, parse_qsl, urlsplit

import requests
from singer_sdk.helpers.types import Context
from singer_sdk.pagination import BaseHATEOASPaginator
from singer_sdk.schema.source import SchemaDirectory, StreamSchema

from tap_klaviyo import schemas
from tap_klaviyo.jsonapi import flatten
from tapkit.incremental import Bound, Op
from tapkit.rest import PoliteRESTStream

OPERATORS = {
    Op.GT: "greater-than",
    Op.GTE: "greater-or-equal",
    Op.LT: "less-than",
    Op.LTE: "less-or-equal",
}


class LinksNextPaginator(BaseHATEOASPaginator):
    """Klaviyo's ``links.next``: an absolute URL with the cursor and the original query."""

    def get_next_url(self, response: requests.Response) -> str | None:
        document = response.__dict__.get("tapkit_document") or response.json()
        return (document.get("links") or {}).get("next")


class KlaviyoStream(PoliteRESTStream):
    schema = StreamSchema(SchemaDirectory(schemas))
    secret_settings = ("api_key",)

    #: Largest page[size] the endpoint accepts (None: the endpoint has no page[size]).
    max_page_size: ClassVar[int | None] = None
    #: Sort the API is asked for (records are still treated as unsorted).
    sort: ClassVar[str | None] = None
    #: Related objects (JSON:API ``include``) a user may embed in this stream's records.
    includable: ClassVar[tuple[str, ...]] = ()
    #: Attributes to request with ``fields[<type>]`` (sparse fieldsets); empty: all.
    sparse_fields: ClassVar[dict[str, str]] = {}

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    def http_headers(self) -> dict[str, str]:
        return {
            **super().http_headers,
            "Authorization": f"Klaviyo-API-Key {self.config['api_key']}",
            "revision": str(self.config["revision"]),
            "Accept": "application/vnd.api+json",
        }

    def error_hint(self, status: int) -> str:
        if status == 401:
            return "Check api_key: it must be a private key (pk_...) of the account."
        if status == 403:
            return "The private key lacks a read scope this stream needs; add it in Klaviyo."
        if status == 400:
            return "The request was refused as invalid: check revision, page_sizes and the filters above."
        return ""

    def get_new_paginator(self) -> LinksNextPaginator:
        return LinksNextPaginator()

    def request_params(
        self,
        context: Context | None,
        next_page_token: ParseResult | None,
        bounds: tuple[Bound, ...],
    ) -> dict[str, Any]:
        if next_page_token is not None:
            # links.next already carries filter, sort, size and the cursor: reuse them on our base URL.
            return dict(parse_qsl(next_page_token.query, keep_blank_values=True))
        params: dict[str, Any] = {}
        if size := self.page_size:
            params["page[size]"] = size
        expressions = self.base_filters(context) + [render_bound(b) for b in bounds]
        if expressions:
            params["filter"] = ",".join(expressions)
        if self.sort:
            params["sort"] = self.sort
        if includes := self.includes():
            params["include"] = ",".join(includes)
        params.update(self.sparse_fields)
        params.update(self.extra_params())
        return params

    @property
    def page_size(self) -> int | None:
        if self.max_page_size is None:
            return None
        wanted = (self.config.get("page_sizes") or {}).get(self.name, self.max_page_size)
        if wanted > self.max_page_size:
            self.logger.warning(
                "%s: page_sizes asks for %d but the API allows at most %d; using %d",
                self.name,
                wanted,
                self.max_page_size,
                self.max_page_size,
            )
        return min(int(wanted), self.max_page_size)

    def base_filters(self, context: Context | None) -> list[str]:
        """Filter expressions every request of the stream carries (e.g. a campaign channel)."""
        return []

    def includes(self) -> list[str]:
        return list((self.config.get("include_related") or {}).get(self.name, []))

    def extra_params(self) -> dict[str, Any]:
        return {}

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        document = response.__dict__.get("tapkit_document") or response.json()
        wanted = set(self.includes())
        related: dict[tuple[str, str], dict[str, Any]] = {}
        if wanted:
            related = {
                (item["type"], item["id"]): flatten(item) for item in document.get("included") or []
            }
        for resource in document.get("data") or []:
            record = flatten(resource)
            for name in wanted:
                relation = (resource.get("relationships") or {}).get(name, {})
                data = relation.get("data")
                if isinstance(data, list):
                    record[name.replace("-", "_")] = [
                        related.get((d["type"], d["id"])) for d in data
                    ]
                elif data:
                    record[name.replace("-", "_")] = related.get((data["type"], data["id"]))
            yield record

    def list_ids(self, path: str, params: dict[str, Any] | None = None) -> list[str]:
        """Every id of a listing, paging politely: used to partition child endpoints."""
        ids: list[str] = []
        query: dict[str, Any] | None = dict(params or {})
        send = self.request_decorator(self._request)
        while query is not None:
            prepared = self.build_prepared_request(
                method="GET", url=f"{self.url_base}{path}", params=query, headers=self.http_headers
            )
            document = send(prepared, None).__dict__["tapkit_document"]
            ids.extend(item["id"] for item in document.get("data") or [])
            next_url = (document.get("links") or {}).get("next")
            query = (
                dict(parse_qsl(urlsplit(next_url).query, keep_blank_values=True))
                if next_url
                else None
            )
        return ids


def render_bound(bound: Bound) -> str:
    """A bound in Klaviyo's grammar: datetimes unquoted, e.g. ``greater-than(updated,2024-01-01T00:00:00Z)``."""
    return f"{OPERATORS[bound.op]}({bound.field},{bound.value})"
