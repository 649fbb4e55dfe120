"""A seeded shop: orders with line items and transactions, customers, products with variants,
locations and inventory levels, generated from ``(seed, counts, now)`` and changed by mutations.
Deleting an order or a product records a ``destroy`` event, as Shopify's Events API does (it has
no events for customers).

Records are kept as dicts with timestamps in epoch seconds; the API renders them in the shop's
UTC offset.  Ids grow with creation time, as Shopify's do, so ``since_id`` pages in time order.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.core.clock import DataClock, parse_instant, start_of_today
from sandbox.core.rng import Rng, derive
from sandbox.klaviyo import catalog

KINDS = ("order", "customer", "product", "location", "inventory_level", "transaction", "event")
DAY = 86_400
ORDER_ID_BASE = 5_100_000_000_000
CUSTOMER_ID_BASE = 7_200_000_000_000
PRODUCT_ID_BASE = 8_300_000_000_000
VARIANT_ID_BASE = 4_400_000_000_000
ITEM_ID_BASE = 4_500_000_000_000  # inventory items, one per variant
LINE_ID_BASE = 1_300_000_000_000
TRANSACTION_ID_BASE = 6_600_000_000_000
EVENT_ID_BASE = 1_640_000_000_000
LOCATION_ID_BASE = 6_100_000_000
PRODUCT_TYPES = ("Apparel", "Shoes", "Accessories", "Home", "Outdoor")
VENDORS = ("Northwind", "Acme Goods", "Fjord & Pine", "Kumo Studio")
ADJECTIVES = ("Classic", "Everyday", "Trail", "Linen", "Wool", "Canvas", "Merino", "Cedar")
NOUNS = ("Tee", "Hoodie", "Sneaker", "Tote", "Beanie", "Candle", "Blanket", "Mug", "Jacket")
SIZES = ("XS", "S", "M", "L", "XL")
LOCATIONS = (
    ("Main warehouse", "Columbus", "OH", "US"),
    ("Downtown store", "Chicago", "IL", "US"),
    ("EU fulfilment", "Rotterdam", "ZH", "NL"),
)
GATEWAYS = ("shopify_payments", "paypal", "manual")


class MutationError(ValueError):
    pass


@dataclass(frozen=True)
class ShopConfig:
    seed: int = 1
    orders: int = 1_000
    #: Where the generated history ends (epoch seconds); default: midnight UTC today.
    now: int = 0
    history_days: int = 365
    #: Customers whose email is also a Klaviyo sandbox profile's (same seed and profile count
    #: as that sandbox), written in other case or with spaces as shops often store them.
    klaviyo_seed: int | None = None
    klaviyo_profiles: int = 0

    def __post_init__(self) -> None:
        if self.orders < 1:
            raise ValueError("the shop needs at least one order")
        if not self.now:
            object.__setattr__(self, "now", start_of_today())


@dataclass
class ShopData:
    config: ShopConfig
    clock: DataClock
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    locations: dict[int, dict[str, Any]] = field(default_factory=dict)
    inventory_levels: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    transactions: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: dict[int, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self._next: dict[str, int] = {}
        self._mutations = 0
        _generate(self)

    # -- ids and lookups ---------------------------------------------------------------------

    def new_id(self, kind: str, base: int) -> int:
        number = self._next.get(kind, 0)
        self._next[kind] = number + 1
        return base + number * 97  # sparse, like real ids

    def table(self, kind: str) -> dict[Any, dict[str, Any]]:
        tables: dict[str, dict[Any, dict[str, Any]]] = {
            "order": self.orders,
            "customer": self.customers,
            "product": self.products,
            "location": self.locations,
            "inventory_level": self.inventory_levels,
            "transaction": self.transactions,
            "event": self.events,
        }
        if kind not in tables:
            raise MutationError(f"unknown type {kind!r}; one of {', '.join(KINDS)}")
        return tables[kind]

    def order_transactions(self, order_id: int) -> list[dict[str, Any]]:
        return [t for t in self.transactions.values() if t["order_id"] == order_id]

    def variants(self) -> list[dict[str, Any]]:
        return [v for p in self.products.values() for v in p["variants"]]

    # -- mutations ---------------------------------------------------------------------------

    def mutate(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``{"type", "action": create|update|delete, "count" | "ids", "advance_seconds" | "at"}``:
        an update stamps every picked record with the same ``updated_at`` (a bulk edit)."""
        kind = str(spec.get("type", ""))
        action = str(spec.get("action", ""))
        table = self.table(kind)
        with self.lock:
            if "at" in spec:  # an exact instant: for ties with a value a client already holds
                self.clock.set(parse_instant(str(spec["at"])))
            else:
                self.clock.advance(int(spec.get("advance_seconds", 1 if self.clock.frozen else 0)))
            self._mutations += 1
            rng = Rng(derive(self.config.seed, "mutation", self._mutations))
            now = self.clock.now()
            if action == "create":
                ids = [_create(self, kind, rng, now) for _ in range(int(spec.get("count", 1)))]
            elif action in ("update", "delete"):
                picked = _pick(table, spec, rng)
                for key in picked:
                    if action == "update":
                        _update(self, kind, table[key], rng, now)
                    else:
                        _delete(self, kind, key, now)
                ids = picked
            else:
                raise MutationError(f"unknown action {action!r}; one of create, update, delete")
            return {"type": kind, "action": action, "ids": [_id_text(i) for i in ids]}


