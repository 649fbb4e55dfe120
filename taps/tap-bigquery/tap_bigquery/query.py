"""The SQL the tap sends, built without a server: GoogleSQL with backtick-quoted identifiers
(tapkit's SQL dialect) and typed ``@`` parameters for every bound, never a value in the text.

    SELECT `id`, `updated_at`, ... FROM `project`.`dataset`.`orders`      (or FROM (<query>))
    WHERE (<filter>) AND ... AND `updated_at` >= @lower AND `updated_at` < @edge
    ORDER BY `updated_at`, `id`

A run's slices cut ``[lower, upper]`` at key values: a slice ends before its edge (``<``), the
next starts at it (``>=``), the last ends at the upper bound read at the start (``<=``).
``filters`` are the user's own SQL predicates, ANDed as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.cloud.bigquery import ScalarQueryParameter

from tap_bigquery.keys import KeyType
from tapkit.sql import Dialect, ParamStyle

DIALECT = Dialect(ParamStyle.AT, quote="`")


@dataclass(frozen=True)
class Source:
    """Where a stream's rows come from: a table (``project.dataset.table``) or a query."""

    table: str | None = None
    query: str | None = None
    columns: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()

    def from_clause(self) -> str:
        if self.table is not None:
            return DIALECT.identifier(self.table)
        assert self.query is not None
        return f"({self.query.strip().rstrip(';')}) AS `source`"

    def select_list(self) -> str:
        return ", ".join(DIALECT.identifier(c) for c in self.columns) if self.columns else "*"


@dataclass(frozen=True)
class Range:
    """One slice of a run: ``lower <= key`` (None: no lower bound), then ``key < end``, or
    ``key <= end`` when ``inclusive`` (the run's upper bound)."""

    lower: Any = None
    end: Any = None
    inclusive: bool = True


@dataclass
class Query:
    sql: str
    parameters: list[ScalarQueryParameter] = field(default_factory=list)


def _where(
    source: Source, key: str | None, key_type: KeyType | None, window: Range | None
) -> tuple[str, list[ScalarQueryParameter]]:
    terms = [f"({condition})" for condition in source.filters]
    parameters: list[ScalarQueryParameter] = []
    if key is not None and key_type is not None and window is not None:
        column = DIALECT.identifier(key)
        if window.lower is not None:
            terms.append(f"{column} >= {key_type.sql('@lower')}")
            parameters.append(key_type.parameter("lower", window.lower))
        if window.end is not None:
            op = "<=" if window.inclusive else "<"
            terms.append(f"{column} {op} {key_type.sql('@upper')}")
            parameters.append(key_type.parameter("upper", window.end, upper=window.inclusive))
    return (" WHERE " + " AND ".join(terms) if terms else ""), parameters


def rows(
    source: Source,
    *,
    key: str | None = None,
    key_type: KeyType | None = None,
    window: Range | None = None,
    order_by: Sequence[str] = (),
) -> Query:
    """The rows of one slice (or of the whole source for a full-table stream), in key and
    primary-key order."""
    where, parameters = _where(source, key, key_type, window)
    sql = f"SELECT {source.select_list()} FROM {source.from_clause()}{where}"
    if order_by:
        sql += " ORDER BY " + ", ".join(DIALECT.identifier(c) for c in order_by)
    return Query(sql, parameters)


def key_stats(source: Source, key: str, key_type: KeyType, lower: Any, *, parts: int = 1) -> Query:
    """The run's range, read once at its start: the lowest and highest key at or after
    ``lower`` (the highest is the run's upper bound), the row count, and with ``parts`` > 1
    the key's approximate quantiles, where slices are cut so each holds about as many rows."""
    where, parameters = _where(source, key, key_type, Range(lower, None))
    column = DIALECT.identifier(key)
    stats = f"MIN({column}) AS `low`, MAX({column}) AS `high`, COUNT({column}) AS `count`"
    if parts > 1:
        stats += f", APPROX_QUANTILES({column}, {int(parts)}) AS `edges`"
    return Query(f"SELECT {stats} FROM {source.from_clause()}{where}", parameters)
