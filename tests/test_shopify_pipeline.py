"""The Shopify job end to end, and the cross-source mart against both sandboxes' own data."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from devstack.testing import Project
from sandbox.klaviyo.client import KlaviyoClient

ROOT = Path(__file__).resolve().parents[1]
STATE_ID = "dev:tap-shopify-to-target-postgres"
SHOP = "tap_shopify"
MARTS = "analytics_marts"
ENGAGEMENT = {
    "Received Email": "send",
    "Received SMS": "send",
    "Received Push": "send",
    "Opened Email": "open",
    "Opened Push": "open",
    "Clicked Email": "click",
    "Clicked SMS": "click",
}


def normalized(email: str | None) -> str | None:
    return email.strip().lower() if email else None


def expected_customers(project: Project) -> dict[str, dict[str, Any]]:
    """The mart's numbers, computed from what the sandboxes hold, not from the warehouse."""
    assert project.shopify is not None
    shop = project.shopify.control
    refunds: Counter[int] = Counter()
    for transaction in shop.truth("transaction"):
        if transaction["kind"] == "refund" and transaction["status"] == "success":
            refunds[transaction["order_id"]] += int(Decimal(transaction["amount"]) * 100)
    people: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"orders": 0, "revenue": Decimal(0), "sends": 0, "opens": 0, "clicks": 0}
    )
    for order in shop.truth("order"):
        if email := normalized(order["email"]):
            net = (
                0
                if order["status"] == "cancelled"
                else int(Decimal(order["total_price"]) * 100) - refunds[order["id"]]
            )
            people[email]["orders"] += 1
            people[email]["revenue"] += Decimal(net) / 100
    for customer in shop.truth("customer"):
        if email := normalized(customer["email"]):
            people[email]
    klaviyo = KlaviyoClient(project.sandbox.api_url)
    metric_names = {m["id"]: m["attributes"]["name"] for m in klaviyo.all("/api/metrics")}
    emails = {p["id"]: normalized(p["attributes"]["email"]) for p in klaviyo.all("/api/profiles")}
    for profile_email in emails.values():
        if profile_email:
            people[profile_email]
    kinds = {"send": "sends", "open": "opens", "click": "clicks"}
    for event in project.sandbox.control.truth("event"):
        kind = ENGAGEMENT.get(metric_names[event["metric_id"]])
        email = emails.get(event["profile_id"])
        if kind and email:
            people[email][kinds[kind]] += 1
    return dict(people)


def customers_mart(project: Project) -> dict[str, dict[str, Any]]:
    rows = project.query(
        f"select email, order_count, lifetime_revenue, messages_received, opens, clicks from {MARTS}.customers"
    )
    return {
        email: {
            "orders": orders,
            "revenue": revenue,
            "sends": sends,
            "opens": opens,
            "clicks": clicks,
        }
        for email, orders, revenue, sends, opens, clicks in rows
    }


def shop_requests(project: Project, since: int = 0) -> list[dict[str, list[str]]]:
    assert project.shopify is not None
    return [
        r["query"]
        for r in project.shopify.control.requests(since)
        if r["path"].endswith("/orders.json") and "page_info" not in r["query"]
    ]


# The Shopify job end to end, in three steps that share their loads: Klaviyo alone
# (built_project), then Shopify (built_shop_project, a copy of it), then changes in the shop and
# the scheduled jobs (loaded_shop_project, a copy of that).


def test_klaviyo_alone_builds_the_shopify_models_empty(built_project: Project) -> None:
    # `tap-klaviyo target-postgres dbt-postgres:build` passed: the Shopify models did not fail
    assert built_project.count("fct_shopify_orders", MARTS) == 0
    assert built_project.query(f"select bool_or(is_in_shopify) from {MARTS}.customers") == [
        (False,)
    ]


def test_the_shopify_load_matches_the_shop_and_the_cross_source_mart(
    built_shop_project: Project,
) -> None:
    # after `tap-shopify target-postgres dbt-postgres:build` (returncode 0, ERROR=0)
    project = built_shop_project
    assert project.shopify is not None
    shop = project.shopify.control
    for table, kind in (
        ("orders", "order"),
        ("transactions", "transaction"),
        ("customers", "customer"),
    ):
        assert sorted(project.ids(table, schema=SHOP)) == sorted(
            r["id"] for r in shop.truth(kind)
        ), table
    assert project.count("inventory_levels", SHOP) == len(shop.truth("inventory_level"))
    # Timestamps land as the same instants, although the shop writes them at -05:00.
    created = dict(project.query(f"select id, created_at from {SHOP}.orders"))
    for order in shop.truth("order"):
        assert created[order["id"]] == datetime.fromisoformat(order["created_at"])
    assert all(r["status"] != 429 for r in shop.requests())
    first = shop_requests(project)
    assert first
    assert all("created_at_min" in q and q["status"] == ["any"] for q in first)

    expected, mart = expected_customers(project), customers_mart(project)
    assert mart == expected
    both = [e for e in expected if e in mart and mart[e]["orders"] and mart[e]["sends"]]
    assert both, "some people must have orders and email engagement"


def test_the_shopify_job_reads_changes_and_the_mart_follows(
    loaded_shop_project: Project,
) -> None:
    # Changes in the shop, then the scheduled job: updated_at_min, and the mart follows.
    project = loaded_shop_project
    assert project.shopify is not None
    shop = project.shopify.control
    seen = max((r["seq"] for r in shop.requests()), default=0)
    shop.update("order", count=20)
    shop.create("order", count=3)
    shop.create("transaction", count=2)
    job = project.meltano("run", "shopify-to-postgres")
    assert job.returncode == 0, job.output[-4000:]
    later = shop_requests(project, seen)
    assert later
    assert all("updated_at_min" in q and "created_at_min" not in q for q in later)
    assert sorted(project.ids("orders", schema=SHOP)) == sorted(
        o["id"] for o in shop.truth("order")
    )
    assert project.duplicate_keys("orders", schema=SHOP) == 0
    # the Shopify job builds the Shopify models only; the cross-source job builds customers
    marts = project.meltano("run", "cross-source-marts")
    assert marts.returncode == 0, marts.output[-4000:]
    assert customers_mart(project) == expected_customers(project)
    assert project.state(STATE_ID)["singer_state"]["bookmarks"]["orders"]["replication_key_value"]


def test_sources_declare_exactly_the_columns_the_loader_creates(
    built_shop_project: Project,
) -> None:
    """source_or_empty stands in declared columns for a table not loaded yet: they must be the
    loader's, or a model would build against a relation of another shape."""
    for source_file in (ROOT / "transform" / "models" / "staging").glob("*/_*__sources.yml"):
        for source in yaml.safe_load(source_file.read_text())["sources"]:
            # OneTrust and Pinterest Ads are not loaded here: their pipeline tests check theirs
            # (ops: the orchestrator's ingestion log, which runner.py creates, not the loader)
            if source["name"] in ("meltano", "ops", "tap_onetrust", "tap_pinterest_ads"):
                continue
            for table in source["tables"]:
                declared = [(c["name"], c["data_type"]) for c in table["columns"]]
                loaded = built_shop_project.query(
                    "select column_name, case when data_type = 'ARRAY' then substr(udt_name, 2) || '[]' "
                    "when udt_name = 'int8' then 'bigint' when udt_name = 'bool' then 'boolean' "
                    "else udt_name end from information_schema.columns "
                    "where table_schema = %s and table_name = %s order by ordinal_position",
                    source["name"],
                    table["name"],
                )
                assert declared == [tuple(row) for row in loaded], (
                    f"{source['name']}.{table['name']}"
                )
