"""A declared API's records: seeded from a seed, kept in SQLite, changed by mutations.

Each object is a table with ``id``, ``created_at``, ``updated_at`` and its declared fields.
Instants are stored as ``YYYY-MM-DDTHH:MM:SSZ`` text, which sorts and compares as time does,
so the REST filter and the SQL surface's ``WHERE`` agree on what "at or after" means.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sandbox.declared.spec import DeclaredApi, DeclaredObject, FieldType

SYSTEM_COLUMNS = ("id", "created_at", "updated_at")
_SQL_TYPES = {
    FieldType.STRING: "TEXT",
    FieldType.EMAIL: "TEXT",
    FieldType.TIMESTAMP: "TEXT",
    FieldType.INTEGER: "INTEGER",
    FieldType.NUMBER: "REAL",
    FieldType.BOOLEAN: "INTEGER",
}
_WORDS = (
    "amber",
    "birch",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "grove",
    "harbor",
    "iris",
    "juniper",
)


def iso(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class DeclaredData:
    """Thread-safe: one connection, one lock (the HTTP server answers on many threads)."""

    def __init__(self, api: DeclaredApi, seed: int, now: int) -> None:
        self.api = api
        self._objects = {o.name: o for o in api.objects}
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._next_id = {o.name: o.rows + 1 for o in api.objects}
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        for obj in api.objects:
            self._create(obj)
            self._seed(obj, now)

    def object(self, name: str) -> DeclaredObject:
        if name not in self._objects:
            raise KeyError(name)
        return self._objects[name]

    def columns(self, name: str) -> tuple[str, ...]:
        return (*SYSTEM_COLUMNS, *(f.name for f in self.object(name).fields))

    # -- reading ------------------------------------------------------------------------------

    def query(
        self, sql: str, parameters: Iterable[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self._lock:
            cursor = self.db.execute(sql, tuple(parameters))
            names = [d[0] for d in cursor.description or ()]
            return names, [tuple(row) for row in cursor.fetchall()]

    def rows(self, name: str) -> list[dict[str, Any]]:
        """Every live record of ``name`` as stored, by id."""
        names, found = self.query(f'SELECT * FROM "{name}" ORDER BY id')
        return [dict(zip(names, row, strict=True)) for row in found]

    # -- changes ------------------------------------------------------------------------------

    def update(self, name: str, ids: list[str], at: int) -> list[str]:
        obj = self.object(name)
        with self._lock:
            for record_id in ids:
                values = self._values(obj, int(record_id.rsplit("_", 1)[1]))
                sets = ", ".join(f'"{f.name}" = ?' for f in obj.fields)
                self.db.execute(
                    f'UPDATE "{name}" SET updated_at = ?{", " + sets if sets else ""} WHERE id = ?',
                    (iso(at), *(values[f.name] for f in obj.fields), record_id),
                )
        return ids

    def create(self, name: str, count: int, at: int) -> list[str]:
        obj = self.object(name)
        created = []
        with self._lock:
            for _ in range(count):
                number = self._next_id[name]
                self._next_id[name] += 1
                created.append(self._insert(obj, number, at, at))
        return created

    def delete(self, name: str, ids: list[str]) -> list[str]:
        with self._lock:
            self.db.executemany(f'DELETE FROM "{name}" WHERE id = ?', [(i,) for i in ids])
        return ids

    def pick(self, name: str, count: int) -> list[str]:
        ids = [row["id"] for row in self.rows(name)]
        return sorted(self._random.sample(ids, min(count, len(ids))))

    # -- seeding ------------------------------------------------------------------------------

    def _create(self, obj: DeclaredObject) -> None:
        declared = "".join(f', "{f.name}" {_SQL_TYPES[f.type]}' for f in obj.fields)
        self.db.execute(
            f'CREATE TABLE "{obj.name}" (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, '
            f"updated_at TEXT NOT NULL{declared})"
        )
        self.db.execute(f'CREATE INDEX "{obj.name}_updated" ON "{obj.name}" (updated_at, id)')
        self.db.execute(f'CREATE INDEX "{obj.name}_created" ON "{obj.name}" (created_at, id)')

    def _seed(self, obj: DeclaredObject, now: int) -> None:
        span = self.api.history_days * 86_400
        start = now - span
        tied_at = now - span // 3  # a third of the way back: inside any incremental run's range
        for number in range(1, obj.rows + 1):
            created = start + self._random.randrange(span)
            updated = min(now, created + self._random.randrange(30 * 86_400))
            if number <= self.api.tied_records:
                created, updated = min(created, tied_at), tied_at
            self._insert(obj, number, created, updated)

    def _insert(self, obj: DeclaredObject, number: int, created: int, updated: int) -> str:
        record_id = f"{obj.name[:3]}_{number:06d}"
        values = self._values(obj, number)
        names = ", ".join(f'"{c}"' for c in (*SYSTEM_COLUMNS, *values))
        marks = ", ".join("?" * (len(SYSTEM_COLUMNS) + len(values)))
        self.db.execute(
            f'INSERT INTO "{obj.name}" ({names}) VALUES ({marks})',
            (record_id, iso(created), iso(updated), *values.values()),
        )
        return record_id

    def _values(self, obj: DeclaredObject, number: int) -> dict[str, Any]:
        draw = self._random
        values: dict[str, Any] = {}
        for f in obj.fields:
            if f.type is FieldType.STRING:
                values[f.name] = f"{draw.choice(_WORDS).title()} {draw.choice(_WORDS)} {number}"
            elif f.type is FieldType.EMAIL:
                values[f.name] = f"{draw.choice(_WORDS)}.{number}@example.com"
            elif f.type is FieldType.INTEGER:
                values[f.name] = draw.randrange(0, 10_000)
            elif f.type is FieldType.NUMBER:
                values[f.name] = round(draw.uniform(0, 1_000), 2)
            elif f.type is FieldType.BOOLEAN:
                values[f.name] = int(draw.random() < 0.5)
            else:
                values[f.name] = iso(1_600_000_000 + draw.randrange(200_000_000))
        return values
