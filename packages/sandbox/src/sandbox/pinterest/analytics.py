"""The synchronous analytics endpoints: their parameters, checked as Pinterest does, and their
answer, a bare JSON array of rows (one per entity and day with delivery, or per entity for
TOTAL).  HOUR, WEEK and MONTH are valid granularities the sandbox does not serve (400)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandbox.pinterest import metrics
from sandbox.pinterest.dataset import DAY, PinterestData
from sandbox.pinterest.params import DATE, ParameterError, id_list, values

MAX_DAYS_BACK = 90
MAX_SPAN_DAYS = 90
MAX_IDS = 250
GRANULARITIES = ("TOTAL", "DAY", "HOUR", "WEEK", "MONTH")
SERVED_GRANULARITIES = ("TOTAL", "DAY")
WINDOW_DAYS = (0, 1, 7, 14, 30, 60)
REPORT_TIMES = ("TIME_OF_AD_ACTION", "TIME_OF_CONVERSION")
#: level -> (ids parameter, id column, the ad field that names the entity)
LEVELS = {
    "campaign": ("campaign_ids", "CAMPAIGN_ID", "campaign_id"),
    "ad_group": ("ad_group_ids", "AD_GROUP_ID", "ad_group_id"),
    "ad": ("ad_ids", "AD_ID", "id"),
}
#: Columns the truth answers when none are asked for.
DEFAULT_COLUMNS = (
    "SPEND_IN_MICRO_DOLLAR",
    "SPEND_IN_DOLLAR",
    "PAID_IMPRESSION",
    "TOTAL_IMPRESSION",
    "TOTAL_CLICKTHROUGH",
    "CTR",
    "TOTAL_CONVERSIONS",
    "TOTAL_CHECKOUT",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
)


def _date(query: dict[str, list[str]], name: str) -> date:
    text = (query.get(name) or [""])[-1]
    if not text:
        raise ParameterError(name, f"{name} is required (YYYY-MM-DD)")
    try:
        if not DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ParameterError(name, f"{name} must be a date YYYY-MM-DD, got {text[:40]!r}") from None


def _choice(query: dict[str, list[str]], name: str, allowed: tuple[Any, ...]) -> None:
    text = (query.get(name) or [""])[-1]
    if text and text not in {str(a) for a in allowed}:
        raise ParameterError(name, f"{name} must be one of {', '.join(map(str, allowed))}")


def report(
    data: PinterestData,
    account_id: str,
    level: str,
    query: dict[str, list[str]],
    column_enum: frozenset[str],
    restatement_days: int,
) -> list[dict[str, Any]]:
    """Check the request's parameters and compute its rows."""
    ids_param = LEVELS[level][0]
    start, end = _date(query, "start_date"), _date(query, "end_date")
    today = datetime.fromtimestamp(data.clock.now(), UTC).date()
    if start < today - timedelta(days=MAX_DAYS_BACK):
        raise ParameterError(
            "start_date",
            f"start_date {start} is more than {MAX_DAYS_BACK} days before today ({today}, UTC)",
        )
    if end < start:
        raise ParameterError("end_date", f"end_date {end} is before start_date {start}")
    if (end - start).days > MAX_SPAN_DAYS:
        raise ParameterError(
            "end_date", f"end_date {end} is more than {MAX_SPAN_DAYS} days past start_date {start}"
        )
    ids = id_list(query, ids_param, MAX_IDS)
    if level == "ad" and not ids:  # ads: ad_ids, or every ad of campaign_ids
        campaigns = set(id_list(query, "campaign_ids", MAX_IDS))
        ids = [a["id"] for a in data.ads.values() if a["campaign_id"] in campaigns]
        if not campaigns:
            raise ParameterError("ad_ids", f"{ids_param} (or campaign_ids) is required")
    elif not ids:
        raise ParameterError(ids_param, f"{ids_param} is required (1 to {MAX_IDS} ids)")
    columns = values(query, "columns")
    if not columns:
        raise ParameterError("columns", "columns is required (comma-separated column names)")
    unknown = [c for c in columns if c not in column_enum]
    if unknown:
        raise ParameterError("columns", f"columns: unknown column(s) {', '.join(unknown[:5])}")
    granularity = (query.get("granularity") or [""])[-1]
    if granularity not in GRANULARITIES:
        raise ParameterError(
            "granularity", f"granularity must be one of {', '.join(GRANULARITIES)}"
        )
    if granularity not in SERVED_GRANULARITIES:
        raise ParameterError(
            "granularity", f"granularity {granularity} is not supported by the sandbox (DAY, TOTAL)"
        )
    for name in ("click_window_days", "engagement_window_days", "view_window_days"):
        _choice(query, name, WINDOW_DAYS)
    _choice(query, "conversion_report_time", REPORT_TIMES)
    wanted = [i for i in ids if data.table(level).get(i, {}).get("ad_account_id") == account_id]
    return rows(data, level, wanted, start, end, columns, granularity, restatement_days)


