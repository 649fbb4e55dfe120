"""The data clock and mutations change what incremental queries return."""

from __future__ import annotations

import time

import pytest

from sandbox.core.clock import parse_instant
from sandbox.core.control import SandboxControlError
from sandbox.klaviyo.client import KlaviyoClient as Client
from sandbox.klaviyo.sandbox import KlaviyoSandbox


def newest(items: list[dict], field: str) -> str:
    return max(item["attributes"][field] for item in items)


def test_a_frozen_clock_moves_only_when_told(sandbox: KlaviyoSandbox) -> None:
    start = sandbox.control.now()
    assert start == "2026-07-01T00:00:00+00:00"
    assert sandbox.control.advance_clock(3_600) == "2026-07-01T01:00:00+00:00"
    assert sandbox.control.set_clock("2026-08-01T00:00:00Z") == "2026-08-01T00:00:00+00:00"


def test_a_live_clock_follows_the_wall_clock_after_the_history() -> None:
    with KlaviyoSandbox(profiles=50, events=50, now="2020-01-01T00:00:00Z") as live:
        assert abs(parse_instant(live.control.now()) - time.time()) < 5
        ahead = parse_instant(live.control.advance_clock(3_600))
        assert 3_590 < ahead - time.time() < 3_610
        newest = max(e["datetime"] for e in live.control.truth("event"))
        assert newest < "2020-01-01T00:00:01"


def test_mutations_can_stamp_an_exact_instant(
    sandbox: KlaviyoSandbox, fresh_client: Client
) -> None:
    at = "2026-07-01T00:00:00+00:00"
    ids = sandbox.control.update("profile", count=3, at=at)
    for profile_id in ids:
        assert (
            fresh_client.get(f"/api/profiles/{profile_id}").json()["data"]["attributes"]["updated"]
            == at
        )


def test_updates_are_exactly_what_the_next_incremental_query_returns(
    sandbox: KlaviyoSandbox, fresh_client: Client
) -> None:
    bookmark = newest(fresh_client.all("/api/profiles", {"page[size]": "100"}), "updated")
    query = {"filter": f"greater-than(updated,{bookmark})", "sort": "updated", "page[size]": "100"}
    assert fresh_client.all("/api/profiles", query) == []
    changed = sandbox.control.update("profile", count=7)
    got = fresh_client.all("/api/profiles", query)
    assert sorted(p["id"] for p in got) == sorted(changed)
    assert {p["attributes"]["updated"] for p in got} == {sandbox.control.now()}
    assert all(p["attributes"]["properties"]["Revision"] == 1 for p in got)


def test_campaign_updates_move_updated_at_and_the_message(
    sandbox: KlaviyoSandbox, fresh_client: Client
) -> None:
    flt = "equals(messages.channel,'email')"
    campaign = fresh_client.all("/api/campaigns", {"filter": flt})[0]
    sandbox.control.update("campaign", ids=[campaign["id"]])
    after = fresh_client.get(
        f"/api/campaigns/{campaign['id']}", {"include": "campaign-messages"}
    ).json()
    assert after["data"]["attributes"]["updated_at"] == sandbox.control.now()
    assert after["included"][0]["attributes"]["updated_at"] == sandbox.control.now()


def test_deletes_disappear_and_cascade(sandbox: KlaviyoSandbox, fresh_client: Client) -> None:
    events = fresh_client.all("/api/events", {"page[size]": "1000"})
    victim = events[0]["relationships"]["profile"]["data"]["id"]
    sandbox.control.delete("profile", ids=[victim])
    assert fresh_client.get(f"/api/profiles/{victim}").status_code == 404
    assert fresh_client.all("/api/events", {"filter": f"equals(profile_id,'{victim}')"}) == []
    assert victim not in {m["profile_id"] for m in sandbox.control.truth("list-member")}
    remaining = {e["id"] for e in fresh_client.all("/api/events", {"page[size]": "1000"})}
    assert remaining == {
        e["id"] for e in events if e["relationships"]["profile"]["data"]["id"] != victim
    }


def test_late_events_hide_behind_a_datetime_bookmark(
    sandbox: KlaviyoSandbox, fresh_client: Client
) -> None:
    bookmark = newest(fresh_client.all("/api/events", {"page[size]": "1000"}), "datetime")
    late = sandbox.control.add_late_events(count=5, age_seconds=86_400 * 40)
    fresh = sandbox.control.create("event", count=3, age_seconds=0)
    after_bookmark = fresh_client.all(
        "/api/events", {"filter": f"greater-than(datetime,{bookmark})"}
    )
    assert sorted(e["id"] for e in after_bookmark) == sorted(fresh)
    window = fresh_client.all(
        "/api/events",
        {"filter": f"greater-than(datetime,{bookmark[:4]}-01-01T00:00:00Z)", "page[size]": "1000"},
    )
    assert set(late) <= {e["id"] for e in window}


def test_membership_changes_do_not_touch_the_list(
    sandbox: KlaviyoSandbox, fresh_client: Client
) -> None:
    """As in Klaviyo: a list's `updated` is about the list, not its members."""
    list_id = fresh_client.all("/api/lists")[0]["id"]
    before = fresh_client.get(f"/api/lists/{list_id}").json()["data"]["attributes"]["updated"]
    joined = sandbox.control.create("list-member", count=4, group=list_id)
    removed = sandbox.control.delete("list-member", count=2, group=list_id)
    members = {
        p["id"] for p in fresh_client.all(f"/api/lists/{list_id}/profiles", {"page[size]": "100"})
    }
    assert {pid for _, pid in joined} - {pid for _, pid in removed} <= members
    assert not {pid for _, pid in removed} & members
    assert (
        fresh_client.get(f"/api/lists/{list_id}").json()["data"]["attributes"]["updated"] == before
    )


def test_new_profiles_appear(sandbox: KlaviyoSandbox, fresh_client: Client) -> None:
    created = sandbox.control.create("profile", count=3)
    for profile_id in created:
        profile = fresh_client.get(f"/api/profiles/{profile_id}").json()["data"]
        assert (
            profile["attributes"]["created"]
            == profile["attributes"]["updated"]
            == sandbox.control.now()
        )


@pytest.mark.parametrize(
    ("kind", "action", "options", "message"),
    [
        ("event", "update", {"count": 1}, "immutable"),
        ("profile", "update", {"count": 10**6}, "only"),
        ("profile", "update", {"ids": ["nope"]}, "no live profile"),
        ("gizmo", "update", {"count": 1}, "unknown type"),
        ("profile", "explode", {"count": 1}, "unknown action"),
        ("metric", "create", {"count": 1}, "not supported"),
    ],
)
def test_bad_mutations_are_refused(
    sandbox: KlaviyoSandbox, kind: str, action: str, options: dict, message: str
) -> None:
    with pytest.raises(SandboxControlError, match=message):
        sandbox.control.mutate(kind, action, **options)
