"""The query builder without a server: the SQL parses as BigQuery's dialect (sqlglot), every
bound is a typed parameter and never a value in the text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from tap_bigquery.keys import ISO, SQLSERVER, KeyType, KeyTypeError
from tap_bigquery.query import Range, Source, key_stats, rows

ORDERS = Source(table="shop-prod.sales.orders", columns=("id", "updated_at", "total"))
LOW = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
HIGH = datetime(2024, 2, 1, 0, 0, 0, 999999, tzinfo=UTC)


def parsed(sql: str) -> Any:
    """The statement as BigQuery's dialect parses it (raises on anything it cannot)."""
    return sqlglot.parse_one(sql, read="bigquery")


def test_a_slice_is_a_range_of_typed_parameters() -> None:
    query = rows(
        ORDERS,
        key="updated_at",
        key_type=KeyType("TIMESTAMP"),
        window=Range(LOW, HIGH, inclusive=False),
        order_by=("updated_at", "id"),
    )
    assert query.sql == (
        "SELECT `id`, `updated_at`, `total` FROM `shop-prod`.`sales`.`orders` "
        "WHERE `updated_at` >= @lower AND `updated_at` < @upper ORDER BY `updated_at`, `id`"
    )
    assert [(p.name, p.type_, p.value) for p in query.parameters] == [
        ("lower", "TIMESTAMP", LOW),
        ("upper", "TIMESTAMP", HIGH),
    ]
    tree = parsed(query.sql)
    assert {p.name for p in tree.find_all(exp.Parameter)} == {"lower", "upper"}
    assert not list(tree.find(exp.Where).find_all(exp.Literal))
    assert [o.this.name for o in tree.find(exp.Order).expressions] == ["updated_at", "id"]


def test_the_last_slice_ends_at_the_upper_bound_inclusive() -> None:
    query = rows(ORDERS, key="id", key_type=KeyType("INT64"), window=Range(100, 250))
    assert query.sql.endswith("WHERE `id` >= @lower AND `id` <= @upper")
    assert [(p.type_, p.value) for p in query.parameters] == [("INT64", 100), ("INT64", 250)]
    parsed(query.sql)


@pytest.mark.parametrize(
    ("column_type", "value", "sent"),
    [
        ("DATE", date(2024, 1, 2), ("DATE", date(2024, 1, 2))),
        ("DATETIME", LOW, ("DATETIME", LOW.replace(tzinfo=None))),
        ("TIMESTAMP", LOW, ("TIMESTAMP", LOW)),
        ("INTEGER", 7, ("INT64", 7)),
    ],
)
def test_each_key_type_has_its_own_parameter_type(
    column_type: str, value: object, sent: tuple[str, object]
) -> None:
    key_type = KeyType.of(column_type, ISO, "k")
    parameter = key_type.parameter("lower", value)
    assert (parameter.type_, parameter.value) == sent


def test_sql_server_bounds_are_millisecond_literals_rounded_outwards() -> None:
    key_type = KeyType.of("TIMESTAMP", SQLSERVER, "updated_at")
    query = rows(ORDERS, key="updated_at", key_type=key_type, window=Range(LOW, HIGH))
    assert "`updated_at` >= TIMESTAMP(@lower) AND `updated_at` <= TIMESTAMP(@upper)" in query.sql
    assert [p.value for p in query.parameters] == [
        "2024-01-02 03:04:05.123",
        "2024-02-01 00:00:01.000",
    ]
    parsed(query.sql)
    text = KeyType.of("STRING", SQLSERVER, "stamp")
    assert text.sql("@lower") == "@lower"  # text compares with text
    assert text.parse("2024-01-02 03:04:05.120") == datetime(
        2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC
    )


def test_a_query_source_with_filters_and_the_key_statistics() -> None:
    source = Source(
        query="SELECT * FROM `shop.orders` WHERE region = 'eu';",
        filters=("status != 'test'", "total > 0"),
    )
    stats = key_stats(source, "id", KeyType("INT64"), 500, parts=4)
    assert stats.sql == (
        "SELECT MIN(`id`) AS `low`, MAX(`id`) AS `high`, COUNT(`id`) AS `count`, "
        "APPROX_QUANTILES(`id`, 4) AS `edges` FROM (SELECT * FROM `shop.orders` WHERE region = 'eu') "
        "AS `source` WHERE (status != 'test') AND (total > 0) AND `id` >= @lower"
    )
    tree = parsed(stats.sql)
    assert tree.find(exp.Subquery) is not None
    whole = rows(source)  # a full-table read: no bounds, no parameters
    assert whole.parameters == []
    assert "@" not in whole.sql
    parsed(whole.sql)


@pytest.mark.parametrize("name", ["orders`; DROP TABLE x; --", "a..b", ""])
def test_identifiers_are_never_pasted(name: str) -> None:
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        rows(Source(table=name))


@pytest.mark.parametrize(
    ("column_type", "bound_format", "text"),
    [
        ("FLOAT64", ISO, "is a FLOAT64 column"),
        ("STRING", ISO, "only text in the 'yyyy-MM-dd HH:mm:ss.SSS' form sorts in time order"),
        ("RECORD", SQLSERVER, "a key must be one of"),
    ],
)
def test_columns_that_cannot_be_a_key(column_type: str, bound_format: str, text: str) -> None:
    with pytest.raises(KeyTypeError, match=text.replace("(", r"\(").replace(".", r"\.")):
        KeyType.of(column_type, bound_format, "k")
