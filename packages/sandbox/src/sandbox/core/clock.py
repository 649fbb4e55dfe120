"""Clocks: the sandbox's data clock (what "now" is for records) and a monotonic clock for limits.

The data clock is frozen unless advanced, so the same seed gives the same data whatever the
wall time; tests move it explicitly.  The monotonic clock is injectable so rate-limit tests can
run without sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


def parse_instant(text: str) -> int:
    """ISO 8601 text to epoch seconds; a value without an offset is taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def format_instant(epoch_seconds: int) -> str:
    """Epoch seconds to the ISO 8601 form Klaviyo and most APIs send: ``+00:00`` offset."""
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat()


class DataClock:
    """The emulated service's idea of the current time, in whole epoch seconds.

    Live by default: it follows the wall clock (never earlier than ``start``), as a real
    service's does, so records written now carry timestamps a client's clock agrees with.
    Frozen, it stays at ``start`` until moved, which makes every timestamp predictable.
    ``advance``/``set`` shift it in either mode.
    """

    def __init__(self, start: int, frozen: bool = False) -> None:
        self.start = start
        self.frozen = frozen
        self._offset = 0
        self._lock = threading.Lock()

    def _base(self) -> int:
        return self.start if self.frozen else max(self.start, int(time.time()))

    def now(self) -> int:
        return self._base() + self._offset

    def advance(self, seconds: int) -> int:
        if seconds < 0:
            raise ValueError("the clock only moves forward; use set() to go to an earlier instant")
        with self._lock:
            self._offset += seconds
            return self.now()

    def set(self, epoch_seconds: int) -> int:
        with self._lock:
            self._offset = epoch_seconds - self._base()
            return self.now()


def start_of_today() -> int:
    """Midnight UTC today: the default end of a generated history."""
    return int(time.time()) // 86_400 * 86_400


class MonotonicClock:
    """Real monotonic time; the default for rate limiting and delays."""

    def now(self) -> float:
        return time.monotonic()


class FakeClock:
    """A monotonic clock tests move by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
