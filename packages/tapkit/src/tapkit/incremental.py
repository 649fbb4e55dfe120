"""A stream's incremental contract, declared once: the field kept in state, and the API filter
the bookmark becomes.

The two are often different: Shopify keeps ``updated_at`` but filters ``updated_at_min``;
OneTrust keeps ``dateUpdated`` but filters ``modifieddate`` as ``yyyyMMdd``; Klaviyo's profiles
allow only an exclusive ``greater-than``.  The same declaration builds the requests and the
stream's row in the tap's documentation, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

from tapkit.keys import ISO_INSTANT, KeyKind
from tapkit.timeformats import ISO8601_Z, FilterFormat
from tapkit.windows import ONE_RANGE, Span, WindowPolicy


class Op(StrEnum):
    GT = ">"
    GTE = ">="
    LT = "<"
    LTE = "<="

    @property
    def inclusive(self) -> bool:
        return self in (Op.GTE, Op.LTE)


@dataclass(frozen=True)
class Bound:
    """One side of a request's range, rendered: ``field op value``."""

    field: str
    op: Op
    value: str | int


@dataclass(frozen=True)
class ApiFilter:
    """How a lower (and maybe upper) bound is sent to the API.

    ``field``/``op`` is the lower bound (a query parameter or a filter field); ``upper_field``
    the upper bound, or ``None`` when the API cannot bound from above.  ``stops_at``: with no
    upper bound, the record field the API sorts by (ascending) when asked, so windows still
    work: the transport stops a window's paging at its first record at or past the window's
    end (OneTrust's ``createddate`` has only "on or after").  An exclusive lower
    bound is rewound by the format's precision so records tied at the bookmark are read again;
    ``lookback`` widens a run's start further (late-arriving records).  ``on_key`` says the
    filter is on the replication key itself: only then can records be filtered client-side
    to a window (Shopify's first load filters ``created_at`` but keeps ``updated_at``).
    """

    field: str
    op: Op = Op.GTE
    format: FilterFormat = ISO8601_Z
    upper_field: str | None = None
    upper_op: Op = Op.LT
    lookback: Span = timedelta(0)
    on_key: bool = True
    stops_at: str | None = None

    @property
    def rewind(self) -> Any:
        """How far an exclusive lower bound is moved back (None for an inclusive one)."""
        return None if self.op.inclusive else self.format.precision

    @property
    def bounded(self) -> bool:
        """Whether a read can be cut into windows."""
        return self.upper_field is not None or self.stops_at is not None

    def with_lookback(self, lookback: Span) -> ApiFilter:
        return replace(self, lookback=lookback)

    def effective_start(self, start: Any) -> Any:
        """Where a request starting at ``start`` really starts, after lookback and rewind."""
        moved = start - self.lookback if self.lookback else start
        if self.rewind:
            moved = moved - self.rewind
        return self.format.floor(moved)

    def bounds(self, start: Any, end: Any) -> list[Bound]:
        """The rendered range for records with ``start <= key < end`` (a superset when the
        format is coarse: over-reading is harmless to an upserting loader, missing is not).
        No ``start`` means no lower bound: read from the beginning."""
        found = []
        if start is not None:
            found.append(
                Bound(self.field, self.op, self.format.render(self.effective_start(start)))
            )
        if end is not None and self.upper_field is not None:
            edge = self.format.ceil(end)  # LT or LTE: a superset; the engine drops the excess
            found.append(Bound(self.upper_field, self.upper_op, self.format.render(edge)))
        return found

    def describe(self) -> str:
        parts = [f"`{self.field} {self.op.value} bookmark`"]
        if self.upper_field:
            parts.append(f"`{self.upper_field} {self.upper_op.value} window end`")
        elif self.stops_at:
            parts.append(f"read in `{self.stops_at}` order up to the window end")
        text = " and ".join(parts) + f" as {self.format.name} (`{self.format.example}`)"
        if self.rewind:
            text += f"; rewound {_span(self.rewind)} for ties"
        if self.lookback:
            text += f"; lookback {_span(self.lookback)}"
        if not self.on_key:
            text += " (not the key: read whole per window)"
        return text


@dataclass(frozen=True)
class Incremental:
    """The contract: ``replication_key`` is the record field kept in state (in its ``key``
    kind's canonical form); ``api_filter`` what it becomes in requests.  ``historical_filter``,
    if given, is used instead while there is no bookmark yet (e.g. Shopify's first load by
    ``created_at_min``).  ``windows`` cuts a run's range when the filter can bound from above.
    ``sorted``: the API returns records in ascending key order, so the first page of a run's
    whole range shows where the data starts (windows then start there, not at ``start_date``)
    and a range too large for one page can be sliced and fetched concurrently.
    ``resumable_backfill``: a first load by ``historical_filter`` killed part way resumes
    where it stopped, still by that filter (the state marks it unfinished), instead of
    switching to ``api_filter`` from the last finished window.
    Without an ``api_filter`` the stream reads everything and keeps only what is newer."""

    replication_key: str
    api_filter: ApiFilter | None = None
    historical_filter: ApiFilter | None = None
    windows: WindowPolicy = field(default=ONE_RANGE)
    key: KeyKind = field(default=ISO_INSTANT)
    sorted: bool = False
    resumable_backfill: bool = False

    def filter_for(self, has_bookmark: bool) -> ApiFilter | None:
        if not has_bookmark and self.historical_filter is not None:
            return self.historical_filter
        return self.api_filter

    def describe(self) -> str:
        if self.api_filter is None:
            return "none: every request reads all; newer records kept client-side"
        text = self.api_filter.describe()
        if self.historical_filter is not None:
            first = "first load" + (" (resumable)" if self.resumable_backfill else "")
            text = f"{first}: {self.historical_filter.describe()}; then {text}"
        return text


def _span(delta: Span) -> str:
    if isinstance(delta, int):
        return f"{delta} ids"
    seconds = delta.total_seconds()
    for unit, size in (
        ("d", 86_400),
        ("h", 3_600),
        ("min", 60),
        ("s", 1),
        ("ms", 0.001),
        ("µs", 0.000001),
    ):
        if seconds >= size:
            amount = seconds / size
            return f"{amount:g} {unit}"
    return "0 s"
