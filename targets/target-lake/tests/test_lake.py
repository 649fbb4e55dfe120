"""What lands in a local lake: partitions, provenance, manifests, nested values, values the
schema does not allow; read back by DuckDB through the manifests' file lists."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from target_lake.manifest import listed_files
from target_lake.records import canonical
from target_lake.testing import TAP_NAME, Lake, event, events, record, schema, state, without_nulls

TOTAL = 3_000


def sql(query: str) -> duckdb.DuckDBPyRelation:
    relation = duckdb.sql(query)
    assert relation is not None
    return relation


def read_back(lake: Lake, stream: str = "events") -> list[dict[str, Any]]:
    """The stream's rows as DuckDB reads the listed files, with the dt= partition column."""
    root = Path(lake.settings["root"])
    paths = [str(root / p) for p in listed_files(lake.store(), TAP_NAME, stream)]
    relation = sql(f"select * from read_parquet({paths}, hive_partitioning = true) order by id")
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def test_records_in_the_lake_equal_the_input(lake: Lake) -> None:
    messages = list(events(0, TOTAL, every=250))
    run = lake.write(messages, cli=True, partition_date_field="datetime", batch_size_rows=1_000)
    assert run.states[-1] == {"bookmarks": {"events": {"next": TOTAL}}}
    assert lake.check_files() == TOTAL  # every listed file whole, per its sha256
    (manifest,) = lake.manifests()
    assert manifest.complete
    assert manifest.rows == TOTAL
    # a batch ends at the first STATE after 1,000 rows; the tap's last STATE makes its own
    assert [b.rows for b in manifest.batches] == [1_000, 1_000, 1_000, 0]
    assert manifest.first_state == {"bookmarks": {"events": {"next": 250}}}
    assert manifest.last_state == run.states[-1]

    rows = read_back(lake)
    sent = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert len(rows) == TOTAL
    for row, original in zip(rows, sent, strict=True):
        data = {k: v for k, v in row.items() if not k.startswith("_sdc_") and k != "dt"}
        data["attributes"] = json.loads(data["attributes"])
        assert without_nulls(data) == without_nulls(original)
        assert str(row["dt"]) == original["datetime"][:10]
        assert row["_sdc_run_id"] == manifest.run_id
        assert row["_sdc_source_file"].startswith(f"{TAP_NAME}/events/dt={row['dt']}/")
        assert row["_sdc_checksum"] == hashlib.sha256(canonical(original)).hexdigest()
        assert row["_sdc_extracted_at"].isoformat() == "2026-12-01T08:00:00.000001+00:00"
    assert {f.dt for f in manifest.files} == {f"2024-01-{d:02d}" for d in range(1, 29)}


def test_nested_objects_land_as_json_text(lake: Lake) -> None:
    lake.write(list(events(0, 30, every=10)))
    root = Path(lake.settings["root"])
    paths = [str(root / p) for p in listed_files(lake.store(), TAP_NAME)]
    found = sql(
        f"select typeof(attributes), attributes->>'$.tags[1].deep', attributes->>'$.note' "
        f"from read_parquet({paths}) where id = 3"
    ).fetchall()
    # a JSON column, its text exactly as sent: the null inside is kept, no key is added
    assert found == [("JSON", "true", None)]
    text = sql(f"select attributes::varchar from read_parquet({paths}) where id = 3")
    assert json.loads(text.fetchall()[0][0]) == event(3)["attributes"]


def test_records_without_time_extracted_go_by_the_day_they_arrive(lake: Lake) -> None:
    lake.write([schema(), record(event(1)), state({"n": 1})])
    (manifest,) = lake.manifests()
    assert len(manifest.files) == 1
    assert manifest.files[0].dt == manifest.created_at[:10]


def test_a_rerun_of_the_same_input_writes_nothing_new(lake: Lake) -> None:
    messages = list(events(0, TOTAL, every=250))
    first = lake.write(messages, batch_size_rows=1_000)
    root = Path(lake.settings["root"])

    def snapshot() -> dict[str, tuple[int, int]]:
        return {
            str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in root.rglob("*")
            if p.is_file()
        }

    before = snapshot()
    again = lake.write(messages, batch_size_rows=1_000)
    assert snapshot() == before
    assert again.states[-1] == first.states[-1]  # its STATE still goes to Meltano
    assert "already in the lake" in again.stderr


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_undeclared_properties_and_wrong_types_are_kept(lake: Lake, fmt: str) -> None:
    odd = [
        {"id": 1, "value": "not a number", "flag": 1, "surprise": {"a": [1]}},
        {"id": 2, "value": 1.5, "flag": True, "kind": 7},
        {"id": 3, "value": 2**70, "datetime": "yesterday"},
        {"id": 4, "value": 3, "attributes": [1, "two"]},
    ]
    lake.write([schema(), *[record(r) for r in odd], state({"n": 4})], format=fmt)
    assert lake.replay().records() == odd


def test_jsonl_keeps_each_record_as_sent(lake: Lake) -> None:
    messages = list(events(0, 200, every=50))
    lake.write(messages, format="jsonl")
    assert lake.check_files() == 200
    (manifest,) = lake.manifests()
    assert all(f.path.endswith(".jsonl.gz") for f in manifest.files)
    root = Path(lake.settings["root"])
    paths = [str(root / f.path) for f in manifest.files]
    rows = sql(f"select * from read_json({paths}) order by id").fetchall()
    assert len(rows) == 200
    sent = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert lake.replay().records() == sent  # nulls included


def test_a_schema_change_starts_a_new_file(lake: Lake) -> None:
    wider = {
        **json.loads(json.dumps(schema()["schema"]["properties"])),
        "extra": {"type": "string"},
    }
    lake.write(
        [
            schema(),
            record(event(1)),
            schema(properties=wider),
            record({**event(2), "extra": "x"}),
            state({"n": 2}),
        ]
    )
    (manifest,) = lake.manifests()
    assert len(manifest.batches) == 2
    assert len({f.schema_hash for f in manifest.files}) == 2
    assert [r.get("extra") for r in lake.replay().records()] == [None, "x"]
