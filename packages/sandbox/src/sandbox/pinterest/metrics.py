"""Daily delivery numbers: deterministic per (ad, day) from the seed, summed up the tree.

An ad's day has "full" numbers drawn from ``(seed, ad id, day)``; what it delivered is the
share of that day its own, its ad group's and its campaign's ACTIVE spans all cover (up to the
sandbox clock, so the current day grows as it goes).  Spend, impressions and clicks are final
once the day is over.  Conversions and checkouts arrive late: a day reports a share of them
that grows with the clock until ``restatement_days`` after the day's end, then stays.

Ad groups' numbers are the sums of their ads', campaigns' the sums of their ad groups', all in
integers, so totals reconcile at every level.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sandbox.core.rng import Rng, derive
from sandbox.pinterest.dataset import DAY

#: The integer counters kept per (ad, day); every served column derives from these.
COUNTERS = (
    "spend",
    "paid_impressions",
    "organic_impressions",
    "clicks",
    "saves",
    "conversions",
    "checkouts",
    "checkout_value",
)
LATE = frozenset({"conversions", "checkouts", "checkout_value"})
#: The share of a day's conversions already reported when the day ends.
FIRST_REPORT_SHARE = 0.35


@lru_cache(maxsize=1 << 17)
def full_day(seed: int, ad_id: str, day: int) -> tuple[int, ...]:
    """What the ad would deliver over the whole day ``day`` (days since the epoch)."""
    rng = Rng(derive(_stream(seed), int(ad_id), day))
    weight = _weight(seed, ad_id)
    if rng.chance(0.08):  # some days an ad wins no auction
        return (0,) * len(COUNTERS)
    paid = int(weight * rng.between(150, 4_000))
    cpm = rng.between(2_000_000, 9_000_000)  # micro-currency per thousand impressions
    clicks = int(paid * (0.002 + rng.random() * 0.02))
    conversions = int(clicks * (0.03 + rng.random() * 0.12) + rng.random())
    checkouts = int(conversions * (0.4 + rng.random() * 0.4))
    value = checkouts * rng.between(15, 140) * 1_000_000
    organic = int(paid * rng.random() * 0.08)
    saves = int(paid * rng.random() * 0.01)
    return (paid * cpm // 1000, paid, organic, clicks, saves, conversions, checkouts, value)


@lru_cache(maxsize=64)
def _stream(seed: int) -> int:
    return derive(seed, "delivery")


@lru_cache(maxsize=1 << 14)
def _weight(seed: int, ad_id: str) -> float:
    """How big an ad is: some spend ten times what others do."""
    return Rng(derive(_stream(seed), "weight", int(ad_id))).random() * 2 + 0.3


def covered_seconds(spans: list[list[Any]], start: int, end: int) -> int:
    """How much of ``[start, end)`` the spans cover (a span's end ``None``: open)."""
    total = 0
    for low, high in spans:
        top = end if high is None else min(end, high)
        total += max(0, top - max(start, low))
    return total


def intersect(*span_sets: list[list[Any]]) -> list[list[Any]]:
    """The times every span set covers."""
    result = span_sets[0]
    for spans in span_sets[1:]:
        merged = []
        for a_low, a_high in result:
            for b_low, b_high in spans:
                low = max(a_low, b_low)
                highs = [h for h in (a_high, b_high) if h is not None]
                high = min(highs) if highs else None
                if high is None or high > low:
                    merged.append([low, high])
        result = merged
    return result


def late_share(day_end: int, now: int, restatement_days: int) -> float:
    """The share of a day's conversions reported by ``now``; 1 once restatement is over."""
    window = restatement_days * DAY
    age = now - day_end
    if window <= 0 or age >= window:
        return 1.0
    return FIRST_REPORT_SHARE + (1 - FIRST_REPORT_SHARE) * max(0, age) / window


def ad_day(
    seed: int, ad_id: str, spans: list[list[Any]], day: int, now: int, restatement_days: int
) -> tuple[int, ...] | None:
    """The ad's counters for ``day`` as reported at ``now``; None if it did not deliver."""
    start = day * DAY
    if start >= now or not spans:
        return None
    covered = covered_seconds(spans, start, min(start + DAY, now))
    if covered <= 0:
        return None
    share = late_share(start + DAY, now, restatement_days)
    values = []
    for name, value in zip(COUNTERS, full_day(seed, ad_id, day), strict=True):
        delivered = value * covered // DAY
        values.append(int(delivered * share) if name in LATE else delivered)
    if values[0] == 0 and values[1] == 0:
        return None
    return tuple(values)


def add(total: list[int] | None, values: Iterable[int]) -> list[int]:
    if total is None:
        return list(values)
    return [a + b for a, b in zip(total, values, strict=True)]


def columns_of(counters: list[int]) -> dict[str, float | int]:
    """Every numeric column the sandbox computes, from one row's summed counters."""
    spend, paid, organic, clicks, saves, conversions, checkouts, value = counters
    total_impressions = paid + organic

    def ratio(top: float, bottom: float) -> float:
        return top / bottom if bottom else 0.0

    return {
        "SPEND_IN_MICRO_DOLLAR": spend,
        "SPEND_IN_DOLLAR": spend / 1_000_000,
        "PAID_IMPRESSION": paid,
        "IMPRESSION_1": paid,
        "IMPRESSION_2": organic,
        "TOTAL_IMPRESSION": total_impressions,
        "CLICKTHROUGH_1": clicks,
        "TOTAL_CLICKTHROUGH": clicks,
        "REPIN_1": saves,
        "TOTAL_ENGAGEMENT": clicks + saves,
        "CTR": ratio(clicks, paid),
        "ECTR": ratio(clicks, paid),
        "CPC_IN_MICRO_DOLLAR": ratio(spend, clicks),
        "ECPC_IN_DOLLAR": ratio(spend, clicks) / 1_000_000,
        "CPM_IN_MICRO_DOLLAR": ratio(spend * 1000, paid),
        "CPM_IN_DOLLAR": ratio(spend * 1000, paid) / 1_000_000,
        "ECPM_IN_MICRO_DOLLAR": ratio(spend * 1000, paid),
        "TOTAL_CONVERSIONS": conversions,
        "TOTAL_CHECKOUT": checkouts,
        "TOTAL_WEB_CHECKOUT": checkouts,
        "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR": value,
        "TOTAL_WEB_CHECKOUT_VALUE_IN_MICRO_DOLLAR": value,
        "CHECKOUT_ROAS": ratio(value, spend),
        "WEB_CHECKOUT_ROAS": ratio(value, spend),
    }
