"""A seeded Pinterest Ads business generated from ``(seed, campaigns, now)``: two ad accounts
(USD and GBP), campaigns created over the ~8 months before ``now`` with 2-4 ad groups each and
1-3 ads per ad group, delivering over the last ~120 days.

Each entity keeps its delivery spans (when it was ACTIVE, from its start until it was paused,
archived or ended); an ad delivers where its own, its ad group's and its campaign's spans
overlap, so ARCHIVED campaigns have spend before their archiving and DRAFTs none.

Hard cases built in: at least 25% of campaigns ARCHIVED (some within the last 60 days), a few
DRAFT and one DELETED_DRAFT; one campaign of the USD account with enough ad groups that the
account holds more than 250 (id batches of 250 in the analytics); 40 ad groups and 30 ads of
the USD account sharing one ``updated_time`` second (a bulk edit); names with accents, CJK and
emoji.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.core.clock import DataClock, start_of_today
from sandbox.core.rng import Rng, derive

DAY = 86_400
KINDS = ("ad_account", "campaign", "ad_group", "ad")
STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT")
#: The USD account gets at least this many ad groups (one campaign makes up the difference).
MIN_AD_GROUPS_PER_ACCOUNT = 260
TIED_AD_GROUPS = 40
TIED_ADS = 30
ID_BASE = {"campaign": 626_700_000_000, "ad_group": 2_680_000_000_000, "ad": 687_100_000_000}
ACCOUNTS = (
    ("549755885175", "Tapworks Outdoor (US)", "USD", "US", "tapworks_outdoor"),
    ("549764217638", "Tapworks Outdoor — Europe & Café Déco", "GBP", "GB", "tapworks_europe"),
)
THEMES = (
    "Spring Sale",
    "Trail Running",
    "Camp Kitchen",
    "Café Crème Mugs",
    "Crème brûlée Kits",
    "露营装备",
    "キャンプ用品",
    "Winter Layers ❄️",
    "Summer Hikes 🌞",
    "Back to School",
    "Black Friday 🛍️",
    "Gift Guide 🎁",
    "Zürich Pop-up",
    "Niño Collection",
    "Bike Packing",
    "Rain Gear",
)
AUDIENCES = ("Prospecting", "Retargeting", "Lookalike", "Catalogue", "Broad", "Interest: Hiking")
CREATIVES = ("REGULAR", "VIDEO", "CAROUSEL", "SHOPPING", "IDEA")


@dataclass(frozen=True)
class PinterestConfig:
    seed: int = 1
    campaigns: int = 40
    #: Where the generated history ends (epoch seconds); default: midnight UTC today.
    now: int = 0
    history_days: int = 240
    delivery_days: int = 120

    def __post_init__(self) -> None:
        if self.campaigns < 1:
            raise ValueError("the business needs at least one campaign (--campaigns)")
        if not self.now:
            object.__setattr__(self, "now", start_of_today())


@dataclass
class PinterestData:
    config: PinterestConfig
    clock: DataClock
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    ad_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    ads: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.last_id = dict(ID_BASE)
        _generate(self, Rng(derive(self.config.seed, "pinterest")))

    def table(self, kind: str) -> dict[str, dict[str, Any]]:
        tables = {
            "ad_account": self.accounts,
            "campaign": self.campaigns,
            "ad_group": self.ad_groups,
            "ad": self.ads,
        }
        if kind not in tables:
            raise ValueError(f"unknown type {kind!r}; one of {', '.join(KINDS)}")
        return tables[kind]

    def next_id(self, rng: Rng, kind: str) -> str:
        """Each new id is higher than the last, as Pinterest's ("higher-value IDs are
        associated with more-recently added items")."""
        self.last_id[kind] += 1 + rng.below(997)
        return str(self.last_id[kind])

    # -- building blocks shared with the mutations -------------------------------------------

    def add_campaign(self, rng: Rng, account: str, created: int, status: str) -> dict[str, Any]:
        start = created + rng.below(2 * DAY)
        end = start + rng.between(30, 150) * DAY if rng.chance(0.3) else None
        lifetime = rng.chance(0.3)
        campaign: dict[str, Any] = {
            "id": self.next_id(rng, "campaign"),
            "ad_account_id": account,
            "name": f"{rng.choice(THEMES)} {rng.between(2025, 2026)} #{len(self.campaigns) + 1}",
            "status": status,
            "created_time": created,
            "updated_time": created,
            "start_time": start,
            "end_time": end,
            "objective_type": rng.choice(("AWARENESS", "CONSIDERATION", "WEB_CONVERSION")),
            "lifetime_spend_cap": rng.between(5, 80) * 100_000_000 if lifetime else None,
            "daily_spend_cap": None if lifetime else rng.between(20, 400) * 1_000_000,
            "is_campaign_budget_optimization": False,
            "is_flexible_daily_budgets": False,
            "is_automated_campaign": False,
            "spans": [] if status in ("DRAFT", "DELETED_DRAFT") else [[start, end]],
        }
        self.campaigns[campaign["id"]] = campaign
        return campaign

    def add_ad_group(self, rng: Rng, campaign: dict[str, Any], created: int) -> dict[str, Any]:
        status = _child_status(rng, campaign["status"], (0.8, 0.12))
        start = max(created, campaign["start_time"])
        end = campaign["end_time"]
        group: dict[str, Any] = {
            "id": self.next_id(rng, "ad_group"),
            "ad_account_id": campaign["ad_account_id"],
            "campaign_id": campaign["id"],
            "name": f"{rng.choice(AUDIENCES)} · {campaign['name'][:40]}",
            "status": status,
            "created_time": created,
            "updated_time": created,
            "start_time": start,
            "end_time": end,
            "budget_in_micro_currency": rng.between(10, 200) * 1_000_000,
            "bid_in_micro_currency": rng.between(50, 900) * 10_000 if rng.chance(0.4) else None,
            "budget_type": "DAILY",
            "billable_event": rng.choice(("CLICKTHROUGH", "IMPRESSION")),
            "pacing_delivery_type": "STANDARD",
            "placement_group": "ALL",
            "auto_targeting_enabled": rng.chance(0.7),
            "geo": [self.accounts[campaign["ad_account_id"]]["country"]],
            "spans": [] if status in ("DRAFT", "DELETED_DRAFT") else [[start, end]],
        }
        self.ad_groups[group["id"]] = group
        return group

    def add_ad(self, rng: Rng, group: dict[str, Any], created: int) -> dict[str, Any]:
        status = _child_status(rng, group["status"], (0.85, 0.1))
        ad: dict[str, Any] = {
            "id": self.next_id(rng, "ad"),
            "ad_account_id": group["ad_account_id"],
            "campaign_id": group["campaign_id"],
            "ad_group_id": group["id"],
            "name": f"Pin {rng.between(100, 999)} — {group['name'][:30]}",
            "status": status,
            "created_time": created,
            "updated_time": created,
            "creative_type": rng.choice(CREATIVES),
            "pin_id": str(1_000_000_000_000_000 + rng.below(10**15)),
            "destination_url": f"https://shop.example.com/p/{rng.between(1000, 9999)}",
            "spans": [] if status in ("DRAFT", "DELETED_DRAFT") else [[created, None]],
        }
        self.ads[ad["id"]] = ad
        return ad


