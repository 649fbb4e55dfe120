"""Reversible ID schemes in the shapes real APIs use.

Every codec maps row numbers to IDs whose string order equals row order, so "sort by id" is
row order, and decodes an ID back to its row without a lookup table.  A salt derived from the
seed makes IDs differ between seeds and between tables.
"""

from __future__ import annotations

from functools import cache, lru_cache

from sandbox.core.rng import mix64

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Recently encoded IDs kept per codec: related objects (an event's profile) repeat across pages.
CACHED_IDS = 1 << 17


@cache
def _pairs(alphabet: str) -> tuple[str, ...]:
    """Every two-character string of the alphabet, in digit order: encode two digits per step."""
    return tuple(a + b for a in alphabet for b in alphabet)


def _encode(value: int, alphabet: str, width: int) -> str:
    square = len(alphabet) ** 2
    pairs = _pairs(alphabet)
    chunks = []
    for _ in range(width // 2):
        value, digits = divmod(value, square)
        chunks.append(pairs[digits])
    if width % 2:
        value, digit = divmod(value, len(alphabet))
        chunks.append(alphabet[digit])
    if value:
        raise ValueError("value does not fit the ID width")
    return "".join(reversed(chunks))


def _decode(text: str, alphabet: str) -> int | None:
    base = len(alphabet)
    value = 0
    for char in text:
        digit = alphabet.find(char)
        if digit < 0:
            return None
        value = value * base + digit
    return value


class IdCodec:
    def __init__(self) -> None:
        self.encode = lru_cache(maxsize=CACHED_IDS)(self.encode)  # type: ignore[method-assign]

    def encode(self, row: int) -> str:
        raise NotImplementedError

    def decode(self, text: str) -> int | None:
        raise NotImplementedError


class UlidCodec(IdCodec):
    """26-character ULIDs (Klaviyo profiles, campaigns): time part carries the row."""

    def __init__(self, salt: int, epoch_ms: int = 1_600_000_000_000) -> None:
        super().__init__()
        self.salt = salt
        self.epoch_ms = epoch_ms + salt % 1_000_000_000

    def encode(self, row: int) -> str:
        tail = (mix64(self.salt ^ row) << 16) | (mix64(self.salt + row) & 0xFFFF)
        return _encode(self.epoch_ms + row, CROCKFORD, 10) + _encode(tail, CROCKFORD, 16)

    def decode(self, text: str) -> int | None:
        if len(text) != 26:
            return None
        head = _decode(text[:10], CROCKFORD)
        if head is None:
            return None
        row = head - self.epoch_ms
        return row if row >= 0 and self.encode(row) == text else None


class Base62Codec(IdCodec):
    """Short alphanumeric IDs (Klaviyo lists ``Y6nRLr``, events ``4sQ39ZZ3Ghf``)."""

    def __init__(self, salt: int, width: int, prefix: str = "") -> None:
        super().__init__()
        self.width = width
        self.prefix = prefix
        self.offset = salt % (62 ** (width - 1))

    def encode(self, row: int) -> str:
        return self.prefix + _encode(self.offset + row, BASE62, self.width)

    def decode(self, text: str) -> int | None:
        if not text.startswith(self.prefix) or len(text) != len(self.prefix) + self.width:
            return None
        value = _decode(text[len(self.prefix) :], BASE62)
        if value is None or value < self.offset:
            return None
        return value - self.offset


class NumericCodec(IdCodec):
    """Fixed-width decimal IDs (Klaviyo flow actions)."""

    def __init__(self, salt: int, width: int = 8) -> None:
        super().__init__()
        self.width = width
        self.offset = 10 ** (width - 1) + salt % (10 ** (width - 1) // 2)

    def encode(self, row: int) -> str:
        return str(self.offset + row)

    def decode(self, text: str) -> int | None:
        if len(text) != self.width or not text.isdigit():
            return None
        row = int(text) - self.offset
        return row if row >= 0 else None


class UuidCodec(IdCodec):
    """UUID-shaped IDs (Klaviyo tags); the first group carries the row."""

    def __init__(self, salt: int) -> None:
        super().__init__()
        self.salt = salt
        self.offset = salt % 0x10000000

    def encode(self, row: int) -> str:
        tail = f"{mix64(self.salt ^ row):016x}{mix64(self.salt ^ ~row) & 0xFFFFFFFF:08x}"
        return f"{self.offset + row:08x}-{tail[0:4]}-4{tail[5:8]}-a{tail[9:12]}-{tail[12:24]}"

    def decode(self, text: str) -> int | None:
        try:
            row = int(text[:8], 16) - self.offset
        except ValueError:
            return None
        return row if row >= 0 and self.encode(row) == text else None
