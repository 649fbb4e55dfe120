"""The demo dataset the local stack loads into the BigQuery emulator: a warehouse's orders
(nested customer, repeated line items, an updated_at key) and web events (an integer key and a
DATE), generated in SQL by the emulator itself so a large table costs one statement.

    load_demo(emulator.client(), orders=2_000, events=20_000)   # creates what is missing
"""

from __future__ import annotations

from typing import Any

DATASET = "demo"

# Each row follows from its number alone, so a reload gives the same table. Orders are
# updated up to 30 days after they are placed; every 7th is refunded.
ORDERS = """CREATE TABLE `{dataset}.orders` AS
SELECT n AS id,
       STRUCT(CONCAT('customer', CAST(MOD(n, 400) AS STRING), '@example.com') AS email,
              CASE MOD(n, 3) WHEN 0 THEN 'US' WHEN 1 THEN 'GB' ELSE 'DE' END AS country)
           AS customer,
       [STRUCT(CONCAT('SKU-', CAST(MOD(n, 25) AS STRING)) AS sku, 1 + MOD(n, 3) AS quantity),
        STRUCT('SKU-GIFT' AS sku, 1 AS quantity)] AS line_items,
       IF(MOD(n, 7) = 0, 'refunded', 'paid') AS status,
       CAST(10 + MOD(n * 37, 490) AS NUMERIC) + CAST(0.99 AS NUMERIC) AS total,
       TIMESTAMP_ADD(TIMESTAMP '2024-01-01 00:00:00+00', INTERVAL n * 3600 SECOND) AS created_at,
       TIMESTAMP_ADD(TIMESTAMP '2024-01-01 00:00:00+00',
                     INTERVAL n * 3600 + MOD(n, 30) * 86400 SECOND) AS updated_at
FROM UNNEST(GENERATE_ARRAY(1, {rows})) AS n"""

WEB_EVENTS = """CREATE TABLE `{dataset}.web_events` AS
SELECT n AS event_id,
       TIMESTAMP_ADD(TIMESTAMP '2024-01-01 00:00:00+00', INTERVAL n * 90 SECOND) AS occurred_at,
       DATE(TIMESTAMP_ADD(TIMESTAMP '2024-01-01 00:00:00+00', INTERVAL n * 90 SECOND))
           AS event_date,
       CONCAT('/products/', CAST(MOD(n, 60) AS STRING)) AS page,
       CONCAT('visitor-', CAST(MOD(n * 7, 1500) AS STRING)) AS visitor_id
FROM UNNEST(GENERATE_ARRAY(1, {rows})) AS n"""


def load_demo(client: Any, *, orders: int, events: int, dataset: str = DATASET) -> list[str]:
    """Create ``dataset`` and its tables where missing (a restarted emulator with a data
    directory keeps them); return the tables created."""
    from google.api_core.exceptions import NotFound

    client.create_dataset(dataset, exists_ok=True)
    created = []
    for table, sql, rows in (("orders", ORDERS, orders), ("web_events", WEB_EVENTS, events)):
        try:
            client.get_table(f"{dataset}.{table}")
            continue
        except NotFound:
            pass
        client.query(sql.format(dataset=dataset, rows=rows)).result()
        created.append(table)
    return created