def stop(entity: dict[str, Any], moment: int) -> None:
    """The entity stops delivering at ``moment`` (paused or archived then)."""
    spans = entity["spans"]
    if spans and (spans[-1][1] is None or spans[-1][1] > moment):
        spans[-1][1] = max(spans[-1][0], moment)


def _child_status(rng: Rng, parent: str, odds: tuple[float, float]) -> str:
    """Children of an archived or draft parent share its status; others mostly run."""
    if parent in ("ARCHIVED", "DRAFT", "DELETED_DRAFT"):
        return parent
    draw = rng.random()
    return "ACTIVE" if draw < odds[0] else "PAUSED" if draw < odds[0] + odds[1] else "ARCHIVED"


def _statuses(rng: Rng, count: int) -> list[str]:
    """Exact shares: a quarter ARCHIVED, a fifth PAUSED, a few DRAFT (one DELETED_DRAFT)."""
    archived = max(1, (count + 3) // 4) if count > 1 else 0
    paused = count // 5
    drafts = max(1, count // 15) if count >= 4 else 0
    statuses = ["ARCHIVED"] * archived + ["PAUSED"] * paused + ["DRAFT"] * drafts
    if drafts and count >= 10:
        statuses[-1] = "DELETED_DRAFT"
    statuses += ["ACTIVE"] * (count - len(statuses))
    return rng.sample(statuses, len(statuses))


def _generate(data: PinterestData, rng: Rng) -> None:
    config = data.config
    now = config.now
    for index, (account_id, name, currency, country, owner) in enumerate(ACCOUNTS):
        created = now - (1100 - 200 * index) * DAY + rng.below(DAY)
        data.accounts[account_id] = {
            "id": account_id,
            "name": name,
            "owner": {"id": str(1_000_000_000_000_000 + index), "username": owner},
            "country": country,
            "currency": currency,
            "permissions": ["OWNER"],
            "created_time": created,
            "updated_time": created + rng.below(300 * DAY),
        }
    account_ids = list(data.accounts)
    born = sorted(
        now - rng.between(3 * DAY, config.history_days * DAY) for _ in range(config.campaigns)
    )
    statuses = _statuses(rng, config.campaigns)
    recent_archives = 0
    for number, (created, status) in enumerate(zip(born, statuses, strict=True)):
        account = account_ids[1] if number % 10 in (3, 7) else account_ids[0]
        campaign = data.add_campaign(rng, account, created, status)
        for _ in range(rng.between(2, 4)):
            _add_group_with_ads(data, rng, campaign)
        if status in ("PAUSED", "ARCHIVED"):
            # Archived ones: some in the last 60 days, so their spend is still in reach.
            recent = status == "ARCHIVED" and recent_archives < 3
            recent_archives += recent
            low = max(created + 3 * DAY, now - 60 * DAY) if recent else created + 3 * DAY
            moment = rng.between(min(low, now - 2 * DAY), now - 2 * DAY)
            _stop_tree(data, campaign, moment, status)
    big = next((c for c in data.campaigns.values() if c["ad_account_id"] == account_ids[0]), None)
    if big is not None:
        held = sum(1 for g in data.ad_groups.values() if g["ad_account_id"] == account_ids[0])
        for _ in range(max(0, MIN_AD_GROUPS_PER_ACCOUNT - held)):
            _add_group_with_ads(data, rng, big, stopped=big["status"] in ("PAUSED", "ARCHIVED"))
    _bulk_edit(data, rng, account_ids[0], now - 6 * DAY + 1234)


def _add_group_with_ads(
    data: PinterestData, rng: Rng, campaign: dict[str, Any], stopped: bool = False
) -> None:
    now = data.config.now
    created = min(now - DAY, campaign["created_time"] + rng.below(3 * DAY))
    group = data.add_ad_group(rng, campaign, created)
    if stopped:  # added after the campaign stopped: the same status, no delivery
        group["status"], group["spans"] = campaign["status"], []
    for _ in range(rng.between(1, 3)):
        ad = data.add_ad(rng, group, min(now - DAY, created + rng.below(DAY)))
        if stopped:
            ad["status"], ad["spans"] = group["status"], []
    for child in [group, *(a for a in data.ads.values() if a["ad_group_id"] == group["id"])]:
        if child["status"] in ("PAUSED", "ARCHIVED") and not stopped:
            moment = rng.between(min(child["created_time"] + DAY, now - DAY), now - DAY)
            stop(child, moment)
            child["updated_time"] = max(child["updated_time"], moment)


def _stop_tree(data: PinterestData, campaign: dict[str, Any], moment: int, status: str) -> None:
    """A campaign paused or archived at ``moment``; archiving takes its children with it."""
    stop(campaign, moment)
    campaign["updated_time"] = max(campaign["updated_time"], moment)
    if status != "ARCHIVED":
        return
    for group in data.ad_groups.values():
        if group["campaign_id"] == campaign["id"]:
            stop(group, moment)
            group["status"] = "ARCHIVED"
            group["updated_time"] = max(group["updated_time"], moment)
    for ad in data.ads.values():
        if ad["campaign_id"] == campaign["id"]:
            stop(ad, moment)
            ad["status"] = "ARCHIVED"
            ad["updated_time"] = max(ad["updated_time"], moment)


def _bulk_edit(data: PinterestData, rng: Rng, account: str, moment: int) -> None:
    """A bulk edit in the account's UI: many entities share one ``updated_time`` second."""
    for kind, count in (("ad_group", TIED_AD_GROUPS), ("ad", TIED_ADS)):
        pool = [
            e
            for e in data.table(kind).values()
            if e["ad_account_id"] == account and e["updated_time"] < moment
        ]
        for entity in rng.sample(pool, min(count, len(pool))):
            entity["updated_time"] = moment
