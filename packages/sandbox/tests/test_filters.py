"""The filter grammar: every operator, comma lists, and(), or(), not(), and every rejection."""

from __future__ import annotations

from datetime import datetime

import pytest

from sandbox.klaviyo.client import KlaviyoClient as Client
from sandbox.klaviyo.filters import COMPARISONS
from sandbox.klaviyo.sandbox import KlaviyoSandbox
from sandbox.klaviyo.spec import load_spec

SPEC = load_spec()


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def ids(items: list[dict]) -> set[str]:
    return {item["id"] for item in items}


@pytest.fixture(scope="module")
def everything(client: Client) -> dict[str, list[dict]]:
    campaigns = []
    for channel in ("email", "sms", "mobile_push"):
        campaigns += client.all(
            "/api/campaigns", {"filter": f"equals(messages.channel,'{channel}')"}
        )
    return {
        "profiles": client.all("/api/profiles", {"page[size]": "100"}),
        "events": client.all("/api/events", {"page[size]": "1000"}),
        "campaigns": campaigns,
        "flows": client.all("/api/flows"),
        "templates": client.all("/api/templates"),
        "lists": client.all("/api/lists"),
        "segments": client.all("/api/segments"),
        "metrics": client.all("/api/metrics"),
        "tags": client.all("/api/tags"),
    }


