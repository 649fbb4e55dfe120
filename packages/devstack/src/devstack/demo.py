"""The jobs, end to end: install, load Klaviyo, Shopify, OneTrust, Pinterest Ads (the
sandboxes) and BigQuery (the emulator) into Postgres, each API's job building its own source's
dbt models, then the cross-source marts; show what landed, the state saved, the customers and
the marketing marts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

#: Job, what it runs, and the schema it loads (None: it loads nothing, it builds marts).
JOBS = (
    (
        "klaviyo-to-postgres",
        "tap-klaviyo target-postgres, dbt freshness, dbt build of the Klaviyo models",
        "tap_klaviyo",
    ),
    (
        "shopify-to-postgres",
        "tap-shopify target-postgres, dbt freshness, dbt build of the Shopify models",
        "tap_shopify",
    ),
    (
        "onetrust-to-postgres",
        "tap-onetrust target-postgres, dbt freshness, dbt build of the OneTrust models",
        "tap_onetrust",
    ),
    (
        "pinterest-to-postgres",
        "tap-pinterest-ads target-postgres, dbt freshness, dbt build of the Pinterest Ads models",
        "tap_pinterest_ads",
    ),
    (
        "bigquery-to-postgres",
        "tap-bigquery target-postgres: the warehouse's demo orders and web events",
        "tap_bigquery",
    ),
    (
        "cross-source-marts",
        "dbt freshness of both sources, dbt build of the customers mart and Meltano's runs",
        None,
    ),
    (
        "marketing-marts",
        "dbt freshness of Pinterest Ads and Shopify, dbt build of the daily marketing mart",
        None,
    ),
)
#: The state IDs Meltano keeps for the loads.
STATE_IDS = (
    "dev:tap-klaviyo-to-target-postgres",
    "dev:tap-shopify-to-target-postgres",
    "dev:tap-onetrust-to-target-postgres",
    "dev:tap-pinterest-ads-to-target-postgres",
    "dev:tap-bigquery-to-target-postgres",
)
CUSTOMERS = """
    select is_in_klaviyo, is_in_shopify, count(*), sum(order_count), sum(lifetime_revenue),
           sum(messages_received), sum(opens)
    from analytics_marts.customers group by 1, 2 order by 1 desc, 2 desc
"""
DSAR_SLA = """
    select sla_status, count(*), round(avg(days_open), 1), round(avg(days_to_complete), 1)
    from analytics_marts.fct_onetrust_dsar_requests group by 1 order by 1
"""
MARKETING = """
    select report_date, pinterest_spend, pinterest_clicks, shopify_order_count, shopify_revenue,
           roas, currency
    from analytics_marts.fct_marketing_daily order by report_date desc limit 7
