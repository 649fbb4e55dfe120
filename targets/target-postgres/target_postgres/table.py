"""One stream's table: created or evolved to hold the stream's columns, and loaded a batch at a
time.

With a primary key, a batch is binary-COPYed into a temporary table, then merged: one
``INSERT ... ON CONFLICT DO UPDATE`` of the last row per key, which rewrites a row only when
its checksum, table version or deletion mark differs.  Without one, rows are COPYed straight
into the table.

A row carrying ``_sdc_deleted_at`` is a soft delete: a key the table holds keeps its last known
values and takes only the deletion mark and the bookkeeping columns (a tombstone from a tap
that knows only the deleted key must not blank the row); a key it does not hold is inserted as
the row is.  A later row of the key without the mark un-deletes it.  With ``hard_delete`` the
row is deleted instead.  Within one batch the last row per key is the one staged, so a record
followed by its tombstone in the same batch keeps the values the table held before.

``_sdc_ingested_at`` is set by the first insert and never updated; ``_sdc_batched_at`` is the
batch's transaction time; both are filled in by Postgres.

A backfill skips the staging table: while a table that was empty when the run began receives
batches whose keys it does not hold yet, the batch is COPYed straight into it (half the work for
Postgres).  The first key it already holds rolls that COPY back to a savepoint, and the stream
merges from then on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from target_postgres.columns import CANONICAL, Column, common_type

INGESTED_AT = "_sdc_ingested_at"
BATCHED_AT = "_sdc_batched_at"
DELETED_AT = "_sdc_deleted_at"
# Compared to decide whether a staged row changes the stored one.
CHANGE_COLUMNS = ("_sdc_checksum", "_sdc_table_version", "_sdc_deleted_at")
#: The loader's metadata columns (``loader.CORE_METADATA`` and ``RECORD_METADATA``): what a soft
#: delete writes into a row it keeps; every other column keeps its value.
BOOKKEEPING = frozenset(
    {
        "_sdc_deleted_at",
        "_sdc_sequence",
        "_sdc_table_version",
        "_sdc_checksum",
        "_sdc_extracted_at",
        "_sdc_received_at",
        BATCHED_AT,
        "_sdc_sync_started_at",
    }
)


class TableError(Exception):
    pass


@dataclass
class Counts:
    staged: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def unchanged(self) -> int:
        return self.staged - self.inserted - self.updated

    def add(self, other: Counts) -> None:
        self.staged += other.staged
        self.inserted += other.inserted
        self.updated += other.updated
        self.deleted += other.deleted


@dataclass
class Table:
    schema: str
    name: str
    key: tuple[str, ...]
    #: What the stream's schema asks for; after ``prepare``, ``columns`` are what the table has.
    wanted: list[Column]
    columns: list[Column] = field(default_factory=list)
    #: Batches may be COPYed straight in: the table was empty when the run began, and no key
    #: of a batch has been there before.
    direct: bool = False

    @property
    def row_columns(self) -> list[Column]:
        """The columns a row carries, in its order: all but those Postgres fills in."""
        return [c for c in self.columns if c.name != BATCHED_AT]

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    def prepare(self, connection: psycopg.Connection[Any]) -> list[str]:
        """Create the table, or add the columns it lacks and widen the ones too narrow.
        Returns what was changed, for the log."""
        changes: list[str] = []
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
        )
        existing = self._existing_types(connection)
        if not existing:
            self._create(connection)
            self.columns = list(self.wanted)
            self.direct = bool(self.key)
            return [f"created {self.schema}.{self.name}"]
        columns = []
        for column in self.wanted:
            actual = existing.get(column.name)
            if actual is None:
                connection.execute(
                    sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                        self.ident, sql.Identifier(column.name), sql.SQL(column.type)
                    )
                )
                changes.append(f"added {column.name} {column.type}")
                columns.append(column)
                continue
            wider = common_type(actual, column.type)
            if wider != actual:
                connection.execute(
                    sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}").format(
                        self.ident,
                        sql.Identifier(column.name),
                        sql.SQL(wider),
                        sql.Identifier(column.name),
                        sql.SQL(wider),
                    )
                )
                changes.append(f"widened {column.name} from {actual} to {wider}")
            columns.append(Column(column.name, wider, column.source))
        if INGESTED_AT not in existing:
            connection.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} timestamptz").format(
                    self.ident, sql.Identifier(INGESTED_AT)
                )
            )
            changes.append(f"added {INGESTED_AT}")
        if self.key and not self._has_unique_key(connection):
            raise TableError(
                f"{self.schema}.{self.name} has no primary key or unique index on ({', '.join(self.key)}), "
                "which the stream's key_properties need for upserts: add one, or set load_method "
                "to append-only"
            )
        self.columns = columns
        self._set_defaults(connection)
        self.direct = bool(self.key) and self._is_empty(connection)
        return changes

    def _is_empty(self, connection: psycopg.Connection[Any]) -> bool:
        found = connection.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(self.ident))
        return found.fetchone() is None

    def _set_defaults(self, connection: psycopg.Connection[Any]) -> None:
        """What a COPY straight into the table leaves to Postgres; only where missing, as
        ALTER TABLE waits for every reader of the table."""
        missing = connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s AND column_name = ANY(%s) AND column_default IS NULL",
            (self.schema, self.name, [INGESTED_AT, BATCHED_AT]),
        ).fetchall()
        for (name,) in missing:
            connection.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT now()").format(
                    self.ident, sql.Identifier(name)
                )
            )

    def _existing_types(self, connection: psycopg.Connection[Any]) -> dict[str, str]:
        rows = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (self.schema, self.name),
        ).fetchall()
        found = {}
        for name, data_type in rows:
            found[name] = CANONICAL.get(data_type, "text" if data_type != "ARRAY" else "jsonb")
        return found

    def _create(self, connection: psycopg.Connection[Any]) -> None:
        parts = [
            sql.SQL("{} {}{}").format(
                sql.Identifier(c.name),
                sql.SQL(c.type),
                sql.SQL(" DEFAULT now()" if c.name == BATCHED_AT else ""),
            )
            for c in self.wanted
        ]
        parts.append(sql.SQL("{} timestamptz DEFAULT now()").format(sql.Identifier(INGESTED_AT)))
        if self.key:
            parts.append(sql.SQL("PRIMARY KEY ({})").format(_names(self.key)))
        connection.execute(
            sql.SQL("CREATE TABLE {} ({})").format(self.ident, sql.SQL(", ").join(parts))
        )

    def _has_unique_key(self, connection: psycopg.Connection[Any]) -> bool:
        rows = connection.execute(
            "SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisunique GROUP BY i.indexrelid",
            (f'"{self.schema}"."{self.name}"',),
        ).fetchall()
        return any(sorted(row[0]) == sorted(self.key) for row in rows)

    # -- loading -----------------------------------------------------------------------------

    def load(
        self,
        connection: psycopg.Connection[Any],
        rows: Sequence[Sequence[Any]],
        *,
        upsert: bool,
        hard_delete: bool,
    ) -> Counts:
        """Write ``rows`` (in ``row_columns`` order), inside the caller's transaction."""
        names = [c.name for c in self.row_columns]
        if not (upsert and self.key):
            self._copy(connection, self.ident, rows)
            return Counts(staged=len(rows), inserted=len(rows))
        key_positions = [names.index(k) for k in self.key]
        distinct = _distinct_keys(rows, key_positions)
        marked = self._marked(rows)
        if self.direct and distinct == len(rows) and not (hard_delete and marked):
            try:
                with connection.transaction():  # a savepoint
                    self._copy(connection, self.ident, rows)
                return Counts(staged=len(rows), inserted=len(rows), deleted=marked)
            except psycopg.errors.UniqueViolation:
                self.direct = False  # a key came back: merge from now on
        stage = sql.Identifier(f"_stage_{self.name}"[:63])
        connection.execute(
            sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
                stage,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type))
                    for c in self.row_columns
                ),
            )
        )
        self._copy(connection, stage, rows)
        counts = Counts(staged=distinct)
        counts.inserted, counts.updated, counts.deleted = self._merge(
            connection, stage, names, distinct < len(rows)
        )
        if hard_delete:
            counts.deleted = self._delete_marked(connection, stage)
        connection.execute(sql.SQL("DROP TABLE {}").format(stage))
        return counts

    def _copy(
        self,
        connection: psycopg.Connection[Any],
        into: sql.Identifier,
        rows: Sequence[Sequence[Any]],
    ) -> None:
        columns = self.row_columns
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            into, _names([c.name for c in columns])
        )
        with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            copy.set_types([c.type for c in columns])
            for row in rows:
                copy.write_row(row)

    def _marked(self, rows: Sequence[Sequence[Any]]) -> int:
        """How many rows carry ``_sdc_deleted_at``."""
        position = [c.name for c in self.row_columns].index(DELETED_AT)
        return sum(1 for row in rows if row[position] is not None)

    def _merge(
        self,
        connection: psycopg.Connection[Any],
        stage: sql.Identifier,
        names: list[str],
        repeats_keys: bool,
    ) -> tuple[int, int, int]:
        """Rows inserted, updated, and soft-deleted (inserted or updated with the mark)."""
        written = [*names, BATCHED_AT] if any(c.name == BATCHED_AT for c in self.columns) else names
        updatable = [n for n in written if n not in self.key]
        select_list = [sql.SQL("now()") if n == BATCHED_AT else sql.Identifier(n) for n in written]
        changed = sql.SQL(" OR ").join(
            sql.SQL("target.{0} IS DISTINCT FROM EXCLUDED.{0}").format(sql.Identifier(n))
            for n in CHANGE_COLUMNS
            if n in names
        )
        # the last row per key wins; without repeats, no sort is needed
        source = (
            "SELECT DISTINCT ON ({key}) {select}, now() FROM {stage} ORDER BY {key}, {sequence} DESC"
            if repeats_keys
            else "SELECT {select}, now() FROM {stage}"
        )
        query = sql.SQL(
            "WITH merged AS ("
            "INSERT INTO {table} AS target ({columns}, {ingested}) "
            + source
            + " ON CONFLICT ({key}) DO UPDATE SET {updates} WHERE {changed} "
            "RETURNING (xmax = 0) AS inserted, (target._sdc_deleted_at IS NOT NULL) AS marked) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), "
            "count(*) FILTER (WHERE marked) FROM merged"
        ).format(
            table=self.ident,
            columns=_names(written),
            ingested=sql.Identifier(INGESTED_AT),
            key=_names(self.key),
            select=sql.SQL(", ").join(select_list),
            stage=stage,
            sequence=sql.Identifier("_sdc_sequence"),
            updates=sql.SQL(", ").join(_assignment(n) for n in updatable),
            changed=changed,
        )
        row = connection.execute(query).fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    def _delete_marked(self, connection: psycopg.Connection[Any], stage: sql.Identifier) -> int:
        """``hard_delete``: rows whose newest record carries ``_sdc_deleted_at`` go."""
        matches = sql.SQL(" AND ").join(
            sql.SQL("target.{0} = staged.{0}").format(sql.Identifier(k)) for k in self.key
        )
        cursor = connection.execute(
            sql.SQL(
                "DELETE FROM {} AS target USING {} AS staged WHERE {} "
                "AND target._sdc_deleted_at IS NOT NULL"
            ).format(self.ident, stage, matches)
        )
        return cursor.rowcount

    def retire_versions_before(
        self, connection: psycopg.Connection[Any], version: int, *, hard_delete: bool
    ) -> int:
        """ACTIVATE_VERSION: rows of older versions are gone from the source."""
        older = sql.SQL("COALESCE(_sdc_table_version, -1) < %(version)s")
        if hard_delete:
            query = sql.SQL("DELETE FROM {} WHERE {}").format(self.ident, older)
        else:
            query = sql.SQL(
                "UPDATE {} SET _sdc_deleted_at = now() WHERE {} AND _sdc_deleted_at IS NULL"
            ).format(self.ident, older)
        return connection.execute(query, {"version": version}).rowcount


def _assignment(name: str) -> sql.Composed:
    """``SET`` of one column on conflict: a soft delete keeps the row's value of a data column."""
    if name in BOOKKEEPING:
        return sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name))
    return sql.SQL(
        "{0} = CASE WHEN EXCLUDED._sdc_deleted_at IS NULL THEN EXCLUDED.{0} ELSE target.{0} END"
    ).format(sql.Identifier(name))


def _names(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _distinct_keys(rows: Sequence[Sequence[Any]], positions: list[int]) -> int:
    if len(positions) == 1:
        (position,) = positions
        return len({row[position] for row in rows})
    return len({tuple(row[p] for p in positions) for row in rows})
