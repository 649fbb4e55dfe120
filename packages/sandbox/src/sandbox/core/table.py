"""Columnar record storage with keyset pagination, for emulating paged list endpoints.

Rows are integers ``0..size-1``; what a row *looks like* is rendered elsewhere on demand.  The
table keeps only what queries need as numpy columns (timestamps, foreign rows, flags), so a
million events cost a few tens of megabytes.  Pages are cut by position ``(sort key, row)``,
which stays correct while rows are added, changed or deleted between pages, as real cursor
pagination does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

RowMask = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class KeyRange:
    """Bounds on the sort key; ``None`` means unbounded on that side."""

    low: Any = None
    low_inclusive: bool = True
    high: Any = None
    high_inclusive: bool = True

    def narrowed(self, other: KeyRange) -> KeyRange:
        low, low_inc = self.low, self.low_inclusive
        if other.low is not None and (
            low is None or other.low > low or (other.low == low and not other.low_inclusive)
        ):
            low, low_inc = other.low, other.low_inclusive
        high, high_inc = self.high, self.high_inclusive
        if other.high is not None and (
            high is None or other.high < high or (other.high == high and not other.high_inclusive)
        ):
            high, high_inc = other.high, other.high_inclusive
        return KeyRange(low, low_inc, high, high_inc)


@dataclass(frozen=True)
class Page:
    rows: list[int]
    keys: list[Any]
    has_more: bool

    @property
    def last_position(self) -> list[Any]:
        return [self.keys[-1], self.rows[-1]]


@dataclass
class _SortView:
    version: int
    order: np.ndarray  # rows sorted by (key, row)
    keys: np.ndarray  # key of each entry of ``order``


class Table:
    def __init__(self, size: int, columns: dict[str, np.ndarray] | None = None) -> None:
        self.size = size
        self.alive = np.ones(size, dtype=bool)
        self.columns: dict[str, np.ndarray] = dict(columns or {})
        for name, column in self.columns.items():
            if len(column) != size:
                raise ValueError(f"column {name!r} has {len(column)} values for {size} rows")
        self.version = 0
        self._views: dict[str, _SortView] = {}

    # -- changes ----------------------------------------------------------------------------

    def append(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Add rows; every column must be given.  Returns the new row numbers."""
        if set(values) != set(self.columns):
            raise ValueError(f"append needs exactly the columns {sorted(self.columns)}")
        count = len(next(iter(values.values()))) if values else 0
        for name, column in self.columns.items():
            self.columns[name] = np.concatenate(
                [column, np.asarray(values[name], dtype=column.dtype)]
            )
        self.alive = np.concatenate([self.alive, np.ones(count, dtype=bool)])
        rows = np.arange(self.size, self.size + count)
        self.size += count
        self.touch()
        return rows

    def delete(self, rows: np.ndarray | list[int]) -> None:
        self.alive[np.asarray(rows, dtype=np.int64)] = False
        self.touch()

    def touch(self) -> None:
        """Call after changing any column in place, so sort views are rebuilt."""
        self.version += 1

    def live_rows(self) -> np.ndarray:
        return np.flatnonzero(self.alive)

    # -- reading ----------------------------------------------------------------------------

    def page(
        self,
        *,
        sort: str | None = None,
        sort_values: Callable[[], np.ndarray] | None = None,
        descending: bool = False,
        key_range: KeyRange | None = None,
        mask: RowMask | None = None,
        after: list[Any] | None = None,
        limit: int,
    ) -> Page:
        """One page in ``(key, row)`` order.

        ``sort`` names a column, or a computed key when ``sort_values`` is given (it returns the
        key of every row); ``None`` sorts by row.  ``after`` is the last position of the
        previous page.  ``mask`` filters candidate rows (it receives an array of row numbers).
        """
        view = self._view(sort, sort_values)
        lo, hi = 0, len(view.order)
        if key_range is not None:
            if key_range.low is not None:
                lo = int(
                    np.searchsorted(
                        view.keys, key_range.low, "left" if key_range.low_inclusive else "right"
                    )
                )
            if key_range.high is not None:
                hi = int(
                    np.searchsorted(
                        view.keys, key_range.high, "right" if key_range.high_inclusive else "left"
                    )
                )
        if after is not None:
            key, row = after
            first = int(np.searchsorted(view.keys, key, "left"))
            last = int(np.searchsorted(view.keys, key, "right"))
            ties = view.order[first:last]
            if descending:
                hi = min(hi, first + int(np.searchsorted(ties, row, "left")))
            else:
                lo = max(lo, first + int(np.searchsorted(ties, row, "right")))
        positions = self._scan(view, lo, hi, descending, mask, limit + 1)
        has_more = len(positions) > limit
        positions = positions[:limit]
        rows = view.order[positions].tolist()
        keys = view.keys[positions].tolist()
        return Page(rows, keys, has_more)

    def _scan(
        self, view: _SortView, lo: int, hi: int, descending: bool, mask: RowMask | None, want: int
    ) -> np.ndarray:
        found: list[np.ndarray] = []
        count = 0
        chunk = max(want, 256)
        while lo < hi and count < want:
            if descending:
                start, stop = max(lo, hi - chunk), hi
            else:
                start, stop = lo, min(hi, lo + chunk)
            rows = view.order[start:stop]
            keep = self.alive[rows]
            if mask is not None and keep.any():
                keep &= mask(rows)
            hits = np.flatnonzero(keep) + start
            if descending:
                hits = hits[::-1]
                hi = start
            else:
                lo = stop
            found.append(hits)
            count += len(hits)
            chunk = min(chunk * 2, 1 << 16)
        if not found:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(found)[:want]

    def _view(self, sort: str | None, sort_values: Callable[[], np.ndarray] | None) -> _SortView:
        name = sort or ""
        cached = self._views.get(name)
        if cached is not None and cached.version == self.version and len(cached.order) == self.size:
            return cached
        rows = np.arange(self.size, dtype=np.int64)
        if sort is None:
            view = _SortView(self.version, rows, rows)
        else:
            keys = sort_values() if sort_values is not None else self.columns[sort]
            order = np.lexsort((rows, keys))
            view = _SortView(self.version, order, keys[order])
        self._views[name] = view
        return view
