"""OneTrust's rate limits: per endpoint per minute and per account per hour, in fixed windows.

Defaults are the production numbers (1,000 requests a minute per endpoint, 200,000 an hour per
account); ``scale`` multiplies both.  A request must pass both.  Refusals say which period was
exceeded, as OneTrust's 429 headers do; successful answers carry no budget headers.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from sandbox.core.ratelimit import Clock

PER_MINUTE = 1_000
PER_HOUR = 200_000


@dataclass(frozen=True)
class Refusal:
    period: str  # MINUTE | HOUR
    made: int
    allowed: int
    retry_after: int


class OneTrustLimiter:
    def __init__(self, clock: Clock, *, scale: float = 1.0, enabled: bool = True) -> None:
        self._clock = clock
        self._scale = scale
        self.enabled = enabled
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window number, requests in it)
        self._lock = threading.Lock()

    def configure(self, *, scale: float | None = None, enabled: bool | None = None) -> None:
        with self._lock:
            if scale is not None:
                self._scale = scale
                self._counts.clear()
            if enabled is not None:
                self.enabled = enabled

    @property
    def per_minute(self) -> int:
        return max(1, round(PER_MINUTE * self._scale))

    @property
    def per_hour(self) -> int:
        return max(1, round(PER_HOUR * self._scale))

    def acquire(self, endpoint: str) -> Refusal | None:
        """Counts the request; the refusal if a window is over its limit."""
        with self._lock:
            if not self.enabled:
                return None
            now = self._clock.now()
            checks = (
                ("HOUR", "account", 3600, self.per_hour),
                ("MINUTE", endpoint, 60, self.per_minute),
            )
            for period, key, window, allowed in checks:
                start = int(now // window)
                seen, made = self._counts.get(key, (start, 0))
                made = made + 1 if seen == start else 1
                self._counts[key] = (start, made)
                if made > allowed:
                    wait = max(1, math.ceil((start + 1) * window - now))
                    return Refusal(period, made, allowed, wait)
            return None
