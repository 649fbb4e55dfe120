"""Fixtures: the embedded Postgres for the session and a fresh database per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import postgres
from target_postgres.testing import Database


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[postgres.Embedded]:
    data_dir = tmp_path_factory.mktemp("pg") / "data"
    embedded = postgres.start(data_dir, databases=())
    yield embedded
    postgres.stop(data_dir)


@pytest.fixture
def db(pg: postgres.Embedded, tmp_path: Path) -> Database:
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres.create_databases(pg, (name,))
    return Database(pg.url(name), pg.url(name, driver="postgresql"), tmp_path)
