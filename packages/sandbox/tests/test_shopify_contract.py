"""Contract: Shopify's own Python client (ShopifyAPI, its REST resources) reads every resource
the sandbox serves, follows its Link pagination and counts as it expects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shopify

from sandbox.shopify.sandbox import ShopifySandbox

NOW = "2026-07-01T00:00:00+00:00"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ShopifySandbox]:
    with ShopifySandbox(seed=8, orders=260, now=NOW, frozen_clock=True, rate_limits=False) as sb:
        # What shopify.Session would set for https://<shop>.myshopify.com, aimed at the sandbox.
        shopify.ShopifyResource.set_site(sb.api_url("2025-10"))
        shopify.ShopifyResource.set_headers({"X-Shopify-Access-Token": "shpat_contract"})
        yield sb
        shopify.ShopifyResource.clear_session()


def test_orders_page_through_link_headers(sandbox: ShopifySandbox) -> None:
    page = shopify.Order.find(status="any", limit=100)
    ids = [order.id for order in page]
    while page.has_next_page():
        page = page.next_page()
        ids += [order.id for order in page]
    assert sorted(ids) == sorted(o["id"] for o in sandbox.control.truth("order"))
    assert shopify.Order.count(status="any") == 260
    order = shopify.Order.find(ids[0])
    assert order.line_items[0].quantity >= 1
    assert order.created_at.endswith("-05:00")


def test_every_other_resource_loads(sandbox: ShopifySandbox) -> None:
    order_id = sandbox.control.truth("order")[0]["id"]
    transactions = shopify.Transaction.find(order_id=order_id)
    assert transactions
    assert transactions[0].order_id == order_id
    customers = shopify.Customer.find(limit=250)
    assert len(customers) == len(sandbox.control.truth("customer"))
    products = shopify.Product.find(limit=250)
    assert products[0].variants[0].inventory_item_id
    locations = shopify.Location.find()
    assert len(locations) == 3
    levels = shopify.InventoryLevel.find(location_ids=",".join(str(loc.id) for loc in locations))
    assert levels[0].available is not None
    scopes = shopify.AccessScope.find()
    assert "read_all_orders" in {scope.handle for scope in scopes}
    assert shopify.Shop.current().myshopify_domain == "sandbox-shop.myshopify.com"


def test_destroy_events_page_through_link_headers(sandbox: ShopifySandbox) -> None:
    with ShopifySandbox(seed=8, orders=120, now=NOW, frozen_clock=True, rate_limits=False) as shop:
        shopify.ShopifyResource.set_site(shop.api_url("2025-10"))
        try:
            deleted = shop.control.delete("order", count=5) + shop.control.delete(
                "product", count=1
            )
            page = shopify.Event.find(filter="Order,Product", verb="destroy", limit=2)
            events = list(page)
            while page.has_next_page():
                page = page.next_page()
                events += list(page)
        finally:
            shopify.ShopifyResource.set_site(sandbox.api_url("2025-10"))
    assert sorted(e.subject_id for e in events) == sorted(deleted)
    assert {e.verb for e in events} == {"destroy"}
    assert {e.subject_type for e in events} == {"Order", "Product"}
