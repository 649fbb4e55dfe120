"""Failures a user can act on stop the run before any record, with one line that names the
setting or the stream; no secret is ever written out."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.cloud import bigquery
from singer_sdk.exceptions import ConfigValidationError

from tap_bigquery.client import BigQueryError
from tap_bigquery.tap import TapBigQuery
from tapkit.testing import Run, TapRunner, json_api

if TYPE_CHECKING:
    from conftest import Dataset, Proxy

SCHEMA = [
    bigquery.SchemaField("id", "INT64"),
    bigquery.SchemaField("updated_at", "TIMESTAMP"),
    bigquery.SchemaField("note", "STRING"),
]


def failed_with(run: Run, text: str, *, during_sync: bool = False) -> str:
    """The run's one error line, which says ``text``; no record went out.  ``during_sync``: a
    stream had started, so singer-sdk's own "An unhandled error occurred" line comes first."""
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    if during_sync:
        assert "An unhandled error occurred while syncing" in errors.pop(0)
    assert run.returncode == 1, run.stderr
    assert len(errors) == 1, run.stderr
    assert text in errors[0], errors[0]
    assert not [m for m in run.messages if m["type"] == "RECORD"]
    return errors[0]


@pytest.fixture
def orders(dataset: Dataset) -> str:
    table = dataset.table("orders", SCHEMA)
    dataset.insert(
        table, [{"id": n, "updated_at": f"2024-01-01T00:00:{n:02d}Z"} for n in range(20)]
    )
    return table


def stream(table: str, **extra: Any) -> dict[str, Any]:
    return {"name": "orders", "table": table, "replication_key": "updated_at", **extra}


def service_account_key(token_uri: str) -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": "tapworks",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": "loader@tapworks.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }


def test_credentials_google_refuses(orders: str, runner: Callable[..., TapRunner]) -> None:
    """A key that was deleted: Google's token endpoint (here a local one) answers
    invalid_grant."""

    def token_endpoint(method: str, path: str, headers: Any, body: str) -> tuple[int, Any]:
        return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}

    with json_api(token_endpoint) as url:
        key = service_account_key(f"{url}/token")
        run = runner(streams=[stream(orders)], credentials_json=json.dumps(key))()
    line = failed_with(run, "Google refused the credentials")
    assert "invalid_grant" in line
    assert "credentials_json" in line
    private = key["private_key"].splitlines()[1]
    assert private not in run.stderr
    assert private not in run.stdout


@pytest.mark.parametrize(
    ("settings", "text"),
    [
        ({"credentials_json": "{not json"}, "credentials_json: is not JSON"),
        (
            {"credentials_path": "/nonexistent/key.json"},
            "credentials_path: cannot read /nonexistent/key.json",
        ),
        (
            {"credentials_json": '{"type": "external_account"}'},
            "type 'external_account', not service_account",
        ),
        (
            {"credentials_json": '{"type": "service_account"}'},
            "credentials_json: not usable Google credentials",
        ),
        ({"bound_format": "dd/MM/yyyy"}, "bound_format"),
        ({"max_parallel_reads": 0}, "max_parallel_reads: must be an integer of at least 1"),
        (
            {"start_value": "last tuesday"},
            "stream orders: start_value: 'last tuesday' is not a TIMESTAMP key value",
        ),
        (
            {"streams": [{"name": "Orders", "table": "a.b.c.d"}]},
            "streams[0].name: 'Orders' must be lower_snake_case",
        ),
        (
            {"streams": [stream("{dataset}.no_such_table")]},
            "stream orders: not found: Not found: table:tapworks.{dataset}.no_such_table (check",
        ),
        (
            {"streams": [stream("{dataset}.orders", replication_key="note")]},
            "replication_key 'note' is a STRING column",
        ),
    ],
    ids=[
        "json",
        "path",
        "external",
        "incomplete",
        "bound-format",
        "parallel",
        "start-value",
        "stream",
        "no-table",
        "string-key",
    ],
)
def test_bad_settings(
    orders: str, runner: Callable[..., TapRunner], settings: dict[str, Any], text: str
) -> None:
    """Checked in this process (the CLI's one line is PoliteTap's, seen in the tests around):
    the tap refuses to start, naming the setting or the stream."""
    dataset = orders.split(".")[0]
    settings = json.loads(json.dumps(settings).replace("{dataset}", dataset))
    text = text.replace("{dataset}", dataset)
    config = runner(streams=[stream(orders)]).config(**settings)
    with pytest.raises((ConfigValidationError, BigQueryError)) as refused:
        TapBigQuery(config=config, parse_env_config=False)
    assert text in str(refused.value)


def test_one_line_for_a_bad_bound_format(orders: str, runner: Callable[..., TapRunner]) -> None:
    run = runner(streams=[stream(orders)], bound_format="dd/MM/yyyy")()
    failed_with(run, "bound_format")


def test_a_query_over_maximum_bytes_billed_never_runs(
    orders: str, runner: Callable[..., TapRunner], proxy: Proxy
) -> None:
    # the emulator reports 0 bytes for every dry run: the proxy reports what BigQuery would
    proxy.dry_run_bytes = 5 * 1024**3
    run = runner(proxy.url, streams=[stream(orders)], maximum_bytes_billed=1024**3)()
    failed_with(
        run,
        "stream orders: the query would process 5,368,709,120 bytes, more than maximum_bytes_billed (1,073,741,824)",
    )
    assert proxy.jobs
    assert all(job["dry_run"] for job in proxy.jobs)
    proxy.dry_run_bytes = 1024
    under = runner(proxy.url, streams=[stream(orders)], maximum_bytes_billed=1024**3)()
    assert under.returncode == 0, under.stderr
    assert len(under.records("orders")) == 20


def test_storage_read_api_where_the_emulator_cannot(
    orders: str, runner: Callable[..., TapRunner], emulator: Any, tmp_path: Path
) -> None:
    """The emulator's Storage Read API reads tables but not query results: ``auto`` falls
    back to getQueryResults pages (one warning), ``storage`` says why it cannot."""
    tap = runner(streams=[stream(orders)], storage_api_endpoint=emulator.grpc_endpoint)
    auto = tap(read_api="auto")
    assert auto.returncode == 0, auto.stderr
    assert len(auto.records("orders")) == 20
    assert auto.stderr.count("the Storage Read API cannot read query results here") == 1
    refused = tap(read_api="storage")
    failed_with(refused, "the Storage Read API refused to read query results", during_sync=True)
