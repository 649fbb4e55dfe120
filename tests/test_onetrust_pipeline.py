"""The OneTrust job end to end: its marts give the DSAR SLA and consent numbers the sandbox's
own data gives, computed here in Python from `truth()`, not from the warehouse."""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.testing import Project
from sandbox.onetrust.sandbox import OneTrustSandbox

ROOT = Path(__file__).resolve().parents[1]
RAW = "tap_onetrust"
MARTS = "analytics_marts"
SOURCES = ROOT / "transform" / "models" / "staging" / "onetrust" / "_onetrust__sources.yml"
# transactionType values that give or take back consent (OneTrust's transactions v2 enum)
OPT_IN = {"CONFIRMED", "EXTEND"}
OPT_OUT = {"WITHDRAWN", "OPT_OUT", "HARD_OPT_OUT"}
DAY = timedelta(days=1)
_copies = itertools.count(1)


@pytest.fixture(scope="module")
def onetrust_project(built_project: Project) -> Iterator[tuple[Project, str]]:
    """A copy of the session's Klaviyo-loaded warehouse after one `meltano run
    onetrust-to-postgres` (the tap, the loader, freshness, `build --selector onetrust`), with
    the job's output. Read only."""
    with OneTrustSandbox(seed=7, requests=500, rate_limits=False) as onetrust:
        project = built_project.copy(f"onetrust_{next(_copies)}", onetrust=onetrust)
        job = project.meltano("run", "onetrust-to-postgres")
        assert job.returncode == 0, job.output[-4000:]
        yield project, job.output


def instant(text: str) -> datetime:
    """A OneTrust instant (`...Z`, or zone-less UTC as the consent APIs write it)."""
    return datetime.fromisoformat(text if text.endswith("Z") else text + "Z")


def sla_from_the_sandbox(onetrust: OneTrustSandbox, now: datetime) -> dict[str, dict[str, Any]]:
    """Per request reference: what the SLA mart must say, measured at ``now``."""
    subtasks: dict[str, Counter[str]] = defaultdict(Counter)
    for subtask in onetrust.control.truth("subtask"):
        counts = subtasks[subtask["requestQueueRefId"]]
        done = subtask["subTaskStatus"].upper().replace(" ", "_") in ("COMPLETE", "COMPLETED")
        counts["total"] += 1
        counts["completed" if done else "open"] += 1
        deadline = subtask.get("subTaskDeadline")
        counts["overdue"] += not done and deadline is not None and instant(deadline) < now
    expected = {}
    for request in onetrust.control.truth("request"):
        created, deadline = instant(request["dateCreated"]), instant(request["deadline"])
        completed = instant(request["dateCompleted"]) if "dateCompleted" in request else None
        days_open = ((completed or now) - created) // DAY
        if completed:
            met: bool | None = completed <= deadline
            sla = "completed_on_time" if met else "completed_late"
        else:
            met = False if now > deadline else None
            sla = "open_overdue" if now > deadline else "open_on_time"
        counts = subtasks[request["requestQueueRefId"]]
        expected[request["requestQueueRefId"]] = {
            "status": request["status"],
            "days_open": days_open,
            "days_to_complete": days_open if completed else None,
            "is_deadline_met": met,
            "sla_status": sla,
            "subtasks": tuple(counts[k] for k in ("total", "completed", "open", "overdue")),
        }
    return expected


def sla_in_the_mart(project: Project) -> dict[str, dict[str, Any]]:
    rows = project.query(
        "select request_ref_id, status, days_open, days_to_complete, is_deadline_met, sla_status,"
        " subtask_count, completed_subtask_count, open_subtask_count, overdue_subtask_count"
        f" from {MARTS}.fct_onetrust_dsar_requests"
    )
    return {
        ref: {
            "status": status,
            "days_open": days_open,
            "days_to_complete": days_to_complete,
            "is_deadline_met": met,
            "sla_status": sla,
            "subtasks": tuple(subtasks),
        }
        for ref, status, days_open, days_to_complete, met, sla, *subtasks in rows
    }


def consent_from_the_sandbox(onetrust: OneTrustSandbox) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """(UTC day, purpose, collection point) -> transactions, opt-ins, opt-outs, opt-in rate."""
    counts: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for transaction in onetrust.control.truth("transaction"):
        if transaction.get("test"):
            continue
        day = instant(transaction["consentCreationDate"]).date().isoformat()
        kind = transaction["transactionType"]
        tally = counts[(day, transaction["purposeGuid"], transaction["collectionPointUUID"])]
        tally["all"] += 1
        tally["in"] += kind in OPT_IN
        tally["out"] += kind in OPT_OUT
    return {
        key: (
            c["all"],
            c["in"],
            c["out"],
            (Decimal(c["in"]) / c["all"]).quantize(Decimal("0.0001"), ROUND_HALF_UP),
        )
        for key, c in counts.items()
    }


