"""The Shopify Admin REST emulator: versions in the path, token auth and scopes, the leaky
bucket, ``page_info`` cursors in ``Link`` headers, Shopify's filters and error shapes."""

from __future__ import annotations

import bisect
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from sandbox.core.clock import DataClock, MonotonicClock
from sandbox.core.cursor import CursorCodec, InvalidCursorError
from sandbox.core.faults import FaultInjector
from sandbox.core.http import Controls, Request, Response, json_response
from sandbox.core.latency import Latency
from sandbox.core.ratelimit import Clock, LeakyBucketLimiter
from sandbox.core.requestlog import RequestLog
from sandbox.shopify.dataset import DAY, ShopConfig, ShopData
from sandbox.shopify.listing import (
    EVENT_SCOPES,
    LISTINGS,
    PAGING_PARAMS,
    Listing,
    ListingError,
    event_scopes,
    matches,
    order_status,
    page_limit,
    parse_filters,
    row_key,
    sort_spec,
)

#: Stable versions this sandbox serves; a request for any other is served the oldest one
#: ("fall forward", as Shopify does when a version is retired).
SUPPORTED_VERSIONS = ("2025-07", "2025-10", "2026-01", "2026-04", "2026-07", "2026-10")
DEFAULT_VERSION = "2025-10"
ALL_SCOPES = (
    "read_orders",
    "read_all_orders",
    "read_customers",
    "read_products",
    "read_inventory",
    "read_locations",
)
#: Without read_all_orders, orders older than this are invisible (no error).
RECENT_ORDERS_DAYS = 60
TIME_FIELDS = (
    "created_at",
    "updated_at",
    "processed_at",
    "closed_at",
    "cancelled_at",
    "published_at",
)
GID = {
    "order": "Order",
    "customer": "Customer",
    "product": "Product",
    "location": "Location",
    "transaction": "OrderTransaction",
}
_VERSIONED = re.compile(r"^/admin/api/(?P<version>[^/]+)/(?P<resource>[a-z_/0-9]+)\.json$")
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
#: What an Admin API access token looks like (an app's, a custom app's, a private app's):
#: without configured tokens the sandbox accepts only these, as Shopify refuses anything else.
TOKEN_SHAPE = re.compile(r"shp(at|ca|pa)_[A-Za-z0-9_]+")


@dataclass
class ShopifyOptions:
    #: token -> granted scopes; empty: any token shaped like an Admin API access token
    #: (``shpat_...``, ``shpca_...``, ``shppa_...``) is accepted with every scope.
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    rate_limits: bool = True
    bucket_size: int = 40
    leak_per_second: float = 2.0
    utc_offset: str = "-05:00"  # the shop's zone, in which every timestamp is written
    shop: str = "sandbox-shop"
    fault_seed: int = 0
    frozen_clock: bool = False
    monotonic: Clock = field(default_factory=MonotonicClock)
    # Modelled page time of every API answer: base plus per record served (0: answer at once).
    latency_ms: float = 0.0
    latency_per_record_ms: float = 0.0


class ApiError(Exception):
    def __init__(self, status: int, errors: Any, headers: list[tuple[str, str]] | None = None):
        super().__init__(str(errors))
        self.status, self.errors, self.headers = status, errors, headers or []


