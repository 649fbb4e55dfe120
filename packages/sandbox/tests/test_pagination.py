"""Cursor pagination as Klaviyo does it: every record exactly once, absolute next links, limits."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.klaviyo.client import KlaviyoClient as Client
from sandbox.klaviyo.sandbox import KlaviyoSandbox


def truth_ids(sandbox: KlaviyoSandbox, kind: str) -> list[str]:
    return [record["id"] for record in sandbox.control.truth(kind)]


@pytest.mark.parametrize(
    ("path", "kind", "sizes", "params"),
    [
        ("/api/profiles", "profile", [1, 7, 20, 100], {}),
        ("/api/profiles", "profile", [13, 100], {"sort": "updated"}),
        ("/api/profiles", "profile", [50], {"sort": "-updated"}),
        ("/api/events", "event", [33, 1000], {}),
        ("/api/events", "event", [200, 999], {"sort": "datetime"}),
        ("/api/events", "event", [250], {"sort": "-timestamp"}),
        ("/api/lists", "list", [1, 3, 10], {}),
        ("/api/templates", "template", [1, 10], {"sort": "-updated"}),
        ("/api/flows", "flow", [1, 50], {"sort": "name"}),
        ("/api/tags", "tag", [5, 50], {"sort": "-name"}),
    ],
)
def test_every_record_exactly_once(
    shared_sandbox: KlaviyoSandbox,
    client: Client,
    path: str,
    kind: str,
    sizes: list[int],
    params: dict[str, str],
) -> None:
    expected = truth_ids(shared_sandbox, kind)
    for size in sizes:
        seen = [item["id"] for item in client.all(path, {**params, "page[size]": str(size)})]
        assert len(seen) == len(set(seen)), f"duplicates at page size {size}"
        assert sorted(seen) == sorted(expected), f"page size {size}"


def test_metrics_have_no_page_size_and_come_whole(
    shared_sandbox: KlaviyoSandbox, client: Client
) -> None:
    response = client.get("/api/metrics", {"page[size]": "5"})
    assert response.status_code == 400  # page[size] is not a parameter of this endpoint
    assert sorted(m["id"] for m in client.all("/api/metrics")) == sorted(
        truth_ids(shared_sandbox, "metric")
    )


def test_campaigns_per_channel_and_archived_partition_cover_all(
    shared_sandbox: KlaviyoSandbox, client: Client
) -> None:
    seen = []
    for channel in ("email", "sms", "mobile_push"):
        for archived in ("true", "false"):
            flt = f"and(equals(messages.channel,'{channel}'),equals(archived,{archived}))"
            seen += [
                c["id"]
                for c in client.all(
                    "/api/campaigns", {"filter": flt, "page[size]": "3", "sort": "updated_at"}
                )
            ]
    assert sorted(seen) == sorted(truth_ids(shared_sandbox, "campaign"))


def test_members_of_every_list_exactly_once(shared_sandbox: KlaviyoSandbox, client: Client) -> None:
    truth = shared_sandbox.control.truth("list-member")
    for list_id in {m["list_id"] for m in truth}:
        expected = sorted(m["profile_id"] for m in truth if m["list_id"] == list_id)
        for path in (
            f"/api/lists/{list_id}/profiles",
            f"/api/lists/{list_id}/relationships/profiles",
        ):
            got = [
                p["id"] for p in client.all(path, {"page[size]": "37", "sort": "joined_group_at"})
            ]
            assert sorted(got) == expected


def test_next_link_is_absolute_and_carries_the_query(client: Client) -> None:
    params = {
        "filter": "greater-than(updated,2020-01-01T00:00:00+00:00)",
        "sort": "-updated",
        "page[size]": "3",
    }
    document = client.get("/api/profiles", params).json()
    next_url = document["links"]["next"]
    parts = urlsplit(next_url)
    assert f"{parts.scheme}://{parts.netloc}" + "/api" == client.api_url
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["filter"] == params["filter"]
    assert query["sort"] == "-updated"
    assert query["page[size]"] == "3"
    assert query["page[cursor]"]
    assert document["links"]["self"].startswith(client.api_url + "/profiles?")


def test_last_page_has_null_next(client: Client) -> None:
    pages = list(client.pages("/api/lists", {"page[size]": "10"}))
    assert pages[-1]["links"]["next"] is None
    assert all(page["links"]["next"] for page in pages[:-1])


def test_default_page_sizes_follow_the_spec(client: Client) -> None:
    assert len(client.get("/api/profiles").json()["data"]) == 20
    assert len(client.get("/api/events").json()["data"]) == 200
    assert (
        len(
            client.get(
                "/api/flows/" + client.get("/api/flows").json()["data"][0]["id"] + "/flow-actions"
            ).json()["data"]
        )
        <= 50
    )


@pytest.mark.parametrize(
    ("path", "size"),
    [
        ("/api/profiles", "101"),
        ("/api/events", "1001"),
        ("/api/lists", "11"),
        ("/api/profiles", "0"),
        ("/api/profiles", "ten"),
    ],
)
def test_page_size_over_the_maximum_is_400_not_a_clamp(
    client: Client, path: str, size: str
) -> None:
    response = client.get(path, {"page[size]": size})
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "page[size]"}


def test_cursors_are_tamper_evident(client: Client) -> None:
    next_url = client.get("/api/profiles", {"page[size]": "5"}).json()["links"]["next"]
    cursor = parse_qs(urlsplit(next_url).query)["page[cursor]"][0]
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    for bad in (flipped, "bm90LWEtY3Vyc29y", "!!!", cursor[:10]):
        response = client.get("/api/profiles", {"page[size]": "5", "page[cursor]": bad})
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["source"] == {"parameter": "page[cursor]"}


def test_a_cursor_cannot_be_replayed_with_another_query(client: Client) -> None:
    next_url = client.get("/api/profiles", {"page[size]": "5", "sort": "updated"}).json()["links"][
        "next"
    ]
    cursor = parse_qs(urlsplit(next_url).query)["page[cursor]"][0]
    response = client.get(
        "/api/profiles", {"page[size]": "5", "sort": "-updated", "page[cursor]": cursor}
    )
    assert response.status_code == 400


def test_records_changed_mid_pagination_are_not_lost(
    sandbox: KlaviyoSandbox, fresh_client: Client
) -> None:
    """Keyset cursors: a record updated while a client pages by `updated` moves behind the
    cursor's position and is served again at the end, never skipped."""
    pages = fresh_client.pages("/api/profiles", {"sort": "updated", "page[size]": "50"})
    seen = [p["id"] for p in next(pages)["data"]]
    changed = sandbox.control.update("profile", ids=[seen[0]])
    seen += [p["id"] for page in pages for p in page["data"]]
    assert changed[0] in seen[50:]
    assert set(seen) == set(truth_ids(sandbox, "profile"))
