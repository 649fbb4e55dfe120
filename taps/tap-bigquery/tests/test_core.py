"""singer-sdk's standard tap tests, for every stream, against the emulator."""

from __future__ import annotations

from typing import Any

from google.cloud import bigquery

from sandbox.bigquery import BigQueryEmulator, shared
from tap_bigquery.tap import TapBigQuery
from tapkit.testing import standard_test_class

Field = bigquery.SchemaField


class StandardDataset:
    """The session's emulator with a small dataset: events by timestamp, customers whole."""

    emulator: BigQueryEmulator

    def start(self) -> StandardDataset:
        self.emulator = shared()
        client = self.emulator.client()
        client.create_dataset("standard", exists_ok=True)
        events = client.create_table(
            bigquery.Table(
                f"{self.emulator.project}.standard.events",
                schema=[
                    Field("id", "INT64", mode="REQUIRED"),
                    Field("occurred_at", "TIMESTAMP"),
                    Field("kind", "STRING"),
                    Field(
                        "properties",
                        "RECORD",
                        fields=[Field("page", "STRING"), Field("ms", "INT64")],
                    ),
                    Field("labels", "STRING", mode="REPEATED"),
                ],
            ),
            exists_ok=True,
        )
        client.insert_rows_json(
            events,
            [
                {
                    "id": n,
                    "occurred_at": f"2024-03-01T10:{n // 60:02d}:{n % 60:02d}Z",
                    "kind": "view",
                    "properties": {"page": f"/p/{n}", "ms": n * 3},
                    "labels": ["a"] * (n % 2),
                }
                for n in range(80)
            ],
        )
        return self

    def stop(self) -> None:
        """The shared emulator stops when the test process exits."""


def config(dataset: Any) -> dict[str, Any]:
    return {
        "project_id": dataset.emulator.project,
        "api_endpoint": dataset.emulator.rest_url,
        "read_api": "rest",
        "page_size": 25,
        "streams": [
            {
                "name": "events",
                "table": "standard.events",
                "replication_key": "occurred_at",
                "primary_keys": ["id"],
            },
            {
                "name": "event_kinds",
                "query": "SELECT DISTINCT kind FROM `standard.events`",
                "primary_keys": ["kind"],
            },
        ],
    }


TestTapBigQuery = standard_test_class(TapBigQuery, StandardDataset(), config)