class ShopifyEmulator:
    name = "shopify"

    def __init__(self, config: ShopConfig, options: ShopifyOptions | None = None) -> None:
        self.options = options or ShopifyOptions()
        clock = DataClock(config.now, frozen=self.options.frozen_clock)
        self.data = ShopData(config, clock)
        self.limiter = LeakyBucketLimiter(
            self.options.monotonic,
            size=self.options.bucket_size,
            leak_per_second=self.options.leak_per_second,
            enabled=self.options.rate_limits,
        )
        self.controls = Controls(
            clock=clock,
            monotonic=self.options.monotonic,
            limiter=self.limiter,
            faults=FaultInjector(
                self.options.monotonic, seed=self.options.fault_seed or config.seed
            ),
            log=RequestLog(),
            latency=Latency(self.options.latency_ms, self.options.latency_per_record_ms),
        )
        self.cursors = CursorCodec()
        self.zone = _zone(self.options.utc_offset)

    # -- errors -----------------------------------------------------------------------------

    def api_error(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response:
        """Shopify's shape: ``{"errors": "..."}`` (the fault layer passes a generic detail)."""
        messages = {
            429: self._throttled_message(),
            500: "Internal Server Error",
            503: "Service Unavailable",
        }
        response = json_response(status, {"errors": messages.get(status, detail)})
        response.headers.extend(headers or [])
        if status == 429 and not any(name == "Retry-After" for name, _ in response.headers):
            response.headers.append(("Retry-After", "2.0"))
        return response

    def _throttled_message(self) -> str:
        return (
            f"Exceeded {self.limiter.leak_per_second:g} calls per second for api client. "
            "Reduce request rates to resume uninterrupted service."
        )

    # -- API --------------------------------------------------------------------------------

    def handle_api(self, request: Request) -> Response:
        headers: list[tuple[str, str]] = [("X-Request-Id", str(uuid.uuid4()))]
        try:
            scopes, token = self._authenticate(request)
            decision = self.limiter.acquire(token)
            headers.append(("X-Shopify-Shop-Api-Call-Limit", f"{decision.used}/{decision.size}"))
            if not decision.allowed:
                raise ApiError(
                    429,
                    self._throttled_message(),
                    [("Retry-After", f"{max(decision.retry_after_seconds, 1.0):.1f}")],
                )
            if request.method != "GET":
                raise ApiError(405, "The sandbox serves GET only.")
            if request.path == "/admin/oauth/access_scopes.json":
                body = {"access_scopes": [{"handle": s} for s in sorted(scopes)]}
                return self._ok(body, headers)
            matched = _VERSIONED.match(request.path)
            if matched is None:
                raise ApiError(404, "Not Found")
            version = matched["version"]
            served = version if version in SUPPORTED_VERSIONS else SUPPORTED_VERSIONS[0]
            headers.append(("X-Shopify-API-Version", served))
            body, extra, records = self._resource(request, matched["resource"], scopes, served)
            response = self._ok(body, headers + extra)
            response.records = records
            return response
        except ApiError as exc:
            response = json_response(exc.status, {"errors": exc.errors})
            response.headers.extend(headers + exc.headers)
            return response
        except ListingError as exc:
            response = json_response(exc.status, {"errors": {exc.parameter: exc.message}})
            response.headers.extend(headers)
            return response

    def _ok(self, body: Any, headers: list[tuple[str, str]]) -> Response:
        response = json_response(200, body, content_type="application/json; charset=utf-8")
        response.headers.extend(headers)
        return response

    def _authenticate(self, request: Request) -> tuple[frozenset[str], str]:
        token = (request.headers.get("X-Shopify-Access-Token") or "").strip()
        if not token:
            raise ApiError(401, INVALID_TOKEN)
        if not self.options.tokens:
            if not TOKEN_SHAPE.fullmatch(token):
                raise ApiError(401, INVALID_TOKEN)
            return frozenset(ALL_SCOPES), token
        scopes = self.options.tokens.get(token)
        if scopes is None:
            raise ApiError(401, INVALID_TOKEN)
        return scopes, token

    def _resource(
        self, request: Request, resource: str, scopes: frozenset[str], version: str
    ) -> tuple[Any, list[tuple[str, str]], int | None]:
        parts = resource.split("/")
        if resource == "shop":
            return {"shop": self._shop()}, [], None
        listing = LISTINGS.get(parts[0])
        if listing is None:
            raise ApiError(404, "Not Found")
        if listing.scope:
            self._require(scopes, listing.scope)
        with self.data.lock:
            if len(parts) == 1:
                return self._list(request, listing, scopes, version)
            if parts[1] == "count" and len(parts) == 2:
                rows = self._candidates(listing, scopes, _params(request))
                return {"count": len(rows)}, [], None
            if not parts[1].isdigit():
                raise ApiError(404, "Not Found")
            record = self._visible(listing, scopes).get(int(parts[1]))
            if record is None:
                raise ApiError(404, "Not Found")
            if len(parts) == 2:
                return {listing.key[:-1]: self.render(listing.kind, record)}, [], 1
            if parts[2:] == ["transactions"] and listing.key == "orders":
                found = sorted(self.data.order_transactions(record["id"]), key=lambda t: t["id"])
                since = _params(request).get("since_id")
                if since and since.isdigit():
                    found = [t for t in found if t["id"] > int(since)]
                rendered = [self.render("transaction", t) for t in found]
                return {"transactions": rendered}, [], len(rendered)
        raise ApiError(404, "Not Found")

    def _require(self, scopes: frozenset[str], scope: str) -> None:
        if scope not in scopes:
            raise ApiError(403, f"[API] This action requires merchant approval for {scope} scope.")

    def _visible(self, listing: Listing, scopes: frozenset[str]) -> dict[Any, dict[str, Any]]:
        table = self.data.table(listing.kind)
        if listing.kind == "event":  # only of subjects the app may read
            return {k: r for k, r in table.items() if EVENT_SCOPES[r["subject_type"]] in scopes}
        if listing.kind != "order" or "read_all_orders" in scopes:
            return table
        cutoff = self.data.clock.now() - RECENT_ORDERS_DAYS * DAY
        return {k: r for k, r in table.items() if r["created_at"] >= cutoff}

    def _candidates(
        self, listing: Listing, scopes: frozenset[str], params: dict[str, str]
    ) -> list[dict[str, Any]]:
        filters = parse_filters(listing, params)
        for scope in event_scopes(filters):
            self._require(scopes, scope)
        return [r for r in self._visible(listing, scopes).values() if matches(r, filters)]

    def _list(
        self, request: Request, listing: Listing, scopes: frozenset[str], version: str
    ) -> tuple[Any, list[tuple[str, str]], int]:
        params = _params(request)
        if not listing.paged:
            rows = sorted(self._candidates(listing, scopes, params), key=row_key)
            return {listing.key: self._render_all(listing, rows, params)}, [], len(rows)
        limit = page_limit(params)
        token = params.get("page_info")
        if token is None:
            filters = parse_filters(listing, params)
            sort, descending = sort_spec(params, filters)
            cursor: dict[str, Any] = {"l": listing.key, "f": filters, "s": sort, "d": descending}
            direction, position = "next", None
        else:
            extra = sorted(set(params) - PAGING_PARAMS)
            if extra:
                raise ListingError(
                    extra[0], f"{extra[0]} cannot be passed when page_info is present."
                )
            cursor = self._open(token, listing)
            direction, position = cursor["dir"], cursor["at"]
        filters = cursor["f"]
        sort, descending = cursor["s"], cursor["d"]
        for scope in event_scopes(filters):  # a filter naming a subject the app may not read
            self._require(scopes, scope)

        def key(record: dict[str, Any]) -> list[Any]:
            return [record[sort] if sort != "id" else 0, *row_key(record)]

        rows = sorted(
            (r for r in self._visible(listing, scopes).values() if matches(r, filters)),
            key=key,
            reverse=descending,
        )
        keys = [key(r) for r in rows]
        if position is None:
            start, stop = 0, min(limit, len(rows))
        elif direction == "next":
            start = _after(keys, position, descending)
            stop = min(start + limit, len(rows))
        else:
            stop = _after(keys, position, descending, before=True)
            start = max(0, stop - limit)
        page = rows[start:stop]
        links = []
        base = f"{request.base_url}/admin/api/{version}/{listing.key}.json"
        if start > 0 and token is not None and page:
            links.append(self._link(base, cursor, "prev", keys[start], limit, params, "previous"))
        if stop < len(rows) and page:
            links.append(self._link(base, cursor, "next", keys[stop - 1], limit, params, "next"))
        headers = [("Link", ", ".join(links))] if links else []
        return {listing.key: self._render_all(listing, page, params)}, headers, len(page)

    def _link(
        self,
        base: str,
        cursor: dict[str, Any],
        direction: str,
        at: list[Any],
        limit: int,
        params: dict[str, str],
        rel: str,
    ) -> str:
        token = self.cursors.seal({**cursor, "dir": direction, "at": at})
        query = {"limit": str(limit), "page_info": token}
        if "fields" in params:
            query["fields"] = params["fields"]
        return f'<{base}?{urlencode(query)}>; rel="{rel}"'

    def _open(self, token: str, listing: Listing) -> dict[str, Any]:
        try:
            cursor = self.cursors.unseal(token)
        except InvalidCursorError:
            raise ListingError("page_info", "Invalid value.") from None
        if cursor.get("l") != listing.key or "f" not in cursor or "at" not in cursor:
            raise ListingError("page_info", "Invalid value.")
        return cursor

    def _render_all(
        self, listing: Listing, rows: list[dict[str, Any]], params: dict[str, str]
    ) -> list[dict[str, Any]]:
        wanted = [f.strip() for f in (params.get("fields") or "").split(",") if f.strip()]
        rendered = [self.render(listing.kind, r) for r in rows]
        if wanted:
            rendered = [{k: r[k] for k in wanted if k in r} for r in rendered]
        return rendered

    # -- rendering --------------------------------------------------------------------------

    def timestamp(self, epoch: int | None) -> str | None:
        if epoch is None:
            return None
        return datetime.fromtimestamp(epoch, self.zone).isoformat()

    def render(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        out = dict(record)
        for name in TIME_FIELDS:
            if name in out:
                out[name] = self.timestamp(out[name])
        if kind in GID:
            out["admin_graphql_api_id"] = f"gid://shopify/{GID[kind]}/{record['id']}"
        if kind == "order":
            out["line_items"] = [dict(item) for item in record["line_items"]]
            out["customer"] = (
                {"id": record["customer_id"]} if record["customer_id"] is not None else None
            )
            del out["customer_id"]
        elif kind == "product":
            out["variants"] = [
                {
                    **v,
                    "created_at": self.timestamp(v["created_at"]),
                    "updated_at": self.timestamp(v["updated_at"]),
                }
                for v in record["variants"]
            ]
        elif kind == "inventory_level":
            out["admin_graphql_api_id"] = (
                f"gid://shopify/InventoryLevel/{record['location_id']}"
                f"?inventory_item_id={record['inventory_item_id']}"
            )
        return out

    def _shop(self) -> dict[str, Any]:
        shop = self.options.shop
        return {
            "id": 1,
            "name": shop.replace("-", " ").title(),
            "myshopify_domain": f"{shop}.myshopify.com",
            "domain": f"{shop}.myshopify.com",
            "currency": "USD",
            "timezone": f"(GMT{self.options.utc_offset}) Sandbox Time",
            "plan_name": "basic",
        }

    # -- admin ------------------------------------------------------------------------------

    def handle_admin(self, request: Request, route: str) -> Response | None:
        if route == "bucket" and request.method == "POST":
            body = request.json()
            self.limiter.configure(
                size=body.get("size"), leak_per_second=body.get("leak_per_second")
            )
            return json_response(200, self.info()["bucket"])
        return None

    def mutate(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self.data.mutate(spec)

    def truth(self, kind: str) -> list[dict[str, Any]]:
        """Every record of a kind as the API renders it, orders of every age and status."""
        with self.data.lock:
            table = self.data.table(kind)
            records = [self.render(kind, r) for r in table.values()]
            if kind == "order":
                for record, raw in zip(records, table.values(), strict=True):
                    record["status"] = order_status(raw)
        return records

    def info(self) -> dict[str, Any]:
        data = self.data
        return {
            "emulator": self.name,
            "versions": list(SUPPORTED_VERSIONS),
            "seed": data.config.seed,
            "now": self.timestamp(data.clock.now()),
            "utc_offset": self.options.utc_offset,
            "counts": {
                kind: len(data.table(kind))
                for kind in ("order", "customer", "product", "location", "inventory_level", "event")
            }
            | {"transaction": len(data.transactions)},
            "rate_limits": self.limiter.enabled,
            "bucket": {"size": self.limiter.size, "leak_per_second": self.limiter.leak_per_second},
        }


def _zone(offset: str) -> timezone:
    """``-05:00`` as a fixed-offset zone."""
    hours, _, minutes = offset.lstrip("+-").partition(":")
    sign = -1 if offset.startswith("-") else 1
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))


def _params(request: Request) -> dict[str, str]:
    return {name: values[-1] for name, values in request.query.items()}


def _after(
    keys: list[list[Any]], position: list[Any], descending: bool, before: bool = False
) -> int:
    """Index of the first row past ``position`` (or, ``before``, of ``position`` itself or the
    row that took its place): the sort is by value, then id, so ties keep a stable order."""
    if descending:
        inverted = [_negate(k) for k in keys]
        return (
            bisect.bisect_left(inverted, _negate(position))
            if before
            else bisect.bisect_right(inverted, _negate(position))
        )
    return bisect.bisect_left(keys, position) if before else bisect.bisect_right(keys, position)


def _negate(key: list[Any]) -> list[Any]:
    return [-v for v in key]