"""
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Lines of the job's log worth showing: problems, and dbt's summary.
SHOWN = ("[error", "[warning", "Done. PASS=", "WARN ", "Nothing to do")


def meltano(root: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "meltano"), "--log-level=warning", *args]
    return subprocess.run(
        command, cwd=root, text=True, capture_output=capture, check=False, env=os.environ.copy()
    )


def run_job(root: Path, job: str, log_path: Path) -> int:
    """Run a Meltano job with its full log in ``log_path``; show problems and dbt's summary."""
    command = [str(Path(sys.executable).parent / "meltano"), "run", job]
    with log_path.open("a") as log:
        process = subprocess.Popen(
            command, cwd=root, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            plain = ANSI.sub("", line)
            if any(marker in plain for marker in SHOWN):
                print(plain.rstrip(), flush=True)
    return process.wait()


def run(root: Path, values: dict[str, str]) -> int:
    os.environ.update(values)
    print("\n== meltano install", flush=True)
    if meltano(root, "install").returncode != 0:
        print("demo: `meltano install` failed; see the messages above", file=sys.stderr)
        return 1
    log_path = root / ".local" / "demo.log"
    log_path.unlink(missing_ok=True)
    for job, steps, schema in JOBS:
        print(
            f"\n== meltano run {job}   ({steps}; full log: {log_path.relative_to(root)})",
            flush=True,
        )
        if (code := run_job(root, job, log_path)) != 0:
            print(
                f"demo: `meltano run {job}` failed (exit {code}); the full log is {log_path}",
                file=sys.stderr,
            )
            return code
        if schema:
            print(f"\n== rows per table in {schema}", flush=True)
            print(row_counts(values.get("TAPWORKS_PG_HOST"), schema))
    print("\n== analytics_marts.customers: people by source, orders next to email engagement")
    print(customers_summary(values.get("TAPWORKS_PG_HOST")))
    print("\n== analytics_marts.fct_onetrust_dsar_requests: DSAR requests by deadline status")
    print(dsar_summary(values.get("TAPWORKS_PG_HOST")))
    print(
        "\n== analytics_marts.fct_marketing_daily: Pinterest spend next to Shopify revenue, last 7 days"
    )
    print(marketing_summary(values.get("TAPWORKS_PG_HOST")))
    print("\n== meltano state list", flush=True)
    print(meltano(root, "state", "list", capture=True).stdout.strip())
    for state_id in STATE_IDS:
        print(f"\n== meltano state get {state_id}", flush=True)
        done = meltano(root, "state", "get", state_id, capture=True)
        print(_pretty(done.stdout.strip()) or done.stderr.strip())
    return 0


def _connect(socket_dir: str | None) -> Any:
    import psycopg

    url = os.environ.get("TARGET_POSTGRES_SQLALCHEMY_URL", "").replace(
        "postgresql+psycopg://", "postgresql://"
    )
    return psycopg.connect(url or f"postgresql://postgres@/tapworks?host={socket_dir}")


def row_counts(socket_dir: str | None, schema: str) -> str:
    with _connect(socket_dir) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1",
                (schema,),
            )
        ]
        rows = [(t, _scalar(connection, f'select count(*) from "{schema}"."{t}"')) for t in tables]
    width = max((len(t) for t, _ in rows), default=5)
    return "\n".join(f"{table:<{width}}  {count:>9,}" for table, count in rows)


def customers_summary(socket_dir: str | None) -> str:
    with _connect(socket_dir) as connection:
        rows = connection.execute(CUSTOMERS).fetchall()
    lines = ["in Klaviyo  in Shopify  people  orders  revenue     messages  opens"]
    for klaviyo, shopify, people, orders, revenue, messages, opens in rows:
        lines.append(
            f"{'yes' if klaviyo else 'no':<11} {'yes' if shopify else 'no':<11} {people:>6,}"
            f"  {orders:>6,}  {revenue:>10,.2f}  {messages:>8,}  {opens:>5,}"
        )
    return "\n".join(lines)


def dsar_summary(socket_dir: str | None) -> str:
    with _connect(socket_dir) as connection:
        rows = connection.execute(DSAR_SLA).fetchall()
    lines = ["sla status         requests  avg days open  avg days to complete"]
    for status, count, days_open, to_complete in rows:
        done = "-" if to_complete is None else f"{to_complete:.1f}"
        lines.append(f"{status:<18} {count:>8,}  {days_open:>13.1f}  {done:>20}")
    return "\n".join(lines)


def marketing_summary(socket_dir: str | None) -> str:
    with _connect(socket_dir) as connection:
        rows = connection.execute(MARKETING).fetchall()
    lines = ["day         spend     clicks  orders  revenue     ROAS"]
    for day, spend, clicks, orders, revenue, roas, currency in rows:
        shown = "-" if roas is None else f"{roas:.2f}"
        lines.append(
            f"{day}  {spend:>8,.2f}  {clicks:>6,}  {orders:>6,}  {revenue:>10,.2f}  {shown:>5}"
            f"  {currency}"
        )
    return "\n".join(lines)


def _scalar(connection: Any, sql: str) -> Any:
    row = connection.execute(sql).fetchone()
    return row[0] if row else None


def _pretty(text: str) -> str:
    """JSON indented for reading; anything else as it is."""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text
