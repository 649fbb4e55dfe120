"""One stream's table: created or evolved to hold the stream's columns, and loaded a batch at a
time through a staging table.

A batch is binary-COPYed into a temporary table, then merged: with a primary key, one
``INSERT ... ON CONFLICT DO UPDATE`` of the last row per key, which rewrites a row only when
its checksum, table version or deletion mark differs; without one, appended.
``_sdc_ingested_at`` is set by the first insert and never updated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from target_postgres.columns import CANONICAL, Column, common_type

INGESTED_AT = "_sdc_ingested_at"
# Compared to decide whether a staged row changes the stored one.
CHANGE_COLUMNS = ("_sdc_checksum", "_sdc_table_version", "_sdc_deleted_at")


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
        return changes

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
            sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in self.wanted
        ]
        parts.append(sql.SQL("{} timestamptz").format(sql.Identifier(INGESTED_AT)))
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
        batched_at: datetime,
        hard_delete: bool,
    ) -> Counts:
        """Stage ``rows`` (in ``columns`` order) and merge them, inside the caller's transaction."""
        stage = sql.Identifier(f"_stage_{self.name}"[:63])
        names = [c.name for c in self.columns]
        connection.execute(
            sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
                stage,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type))
                    for c in self.columns
                ),
            )
        )
        with connection.cursor() as cursor:
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                stage, _names(names)
            )
            with cursor.copy(copy_sql) as copy:
                copy.set_types([c.type for c in self.columns])
                for row in rows:
                    copy.write_row(row)
        counts = Counts(staged=len(rows))
        if upsert and self.key:
            counts.staged = _distinct_keys(rows, [names.index(k) for k in self.key])
            counts.inserted, counts.updated = self._merge(connection, stage, names, batched_at)
            if hard_delete:
                counts.deleted = self._delete_marked(connection, stage)
        else:
            counts.inserted = self._append(connection, stage, names, batched_at)
        connection.execute(sql.SQL("DROP TABLE {}").format(stage))
        return counts

    def _merge(
        self,
        connection: psycopg.Connection[Any],
        stage: sql.Identifier,
        names: list[str],
        batched_at: datetime,
    ) -> tuple[int, int]:
        updatable = [n for n in names if n not in self.key]
        batched = "_sdc_batched_at" in names
        select_list = [
            sql.SQL("%(batched)s") if n == "_sdc_batched_at" else sql.Identifier(n) for n in names
        ]
        changed = sql.SQL(" OR ").join(
            sql.SQL("target.{0} IS DISTINCT FROM EXCLUDED.{0}").format(sql.Identifier(n))
            for n in CHANGE_COLUMNS
            if n in names
        )
        query = sql.SQL(
            "WITH merged AS ("
            "INSERT INTO {table} AS target ({columns}, {ingested}) "
            "SELECT DISTINCT ON ({key}) {select}, now() FROM {stage} ORDER BY {key}, {sequence} DESC "
            "ON CONFLICT ({key}) DO UPDATE SET {updates} WHERE {changed} "
            "RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged"
        ).format(
            table=self.ident,
            columns=_names(names),
            ingested=sql.Identifier(INGESTED_AT),
            key=_names(self.key),
            select=sql.SQL(", ").join(select_list),
            stage=stage,
            sequence=sql.Identifier("_sdc_sequence"),
            updates=sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n)) for n in updatable
            ),
            changed=changed,
        )
        row = connection.execute(query, {"batched": batched_at} if batched else {}).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def _append(
        self,
        connection: psycopg.Connection[Any],
        stage: sql.Identifier,
        names: list[str],
        batched_at: datetime,
    ) -> int:
        select_list = [
            sql.SQL("%(batched)s") if n == "_sdc_batched_at" else sql.Identifier(n) for n in names
        ]
        cursor = connection.execute(
            sql.SQL("INSERT INTO {} ({}, {}) SELECT {}, now() FROM {} ORDER BY {}").format(
                self.ident,
                _names(names),
                sql.Identifier(INGESTED_AT),
                sql.SQL(", ").join(select_list),
                stage,
                sql.Identifier("_sdc_sequence"),
            ),
            {"batched": batched_at} if "_sdc_batched_at" in names else {},
        )
        return cursor.rowcount

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


def _names(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _distinct_keys(rows: Sequence[Sequence[Any]], positions: list[int]) -> int:
    if len(positions) == 1:
        (position,) = positions
        return len({row[position] for row in rows})
    return len({tuple(row[p] for p in positions) for row in rows})
