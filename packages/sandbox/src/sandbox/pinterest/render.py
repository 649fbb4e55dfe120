"""Records as the API writes them (AdAccount, CampaignResponse, AdGroupResponse, AdResponse):
integer Unix seconds, ids as digit strings, money in micro-currency, and a ``summary_status``
that follows from ``status`` and the schedule at the sandbox's "now"."""

from __future__ import annotations

from typing import Any

_NO_TRACKING = None


def ad_account(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "owner": dict(record["owner"]), "permissions": list(record["permissions"])}


def _schedule_status(record: dict[str, Any], now: int, running: str) -> str:
    status = record["status"]
    if status != "ACTIVE":
        return status
    start, end = record.get("start_time"), record.get("end_time")
    if start is not None and start > now:
        return "NOT_STARTED"
    if end is not None and end <= now:
        return "COMPLETED"
    return running


def campaign(record: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "id": record["id"],
        "ad_account_id": record["ad_account_id"],
        "name": record["name"],
        "status": record["status"],
        "lifetime_spend_cap": record["lifetime_spend_cap"],
        "daily_spend_cap": record["daily_spend_cap"],
        "order_line_id": None,
        "tracking_urls": _NO_TRACKING,
        "start_time": record["start_time"],
        "end_time": record["end_time"],
        "is_flexible_daily_budgets": record["is_flexible_daily_budgets"],
        "is_automated_campaign": record["is_automated_campaign"],
        "is_campaign_budget_optimization": record["is_campaign_budget_optimization"],
        "objective_type": record["objective_type"],
        "created_time": record["created_time"],
        "updated_time": record["updated_time"],
        "type": "campaign",
        "summary_status": _schedule_status(record, now, "RUNNING"),
        "is_performance_plus": False,
    }


def ad_group(record: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "id": record["id"],
        "ad_account_id": record["ad_account_id"],
        "campaign_id": record["campaign_id"],
        "name": record["name"],
        "status": record["status"],
        "budget_in_micro_currency": record["budget_in_micro_currency"],
        "bid_in_micro_currency": record["bid_in_micro_currency"],
        "budget_type": record["budget_type"],
        "start_time": record["start_time"],
        "end_time": record["end_time"],
        "targeting_spec": {"GEO": list(record["geo"])},
        "lifetime_frequency_cap": -1,
        "tracking_urls": _NO_TRACKING,
        "auto_targeting_enabled": record["auto_targeting_enabled"],
        "placement_group": record["placement_group"],
        "pacing_delivery_type": record["pacing_delivery_type"],
        "billable_event": record["billable_event"],
        "bid_strategy_type": "MAX_BID" if record["bid_in_micro_currency"] else "AUTOMATIC_BID",
        "created_time": record["created_time"],
        "updated_time": record["updated_time"],
        "type": "adgroup",
        "summary_status": _schedule_status(record, now, "RUNNING"),
    }


def ad(record: dict[str, Any], now: int) -> dict[str, Any]:
    status = record["status"]
    return {
        "id": record["id"],
        "ad_account_id": record["ad_account_id"],
        "campaign_id": record["campaign_id"],
        "ad_group_id": record["ad_group_id"],
        "name": record["name"],
        "status": status,
        "creative_type": record["creative_type"],
        "destination_url": record["destination_url"],
        "pin_id": record["pin_id"],
        "click_tracking_url": None,
        "view_tracking_url": None,
        "android_deep_link": None,
        "ios_deep_link": None,
        "tracking_urls": _NO_TRACKING,
        "review_status": "APPROVED",
        "rejected_reasons": [],
        "rejection_labels": [],
        "is_pin_deleted": False,
        "is_removable": False,
        "created_time": record["created_time"],
        "updated_time": record["updated_time"],
        "type": "pinpromotion",
        "summary_status": "APPROVED" if status == "ACTIVE" else status,
    }


RENDER = {"campaign": campaign, "ad_group": ad_group, "ad": ad}
