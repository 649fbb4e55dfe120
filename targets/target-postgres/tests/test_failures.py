"""Bad input stops the run with one line naming the stream, record or setting, exit code 1,
and nothing of the failing batch written."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from target_postgres.testing import SCHEMA, Database

ITEMS = {"id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}}


def items(db: Database, *records: dict[str, Any]) -> list[dict[str, Any]]:
    return [db.schema("items", ITEMS), *(db.record("items", r) for r in records)]


def failure_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    return errors[0]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            {"id": 2, "at": "yesterday"},
            "record {'id': 2}: property 'at' (timestamptz column): 'yesterday' is not an ISO 8601 date-time",
        ),
        (
            {"id": "two", "at": "2024-01-01T00:00:00Z"},
            "property 'id' (bigint column): 'two' is not an integer",
        ),
        (
            {"id": 2**70, "at": "2024-01-01T00:00:00Z"},
            "property 'id' (bigint column): 1180591620717411303424 is beyond bigint",
        ),
        ({"at": "2024-01-01T00:00:00Z"}, "no value for its key property 'id'"),
    ],
    ids=["bad-date-time", "bad-integer", "beyond-bigint", "no-key"],
)
def test_a_record_its_columns_cannot_hold(db: Database, bad: dict[str, Any], expected: str) -> None:
    good = {"id": 1, "at": "2024-01-01T00:00:00Z"}
    run = db.load([*items(db, good, bad), db.state({"never": "forwarded"})], expect_failure=True)
    assert run.returncode == 1
    line = failure_line(run.stderr)
    assert "items:" in line
    assert expected in line
    assert run.states == []
    assert db.rows(f"SELECT count(*) FROM {SCHEMA}.items") == [(0,)]  # not even the good record


def test_a_row_postgres_refuses_fails_its_batch_and_keeps_the_ones_before(db: Database) -> None:
    """A constraint of the user's refuses a row: the writer thread's failure stops the run,
    after the batches before it committed and their STATE went out."""
    with psycopg.connect(db.libpq, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {SCHEMA}")
        connection.execute(
            f"CREATE TABLE {SCHEMA}.items (id bigint PRIMARY KEY CHECK (id < 100), at timestamptz)"
        )
    first = [db.record("items", {"id": n, "at": "2024-01-01T00:00:00Z"}) for n in range(3)]
    messages = [db.schema("items", ITEMS), *first, db.state({"at": 3})]
    messages += [db.record("items", {"id": 100, "at": "2024-01-01T00:00:00Z"}), db.state({"at": 4})]
    run = db.load(messages, batch_size_rows=3, expect_failure=True)
    assert run.returncode == 1
    assert "Postgres refused the load" in failure_line(run.stderr)
    assert run.states == [{"at": 3}]
    assert db.rows(f"SELECT count(*) FROM {SCHEMA}.items") == [(3,)]


def test_a_failure_keeps_the_batches_committed_before_it(db: Database) -> None:
    good = [db.record("items", {"id": n, "at": "2024-01-01T00:00:00Z"}) for n in range(3)]
    messages = [db.schema("items", ITEMS), *good, db.state({"at": 3})]
    messages += [db.record("items", {"id": 9, "at": "never"}), db.state({"at": 4})]
    run = db.load(messages, batch_size_rows=3, expect_failure=True)
    assert run.returncode == 1
    assert run.states == [{"at": 3}]  # the state of the committed batch, not the later one
    assert db.rows(f"SELECT count(*) FROM {SCHEMA}.items") == [(3,)]


def test_a_record_of_an_unknown_stream(db: Database) -> None:
    run = db.load([db.record("ghosts", {"id": 1})], expect_failure=True)
    assert run.returncode == 1
    assert "RECORD for stream 'ghosts' before its SCHEMA message" in failure_line(run.stderr)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '{"type": "RECORD", "stream": "items", "record": {"id": 1',
            "input line 2 is not valid JSON",
        ),
        ('{"type": "GOSSIP", "stream": "items"}', "input line 2 is not a Singer message"),
    ],
    ids=["truncated", "unknown-type"],
)
def test_a_malformed_line(db: Database, line: str, expected: str) -> None:
    text = json.dumps(db.schema("items", ITEMS)) + "\n" + line + "\n"
    run = db.load(text, expect_failure=True)
    assert run.returncode == 1
    assert expected in failure_line(run.stderr)


def test_a_wrong_password_names_the_setting_and_hides_the_password(db: Database) -> None:
    url = db.url.replace("postgres@", "nobody:hunter2-SeCrEt@")
    run = db.load(
        items(db, {"id": 1, "at": "2024-01-01T00:00:00Z"}), sqlalchemy_url=url, expect_failure=True
    )
    assert run.returncode == 1
    line = failure_line(run.stderr)
    assert "cannot connect to Postgres with sqlalchemy_url" in line
    assert "hunter2-SeCrEt" not in run.stderr


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"sqlalchemy_url": "mysql://root@localhost/db"},
            "sqlalchemy_url: scheme 'mysql' is not postgresql",
        ),
        ({"sqlalchemy_url": None, "host": None}, "no server configured"),
        ({"load_method": "merge"}, "load_method"),
        ({"batch_size_rows": 0}, "batch_size_rows: must be a positive integer"),
    ],
    ids=["not-postgres", "no-server", "load-method", "batch-size"],
)
def test_bad_settings(db: Database, settings: dict[str, Any], expected: str) -> None:
    run = db.load(
        items(db, {"id": 1, "at": "2024-01-01T00:00:00Z"}), expect_failure=True, **settings
    )
    assert run.returncode == 1
    assert expected in run.stderr
