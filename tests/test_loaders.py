"""The same tap output through both loaders: our target-postgres and MeltanoLabs' (the
project's alternative) give the same rows, value by value, except that ours keeps date-times
as instants (timestamptz; MeltanoLabs' writes UTC wall-clock time into timestamp) and adds
_sdc_checksum and _sdc_ingested_at.  And why tap-shopify still sends UTC date-times
(``utc_timestamps``): MeltanoLabs' loader, COPYing, drops offsets."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devstack import postgres
from devstack.testing import installed_plugin
from sandbox.klaviyo.sandbox import KlaviyoSandbox
from sandbox.shopify.sandbox import ShopifySandbox

ROOT = Path(__file__).resolve().parents[1]
OURS = Path(sys.executable).parent / "target-postgres"
THEIRS = installed_plugin(ROOT, "loaders", "target-postgres-meltanolabs", "target-postgres")
OUR_COLUMNS = {"_sdc_checksum", "_sdc_ingested_at"}
#: As the project configures MeltanoLabs' (plugins/loaders.meltano.yml)
THEIRS_SETTINGS = {
    "use_copy": True,
    "add_record_metadata": True,
    "sanitize_null_text_characters": True,
    "validate_records": False,
}


def extract(module: str, config: dict[str, Any], out: Path) -> Path:
    config_file = out.with_suffix(".json")
    config_file.write_text(json.dumps(config))
    with out.open("wb") as sink:
        done = subprocess.run(
            [sys.executable, "-m", module, "--config", str(config_file)],
            stdout=sink,
            stderr=subprocess.PIPE,
            timeout=600,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return out


def load(binary: Path, settings: dict[str, Any], singer: Path, workdir: Path) -> None:
    config = workdir / f"{settings['default_target_schema']}.json"
    config.write_text(json.dumps(settings))
    with singer.open("rb") as source:
        done = subprocess.run(
            [str(binary), "--config", str(config)],
            stdin=source,
            capture_output=True,
            timeout=600,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()[-3000:]


def tables(connection: psycopg.Connection[Any], schema: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for table, column, data_type in connection.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s",
        (schema,),
    ):
        found.setdefault(table, {})[column] = data_type
    return found


def as_instant(value: Any) -> Any:
    """Both loaders' date-times as aware UTC (MeltanoLabs' naive values are UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def rows(
    connection: psycopg.Connection[Any], schema: str, table: str, columns: list[str]
) -> list[tuple[Any, ...]]:
    names = ", ".join(f'"{c}"' for c in columns)
    query = f'SELECT {names} FROM "{schema}"."{table}" ORDER BY {names}'
    return [tuple(as_instant(v) for v in row) for row in connection.execute(query.encode())]


@pytest.mark.slow
def test_both_loaders_load_the_same_rows(
    pg: postgres.Embedded, installed: None, tmp_path: Path
) -> None:
    postgres.create_databases(pg, ("loaders",))
    url = pg.url("loaders")
    with KlaviyoSandbox(seed=4, profiles=200, events=1_500, rate_limits=False) as klaviyo:
        klaviyo_out = extract(
            "tap_klaviyo",
            {
                "api_url": klaviyo.api_url,
                "api_key": "pk_sandbox_not_a_secret",
                "start_date": "2024-01-01T00:00:00Z",
                "replace_nul_characters": True,  # MeltanoLabs' cannot store NUL inside objects
            },
            tmp_path / "klaviyo.singer",
        )
    with ShopifySandbox(seed=4, orders=120, leak_per_second=200) as shop:
        shopify_out = extract(
            "tap_shopify",
            {
                "shop": "sandbox-shop",
                "base_url": shop.base_url,
                "access_token": "shpat_sandbox_not_a_secret",
                "start_date": "2024-01-01T00:00:00Z",
                "calls_per_second": 200,
            },
            tmp_path / "shopify.singer",
        )
    for name, singer in (("klaviyo", klaviyo_out), ("shopify", shopify_out)):
        load(
            OURS, {"sqlalchemy_url": url, "default_target_schema": f"ours_{name}"}, singer, tmp_path
        )
        theirs_settings = {"sqlalchemy_url": url, "default_target_schema": f"theirs_{name}"}
        load(THEIRS, THEIRS_SETTINGS | theirs_settings, singer, tmp_path)

    with psycopg.connect(pg.url("loaders", driver="postgresql")) as connection:
        compared = 0
        for name in ("klaviyo", "shopify"):
            ours, theirs = tables(connection, f"ours_{name}"), tables(connection, f"theirs_{name}")
            assert set(ours) == set(theirs)
            for table, columns in ours.items():
                assert set(columns) - OUR_COLUMNS == set(theirs[table]), table
                for column, data_type in columns.items():
                    if data_type == "timestamp with time zone" and column not in OUR_COLUMNS:
                        assert theirs[table][column] == "timestamp without time zone", (
                            table,
                            column,
                        )
                data = sorted(c for c in columns if not c.startswith("_sdc_"))
                mine = rows(connection, f"ours_{name}", table, data)
                assert mine == rows(connection, f"theirs_{name}", table, data), table
                compared += len(mine)
        assert compared > 2_000


def test_only_our_loader_keeps_an_offset_so_tap_shopify_still_sends_utc(
    pg: postgres.Embedded, installed: None, tmp_path: Path
) -> None:
    """Shopify writes the shop's offset. Ours stores the instant; MeltanoLabs' with ``use_copy``
    (as the project configures it) COPYs the text into ``timestamp``, where Postgres drops the
    offset (5 hours off here). So tap-shopify's streams keep ``utc_timestamps`` while that
    loader is the project's declared alternative."""
    postgres.create_databases(pg, ("offsets",))
    url = pg.url("offsets")
    singer = tmp_path / "offset.singer"
    order_schema = {
        "properties": {"id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}}
    }
    messages = [
        {"type": "SCHEMA", "stream": "orders", "schema": order_schema, "key_properties": ["id"]},
        {
            "type": "RECORD",
            "stream": "orders",
            "record": {"id": 1, "at": "2024-03-01T10:00:00-05:00"},
        },
    ]
    singer.write_text("".join(json.dumps(m) + "\n" for m in messages))
    load(OURS, {"sqlalchemy_url": url, "default_target_schema": "ours"}, singer, tmp_path)
    load(
        THEIRS,
        THEIRS_SETTINGS | {"sqlalchemy_url": url, "default_target_schema": "theirs"},
        singer,
        tmp_path,
    )
    with psycopg.connect(pg.url("offsets", driver="postgresql")) as connection:
        ours, theirs = (
            as_instant(
                connection.execute(f"SELECT at FROM {schema}.orders".encode()).fetchall()[0][0]
            )
            for schema in ("ours", "theirs")
        )
    assert ours == datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    assert theirs == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)  # the offset is gone