def middle(values: list[str]) -> str:
    return sorted(values)[len(values) // 2]


@pytest.mark.parametrize(
    "operator", ["greater-than", "greater-or-equal", "less-than", "less-or-equal"]
)
def test_datetime_comparisons_on_events(client: Client, everything: dict, operator: str) -> None:
    pivot = middle([e["attributes"]["datetime"] for e in everything["events"]])
    compare = {
        "greater-than": float.__gt__,
        "greater-or-equal": float.__ge__,
        "less-than": float.__lt__,
        "less-or-equal": float.__le__,
    }[operator]
    expected = {
        e["id"] for e in everything["events"] if compare(ts(e["attributes"]["datetime"]), ts(pivot))
    }
    got = ids(
        client.all("/api/events", {"filter": f"{operator}(datetime,{pivot})", "page[size]": "1000"})
    )
    assert got == expected
    by_epoch = ids(
        client.all(
            "/api/events",
            {"filter": f"{operator}(timestamp,{int(ts(pivot))})", "page[size]": "1000"},
        )
    )
    assert by_epoch == expected


def test_offsets_and_z_mean_the_same_instant(client: Client, everything: dict) -> None:
    pivot = datetime.fromisoformat(
        middle([p["attributes"]["updated"] for p in everything["profiles"]])
    )
    forms = [
        pivot.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pivot.isoformat(),
        pivot.astimezone(datetime.fromisoformat("2020-01-01T00:00:00+02:00").tzinfo).isoformat(),
        pivot.strftime("%Y-%m-%dT%H:%M:%S"),
    ]
    results = [
        ids(
            client.all(
                "/api/profiles", {"filter": f"greater-than(updated,{f})", "page[size]": "100"}
            )
        )
        for f in forms
    ]
    expected = {
        p["id"]
        for p in everything["profiles"]
        if ts(p["attributes"]["updated"]) > pivot.timestamp()
    }
    assert all(r == expected for r in results)


def test_comma_list_and_nested_and_mean_the_same(client: Client, everything: dict) -> None:
    times = sorted(e["attributes"]["datetime"] for e in everything["events"])
    low, high = times[len(times) // 4], times[3 * len(times) // 4]
    metric = everything["metrics"][0]["id"]
    comma = ids(
        client.all(
            "/api/events",
            {
                "filter": f"greater-or-equal(datetime,{low}),less-than(datetime,{high}),equals(metric_id,'{metric}')",
                "page[size]": "1000",
            },
        )
    )
    nested = ids(
        client.all(
            "/api/events",
            {
                "filter": f'and(greater-or-equal(datetime,{low}),and(less-than(datetime,{high}),equals(metric_id,"{metric}")))',
                "page[size]": "1000",
            },
        )
    )
    expected = {
        e["id"]
        for e in everything["events"]
        if ts(low) <= ts(e["attributes"]["datetime"]) < ts(high)
        and e["relationships"]["metric"]["data"]["id"] == metric
    }
    assert comma == nested == expected
    assert expected


def test_equals_on_related_ids(client: Client, everything: dict) -> None:
    profile = everything["events"][0]["relationships"]["profile"]["data"]["id"]
    got = ids(client.all("/api/events", {"filter": f"equals(profile_id,'{profile}')"}))
    assert got == {
        e["id"]
        for e in everything["events"]
        if e["relationships"]["profile"]["data"]["id"] == profile
    }
    assert ids(client.all("/api/events", {"filter": "has(profile)", "page[size]": "1000"})) == ids(
        everything["events"]
    )


def test_any_and_equals_with_lists(client: Client, everything: dict) -> None:
    chosen = [p for p in everything["profiles"] if p["attributes"]["email"]][:3]
    emails = ",".join(f"'{p['attributes']['email']}'" for p in chosen)
    assert ids(client.all("/api/profiles", {"filter": f"any(email,[{emails}])"})) == ids(chosen)
    listed = ",".join(f'"{p["id"]}"' for p in chosen)
    assert ids(client.all("/api/profiles", {"filter": f"equals(id,[{listed}])"})) == ids(chosen)
    statuses = {"Sent", "Draft"}
    got = ids(
        client.all(
            "/api/campaigns",
            {"filter": "equals(messages.channel,'email'),any(status,['Sent','Draft'])"},
        )
    )
    assert got == {
        c["id"]
        for c in everything["campaigns"]
        if c["attributes"]["status"] in statuses and c["attributes"]["name"].endswith("(email)")
    }


def test_string_operators(client: Client, everything: dict) -> None:
    flows = everything["flows"]
    name = flows[0]["attributes"]["name"]
    cases = {
        f"equals(name,'{name}')": lambda n: n == name,
        f"starts-with(name,'{name[:3]}')": lambda n: n.startswith(name[:3]),
        f"ends-with(name,'{name[-3:]}')": lambda n: n.endswith(name[-3:]),
        f"contains(name,'{name[2:5]}')": lambda n: name[2:5] in n,
    }
    for text, predicate in cases.items():
        expected = {f["id"] for f in flows if predicate(f["attributes"]["name"])}
        assert ids(client.all("/api/flows", {"filter": text})) == expected, text


def test_booleans_enums_and_nullable_times(client: Client, everything: dict) -> None:
    campaigns = everything["campaigns"]
    archived = ids(
        client.all(
            "/api/campaigns", {"filter": "equals(messages.channel,'email'),equals(archived,true)"}
        )
    )
    assert archived == {
        c["id"]
        for c in campaigns
        if c["attributes"]["archived"] and c["attributes"]["name"].endswith("(email)")
    }
    scheduled = [c for c in campaigns if c["attributes"]["scheduled_at"]]
    pivot = "2000-01-01T00:00:00Z"
    got = set()
    for channel in ("email", "sms", "mobile_push"):
        got |= ids(
            client.all(
                "/api/campaigns",
                {
                    "filter": f"equals(messages.channel,'{channel}'),greater-than(scheduled_at,{pivot})"
                },
            )
        )
    assert got == ids(scheduled)  # campaigns never scheduled do not match a date comparison
    active = ids(client.all("/api/segments", {"filter": "equals(is_active,false)"}))
    assert active == {s["id"] for s in everything["segments"] if not s["attributes"]["is_active"]}


def test_or_and_not(client: Client, everything: dict) -> None:
    tags = everything["tags"]
    a, b = tags[0]["attributes"]["name"], tags[1]["attributes"]["name"]
    assert ids(
        client.all("/api/tags", {"filter": f"or(equals(name,'{a}'),equals(name,'{b}'))"})
    ) == ids(tags[:2])
    assert ids(client.all("/api/tags", {"filter": f"not(equals(name,'{a}'))"})) == ids(tags[1:])


def test_metric_integration_filter(client: Client, everything: dict) -> None:
    got = ids(client.all("/api/metrics", {"filter": "equals(integration.name,'Shopify')"}))
    assert got == {
        m["id"]
        for m in everything["metrics"]
        if m["attributes"]["integration"]["name"] == "Shopify"
    }
    assert got


def test_templates_allow_equals_on_a_datetime(client: Client, everything: dict) -> None:
    template = everything["templates"][0]
    got = ids(
        client.all(
            "/api/templates", {"filter": f"equals(updated,{template['attributes']['updated']})"}
        )
    )
    assert template["id"] in got


def test_list_members_filter_by_joined_group_at(
    client: Client, shared_sandbox: KlaviyoSandbox
) -> None:
    truth = shared_sandbox.control.truth("list-member")
    list_id = truth[0]["list_id"]
    members = [m for m in truth if m["list_id"] == list_id]
    pivot = middle([m["joined_group_at"] for m in members])
    got = ids(
        client.all(
            f"/api/lists/{list_id}/profiles",
            {"filter": f"greater-or-equal(joined_group_at,{pivot})", "page[size]": "100"},
        )
    )
    assert got == {m["profile_id"] for m in members if ts(m["joined_group_at"]) >= ts(pivot)}


def _collection_fields() -> list[tuple[str, str, str]]:
    cases = []
    for op in SPEC.operations:
        for field in op.filters.values():
            for operator in sorted(COMPARISONS - field.operators):
                cases.append((op.path, field.name, operator))
    return cases


@pytest.mark.parametrize(("path", "field", "operator"), _collection_fields())
def test_operators_the_spec_does_not_allow_are_400(
    client: Client, path: str, field: str, operator: str
) -> None:
    concrete = path.replace("{id}", "X")
    value = (
        "2024-01-01T00:00:00Z"
        if "date" in field
        or field in ("created", "updated", "datetime", "joined_group_at")
        or field.endswith(("_at", "timestamp"))
        else "'x'"
    )
    text = f"{operator}({field},{value})"
    if path == "/api/campaigns":
        text = f"equals(messages.channel,'email'),{text}"
    response = client.get(concrete, {"filter": text})
    assert response.status_code == 400, (path, text, response.text[:200])
    detail = response.json()["errors"][0]["detail"]
    assert field in detail
    assert operator in detail


@pytest.mark.parametrize(
    ("path", "text", "fragment"),
    [
        ("/api/profiles", "equals(nope,'x')", "'nope' is not a valid filter field"),
        ("/api/profiles", "greater-than(updated,'2024-01-01T00:00:00Z')", "must not be quoted"),
        ("/api/profiles", "greater-than(updated,2024-01-01T00:00:00 00:00)", "%2B"),
        ("/api/profiles", "greater-than(updated,2024-01-01)", "not a valid datetime"),
        ("/api/profiles", "equals(email,unquoted@example.com)", "must be quoted"),
        ("/api/profiles", "equals(email,'x'", "expected ')'"),
        ("/api/profiles", "wat(email,'x')", "not a filter operator"),
        ("/api/profiles", "", "empty"),
        ("/api/events", "greater-than(timestamp,'1700000000')", "takes a number"),
        ("/api/campaigns", "equals(messages.channel,'fax')", "not a valid value"),
        ("/api/campaigns", "equals(archived,true)", "must include a channel"),
        ("/api/segments", "equals(is_active,'yes')", "true or false"),
    ],
)
def test_malformed_filters_are_400_with_a_reason(
    client: Client, path: str, text: str, fragment: str
) -> None:
    response = client.get(path, {"filter": text})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert fragment in error["detail"], error["detail"]
    assert error["source"] == {"parameter": "filter"}
