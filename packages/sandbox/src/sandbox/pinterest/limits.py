"""Pinterest's rate limits, counted per access token (per user per app) in fixed windows:
per category per minute (``ads_read`` 1,000, ``ads_analytics`` 300: the Standard tier) and, when
``daily_limit`` is set (the Trial tier's 1,000), per day across categories.  ``scale``
multiplies every limit.  A window opens with a token's first request in it; a refusal says how
long until it closes (hours, for the daily limit)."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from sandbox.core.ratelimit import Clock

PER_MINUTE = {"ads_read": 1_000, "ads_analytics": 300}


@dataclass(frozen=True)
class Budget:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    window: str  # "minute" | "day"


class PinterestLimiter:
    def __init__(
        self,
        clock: Clock,
        *,
        scale: float = 1.0,
        enabled: bool = True,
        daily_limit: int | None = None,
    ) -> None:
        self._clock = clock
        self._scale = scale
        self.enabled = enabled
        self.daily_limit = daily_limit
        # (token, window key) -> (when the window opened, requests made in it)
        self._counts: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def configure(self, *, scale: float | None = None, enabled: bool | None = None) -> None:
        with self._lock:
            if scale is not None:
                self._scale = scale
                self._counts.clear()
            if enabled is not None:
                self.enabled = enabled

    def limit(self, category: str) -> int:
        return max(1, round(PER_MINUTE[category] * self._scale))

    def acquire(self, token: str, category: str) -> Budget:
        """Counts the request against its windows: the tightest refusal, or what is left."""
        with self._lock:
            now = self._clock.now()
            checks = [("minute", category, 60, self.limit(category))]
            if self.daily_limit:
                daily = max(1, round(self.daily_limit * self._scale))
                checks.insert(0, ("day", "daily", 86_400, daily))
            if not self.enabled:
                limit = checks[-1][3]
                return Budget(True, limit, limit, 0, "minute")
            budgets = []
            for window, key, seconds, allowed in checks:
                # A window opens with the first request after the last one closed.
                opened, made = self._counts.get((token, key), (now, 0))
                if now >= opened + seconds:
                    opened, made = now, 0
                made += 1
                self._counts[(token, key)] = (opened, made)
                reset = max(1, math.ceil(opened + seconds - now))
                left = max(0, allowed - made)
                budgets.append(Budget(made <= allowed, allowed, left, reset, window))
            refused = [b for b in budgets if not b.allowed]
            if refused:
                return max(refused, key=lambda b: b.reset_seconds)
            return min(budgets, key=lambda b: b.remaining)