def rows(
    data: PinterestData,
    level: str,
    ids: list[str],
    start: date,
    end: date,
    columns: list[str] | tuple[str, ...],
    granularity: str,
    restatement_days: int,
) -> list[dict[str, Any]]:
    """Rows for these entities and days as reported now, in (id, DATE) order."""
    id_column, field = LEVELS[level][1], LEVELS[level][2]
    wanted = set(ids)
    now = data.clock.now()
    first = (start - date(1970, 1, 1)).days
    last = (end - date(1970, 1, 1)).days
    totals: dict[tuple[str, int], list[int]] = {}
    seed = data.config.seed
    for ad in data.ads.values():
        entity = ad[field]
        if entity not in wanted:
            continue
        group = data.ad_groups[ad["ad_group_id"]]
        campaign = data.campaigns[ad["campaign_id"]]
        spans = metrics.intersect(ad["spans"], group["spans"], campaign["spans"])
        if not spans:
            continue
        for day in range(first, min(last, now // DAY) + 1):
            delivered = metrics.ad_day(seed, ad["id"], spans, day, now, restatement_days)
            if delivered is not None:
                key = (entity, day if granularity == "DAY" else -1)
                totals[key] = metrics.add(totals.get(key), delivered)
    out = []
    table = data.table(level)
    for (entity, day), counters in sorted(totals.items(), key=lambda kv: (int(kv[0][0]), kv[0][1])):
        row: dict[str, Any] = {id_column: entity}
        if day >= 0:
            row["DATE"] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        numbers = metrics.columns_of(counters)
        labels = _labels(data, table[entity], level)
        for column in columns:
            if column in numbers:
                row[column] = numbers[column]
            elif column in labels:
                row[column] = labels[column]
            elif column not in _ID_COLUMNS:
                row[column] = 0
        out.append(row)
    return out


_ID_COLUMNS = frozenset({"CAMPAIGN_ID", "AD_GROUP_ID", "AD_ID", "PIN_ID", "PIN_PROMOTION_ID"})


def _labels(data: PinterestData, entity: dict[str, Any], level: str) -> dict[str, Any]:
    """Identity columns of the row's entity and its parents (others are left out)."""
    account = entity["ad_account_id"]
    labels: dict[str, Any] = {"AD_ACCOUNT_ID": account, "ADVERTISER_ID": account}
    campaign = data.campaigns[entity["id"] if level == "campaign" else entity["campaign_id"]]
    labels |= {
        "CAMPAIGN_ID": campaign["id"],
        "CAMPAIGN_NAME": campaign["name"],
        "CAMPAIGN_ENTITY_STATUS": campaign["status"],
        "CAMPAIGN_OBJECTIVE_TYPE": campaign["objective_type"],
    }
    if level in ("ad_group", "ad"):
        group = data.ad_groups[entity["id"] if level == "ad_group" else entity["ad_group_id"]]
        labels |= {
            "AD_GROUP_ID": group["id"],
            "AD_GROUP_NAME": group["name"],
            "AD_GROUP_ENTITY_STATUS": group["status"],
        }
    if level == "ad":
        labels |= {
            "AD_ID": entity["id"],
            "PIN_PROMOTION_ID": entity["id"],
            "AD_NAME": entity["name"],
            "PIN_ID": entity["pin_id"],
        }
    return labels
