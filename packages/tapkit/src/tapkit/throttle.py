"""Client-side rate limiting: stay under an API's limits instead of provoking 429s.

Two kinds.  ``Throttle`` enforces documented limits on its own.  ``LeakyBucket`` mirrors a
server-side bucket the API reports in every answer (Shopify's ``X-Shopify-Shop-Api-Call-Limit:
32/40``): the server's count corrects the local estimate, so requests made by other clients of
the same shop are accounted for too.

Each ``Limit`` ("75/s", "750/m") is a token bucket that refills continuously, the way
Klaviyo documents its burst and steady limits: a sliding window would instead hold request
751 until a full minute after the first, though the server's bucket has refilled by then.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    requests: int
    per_seconds: float

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``"75/s"``, ``"750/m"``, ``"2/s"``, ``"40000/d"``."""
        amount, _, unit = text.partition("/")
        seconds = {"s": 1.0, "m": 60.0, "h": 3_600.0, "d": 86_400.0}.get(unit)
        if seconds is None or not amount.isdigit():
            raise ValueError(f"a limit looks like '75/s' or '750/m', got {text!r}")
        return cls(int(amount), seconds)

    def scaled(self, factor: float) -> Limit:
        return Limit(max(1, int(self.requests * factor)), self.per_seconds)


#: Tokens short of one that still count as one: float rounding must not leave a request
#: waiting for a remainder too small to refill.
_EPSILON = 1e-9


class Throttle:
    """A token bucket per limit, all of which a request needs a token from.

    Each bucket holds at most ``requests`` tokens, starts full and refills continuously at
    ``requests / per_seconds`` tokens a second, as Klaviyo's burst and steady buckets do: a
    full bucket lets a burst through at once, then requests go out at the steady rate.
    Thread-safe (a waiting request holds the others back, so they leave in order);
    ``clock`` and ``sleep`` are injectable for tests.

    ``headroom``: tokens each bucket keeps back, for requests in flight at once.  A token is
    taken when a request leaves; with several threads sending, requests can reach the server
    in another order and a little closer together than they left, and a server bucket that was
    exactly as full as ours would then refuse one (B4 saw one or two 429s in 500 requests
    with 8 in flight).  At most half a bucket is kept back; the steady rate is unchanged."""

    def __init__(
        self,
        limits: list[Limit],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        headroom: int = 0,
    ) -> None:
        self.limits = [
            Limit(limit.requests - min(headroom, limit.requests // 2), limit.per_seconds)
            for limit in limits
        ]
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._tokens = [float(limit.requests) for limit in self.limits]
        self._rates = [limit.requests / limit.per_seconds for limit in limits]  # documented
        self._at = now
        self._lock = threading.Lock()
        self.waited = 0.0

    def _refill(self, now: float) -> None:
        elapsed = now - self._at
        self._at = now
        for index, limit in enumerate(self.limits):
            self._tokens[index] = min(
                float(limit.requests), self._tokens[index] + elapsed * self._rates[index]
            )

    def acquire(self) -> float:
        """Block until a request may go out; return the seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                self._refill(self._clock())
                wait = max(
                    ((1.0 - tokens) / rate if tokens < 1.0 - _EPSILON else 0.0)
                    for tokens, rate in zip(self._tokens, self._rates, strict=True)
                )
                if wait <= 0:
                    self._tokens = [tokens - 1.0 for tokens in self._tokens]
                    self.waited += waited
                    return waited
                self._sleep(wait)
                waited += wait


class LeakyBucket:
    """A client-side mirror of the server's leaky bucket.

    ``acquire`` counts one request into the estimated level and, if that would leave less
    than ``headroom`` free, first waits for the bucket to leak down; ``report`` replaces the
    estimate with what the server said (``used`` of ``size``) when the answer arrives.  The
    headroom covers requests still in flight and other clients of the same shop.
    """

    def __init__(
        self,
        size: int,
        leak_per_second: float,
        headroom: int = 2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if leak_per_second <= 0:
            raise ValueError("a leaky bucket must leak: leak_per_second > 0")
        self.size = size
        self.leak_per_second = leak_per_second
        self.headroom = headroom
        self._clock = clock
        self._sleep = sleep
        self._level = 0.0
        self._at = clock()
        self._lock = threading.Lock()
        self.waited = 0.0

    def _drained(self, now: float) -> float:
        return max(0.0, self._level - (now - self._at) * self.leak_per_second)

    def acquire(self) -> float:
        with self._lock:
            now = self._clock()
            level = self._drained(now)
            ceiling = max(1, self.size - self.headroom)
            wait = (level + 1 - ceiling) / self.leak_per_second if level + 1 > ceiling else 0.0
            if wait > 0:
                self._sleep(wait)
                self.waited += wait
                now = self._clock()
                level = self._drained(now)
            self._level, self._at = level + 1, now
            return wait

    def report(self, used: int, size: int) -> None:
        with self._lock:
            self.size = size
            self._level, self._at = float(used), self._clock()
