"""The Shopify emulator: versions, auth and scopes, filters, page_info paging, the leaky bucket."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests

from sandbox.core.clock import FakeClock
from sandbox.core.ratelimit import LeakyBucketLimiter
from sandbox.klaviyo.client import KlaviyoClient
from sandbox.klaviyo.sandbox import KlaviyoSandbox
from sandbox.shopify.app import SUPPORTED_VERSIONS
from sandbox.shopify.sandbox import ShopifySandbox

NOW = "2026-07-01T00:00:00+00:00"
TOKEN = {"X-Shopify-Access-Token": "shpat_test"}


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopifySandbox]:
    with ShopifySandbox(seed=4, orders=600, now=NOW, frozen_clock=True, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def fresh() -> Iterator[ShopifySandbox]:
    with ShopifySandbox(seed=9, orders=200, now=NOW, frozen_clock=True, rate_limits=False) as sb:
        yield sb


def get(sb: ShopifySandbox, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{sb.api_url()}/{path}.json", headers=TOKEN, params=params, timeout=10)


def walk(sb: ShopifySandbox, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of a listing, following Link rel=next with page_info and limit only."""
    response = get(sb, path, **params)
    key = path.split("/")[-1]
    records = []
    while True:
        assert response.status_code == 200, response.text
        records += response.json()[key]
        if "next" not in response.links:
            return records
        response = requests.get(response.links["next"]["url"], headers=TOKEN, timeout=10)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_timestamps_carry_the_shops_offset_and_versions_fall_forward(shop: ShopifySandbox) -> None:
    response = get(shop, "orders", status="any", limit=1)
    assert response.headers["X-Shopify-API-Version"] == "2025-10"
    assert response.json()["orders"][0]["updated_at"].endswith("-05:00")
    retired = requests.get(
        shop.api_url("2022-07") + "/orders.json", headers=TOKEN, params={"limit": 1}, timeout=10
    )
    assert retired.status_code == 200
    assert retired.headers["X-Shopify-API-Version"] == SUPPORTED_VERSIONS[0]


def test_full_walk_equals_the_truth_without_duplicates(shop: ShopifySandbox) -> None:
    served = walk(shop, "orders", status="any", limit=50)
    truth = shop.control.truth("order")
    assert Counter(o["id"] for o in served) == Counter(o["id"] for o in truth)
    customers = walk(shop, "customers", limit=250)
    assert {c["id"] for c in customers} == {c["id"] for c in shop.control.truth("customer")}


def test_status_defaults_to_open(shop: ShopifySandbox) -> None:
    open_orders = walk(shop, "orders", limit=250)
    statuses = Counter(o["status"] for o in shop.control.truth("order"))
    assert len(open_orders) == statuses["open"] < sum(statuses.values())
    closed = walk(shop, "orders", status="closed", limit=250)
    assert len(closed) == statuses["closed"]


def test_ties_at_one_updated_at_span_pages_and_are_each_served_once(shop: ShopifySandbox) -> None:
    truth = shop.control.truth("order")
    tied_at, count = Counter(o["updated_at"] for o in truth).most_common(1)[0]
    assert count == 120
    served = walk(shop, "orders", status="any", limit=50, order="updated_at asc")
    assert len(served) == len({o["id"] for o in served}) == len(truth)
    moments = [instant(o["updated_at"]) for o in served]
    assert moments == sorted(moments)
    at_tie = walk(
        shop, "orders", status="any", limit=7, updated_at_min=tied_at, updated_at_max=tied_at
    )
    assert len(at_tie) == 120  # both bounds inclusive


def test_time_filters_are_inclusive_and_accept_any_offset(shop: ShopifySandbox) -> None:
    truth = shop.control.truth("order")
    pivot = sorted(o["updated_at"] for o in truth)[300]
    in_utc = instant(pivot).astimezone(instant("2026-01-01T00:00:00+00:00").tzinfo).isoformat()
    served = walk(shop, "orders", status="any", limit=250, updated_at_min=in_utc)
    expected = {o["id"] for o in truth if instant(o["updated_at"]) >= instant(pivot)}
    assert {o["id"] for o in served} == expected
    created = walk(shop, "orders", status="any", limit=250, created_at_max=pivot)
    assert {o["id"] for o in created} == {
        o["id"] for o in truth if instant(o["created_at"]) <= instant(pivot)
    }


def test_since_id_pages_in_id_order(shop: ShopifySandbox) -> None:
    ids = sorted(o["id"] for o in shop.control.truth("order"))
    page = get(shop, "orders", status="any", since_id=ids[99], limit=10).json()["orders"]
    assert [o["id"] for o in page] == ids[100:110]


