"""A small, fast, seedable random source whose output never changes between Python versions.

Records are generated on demand from ``(seed, table, row)`` rather than stored, so the
generator must be cheap to create per row: splitmix64 is a handful of integer operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_MASK = (1 << 64) - 1
_UNIT = 1.0 / (1 << 53)


def mix64(value: int) -> int:
    """The splitmix64 finaliser: a well-distributed 64-bit hash of an integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def derive(*parts: int | str) -> int:
    """A stable 64-bit seed from a mix of integers and strings (strings hashed bytewise)."""
    state = 0
    for part in parts:
        if isinstance(part, str):
            for byte in part.encode():
                state = mix64(state ^ byte)
        else:
            state = mix64(state ^ (part & _MASK))
    return state


class Rng:
    """Deterministic stream of numbers from one 64-bit state."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def next64(self) -> int:
        # mix64 inlined: this is the innermost loop of record rendering.
        z = self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        """Uniform in [0, 1)."""
        return (self.next64() >> 11) * _UNIT

    def below(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        return self.next64() % n

    def between(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]."""
        return low + self.next64() % (high - low + 1)

    def chance(self, probability: float) -> bool:
        return (self.next64() >> 11) * _UNIT < probability

    def choice(self, items: Sequence[T]) -> T:
        return items[self.next64() % len(items)]

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        pool = list(items)
        picked = []
        for _ in range(min(k, len(pool))):
            picked.append(pool.pop(self.next64() % len(pool)))
        return picked

    def uuid4(self) -> str:
        """A version-4-shaped UUID string."""
        text = f"{self.next64():016x}{self.next64():016x}"
        return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"