def _id_text(key: Any) -> Any:
    return list(key) if isinstance(key, tuple) else key


def _pick(table: dict[Any, dict[str, Any]], spec: dict[str, Any], rng: Rng) -> list[Any]:
    if "ids" in spec:
        wanted = [tuple(i) if isinstance(i, list) else int(i) for i in spec["ids"]]
        missing = [i for i in wanted if i not in table]
        if missing:
            raise MutationError(f"no such record(s): {missing[:5]}")
        return wanted
    count = int(spec.get("count", 1))
    keys = list(table)
    if count > len(keys):
        raise MutationError(f"asked for {count} records but only {len(keys)} exist")
    return rng.sample(keys, count)


# -- generation ------------------------------------------------------------------------------


def _generate(data: ShopData) -> None:
    config = data.config
    rng = Rng(derive(config.seed, "shopify"))
    end = config.now
    start = end - config.history_days * DAY
    for index, (name, city, province, country) in enumerate(LOCATIONS):
        created = start - (len(LOCATIONS) - index) * 30 * DAY
        location_id = data.new_id("location", LOCATION_ID_BASE)
        data.locations[location_id] = {
            "id": location_id,
            "name": name,
            "address1": f"{10 + index * 7} Commerce Way",
            "city": city,
            "province_code": province,
            "country_code": country,
            "zip": f"{43000 + index * 111}",
            "phone": None,
            "active": True,
            "legacy": False,
            "created_at": created,
            "updated_at": created + DAY,
        }
    for _ in range(max(5, config.orders // 20)):
        _create_product(data, rng, start - rng.between(1, 90) * DAY, end)
    shared = iter(_klaviyo_emails(config))
    customer_count = max(1, config.orders // 3)
    for index in range(customer_count):
        created = start + (end - start) * index // customer_count - rng.between(0, 3 * DAY)
        # Three customers in five are also Klaviyo profiles (while shared emails last).
        email = next(shared, None) if index % 5 < 3 else None
        _create_customer(data, rng, created, email)
    created_times = sorted(start + rng.below(end - start) for _ in range(config.orders))
    signups = sorted((c["created_at"], c["id"]) for c in data.customers.values())
    signup_times = [moment for moment, _ in signups]
    variants = data.variants()
    for created in created_times:
        # A customer orders only after signing up.
        known = bisect.bisect_right(signup_times, created) or 1
        customer = data.customers[signups[rng.below(known)][1]] if rng.chance(0.85) else None
        _create_order(data, rng, created, customer, end, variants)
    _bulk_edit(data, rng, end - 10 * DAY)


def _bulk_edit(data: ShopData, rng: Rng, moment: int) -> None:
    """A fifth of the orders (up to 120) edited in one bulk action: one shared ``updated_at``,
    so ties span pages and, when a run ends there, runs."""
    older = [o for o in data.orders.values() if o["created_at"] <= moment]
    for order in rng.sample(older, min(120, len(data.orders) // 5)):
        order["updated_at"] = moment
        order["tags"] = "bulk-edited"


def _klaviyo_emails(config: ShopConfig) -> list[str]:
    """Every second Klaviyo profile's email, spelled the way a checkout form stored it."""
    if config.klaviyo_seed is None or config.klaviyo_profiles < 20:
        return []
    from sandbox.klaviyo.dataset import DatasetConfig, KlaviyoData
    from sandbox.klaviyo.render import Renderer

    klaviyo = DatasetConfig(seed=config.klaviyo_seed, profiles=config.klaviyo_profiles, events=20)
    data = KlaviyoData(klaviyo, DataClock(klaviyo.now, frozen=True))
    renderer = Renderer(data, "")
    alive = data.tables["profile"].alive
    emails = []
    for row in range(0, config.klaviyo_profiles, 2):
        email = renderer.profile(row, frozenset())["email"] if alive[row] else None
        if email:
            styles = (email, email.upper(), f" {email.title()} ")
            emails.append(styles[row % 3])
    return emails


def _create_product(data: ShopData, rng: Rng, created: int, now: int) -> dict[str, Any]:
    product_id = data.new_id("product", PRODUCT_ID_BASE)
    title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    price = rng.between(8, 180)
    variants = []
    for position, size in enumerate(rng.sample(SIZES, rng.between(1, 4)), start=1):
        variant_id = data.new_id("variant", VARIANT_ID_BASE)
        item_id = data.new_id("item", ITEM_ID_BASE)
        variants.append(
            {
                "id": variant_id,
                "product_id": product_id,
                "title": size,
                "price": f"{price + position - 1}.00",
                "sku": f"SKU-{product_id % 100_000:05d}-{size}",
                "position": position,
                "inventory_item_id": item_id,
                "inventory_quantity": 0,
                "created_at": created,
                "updated_at": created,
            }
        )
        for location_id in data.locations:
            stocked = created + rng.between(0, max(1, now - created))
            data.inventory_levels[(item_id, location_id)] = {
                "inventory_item_id": item_id,
                "location_id": location_id,
                "available": rng.between(0, 120),
                "updated_at": min(stocked, now),
            }
    product = {
        "id": product_id,
        "title": title,
        "handle": f"{title.lower().replace(' ', '-')}-{product_id % 10_000}",
        "vendor": rng.choice(VENDORS),
        "product_type": rng.choice(PRODUCT_TYPES),
        "status": "active" if rng.chance(0.85) else rng.choice(("draft", "archived")),
        "tags": ", ".join(rng.sample(("new", "sale", "gift", "eco"), rng.below(3))),
        "created_at": created,
        "updated_at": created + rng.below(max(1, min(now - created, 30 * DAY))),
        "published_at": created,
        "variants": variants,
    }
    data.products[product_id] = product
    return product


def _create_customer(
    data: ShopData, rng: Rng, created: int, email: str | None = None
) -> dict[str, Any]:
    customer_id = data.new_id("customer", CUSTOMER_ID_BASE)
    first, first_ascii = rng.choice(catalog.FIRST_NAMES)
    last, last_ascii = rng.choice(catalog.LAST_NAMES)
    if email is None and rng.chance(0.95):
        email = f"{first_ascii}.{last_ascii}+shop{customer_id % 100_000}@example.com"
    customer = {
        "id": customer_id,
        "email": email,
        "first_name": first,
        "last_name": last,
        "phone": f"+1614{customer_id % 10_000_000:07d}" if rng.chance(0.4) else None,
        "state": "enabled" if rng.chance(0.7) else "disabled",
        "verified_email": rng.chance(0.9),
        "tax_exempt": False,
        "tags": "vip" if rng.chance(0.05) else "",
        "currency": "USD",
        "orders_count": 0,
        "total_spent": "0.00",
        "last_order_id": None,
        "created_at": created,
        "updated_at": created,
    }
    data.customers[customer_id] = customer
    return customer


def _create_order(
    data: ShopData,
    rng: Rng,
    created: int,
    customer: dict[str, Any] | None,
    now: int,
    variants: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    order_id = data.new_id("order", ORDER_ID_BASE)
    number = 1000 + data._next["order"]
    variants = variants or data.variants()
    line_items = []
    for _ in range(rng.between(1, 4)):
        variant = rng.choice(variants)
        product = data.products[variant["product_id"]]
        quantity = rng.between(1, 3)
        line_items.append(
            {
                "id": data.new_id("line", LINE_ID_BASE),
                "variant_id": variant["id"],
                "product_id": product["id"],
                "title": product["title"],
                "variant_title": variant["title"],
                "name": f"{product['title']} - {variant['title']}",
                "sku": variant["sku"],
                "quantity": quantity,
                "price": variant["price"],
            }
        )
    cents = sum(_cents(i["price"]) * i["quantity"] for i in line_items)
    discount = cents // 10 if rng.chance(0.2) else 0
    tax = (cents - discount) * 8 // 100
    total = cents - discount + tax
    cancelled = rng.chance(0.04)
    fulfilled = not cancelled and rng.chance(0.8)
    settled = min(now, created + rng.between(60, 20 * DAY))
    order = {
        "id": order_id,
        "name": f"#{number}",
        "order_number": number,
        "email": customer["email"] if customer else None,
        "customer_id": customer["id"] if customer else None,
        "currency": "USD",
        "financial_status": "voided" if cancelled else "paid",
        "fulfillment_status": "fulfilled" if fulfilled else None,
        "subtotal_price": _money(cents - discount),
        "total_discounts": _money(discount),
        "total_tax": _money(tax),
        "total_price": _money(total),
        "tags": "",
        "note": None,
        "test": False,
        "source_name": rng.choice(("web", "pos", "shopify_draft_order")),
        "created_at": created,
        "processed_at": created,
        "updated_at": settled if (fulfilled or cancelled) else created,
        "closed_at": settled if fulfilled and rng.chance(0.7) else None,
        "cancelled_at": settled if cancelled else None,
        "cancel_reason": "customer" if cancelled else None,
        "line_items": line_items,
    }
    data.orders[order_id] = order
    _add_transaction(data, rng, order, "void" if cancelled else "sale", created)
    if customer is not None:
        _count_order(customer, order)
    return order


def _count_order(customer: dict[str, Any], order: dict[str, Any]) -> None:
    customer["orders_count"] += 1
    customer["total_spent"] = _money(_cents(customer["total_spent"]) + _cents(order["total_price"]))
    customer["last_order_id"] = order["id"]
    customer["updated_at"] = max(customer["updated_at"], order["created_at"])


def _add_transaction(
    data: ShopData, rng: Rng, order: dict[str, Any], kind: str, moment: int
) -> dict[str, Any]:
    transaction_id = data.new_id("transaction", TRANSACTION_ID_BASE)
    amount = order["total_price"] if kind != "refund" else _money(_cents(order["total_price"]) // 2)
    transaction = {
        "id": transaction_id,
        "order_id": order["id"],
        "kind": kind,
        "gateway": rng.choice(GATEWAYS),
        "status": "success",
        "amount": amount,
        "currency": "USD",
        "test": False,
        "authorization": f"auth-{transaction_id % 1_000_000:06d}",
        "parent_id": None,
        "source_name": "web",
        "created_at": moment,
        "processed_at": moment,
    }
    data.transactions[transaction_id] = transaction
    return transaction


def _create(data: ShopData, kind: str, rng: Rng, now: int) -> Any:
    if kind == "order":
        customer = data.customers[rng.choice(list(data.customers))] if data.customers else None
        return _create_order(data, rng, now, customer, now)["id"]
    if kind == "customer":
        return _create_customer(data, rng, now)["id"]
    if kind == "product":
        return _create_product(data, rng, now, now)["id"]
    if kind == "transaction":
        # A refund on an existing order: the order changes too, as on Shopify.
        order = data.orders[rng.choice(list(data.orders))]
        order["financial_status"] = "partially_refunded"
        order["updated_at"] = now
        return _add_transaction(data, rng, order, "refund", now)["id"]
    raise MutationError(f"create supports order, customer, product and transaction, not {kind!r}")


def _update(data: ShopData, kind: str, record: dict[str, Any], rng: Rng, now: int) -> None:
    if kind == "transaction":
        raise MutationError("transactions cannot change once made; create a refund instead")
    if kind == "event":
        raise MutationError("events are recorded by deletions, not changed")
    record["updated_at"] = now
    if kind == "order":
        record["tags"] = ", ".join(rng.sample(("gift", "priority", "wholesale", "repeat"), 2))
        record["note"] = f"edited at {now}"
    elif kind == "customer":
        record["tags"] = "vip" if not record["tags"] else ""
        record["state"] = "enabled"
    elif kind == "product":
        for variant in record["variants"]:
            variant["price"] = _money(_cents(variant["price"]) + 100)
            variant["updated_at"] = now
    elif kind == "inventory_level":
        record["available"] = rng.between(0, 120)
    elif kind == "location":
        record["phone"] = f"+1614555{rng.below(10_000):04d}"


def _delete(data: ShopData, kind: str, key: Any, now: int) -> None:
    if kind not in ("order", "customer", "product"):
        raise MutationError(f"delete supports order, customer and product, not {kind!r}")
    if kind == "product":
        for variant in data.products[key]["variants"]:
            for location_id in data.locations:
                data.inventory_levels.pop((variant["inventory_item_id"], location_id), None)
    if kind == "order":
        for transaction in data.order_transactions(key):
            del data.transactions[transaction["id"]]
    record = data.table(kind).pop(key)
    if kind in DESTROY_MESSAGES:
        _add_event(data, kind, record, "destroy", now)


#: What Shopify writes in a ``destroy`` event's message, by subject (customers have no events).
DESTROY_MESSAGES = {
    "order": "Order {name} was deleted.",
    "product": "The product {title} was deleted.",
}
EVENT_SUBJECTS = {"order": "Order", "product": "Product"}


def _add_event(data: ShopData, kind: str, record: dict[str, Any], verb: str, now: int) -> None:
    event_id = data.new_id("event", EVENT_ID_BASE)
    label = record.get("name") or record.get("title")
    message = DESTROY_MESSAGES[kind].format(name=label, title=label)
    data.events[event_id] = {
        "id": event_id,
        "subject_id": record["id"],
        "subject_type": EVENT_SUBJECTS[kind],
        "verb": verb,
        "created_at": now,
        "arguments": [label],
        "body": None,
        "message": message,
        "author": "Shopify",
        "description": message,
        "path": f"/admin/{kind}s/{record['id']}",
    }


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _cents(text: str) -> int:
    whole, _, fraction = text.partition(".")
    return int(whole) * 100 + int((fraction + "00")[:2])