def test_page_info_refuses_other_filters_and_tampering(shop: ShopifySandbox) -> None:
    first = get(shop, "orders", status="any", limit=5)
    next_url = first.links["next"]["url"]
    again = requests.get(
        next_url + "&updated_at_min=2020-01-01T00:00:00Z", headers=TOKEN, timeout=10
    )
    assert again.status_code == 400
    assert again.json() == {
        "errors": {"updated_at_min": "updated_at_min cannot be passed when page_info is present."}
    }
    with_fields = requests.get(next_url + "&fields=id", headers=TOKEN, timeout=10)
    assert with_fields.status_code == 200
    assert set(with_fields.json()["orders"][0]) == {"id"}
    tampered = get(shop, "orders", page_info="eyJub3QiOiJvdXJzIn0")
    assert tampered.status_code == 400
    assert tampered.json() == {"errors": {"page_info": "Invalid value."}}
    customers_cursor = next_url.split("page_info=")[1]
    assert get(shop, "customers", page_info=customers_cursor).status_code == 400


def test_previous_link_goes_back_one_page(shop: ShopifySandbox) -> None:
    first = get(shop, "customers", limit=20)
    second = requests.get(first.links["next"]["url"], headers=TOKEN, timeout=10)
    assert "previous" not in first.links
    back = requests.get(second.links["previous"]["url"], headers=TOKEN, timeout=10)
    assert back.json()["customers"] == first.json()["customers"]


def test_limit_default_and_maximum(shop: ShopifySandbox) -> None:
    assert len(get(shop, "orders", status="any").json()["orders"]) == 50
    refused = get(shop, "orders", limit=251)
    assert refused.status_code == 400
    assert "limit" in refused.json()["errors"]
    bad = get(shop, "orders", updated_at_min="last tuesday")
    assert bad.status_code == 400
    assert "updated_at_min" in bad.json()["errors"]


def test_children_and_other_resources(shop: ShopifySandbox) -> None:
    order = shop.control.truth("order")[0]
    transactions = get(shop, f"orders/{order['id']}/transactions").json()["transactions"]
    assert transactions
    assert {t["order_id"] for t in transactions} == {order["id"]}
    locations = get(shop, "locations").json()["locations"]
    assert len(locations) == 3
    ids = ",".join(str(loc["id"]) for loc in locations)
    levels = walk(shop, "inventory_levels", location_ids=ids, limit=250)
    assert {(lv["inventory_item_id"], lv["location_id"]) for lv in levels} == {
        (lv["inventory_item_id"], lv["location_id"]) for lv in shop.control.truth("inventory_level")
    }
    assert get(shop, "inventory_levels").status_code == 422
    products = walk(shop, "products", limit=250)
    assert all(p["variants"] for p in products)
    assert get(shop, "orders/count", status="any").json() == {"count": 600}
    assert get(shop, "orders/1").status_code == 404


def test_token_auth_and_scopes() -> None:
    tokens = {"shpat_full": None, "shpat_recent": ["read_orders", "read_locations"]}
    with ShopifySandbox(
        seed=4,
        orders=300,
        now=NOW,
        frozen_clock=True,
        rate_limits=False,
        tokens={
            k: v or ["read_orders", "read_all_orders", "read_customers"] for k, v in tokens.items()
        },
    ) as sb:
        url = sb.api_url() + "/orders.json"
        missing = requests.get(url, timeout=10)
        assert missing.status_code == 401
        assert "Invalid API key or access token" in missing.json()["errors"]
        assert (
            requests.get(
                url, headers={"X-Shopify-Access-Token": "shpat_other"}, timeout=10
            ).status_code
            == 401
        )

        def count(token: str) -> int:
            response = requests.get(
                sb.api_url() + "/orders/count.json",
                headers={"X-Shopify-Access-Token": token},
                params={"status": "any"},
                timeout=10,
            )
            return int(response.json()["count"])

        cutoff = instant(NOW).timestamp() - 60 * 86_400
        recent = sum(
            1 for o in sb.control.truth("order") if instant(o["created_at"]).timestamp() >= cutoff
        )
        assert count("shpat_full") == 300
        assert 0 < count("shpat_recent") == recent < 300  # older orders silently invisible
        scopes = requests.get(
            sb.base_url + "/admin/oauth/access_scopes.json",
            headers={"X-Shopify-Access-Token": "shpat_recent"},
            timeout=10,
        ).json()
        assert scopes == {
            "access_scopes": [{"handle": "read_locations"}, {"handle": "read_orders"}]
        }
        denied = requests.get(
            sb.api_url() + "/customers.json",
            headers={"X-Shopify-Access-Token": "shpat_recent"},
            timeout=10,
        )
        assert denied.status_code == 403
        assert "read_customers" in denied.json()["errors"]


