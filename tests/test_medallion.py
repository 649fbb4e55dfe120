"""The medallion route for Klaviyo (tap-klaviyo into the lake, the lake into Postgres, dbt)
gives the same raw tables and marts as the direct route, which the session's built project
took over the same sandbox data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.testing import Project

#: Columns each load stamps with its own moment or order: the only ones allowed to differ.
LOAD_STAMPS = {
    "_sdc_batched_at",
    "_sdc_extracted_at",
    "_sdc_received_at",
    "_sdc_ingested_at",
    "_sdc_sequence",
    "_sdc_sync_started_at",
    "_sdc_table_version",
    "loaded_at",
}


def fingerprints(project: Project, schema: str) -> dict[str, dict[str, str]]:
    """Per table of ``schema`` and column but the load stamps: an md5 of its values in the
    rows' key order (and the row count), so a difference names the column."""
    columns: dict[str, list[str]] = {}
    for table, column in project.query(
        "select c.table_name, c.column_name from information_schema.columns c"
        " join information_schema.tables t using (table_schema, table_name)"
        " where c.table_schema = %s and t.table_type = 'BASE TABLE' order by 1, 2",
        schema,
    ):
        if column not in LOAD_STAMPS:
            columns.setdefault(table, []).append(column)
    found = {}
    for table, names in columns.items():
        order = ", ".join(f'"{c}"::text' for c in names)
        digests = ", ".join(
            f"md5(coalesce(string_agg(\"{c}\"::text, '|' order by {order}), ''))" for c in names
        )
        (row,) = project.query(f'select count(*), {digests} from "{schema}"."{table}"')
        found[table] = {"rows": str(row[0]), **dict(zip(names, row[1:], strict=True))}
    return found


@pytest.mark.slow
def test_the_medallion_job_gives_the_direct_jobs_tables_and_marts(
    project: Project, built_project: Project, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    done = project.meltano(
        "run", "klaviyo-medallion", TARGET_LAKE_ROOT=str(lake), TAP_LAKE_KLAVIYO_ROOT=str(lake)
    )
    assert done.returncode == 0, done.output[-4000:]
    assert "ERROR=0" in done.output, done.output[-4000:]
    manifests = list((lake / "tap-klaviyo" / "_manifests").glob("*.json"))
    assert manifests, "target-lake wrote no manifest"
    assert sum(json.loads(m.read_text())["rows"] for m in manifests) > 0
    assert fingerprints(project, "tap_klaviyo") == fingerprints(built_project, "tap_klaviyo")
    ours, direct = (fingerprints(p, "analytics_marts") for p in (project, built_project))
    klaviyo = {t for t in direct if "klaviyo" in t}
    assert klaviyo, direct
    assert {t: ours[t] for t in klaviyo} == {t: direct[t] for t in klaviyo}
