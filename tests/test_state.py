"""Inspect, rewind and clear state with Meltano's own commands; full refresh ignores it."""

from __future__ import annotations

import json

from devstack.testing import STATE_ID, Project


def profile_filters(project: Project) -> list[str]:
    return [
        e["query"]["filter"][0]
        for e in project.sandbox.control.requests()
        if e["path"] == "/api/profiles" and "page[cursor]" not in e["query"]
    ]


def test_state_set_to_an_earlier_bookmark_rereads_from_there(loaded_project: Project) -> None:
    project = loaded_project  # after a good run
    state = project.state()
    state["singer_state"]["bookmarks"]["profiles"]["replication_key_value"] = (
        "2025-06-01T00:00:00+00:00"
    )
    done = project.meltano("state", "set", "--force", STATE_ID, json.dumps(state))
    assert done.returncode == 0, done.output[-2000:]
    assert (
        project.state()["singer_state"]["bookmarks"]["profiles"]["replication_key_value"]
        == "2025-06-01T00:00:00+00:00"
    )
    project.sandbox.control.clear_requests()
    assert project.run().returncode == 0
    assert profile_filters(project)[0].startswith("greater-than(updated,2025-05-31T23:59:59Z)")
    reread = project.query(
        "select count(*) from tap_klaviyo.profiles where updated >= '2025-06-01'"
    )[0][0]
    assert reread > 0


def test_state_clear_rereads_everything(loaded_project: Project) -> None:
    project = loaded_project  # after a good run
    done = project.meltano("state", "clear", "--force", STATE_ID)
    assert done.returncode == 0, done.output[-2000:]
    assert project.meltano("state", "list").output.count(STATE_ID) == 0
    project.sandbox.control.clear_requests()
    assert project.run().returncode == 0
    assert profile_filters(project)[0].startswith(
        "greater-than(updated,2023-12-31T23:59:59Z)"
    )  # start_date - 1 s


def test_full_refresh_ignores_state_and_leaves_a_new_bookmark(loaded_project: Project) -> None:
    project = loaded_project  # after a good run
    project.sandbox.control.clear_requests()
    refreshed = project.run("--full-refresh")
    assert refreshed.returncode == 0, refreshed.output[-2000:]
    assert profile_filters(project)[0].startswith("greater-than(updated,2023-12-31T23:59:59Z)")
    assert project.duplicate_keys("profiles") == 0
    assert "profiles" in project.state()["singer_state"]["bookmarks"]
