"""Deletions and late events end to end, against the sandbox's truth row by row: members
removed in Klaviyo leave the marts on the next run, deleted profiles and their events on a
full refresh, raw rows keep `_sdc_deleted_at`; events two days late arrive with the reconcile
job."""

from __future__ import annotations

import hashlib
import time

from devstack.testing import Project

JOB = "klaviyo-to-postgres"
MARTS = "analytics_marts"


def key(*values: str) -> str:
    """The marts' surrogate_key macro."""
    return hashlib.md5("-".join(values).encode()).hexdigest()


def run_job(project: Project, *args: str) -> None:
    result = project.meltano("run", *args, JOB)
    assert result.returncode == 0, result.output[-4000:]


def live(project: Project, table: str, columns: str = "id") -> set[tuple[str, ...]]:
    rows = project.query(f"select {columns} from tap_klaviyo.{table} where _sdc_deleted_at is null")
    return {tuple(row) for row in rows}


def marked(project: Project, table: str, columns: str = "id") -> set[tuple[str, ...]]:
    rows = project.query(
        f"select {columns} from tap_klaviyo.{table} where _sdc_deleted_at is not null"
    )
    return {tuple(row) for row in rows}


def mart(project: Project, table: str, column: str) -> set[str]:
    return {row[0] for row in project.query(f"select {column} from {MARTS}.{table}")}


def memberships(project: Project, kind: str, group: str) -> set[tuple[str, str]]:
    return {(m[group], m["profile_id"]) for m in project.sandbox.control.truth(kind)}


def test_deletions_leave_the_marts_and_stay_marked_in_raw(loaded_project: Project) -> None:
    project = loaded_project  # loaded and built
    control = project.sandbox.control
    gone_members = control.delete("list-member", count=6)
    gone_segment_members = control.delete("segment-member", count=4)
    gone_profiles = control.delete("profile", count=5)
    time.sleep(1.1)  # the next run starts after the deletions

    # an incremental run: memberships are read whole, so removals are seen at once
    run_job(project)
    for table, kind, group, gone in (
        ("list_members", "list-member", "list_id", gone_members),
        ("segment_members", "segment-member", "segment_id", gone_segment_members),
    ):
        truth = memberships(project, kind, group)
        assert live(project, table, f"{group}, profile_id") == truth, table
        assert {tuple(g) for g in gone} <= marked(project, table, f"{group}, profile_id")
        expected = {key(a, b) for a, b in truth}
        assert (
            mart(
                project,
                f"fct_klaviyo_{table.removesuffix('_members')}_memberships",
                "membership_key",
            )
            == expected
        )
    # ...but a deleted profile is not: Klaviyo's profile reads cannot show an absence
    assert set(gone_profiles) <= {row[0] for row in live(project, "profiles")}

    # a full refresh reads everything again; what it did not return is marked deleted
    run_job(project, "--full-refresh")
    profiles = {p["id"] for p in control.truth("profile")}
    events = {e["id"] for e in control.truth("event")}
    assert {row[0] for row in live(project, "profiles")} == profiles
    assert {row[0] for row in live(project, "events")} == events
    assert set(gone_profiles) <= {row[0] for row in marked(project, "profiles")}
    assert marked(project, "events"), "the deleted profiles' events are kept, marked"
    assert mart(project, "dim_klaviyo_profiles", "profile_id") == profiles
    assert mart(project, "fct_klaviyo_events", "event_id") == events
    assert project.duplicate_keys("profiles") == project.duplicate_keys("events") == 0


def test_late_events_arrive_with_the_reconcile_job(loaded_project: Project) -> None:
    project = loaded_project  # loaded and built
    control = project.sandbox.control
    late = set(control.add_late_events(count=20, age_seconds=2 * 86_400))
    time.sleep(1.1)
    run_job(project)
    assert not late & mart(project, "fct_klaviyo_events", "event_id")  # past the 1h lookback
    result = project.meltano("run", "klaviyo-reconcile")
    assert result.returncode == 0, result.output[-4000:]
    events = {e["id"] for e in control.truth("event")}
    assert late <= mart(project, "fct_klaviyo_events", "event_id")
    assert mart(project, "fct_klaviyo_events", "event_id") == events
    assert not marked(project, "events")  # a reconcile removes nothing