def test_leaky_bucket_with_a_fake_clock() -> None:
    clock = FakeClock()
    bucket = LeakyBucketLimiter(clock, size=40, leak_per_second=2.0)
    decisions = [bucket.acquire("shop") for _ in range(41)]
    assert [d.used for d in decisions[:3]] == [1, 2, 3]
    assert all(d.allowed for d in decisions[:40])
    assert not decisions[40].allowed
    assert decisions[40].retry_after_seconds == pytest.approx(0.5)
    clock.advance(0.5)
    assert bucket.acquire("shop").allowed
    assert bucket.acquire("other").used == 1  # one bucket per shop and app
    clock.advance(100)
    assert bucket.acquire("shop").used == 1


def test_bucket_over_http_reports_and_refuses() -> None:
    with ShopifySandbox(seed=4, orders=50, now=NOW, frozen_clock=True, leak_per_second=0.01) as sb:
        sb.control.set_bucket(size=5)
        answers = [get(sb, "locations") for _ in range(6)]
        assert [a.headers["X-Shopify-Shop-Api-Call-Limit"] for a in answers[:5]] == [
            "1/5",
            "2/5",
            "3/5",
            "4/5",
            "5/5",
        ]
        refused = answers[5]
        assert refused.status_code == 429
        assert float(refused.headers["Retry-After"]) >= 1.0
        assert "calls per second" in refused.json()["errors"]
        sb.control.set_rate_limits(enabled=False)
        assert get(sb, "locations").status_code == 200


def test_mutations_move_updated_at_and_the_log_redacts_the_token(fresh: ShopifySandbox) -> None:
    control = fresh.control
    before = control.now()
    ids = control.update("order", count=30)
    changed = [o for o in control.truth("order") if o["id"] in set(ids)]
    assert len({o["updated_at"] for o in changed}) == 1
    assert instant(changed[0]["updated_at"]) > instant(before)
    created = control.create("order", count=2)
    refund = control.create("transaction")
    assert len(created) == 2
    assert len(refund) == 1
    deleted = control.delete("customer", count=1)
    assert deleted[0] not in {c["id"] for c in control.truth("customer")}
    served = walk(fresh, "orders", status="any", updated_at_min=changed[0]["updated_at"], limit=250)
    assert set(ids) | set(created) <= {o["id"] for o in served}
    logged = control.requests()[-1]
    assert logged["headers"]["x-shopify-access-token"] == "[redacted]"
    assert logged["query"]["updated_at_min"] == [changed[0]["updated_at"]]


def test_same_seed_same_shop() -> None:
    one = ShopifySandbox(seed=21, orders=120, now=NOW).data
    two = ShopifySandbox(seed=21, orders=120, now=NOW).data
    assert one.orders == two.orders
    assert one.customers == two.customers
    assert ShopifySandbox(seed=22, orders=120, now=NOW).data.orders != one.orders


def test_customers_can_share_emails_with_a_klaviyo_sandbox() -> None:
    shop = ShopifySandbox(seed=3, orders=300, now=NOW, klaviyo_seed=7, klaviyo_profiles=100).data
    emails = [c["email"] for c in shop.customers.values() if c["email"]]
    assert any(e != e.strip().lower() for e in emails)  # stored as typed, not normalised
    shared = {e.strip().lower() for e in emails if "+shop" not in e}
    with KlaviyoSandbox(seed=7, profiles=100, events=20, now=NOW, rate_limits=False) as klaviyo:
        client = KlaviyoClient(klaviyo.api_url)
        profiles = client.all("/profiles", {"page[size]": "100"})
    klaviyo_emails = {p["attributes"]["email"] for p in profiles if p["attributes"]["email"]}
    assert 40 <= len(shared) <= 50
    assert shared <= klaviyo_emails


