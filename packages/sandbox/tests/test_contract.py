"""Every operation the sandbox serves answers in the shape Klaviyo's OpenAPI spec declares."""

from __future__ import annotations

import itertools
import re

import pytest

from sandbox.klaviyo.client import KlaviyoClient as Client
from sandbox.klaviyo.contract import error_errors, response_errors
from sandbox.klaviyo.operations import SERVED_PATHS, SPEC_REVISION
from sandbox.klaviyo.sandbox import KlaviyoSandbox
from sandbox.klaviyo.spec import load_spec

SPEC = load_spec()
OPERATIONS = {op.path: op for op in SPEC.operations}

# For each {id}, an endpoint that lists resources of that kind, to find a real id.
ID_SOURCE = {
    "profiles": ("/api/profiles", None),
    "events": ("/api/events", None),
    "campaigns": ("/api/campaigns", {"filter": "equals(messages.channel,'email')"}),
    "campaign-messages": (
        "/api/campaigns",
        {"filter": "equals(messages.channel,'email')", "include": "campaign-messages"},
    ),
    "lists": ("/api/lists", None),
    "segments": ("/api/segments", None),
    "templates": ("/api/templates", None),
    "metrics": ("/api/metrics", None),
    "flows": ("/api/flows", None),
    "flow-actions": ("/api/flows", {"include": "flow-actions"}),
    "tags": ("/api/tags", None),
}
CHANNEL_FILTERS = [
    "equals(messages.channel,'email')",
    "equals(messages.channel,'sms')",
    "equals(messages.channel,'mobile_push')",
]


def real_id(client: Client, segment: str) -> str:
    path, params = ID_SOURCE[segment]
    document = client.get(path, params).json()
    if segment in ("campaign-messages", "flow-actions"):
        kind = segment[:-1]
        return next(item["id"] for item in document["included"] if item["type"] == kind)
    return document["data"][0]["id"]


def concrete(client: Client, path: str) -> str:
    segment = path.split("/")[2]
    return path.replace("{id}", real_id(client, segment)) if "{id}" in path else path


def request_variants(path: str) -> list[dict[str, str]]:
    """Parameter sets that exercise every include and additional field the operation offers."""
    operation = OPERATIONS[path]
    base: dict[str, str] = {}
    if operation.page_size_max:
        base["page[size]"] = str(min(operation.page_size_max, 50))
    variants = []
    filters = CHANNEL_FILTERS if operation.filter_required else [None]
    for filter_text in filters:
        params = dict(base)
        if filter_text:
            params["filter"] = filter_text
        variants.append(params)
        rich = dict(params)
        if operation.includes:
            rich["include"] = ",".join(sorted(operation.includes))
        for kind, allowed in operation.additional_fields.items():
            rich[f"additional-fields[{kind}]"] = ",".join(sorted(allowed))
        if rich != params:
            variants.append(rich)
    return variants


def test_served_operations_are_exactly_the_spec_excerpt() -> None:
    assert SPEC.revision == SPEC_REVISION == SPEC.document["info"]["version"]
    assert set(SPEC.document["paths"]) == set(SERVED_PATHS)
    for path in SERVED_PATHS:
        assert set(SPEC.document["paths"][path]) == {"get"}, f"{path} must serve only GET"


@pytest.mark.parametrize("path", SERVED_PATHS)
def test_success_responses_validate_against_the_spec(client: Client, path: str) -> None:
    url = concrete(client, path)
    for params in request_variants(path):
        for page in itertools.islice(client.pages(url, params), 3):
            problems = response_errors(path, page)
            assert not problems, f"GET {url} {params}:\n" + "\n".join(problems[:15])


def test_every_record_of_every_listing_validates(
    shared_sandbox: KlaviyoSandbox, client: Client
) -> None:
    """All records (not just first pages), so rare shapes (nulls, absent keys) are covered."""
    for path in (
        "/api/profiles",
        "/api/events",
        "/api/campaigns",
        "/api/flows/{id}/flow-actions",
        "/api/templates",
    ):
        variants = [{"filter": f} for f in CHANNEL_FILTERS] if path == "/api/campaigns" else [{}]
        if path == "/api/flows/{id}/flow-actions":
            urls = [path.replace("{id}", flow["id"]) for flow in client.all("/api/flows")]
        else:
            urls = [path]
        for url in urls:
            for params in variants:
                size = OPERATIONS[path].page_size_max
                for page in client.pages(
                    url, {**params, **({"page[size]": str(size)} if size else {})}
                ):
                    problems = response_errors(path, page)
                    assert not problems, f"GET {url}: " + "\n".join(problems[:10])


@pytest.mark.parametrize(
    ("path", "params", "headers", "status"),
    [
        ("/api/profiles", {"page[size]": "500"}, {}, 400),
        ("/api/profiles", {"filter": "greater-or-equal(updated,2024-01-01T00:00:00Z)"}, {}, 400),
        ("/api/campaigns", {}, {}, 400),
        ("/api/profiles", {"bogus": "1"}, {}, 400),
        ("/api/profiles", {}, {"revision": "1999-01-01"}, 400),
        ("/api/profiles", {}, {"Authorization": "Bearer nope"}, 401),
        ("/api/profiles/01NOTAREALID0000000000000", {}, {}, 404),
        ("/api/coupons", {}, {}, 404),
    ],
)
def test_error_responses_validate_against_the_spec(
    client: Client, path: str, params: dict[str, str], headers: dict[str, str], status: int
) -> None:
    response = client.get(path, params, headers=headers)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    body = response.json()
    assert not error_errors(body), error_errors(body)
    assert body["errors"][0]["status"] == status


def test_server_error_and_throttle_faults_validate(
    sandbox: KlaviyoSandbox, fresh_client: Client
) -> None:
    for kind in ("500", "503", "429"):
        sandbox.control.inject_fault(kind, count=1)
        response = fresh_client.get("/api/metrics")
        assert response.status_code == int(kind)
        assert not error_errors(response.json())


def test_paths_outside_the_spec_are_not_served(client: Client) -> None:
    for path in (
        "/api/coupons",
        "/api/profiles/x/y/z",
        "/api/events/abc/extra",
        "/api/metric-aggregates",
    ):
        assert client.get(path).status_code == 404


def test_ids_have_klaviyo_shapes(client: Client) -> None:
    assert re.fullmatch(r"[0-9A-Z]{26}", real_id(client, "profiles"))
    assert re.fullmatch(r"[0-9A-Za-z]{6}", real_id(client, "lists"))
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}", real_id(client, "tags")
    )
