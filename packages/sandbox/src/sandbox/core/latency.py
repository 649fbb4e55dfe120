"""Modelled page time: how long the emulated API takes to answer, base plus per record served.

A sandbox on loopback answers in milliseconds, so a client that reads one page at a time looks
as fast as one that keeps several in flight.  With a real API's page time, the difference shows.
"""

from __future__ import annotations

import math
import threading
from typing import Any


class Latency:
    """``base_ms + per_record_ms * records`` per API answer; thread-safe to change while serving."""

    def __init__(self, base_ms: float = 0.0, per_record_ms: float = 0.0) -> None:
        self._lock = threading.Lock()
        self.base_ms = _milliseconds("base_ms", base_ms)
        self.per_record_ms = _milliseconds("per_record_ms", per_record_ms)

    def configure(self, *, base_ms: Any = None, per_record_ms: Any = None) -> None:
        """Change either part; ``None`` keeps it. Both are checked before either changes."""
        base = self.base_ms if base_ms is None else _milliseconds("base_ms", base_ms)
        per = (
            self.per_record_ms
            if per_record_ms is None
            else _milliseconds("per_record_ms", per_record_ms)
        )
        with self._lock:
            self.base_ms, self.per_record_ms = base, per

    def seconds(self, records: int | None) -> float:
        with self._lock:
            return (self.base_ms + self.per_record_ms * (records or 0)) / 1000

    def describe(self) -> dict[str, float]:
        with self._lock:
            return {"base_ms": self.base_ms, "per_record_ms": self.per_record_ms}


def _milliseconds(name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a number of milliseconds of at least 0, got {value!r}")
    return float(value)
