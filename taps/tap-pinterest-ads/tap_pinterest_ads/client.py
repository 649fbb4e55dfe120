"""``PinterestStream``: what every Pinterest Ads stream shares.

The API's base URL, an access token bought with the app's refresh token (renewed when it
expires; a rotated refresh token kept in ``refresh_token_file``), Pinterest's rate-limit
categories (``ads_read`` for lists, ``ads_analytics`` for reports, one budget each), its
``X-RateLimit-Reset`` wait on 429, and ``bookmark`` paging.  Streams only declare.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

import requests
from singer_sdk.helpers.types import Context
from singer_sdk.pagination import JSONPathPaginator

from tapkit.auth import RefreshToken
from tapkit.rest import PoliteRESTStream, answered_at

API_URL = "https://api.pinterest.com/v5"
#: Pinterest's access tokens last 30 days (``expires_in`` says so too).
ACCESS_TOKEN_LIFETIME = 2_592_000
#: The most the list endpoints return per page.
MAX_PAGE_SIZE = 250
#: Every status an entity can have; the API's default is ACTIVE and PAUSED only.
ENTITY_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT")
#: Standard-tier limits per user and app, by the endpoints' ``x-ratelimit-category``.
CATEGORY_LIMITS = {"ads_read": ("1000/m",), "ads_analytics": ("300/m",)}


def api_url(config: Any) -> str:
    return str(config.get("api_url") or API_URL).rstrip("/")


class PinterestStream(PoliteRESTStream):
    secret_settings = ("client_secret", "refresh_token")
    records_key: ClassVar[str | None] = "items"
    #: The endpoint's ``x-ratelimit-category``: requests of one category share a budget.
    category: ClassVar[str] = "ads_read"
    rate_limit_description = (
        "per rate-limit category (ads_read 1000/min, ads_analytics 300/min on the Standard "
        "tier); a 429's X-RateLimit-Reset is waited out"
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.rate_limits = CATEGORY_LIMITS[cls.category]

    @property
    def url_base(self) -> str:
        return api_url(self.config)

    @property
    def rate_limit_key(self) -> str:
        return self.category

    @property
    def authenticator(self) -> RefreshToken:
        """One token for the whole tap, renewed once when the API says it expired."""
        url = f"{self.url_base}/oauth/token"
        return self.shared(
            "oauth",
            lambda: RefreshToken(
                self.config,
                token_url=url,
                store_setting="refresh_token_file",
                scopes=("ads:read",),
                default_lifetime=ACCESS_TOKEN_LIFETIME,
                timeout=float(self.config.get("request_timeout_seconds", 60)),
                logger=self.logger,
            ),
        )

    def retry_wait(self, response: requests.Response) -> float | None:
        """Pinterest says how long to wait in ``X-RateLimit-Reset`` (seconds)."""
        reset = response.headers.get("X-RateLimit-Reset")
        if reset is not None:
            try:
                return max(0.0, float(reset))
            except ValueError:
                pass
        return super().retry_wait(response)

    def error_hint(self, status: int) -> str:
        if status == 401:
            return "Check client_id, client_secret and refresh_token (re-authorise the app if the refresh token expired)."
        if status == 403:
            return (
                "The user who authorised the app cannot read this ad account: remove it from "
                "ad_account_ids, or have the account shared with that user."
            )
        if status == 400:
            return "Pinterest refused the request's parameters: check start_date, analytics_columns and entity_statuses."
        return ""

    @property
    def entity_statuses(self) -> list[str]:
        return list(self.config.get("entity_statuses") or ENTITY_STATUSES)

    def list_pages(
        self, path: str, params: dict[str, Any], context: Context | None
    ) -> Iterator[tuple[list[Any], datetime | None]]:
        """Each page of a list endpoint (following ``bookmark``) and when the API answered it."""
        bookmark = None
        while True:
            page = {**params, "page_size": MAX_PAGE_SIZE}
            if bookmark:
                page["bookmark"] = bookmark
            response = self.send("GET", f"{self.url_base}{path}", context, params=page)
            document = self.document(response)
            yield list(document.get("items") or []), answered_at(response)
            bookmark = document.get("bookmark")
            if not bookmark:
                return


class ListStream(PinterestStream):
    """A list endpoint read page by page with ``bookmark``."""

    def get_new_paginator(self) -> JSONPathPaginator:
        return JSONPathPaginator("$.bookmark")

    def list_params(self, context: Context | None) -> dict[str, Any]:
        """What a first page asks besides its size (e.g. ``entity_statuses``)."""
        return {}

    def request_params(
        self, context: Context | None, next_page_token: Any, bounds: Any
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"page_size": MAX_PAGE_SIZE, **self.list_params(context)}
        if next_page_token:
            params["bookmark"] = next_page_token
        return params
