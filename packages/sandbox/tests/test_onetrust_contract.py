"""Every operation the OneTrust sandbox serves answers in the shape of OneTrust's OpenAPI files
(the excerpts under src/sandbox/onetrust/openapi), error bodies included where a spec has one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.onetrust import consent_routes, dsar_routes, operations
from sandbox.onetrust.client import OneTrustClient
from sandbox.onetrust.contract import errors, load, operation
from sandbox.onetrust.operations import SERVED
from sandbox.onetrust.sandbox import OneTrustSandbox

NOW = "2026-12-01T00:00:00Z"
REFERENCE = Path("/work/shared/reference/onetrust")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[OneTrustSandbox]:
    with OneTrustSandbox(
        seed=21, requests=150, now=NOW, frozen_clock=True, rate_limits=False
    ) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: OneTrustSandbox) -> OneTrustClient:
    return OneTrustClient(sandbox.base_url)


def valid(path: str, status: int, document: Any) -> None:
    problems = errors(path, status, document)
    assert not problems, "\n".join(problems[:10])


def test_excerpts_hold_exactly_the_served_operations() -> None:
    for stem, served in SERVED.items():
        spec = load(stem)
        assert spec["info"]["license"]["name"] == "Apache 2.0"
        held = {(m, p) for p, ops in spec["paths"].items() for m in ops}
        assert held == set(served)


def test_paging_limits_are_the_specs() -> None:
    def size(path: str) -> dict[str, Any]:
        return next(p["schema"] for p in operation(path)["parameters"] if p["name"] == "size")

    for path in (operations.REQUESTS, operations.REQUEST_HISTORY, operations.SUBTASKS):
        assert (size(path)["default"], size(path)["maximum"]) == (
            dsar_routes.PAGE_DEFAULT,
            dsar_routes.PAGE_MAX,
        )
    transactions = size(operations.TRANSACTIONS)
    assert (transactions["default"], transactions["maximum"]) == consent_routes.TRANSACTION_PAGE
    subjects = size(operations.DATA_SUBJECTS)
    assert (subjects["default"], subjects["maximum"]) == consent_routes.SUBJECT_PAGE
    for path in (operations.PURPOSES, operations.COLLECTION_POINTS):
        assert (size(path)["default"], size(path)["maximum"]) == consent_routes.CATALOG_PAGE


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="the reference files are not on this machine")
def test_excerpts_are_current_with_the_reference_files() -> None:
    import yaml

    for stem, served in SERVED.items():
        spec = yaml.safe_load((REFERENCE / f"onetrust-{stem}-api-openapi.yml").read_text())
        excerpt = load(stem)
        for method, path in served:
            assert json.dumps(excerpt["paths"][path][method], sort_keys=True) == json.dumps(
                spec["paths"][path][method], sort_keys=True
            )


def test_token_answer(sandbox: OneTrustSandbox) -> None:
    valid(operations.TOKEN, 200, OneTrustClient(sandbox.base_url).fetch_token())


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"size": 500, "sort": "dateUpdated,desc"},
        {"modifieddate": "20261101", "status": "Completed", "size": 7, "page": 1},
        {"createddate": "20260101", "sort": "dateCreated,asc", "page": 99},
    ],
)
def test_request_queue_pages(client: OneTrustClient, params: dict[str, Any]) -> None:
    body = client.ok(client.get("/api/datasubject/v2/requestqueues/en-us", params))
    valid(operations.REQUESTS, 200, body)


def test_every_request_subtask_and_history_entry(
    client: OneTrustClient, sandbox: OneTrustSandbox
) -> None:
    refs = [r["requestQueueRefId"] for r in sandbox.control.truth("request")]
    for ref in refs[:60]:
        subtasks = client.ok(client.get(f"/api/datasubject/v2/requestqueues/{ref}/subtasks"))
        valid(operations.REQUEST_SUBTASKS, 200, subtasks)
        history = client.ok(client.get(f"/api/datasubject/v2/requestqueues/{ref}/requesthistory"))
        valid(operations.REQUEST_HISTORY, 200, history)
    for params in ({"size": 500}, {"modifieddate": "20261115", "openrequests": "true"}):
        valid(
            operations.SUBTASKS, 200, client.ok(client.get("/api/datasubject/v2/subtasks", params))
        )


def test_consent_answers(client: OneTrustClient) -> None:
    for params in (
        {"fromDate": "2026-11-20", "toDate": "2026-11-21", "size": 50},
        {
            "fromDate": "2026-11-19T06:00:00",
            "toDate": "2026-11-20T06:00:00",
            "sort": "consentCreationDate,asc",
        },
    ):
        body = client.ok(
            client.request("POST", "/api/consent/v2/transactions", params=params, json={})
        )
        valid(operations.TRANSACTIONS, 200, body)
        token = body["pageable"]["requestContinuation"]
        more = client.request(
            "POST",
            "/api/consent/v2/transactions",
            params=params,
            json={"requestContinuation": token},
        )
        valid(operations.TRANSACTIONS, 200, client.ok(more))
    window = {"fromDate": "2026-11-24T00:00:00", "toDate": "2026-12-01T00:00:00", "size": 50}
    body = client.ok(client.get("/rest/api/consent/v4/datasubjects", window))
    valid(operations.DATA_SUBJECTS, 200, body)
    more = client.get(
        "/rest/api/consent/v4/datasubjects",
        window,
        headers={"requestContinuation": body["requestContinuation"]},
    )
    valid(operations.DATA_SUBJECTS, 200, client.ok(more))
    for sort in ("name,asc", "createdDate,desc"):
        purposes = client.ok(client.get("/api/consentmanager/v2/purposes", {"sort": sort}))
        valid(operations.PURPOSES, 200, purposes)
        points = client.ok(client.get("/api/consentmanager/v2/collectionpoints", {"sort": sort}))
        valid(operations.COLLECTION_POINTS, 200, points)


def test_v4_disabled_answers_the_specs_403() -> None:
    with OneTrustSandbox(seed=2, requests=20, now=NOW, v4_enabled=False) as sb:
        client = OneTrustClient(sb.base_url)
        response = client.get(
            "/rest/api/consent/v4/datasubjects",
            {"fromDate": "2026-11-24T00:00:00", "toDate": "2026-12-01T00:00:00"},
        )
    assert response.status_code == 403
    valid(operations.DATA_SUBJECTS, 403, response.json())
    assert "request access" in response.json()


def test_the_checks_refuse_invented_fields_and_nulls(client: OneTrustClient) -> None:
    body = client.ok(client.get("/api/datasubject/v2/requestqueues/en-us", {"size": 1}))
    body["content"][0]["daysOpen"] = 3
    assert errors(operations.REQUESTS, 200, body)
    del body["content"][0]["daysOpen"]
    body["content"][0]["dateCompleted"] = None
    assert errors(operations.REQUESTS, 200, body)
    del body["totalPages"]
    assert any("totalPages" in e for e in errors(operations.REQUESTS, 200, body))
