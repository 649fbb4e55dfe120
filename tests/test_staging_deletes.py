"""Rows the loader marks deleted (`_sdc_deleted_at`) leave staging, and the marts follow,
the incremental events fact included."""

from __future__ import annotations

from devstack.testing import Project

MARTS = "analytics_marts"
STAGING = "analytics_staging"
#: Each raw table, the staging model over it, and the key columns in each.
STAGED = {
    "tap_klaviyo": {
        "profiles": ("stg_klaviyo__profiles", "id", "profile_id"),
        "events": ("stg_klaviyo__events", "id", "event_id"),
        "metrics": ("stg_klaviyo__metrics", "id", "metric_id"),
        "campaigns": ("stg_klaviyo__campaigns", "id", "campaign_id"),
        "campaign_messages": ("stg_klaviyo__campaign_messages", "id", "campaign_message_id"),
        "lists": ("stg_klaviyo__lists", "id", "list_id"),
        "list_members": ("stg_klaviyo__list_members", "list_id, profile_id", "list_id, profile_id"),
        "segments": ("stg_klaviyo__segments", "id", "segment_id"),
        "segment_members": (
            "stg_klaviyo__segment_members",
            "segment_id, profile_id",
            "segment_id, profile_id",
        ),
        "templates": ("stg_klaviyo__templates", "id", "template_id"),
        "flows": ("stg_klaviyo__flows", "id", "flow_id"),
        "flow_actions": ("stg_klaviyo__flow_actions", "id", "flow_action_id"),
        "tags": ("stg_klaviyo__tags", "id", "tag_id"),
    },
    "tap_shopify": {
        "orders": ("stg_shopify__orders", "id", "order_id"),
        "transactions": ("stg_shopify__transactions", "id", "transaction_id"),
        "customers": ("stg_shopify__customers", "id", "customer_id"),
        "products": ("stg_shopify__products", "id", "product_id"),
        "locations": ("stg_shopify__locations", "id", "location_id"),
        "inventory_levels": (
            "stg_shopify__inventory_levels",
            "inventory_item_id, location_id",
            "inventory_item_id, location_id",
        ),
    },
}


def mark_deleted(project: Project, schema: str, table: str, keys: str, count: int) -> set[tuple]:
    """What the loader does for a retired version or a tombstone: stamp `_sdc_deleted_at`."""
    rows = project.query(
        f"update {schema}.{table} set _sdc_deleted_at = now() "
        f"where ({keys}) in (select {keys} from {schema}.{table} order by 1 limit {count}) "
        f"returning {keys}"
    )
    assert len(rows) == count, f"{schema}.{table}"
    return set(rows)


def test_rows_marked_deleted_leave_staging_and_the_marts(loaded_shop_project: Project) -> None:
    project = loaded_shop_project  # both sources loaded, every model built
    facts_before = project.count("fct_klaviyo_events", MARTS)

    deleted = {
        (schema, table): mark_deleted(
            project, schema, table, raw_keys, 10 if table == "events" else 1
        )
        for schema, tables in STAGED.items()
        for table, (_, raw_keys, _) in tables.items()
    }
    second = project.meltano("invoke", "dbt-postgres:run")
    assert second.returncode == 0, second.output[-4000:]
    assert "incremental model" in second.output
    for (schema, table), rows in deleted.items():
        model, _, staged_keys = STAGED[schema][table]
        left = set(project.query(f"select {staged_keys} from {STAGING}.{model}")) & rows
        assert not left, f"{model} keeps rows deleted in {schema}.{table}: {left}"

    events = {row[0] for row in deleted[("tap_klaviyo", "events")]}
    in_fact = {row[0] for row in project.query(f"select event_id from {MARTS}.fct_klaviyo_events")}
    assert not events & in_fact
    assert project.count("fct_klaviyo_events", MARTS) <= facts_before - len(events)
    (profile,) = deleted[("tap_klaviyo", "profiles")]
    assert not project.query(
        f"select 1 from {MARTS}.dim_klaviyo_profiles where profile_id = %s", profile[0]
    )
    (order,) = deleted[("tap_shopify", "orders")]
    assert not project.query(
        f"select 1 from {MARTS}.fct_shopify_orders where order_id = %s", order[0]
    )
    checks = project.meltano(
        "invoke",
        "dbt-postgres",
        "test",
        "--select",
        "assert_no_deleted_event_left_in_fact assert_no_event_lost_between_raw_and_fact",
    )
    assert checks.returncode == 0, checks.output[-4000:]
    assert "PASS=2" in checks.output