def test_the_onetrust_job_loads_and_builds_without_errors_or_warnings(
    onetrust_project: tuple[Project, str],
) -> None:
    project, output = onetrust_project
    assert project.onetrust is not None
    # `source freshness` passes each table it checks; `build --selector onetrust` sums up
    found = re.findall(r"\d+ of \d+ (\w+) freshness of tap_onetrust\.\w+", output)
    freshness = [result for result in found if result != "START"]
    assert freshness, output[-4000:]
    assert set(freshness) == {"PASS"}, freshness
    summaries = re.findall(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+)", output)
    assert len(summaries) == 1, output[-4000:]
    assert summaries[0][1:] == ("0", "0"), summaries
    requests = project.onetrust.control.truth("request")
    assert sorted(project.ids("dsar_requests", "requestqueuerefid", RAW)) == sorted(
        r["requestQueueRefId"] for r in requests
    )
    assert project.count("fct_onetrust_dsar_requests", MARTS) == len(requests)


def test_the_sla_mart_gives_the_numbers_of_the_sandbox_row_by_row(
    onetrust_project: tuple[Project, str],
) -> None:
    project, _ = onetrust_project
    assert project.onetrust is not None
    ((measured_at, builds),) = project.query(
        f"select min(measured_at), count(distinct measured_at) from {MARTS}.fct_onetrust_dsar_requests"
    )
    assert builds == 1
    expected = sla_from_the_sandbox(project.onetrust, measured_at)
    assert sla_in_the_mart(project) == expected
    totals = Counter(row["sla_status"] for row in expected.values())
    in_mart = dict(
        project.query(
            f"select sla_status, count(*) from {MARTS}.fct_onetrust_dsar_requests group by 1"
        )
    )
    assert in_mart == dict(totals)
    # the sandbox's hard cases are there to be counted
    assert all(totals[s] for s in ("completed_on_time", "completed_late", "open_overdue")), totals


def test_consent_by_day_gives_the_opt_in_rates_of_the_sandbox(
    onetrust_project: tuple[Project, str],
) -> None:
    project, _ = onetrust_project
    assert project.onetrust is not None
    rows = project.query(
        "select consent_date::text, purpose_id, collection_point_id, transaction_count,"
        f" opt_in_count, opt_out_count, opt_in_rate from {MARTS}.fct_onetrust_consent_by_day"
    )
    in_mart = {(day, p, c): tuple(values) for day, p, c, *values in rows}
    assert in_mart == consent_from_the_sandbox(project.onetrust)
    names = dict(
        project.query(f"select purpose_id, purpose_name from {MARTS}.dim_onetrust_purposes")
    )
    assert names == {
        p["purposeId"]: max(p["versions"], key=lambda v: v["version"])["label"]
        for p in project.onetrust.control.truth("purpose")
    }


def test_the_source_declares_exactly_the_columns_the_loader_creates(
    onetrust_project: tuple[Project, str],
) -> None:
    """source_or_empty stands in the declared columns while a table is not loaded: they must be
    the loader's, in its order and types."""
    project, _ = onetrust_project
    (source,) = yaml.safe_load(SOURCES.read_text())["sources"]
    for table in source["tables"]:
        declared = [(c["name"], c["data_type"]) for c in table["columns"]]
        loaded = project.query(
            "select column_name, case when udt_name = 'int8' then 'bigint' "
            "when udt_name = 'bool' then 'boolean' else udt_name end "
            "from information_schema.columns where table_schema = %s and table_name = %s "
            "order by ordinal_position",
            RAW,
            table["name"],
        )
        assert declared == [tuple(row) for row in loaded], table["name"]


def test_ties_and_same_day_updates_reach_postgres_once_each(built_project: Project) -> None:
    """After the first load, 40 requests take the bookmark's own millisecond and 10 more are
    updated the same day: the next `meltano run` (state from the first) loads all of them, and
    the raw table holds each request once, with the sandbox's `dateUpdated`."""
    with OneTrustSandbox(seed=9, requests=300, rate_limits=False) as onetrust:
        project = built_project.copy(f"onetrust_{next(_copies)}", onetrust=onetrust)
        steps = ("tap-onetrust", "target-postgres")
        first = project.meltano("run", *steps)
        assert first.returncode == 0, first.output[-4000:]
        state_id = "dev:tap-onetrust-to-target-postgres"
        bookmark = project.state(state_id)["singer_state"]["bookmarks"]["dsar_requests"]
        moment = instant(bookmark["replication_key_value"].replace("+00:00", ""))
        at = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        tied = onetrust.control.update("request", count=40, at=at)
        same_day = onetrust.control.update("request", count=10)
        second = project.meltano("run", *steps, TAP_ONETRUST_PAGE_SIZE="20")
        assert second.returncode == 0, second.output[-4000:]
        truth = {r["requestQueueId"]: r for r in onetrust.control.truth("request")}
    assert len(tied) == 40
    assert project.duplicate_keys("dsar_requests", "requestqueueid", RAW) == 0
    rows = project.query(
        f"select requestqueueid, requestqueuerefid, dateupdated from {RAW}.dsar_requests "
        "where _sdc_deleted_at is null"
    )
    assert {row[0] for row in rows} == set(truth)
    for request_id, ref, updated in rows:
        assert updated == instant(truth[request_id]["dateUpdated"]), ref
    assert {ref for _, ref, _ in rows} >= set(tied) | set(same_day)
