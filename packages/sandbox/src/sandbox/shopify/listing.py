"""What a Shopify REST listing accepts, and how one page of it is cut.

Filters are checked and turned into predicates once, on the first request; the ``page_info``
cursor then carries them (signed) with the sort and the position after the last row served,
so later requests may send nothing but ``page_info``, ``limit`` and ``fields``, as on Shopify.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.core.clock import parse_instant

TIME_FILTERS = {
    "created_at_min": ("created_at", ">="),
    "created_at_max": ("created_at", "<="),
    "updated_at_min": ("updated_at", ">="),
    "updated_at_max": ("updated_at", "<="),
    "processed_at_min": ("processed_at", ">="),
    "processed_at_max": ("processed_at", "<="),
}
ORDER_STATUSES = ("open", "closed", "cancelled", "any")
DEFAULT_LIMIT = 50
MAX_LIMIT = 250
PAGING_PARAMS = frozenset({"page_info", "limit", "fields"})
#: The Events API's subjects the sandbox records, and the scope an app needs to see each: an
#: event is shown only to an app that may read its subject.
EVENT_SCOPES = {"Order": "read_orders", "Product": "read_products"}


class ListingError(ValueError):
    """A 400 (or ``status``) answer naming the parameter, in Shopify's ``errors`` object."""

    def __init__(self, parameter: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.parameter, self.message, self.status = parameter, message, status


@dataclass(frozen=True)
class Listing:
    """One list endpoint: its envelope key, what it filters on, and whether it pages.
    ``scope`` empty: the scope depends on the record (events: their subject's)."""

    key: str
    kind: str
    scope: str
    filters: frozenset[str]
    paged: bool = True
    required_one_of: tuple[str, ...] = ()


LISTINGS = {
    "orders": Listing(
        "orders",
        "order",
        "read_orders",
        frozenset(
            {"ids", "since_id", "status", "financial_status", "fulfillment_status", *TIME_FILTERS}
        ),
    ),
    "customers": Listing(
        "customers",
        "customer",
        "read_customers",
        frozenset({"ids", "since_id", *(f for f in TIME_FILTERS if "processed" not in f)}),
    ),
    "products": Listing(
        "products",
        "product",
        "read_products",
        frozenset({"ids", "since_id", "status", "vendor", "product_type", *TIME_FILTERS}),
    ),
    "inventory_levels": Listing(
        "inventory_levels",
        "inventory_level",
        "read_inventory",
        frozenset({"location_ids", "inventory_item_ids", "updated_at_min"}),
        required_one_of=("inventory_item_ids", "location_ids"),
    ),
    "locations": Listing("locations", "location", "read_locations", frozenset(), paged=False),
    "events": Listing(
        "events",
        "event",
        "",
        frozenset({"since_id", "filter", "verb", "created_at_min", "created_at_max"}),
    ),
}


def parse_filters(listing: Listing, params: dict[str, str]) -> dict[str, Any]:
    """The first request's filters, checked: timestamps to epoch seconds, id lists to ints."""
    found: dict[str, Any] = {}
    for name, value in params.items():
        if name not in listing.filters or value == "":
            continue  # Shopify ignores parameters an endpoint does not know
        if name in TIME_FILTERS:
            found[name] = _instant(name, value)
        elif name in ("ids", "location_ids", "inventory_item_ids"):
            found[name] = _ids(name, value)
        elif name == "since_id":
            found[name] = _ids(name, value)[0]
        elif name == "filter":  # subject types, e.g. Order,Product
            found[name] = sorted({p.strip().lower() for p in value.split(",") if p.strip()})
        else:
            found[name] = value
    if listing.key == "orders":
        status = found.setdefault("status", "open")  # Shopify's default: open orders only
        if status not in ORDER_STATUSES:
            raise ListingError("status", f"status must be one of {', '.join(ORDER_STATUSES)}")
    if listing.required_one_of and not any(name in found for name in listing.required_one_of):
        raise ListingError(
            "base",
            f"Must specify at least one of {' or '.join(listing.required_one_of)}",
            status=422,
        )
    return found


def page_limit(params: dict[str, str]) -> int:
    text = params.get("limit")
    if text is None or text == "":
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ListingError("limit", f"limit must be an integer between 1 and {MAX_LIMIT}")
    return int(text)


def matches(record: dict[str, Any], filters: dict[str, Any]) -> bool:
    """Whether a record passes every (parsed) filter; bounds are inclusive, as on Shopify."""
    return all(_passes(record, name, value) for name, value in filters.items())


def _passes(record: dict[str, Any], name: str, value: Any) -> bool:
    if name in TIME_FILTERS:
        field, op = TIME_FILTERS[name]
        moment = record.get(field)
        return moment is not None and (moment >= value if op == ">=" else moment <= value)
    if name == "ids":
        return bool(record["id"] in value)
    if name == "since_id":
        return bool(record["id"] > value)
    if name in ("location_ids", "inventory_item_ids"):
        return bool(record[name[:-1]] in value)
    if name == "filter":
        return bool(record["subject_type"].lower() in value)
    if name == "status" and "line_items" in record:
        return value == "any" or order_status(record) == value
    return str(record.get(name)) == value


def event_scopes(filters: dict[str, Any]) -> list[str]:
    """The scopes an events request needs: those of the subjects its ``filter`` names."""
    named = filters.get("filter") or []
    return sorted({scope for subject, scope in EVENT_SCOPES.items() if subject.lower() in named})


def order_status(order: dict[str, Any]) -> str:
    if order.get("cancelled_at") is not None:
        return "cancelled"
    return "closed" if order.get("closed_at") is not None else "open"


def sort_spec(params: dict[str, str], filters: dict[str, Any]) -> tuple[str, bool]:
    """``order=updated_at asc``; ``since_id`` pages by id, as Shopify documents."""
    if "since_id" in filters:
        return "id", False
    text = (params.get("order") or "id asc").strip()
    field, _, direction = text.partition(" ")
    if field not in ("id", "created_at", "updated_at", "processed_at") or direction.strip() not in (
        "",
        "asc",
        "desc",
    ):
        raise ListingError("order", f"order must be '<field> asc|desc', got {text!r}")
    return field, direction.strip() == "desc"


def row_key(record: dict[str, Any]) -> list[int]:
    if "id" in record:
        return [record["id"]]
    return [record["inventory_item_id"], record["location_id"]]


def _instant(name: str, value: str) -> int:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parse_instant(value)
    except ValueError:
        raise ListingError(
            name, f"{name} must be an ISO 8601 date-time, e.g. 2024-04-25T16:15:47-04:00"
        ) from None


def _ids(name: str, value: str) -> list[int]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ListingError(name, f"{name} must be a comma-separated list of ids")
    return [int(p) for p in parts]
