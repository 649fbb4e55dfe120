"""The SQL adapter: the engine's windows as queries.

A window's bounds, rendered by the stream's ``ApiFilter`` exactly as for a REST API, become a
``WHERE`` clause with bound parameters (never values pasted into the text); the rows come back
ordered by the replication key and are handed to the engine as pages.  The database is only a
``run(sql, parameters)`` callable, so one adapter serves BigQuery's client, DB-API drivers and
tests on SQLite alike.

The ``ApiFilter``'s ``field`` names the column; its format renders the values the parameters
carry (an ISO string, an integer, a date string), and the dialect's ``cast`` turns such a
parameter into the column's type where the database does not compare them as they are
(BigQuery: ``TIMESTAMP(@b0)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tapkit.incremental import Bound
from tapkit.transport import Page, Record, Request

Parameters = dict[str, Any] | list[Any]
Run = Callable[[str, Parameters], Iterable[Record]]


class ParamStyle(StrEnum):
    """How a driver writes a bound parameter (PEP 249's names, plus BigQuery's)."""

    QMARK = "qmark"  # ?        sqlite3
    NAMED = "named"  # :b0      sqlite3, oracle
    AT = "at"  # @b0            BigQuery
    PYFORMAT = "pyformat"  # %(b0)s  psycopg


@dataclass(frozen=True)
class Dialect:
    paramstyle: ParamStyle = ParamStyle.QMARK
    #: Quotes around an identifier: ``"`` (standard SQL) or ````` (BigQuery, MySQL).
    quote: str = '"'
    #: Wraps a text parameter so it compares as the column's type, e.g. ``"TIMESTAMP({})"``.
    cast: str = "{}"

    def identifier(self, name: str) -> str:
        """``name`` quoted; dotted names (``dataset.table``) quoted part by part."""
        q = self.quote
        for part in name.split("."):
            if not part or q in part:
                raise ValueError(f"{name!r} is not a plain SQL identifier")
        return ".".join(f"{q}{part}{q}" for part in name.split("."))

    def placeholder(self, name: str) -> str:
        return {
            ParamStyle.QMARK: "?",
            ParamStyle.NAMED: f":{name}",
            ParamStyle.AT: f"@{name}",
            ParamStyle.PYFORMAT: f"%({name})s",
        }[self.paramstyle]


STANDARD = Dialect()
BIGQUERY_TIMESTAMP = Dialect(ParamStyle.AT, quote="`", cast="TIMESTAMP({})")


def where(bounds: Sequence[Bound], dialect: Dialect = STANDARD) -> tuple[str, Parameters]:
    """``bounds`` as a predicate and its parameters (``"TRUE"`` for none)."""
    terms: list[str] = []
    named: dict[str, Any] = {}
    positional: list[Any] = []
    for index, bound in enumerate(bounds):
        name = f"b{index}"
        value_sql = dialect.placeholder(name)
        if isinstance(bound.value, str):
            value_sql = dialect.cast.format(value_sql)
        terms.append(f"{dialect.identifier(bound.field)} {bound.op.value} {value_sql}")
        named[name] = bound.value
        positional.append(bound.value)
    predicate = " AND ".join(terms) or "TRUE"
    return predicate, positional if dialect.paramstyle is ParamStyle.QMARK else named


def select(
    table: str,
    columns: Sequence[str],
    bounds: Sequence[Bound],
    *,
    order_by: Sequence[str],
    dialect: Dialect = STANDARD,
    limit: int | None = None,
) -> tuple[str, Parameters]:
    """The query of one window: ``columns`` of ``table`` within ``bounds``, in ``order_by``."""
    predicate, parameters = where(bounds, dialect)
    names = ", ".join(dialect.identifier(column) for column in columns)
    order = ", ".join(dialect.identifier(column) for column in order_by)
    sql = f"SELECT {names} FROM {dialect.identifier(table)} WHERE {predicate} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, parameters


def pages(rows: Iterable[Record], page_size: int) -> Iterator[Page]:
    """Rows in pages of ``page_size``; each page knows whether another follows (one row of
    look-ahead), so the engine can move a sorted stream's watermark page by page."""
    page: list[Record] = []
    for row in rows:
        if len(page) == page_size:
            yield Page(page, more=True)
            page = []
        page.append(row)
    yield Page(page)


@dataclass(frozen=True)
class TableQuery:
    """The ``Fetch`` of a stream read from one table: each window one ordered query, its rows
    streamed as pages.  The probe (``first_page_only``) asks for one row more than a page,
    which tells the engine whether the range holds more than that page."""

    run: Run
    table: str
    columns: tuple[str, ...]
    order_by: tuple[str, ...]
    dialect: Dialect = STANDARD
    page_size: int = 10_000

    def __call__(self, request: Request) -> Iterator[Page]:
        limit = self.page_size + 1 if request.first_page_only else None
        sql, parameters = select(
            self.table,
            self.columns,
            request.bounds,
            order_by=self.order_by,
            dialect=self.dialect,
            limit=limit,
        )
        rows = self.run(sql, parameters)
        if request.first_page_only:
            found = list(rows)
            yield Page(found[: self.page_size], more=len(found) > self.page_size)
            return
        yield from pages(rows, self.page_size)
