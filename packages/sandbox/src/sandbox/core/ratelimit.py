"""Server-side rate limiting: two token buckets per limited operation, burst and steady.

Each bucket holds at most ``capacity`` tokens and refills at ``capacity / window`` per second.
A request takes one token from both; if either is empty the request is refused and told how
long until both hold a token again (the ``Retry-After`` a well-behaved client waits).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


@dataclass(frozen=True)
class Tier:
    """A limit as an API documents it: ``burst`` per second and ``steady`` per minute."""

    burst: int
    steady: int

    @classmethod
    def parse(cls, burst: str, steady: str) -> Tier:
        """From the spec's notation, e.g. ``Tier.parse("75/s", "750/m")``."""
        return cls(burst=_per(burst, "s"), steady=_per(steady, "m"))

    def scaled(self, factor: float) -> Tier:
        return Tier(
            burst=max(1, round(self.burst * factor)), steady=max(1, round(self.steady * factor))
        )


def _per(text: str, unit: str) -> int:
    amount, _, got_unit = text.partition("/")
    if got_unit != unit:
        raise ValueError(f"expected a rate per {unit!r}, got {text!r}")
    return int(amount)


class _Bucket:
    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: int, window_seconds: float, now: float) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / window_seconds
        self.tokens = float(capacity)
        self.updated = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for_one(self) -> float:
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # steady limit, as Klaviyo reports it
    remaining: int  # whole tokens left in the steady bucket
    reset_seconds: int  # until the steady bucket is full again
    retry_after_seconds: int  # only meaningful when refused


class RateLimiter:
    """Buckets keyed by operation; thread-safe."""

    def __init__(self, clock: Clock, *, scale: float = 1.0, enabled: bool = True) -> None:
        self._clock = clock
        self._scale = scale
        self.enabled = enabled
        self._buckets: dict[str, tuple[_Bucket, _Bucket, Tier]] = {}
        self._lock = threading.Lock()

    def configure(self, *, scale: float | None = None, enabled: bool | None = None) -> None:
        with self._lock:
            if scale is not None:
                self._scale = scale
                self._buckets.clear()
            if enabled is not None:
                self.enabled = enabled

    def acquire(self, key: str, tier: Tier) -> Decision:
        with self._lock:
            now = self._clock.now()
            entry = self._buckets.get(key)
            if entry is None:
                effective = tier.scaled(self._scale)
                entry = (
                    _Bucket(effective.burst, 1.0, now),
                    _Bucket(effective.steady, 60.0, now),
                    effective,
                )
                self._buckets[key] = entry
            burst, steady, effective = entry
            burst.refill(now)
            steady.refill(now)
            if not self.enabled:
                return Decision(True, effective.steady, effective.steady, 0, 0)
            wait = max(burst.wait_for_one(), steady.wait_for_one())
            if wait > 0:
                return Decision(
                    False, effective.steady, int(steady.tokens), 0, max(1, math.ceil(wait))
                )
            burst.tokens -= 1.0
            steady.tokens -= 1.0
            reset = math.ceil((steady.capacity - steady.tokens) / steady.rate)
            return Decision(True, effective.steady, int(steady.tokens), reset, 0)


class Limiter(Protocol):
    """What the shared admin routes turn on any emulator's limiter."""

    enabled: bool

    def configure(self, *, scale: float | None = None, enabled: bool | None = None) -> None: ...


@dataclass(frozen=True)
class BucketDecision:
    allowed: bool
    used: int  # requests in the bucket after this one, as Shopify reports them
    size: int
    retry_after_seconds: float  # only meaningful when refused


class LeakyBucketLimiter:
    """Shopify's REST limit: each request pours one unit into a bucket of ``size`` that leaks
    ``leak_per_second``; a request that finds the bucket full is refused.  One bucket per key
    (per shop and app); thread-safe.  ``scale`` multiplies the leak rate."""

    def __init__(
        self, clock: Clock, *, size: int = 40, leak_per_second: float = 2.0, enabled: bool = True
    ) -> None:
        self._clock = clock
        self.size = size
        self.base_leak = leak_per_second
        self.leak_per_second = leak_per_second
        self.enabled = enabled
        self._levels: dict[str, tuple[float, float]] = {}  # key -> (level, when)
        self._lock = threading.Lock()

    def configure(
        self,
        *,
        scale: float | None = None,
        enabled: bool | None = None,
        size: int | None = None,
        leak_per_second: float | None = None,
    ) -> None:
        """Changing the shape empties every bucket."""
        with self._lock:
            if leak_per_second is not None:
                self.base_leak = self.leak_per_second = leak_per_second
            if scale is not None:
                self.leak_per_second = self.base_leak * scale
            if size is not None:
                self.size = size
            if scale is not None or size is not None or leak_per_second is not None:
                self._levels.clear()
            if enabled is not None:
                self.enabled = enabled

    def acquire(self, key: str) -> BucketDecision:
        with self._lock:
            now = self._clock.now()
            level, when = self._levels.get(key, (0.0, now))
            level = max(0.0, level - (now - when) * self.leak_per_second)
            if self.enabled and level + 1.0 > self.size:
                self._levels[key] = (level, now)
                wait = (level + 1.0 - self.size) / self.leak_per_second
                return BucketDecision(False, self.size, self.size, wait)
            level = level + 1.0 if self.enabled else 0.0
            self._levels[key] = (level, now)
            return BucketDecision(True, max(1, math.ceil(level - 1e-9)), self.size, 0.0)
