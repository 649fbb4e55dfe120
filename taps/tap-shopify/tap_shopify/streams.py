"""Shopify streams: each a declarative header over ``ShopifyStream``.

Orders are the seeds' "standard REST API" case: the first load walks ``created_at`` windows
from start_date, later runs ask for ``updated_at_min=<bookmark>``; both keep ``updated_at``.
Every bound is inclusive, so records tied at the bookmark are read again (and upserted).
Orders and products also carry their deletions, read from the Events API (``event_subject``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers.types import Context

from tap_shopify.client import SHOPIFY_TIME, ShopifyStream, shop_url, updated_since
from tapkit.incremental import ApiFilter, Incremental, Op
from tapkit.windows import WindowPolicy

#: Without read_all_orders, Shopify shows only orders created this recently.
RECENT_ORDERS_DAYS = 60


class OrdersStream(ShopifyStream):
    """Orders of every status (Shopify's default is open only)."""

    name = "orders"
    path = "/orders.json"
    primary_keys = ("id",)
    incremental = Incremental(
        "updated_at",
        api_filter=updated_since().api_filter,
        historical_filter=ApiFilter(
            "created_at_min",
            Op.GTE,
            SHOPIFY_TIME,
            upper_field="created_at_max",
            upper_op=Op.LTE,
            on_key=False,  # created_at bounds the windows; updated_at is kept
        ),
        windows=WindowPolicy(timedelta(days=30)),
    )
    fixed_params: ClassVar[dict[str, str]] = {"status": "any"}
    event_subject = "Order"

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        self._warn_if_orders_are_hidden(context)
        yield from super().get_records(context)

    def _warn_if_orders_are_hidden(self, context: Context | None) -> None:
        """Without read_all_orders Shopify hides orders older than 60 days, with no error."""
        start = self.get_starting_timestamp(context)
        if start is None or start >= datetime.now(UTC) - timedelta(days=RECENT_ORDERS_DAYS):
            return
        url = f"{shop_url(self.config)}/admin/oauth/access_scopes.json"
        prepared = self.build_prepared_request(method="GET", url=url, headers=self.http_headers)
        try:
            answer = self.request_decorator(self._request)(prepared, context)
        except FatalAPIError as exc:  # a check, not a reason to stop the sync
            self.logger.warning("orders: could not read the token's access scopes: %s", exc)
            return
        scopes = {s.get("handle") for s in answer.json().get("access_scopes") or []}
        if "read_all_orders" not in scopes:
            self.logger.warning(
                "orders: the access token lacks the read_all_orders scope, so Shopify returns only "
                "orders created in the last %d days, silently; those created from %s until then "
                "will be missing. Grant read_all_orders to the app (Shopify approves it per app), "
                "then run with a full refresh of orders.",
                RECENT_ORDERS_DAYS,
                start.date().isoformat(),
            )

    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict[str, Any]:
        return {"order_id": record["id"]}


class TransactionsStream(ShopifyStream):
    """Transactions of each order read in the same run: an order's new transaction (a refund,
    a capture) updates the order, so the parent's bookmark covers them."""

    name = "transactions"
    path = "/orders/{order_id}/transactions.json"
    primary_keys = ("id",)
    parent_stream_type = OrdersStream
    state_partitioning_keys: ClassVar[list[str]] = []
    paged = False


class CustomersStream(ShopifyStream):
    name = "customers"
    path = "/customers.json"
    primary_keys = ("id",)
    incremental = updated_since()


class ProductsStream(ShopifyStream):
    """Products with their variants nested (a variant's change updates its product)."""

    name = "products"
    path = "/products.json"
    primary_keys = ("id",)
    incremental = updated_since()
    event_subject = "Product"


class LocationsStream(ShopifyStream):
    """A handful of rows, read whole each run."""

    name = "locations"
    path = "/locations.json"
    primary_keys = ("id",)
    paged = False

    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict[str, Any]:
        return {"location_id": record["id"]}


class InventoryLevelsStream(ShopifyStream):
    """Stock per inventory item and location, per location (the endpoint needs one), with a
    bookmark per location; the API has ``updated_at_min`` but no maximum."""

    name = "inventory_levels"
    path = "/inventory_levels.json"
    primary_keys = ("inventory_item_id", "location_id")
    incremental = updated_since(bounded=False)
    parent_stream_type = LocationsStream
    partitioned_by = ("location_id",)

    def context_params(self, context: Context | None) -> dict[str, Any]:
        assert context is not None
        return {"location_ids": context["location_id"]}


def declared(stream: type[ShopifyStream], attribute: str) -> Any:
    """A stream class's declaration (singer-sdk types these as instance attributes)."""
    return getattr(stream, attribute)


STREAMS: tuple[type[ShopifyStream], ...] = (
    OrdersStream,
    TransactionsStream,
    CustomersStream,
    ProductsStream,
    LocationsStream,
    InventoryLevelsStream,
)