def test_the_command_line_serves_a_shop_until_terminated() -> None:
    import subprocess

    from sandbox.cli import shopify_command

    command = [
        *shopify_command(0, 5, 40, leak_per_second=10),
        "--token",
        "shpat_cli=read_orders,read_all_orders",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        answer = requests.get(
            f"{url}/admin/api/2025-10/orders/count.json",
            headers={"X-Shopify-Access-Token": "shpat_cli"},
            params={"status": "any"},
            timeout=10,
        )
        assert answer.json() == {"count": 40}
        assert answer.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
        refused = requests.get(
            f"{url}/admin/api/2025-10/customers.json",
            headers={"X-Shopify-Access-Token": "shpat_cli"},
            timeout=10,
        )
        assert refused.status_code == 403
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_without_configured_tokens_only_access_token_shapes_are_accepted(
    shop: ShopifySandbox,
) -> None:
    """Shopify answers 401 to a string that is not an access token; the dev config's token
    (``shpat_sandbox_not_a_secret``) and the shapes of other app kinds keep working."""
    url = shop.api_url() + "/locations.json"
    for token in ("not-a-token", "shpat_", "Bearer shpat_abc", "shpat_abc def", "shpxx_0123"):
        refused = requests.get(url, headers={"X-Shopify-Access-Token": token}, timeout=10)
        assert refused.status_code == 401, token
        assert refused.json() == {
            "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
        }
    for token in ("shpat_sandbox_not_a_secret", "shpca_0123abcdef", "shppa_9f8e7d6c5b4a"):
        accepted = requests.get(url, headers={"X-Shopify-Access-Token": token}, timeout=10)
        assert accepted.status_code == 200, token


def test_deleting_orders_and_products_records_destroy_events(fresh: ShopifySandbox) -> None:
    control = fresh.control
    orders = control.delete("order", count=4)
    at_orders = control.now()
    products = control.delete("product", count=2)
    control.delete("customer", count=1)  # no event: the Events API has none for customers
    # the deleted rows leave the listings and the truth
    assert not set(orders) & {o["id"] for o in walk(fresh, "orders", status="any", limit=250)}
    assert not set(orders) & {o["id"] for o in control.truth("order")}
    assert not set(products) & {p["id"] for p in walk(fresh, "products", limit=250)}

    events = walk(fresh, "events", filter="Order,Product", verb="destroy", limit=2)
    assert sorted(e["subject_id"] for e in events) == sorted(orders + products)
    assert len({e["id"] for e in events}) == len(events) == 6
    by_subject = {e["subject_id"]: e for e in events}
    assert {by_subject[i]["subject_type"] for i in orders} == {"Order"}
    assert {by_subject[i]["subject_type"] for i in products} == {"Product"}
    assert all(instant(by_subject[i]["created_at"]) == instant(at_orders) for i in orders)
    assert by_subject[orders[0]]["message"].startswith("Order #")
    assert by_subject[orders[0]]["created_at"].endswith("-05:00")
    assert sorted(e["id"] for e in control.truth("event")) == sorted(
        by_subject[i]["id"] for i in by_subject
    )

    only_orders = walk(fresh, "events", filter="Order", verb="destroy", limit=250)
    assert sorted(e["subject_id"] for e in only_orders) == sorted(orders)
    # created_at bounds are inclusive; since_id pages after an id
    later = walk(fresh, "events", created_at_min=by_subject[products[0]]["created_at"], limit=250)
    assert sorted(e["subject_id"] for e in later) == sorted(products)
    before = walk(fresh, "events", created_at_max=at_orders, limit=250)
    assert sorted(e["subject_id"] for e in before) == sorted(orders)
    first = min(e["id"] for e in events)
    assert len(walk(fresh, "events", since_id=first, limit=250)) == 5
    assert walk(fresh, "events", verb="create", limit=250) == []
    assert get(fresh, "events/count", filter="Product").json() == {"count": 2}
    assert get(fresh, "events", limit=251).status_code == 400


def test_events_need_the_scope_of_their_subject() -> None:
    tokens = {"shpat_orders": ["read_orders"], "shpat_products": ["read_products"]}
    with ShopifySandbox(
        seed=4, orders=60, now=NOW, frozen_clock=True, rate_limits=False, tokens=tokens
    ) as sb:
        orders = sb.control.delete("order", count=2)
        sb.control.delete("product", count=1)

        def events(token: str, **params: Any) -> requests.Response:
            return requests.get(
                sb.api_url() + "/events.json",
                headers={"X-Shopify-Access-Token": token},
                params=params,
                timeout=10,
            )

        mine = events("shpat_orders", filter="Order", verb="destroy").json()["events"]
        assert sorted(e["subject_id"] for e in mine) == sorted(orders)
        unfiltered = events("shpat_orders").json()["events"]  # only what the app may read
        assert {e["subject_type"] for e in unfiltered} == {"Order"}
        denied = events("shpat_orders", filter="Order,Product")
        assert denied.status_code == 403
        assert "read_products" in denied.json()["errors"]
        assert events("shpat_products", filter="Order").status_code == 403
        assert events("shpat_other").status_code == 401
