"""Every operation the Pinterest sandbox serves answers in the shape of Pinterest's OpenAPI spec
(the excerpt under src/sandbox/pinterest/openapi), its 400, 401, 403 and 429 bodies included."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.pinterest import analytics, listing, operations
from sandbox.pinterest.client import PinterestClient
from sandbox.pinterest.contract import errors, operation
from sandbox.pinterest.operations import SERVED
from sandbox.pinterest.sandbox import PinterestSandbox
from sandbox.pinterest.spec import load

NOW = "2026-12-01T00:00:00Z"
REFERENCE = Path("/work/shared/reference/pinterest-openapi.json")
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "trim_pinterest_openapi.py"
ACCOUNT = "549755885175"
COLUMNS = ",".join((*analytics.DEFAULT_COLUMNS, "CAMPAIGN_NAME", "AD_ACCOUNT_ID", "CPM_IN_DOLLAR"))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[PinterestSandbox]:
    with PinterestSandbox(
        seed=21, campaigns=30, now=NOW, frozen_clock=True, rate_limits=False
    ) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: PinterestSandbox) -> PinterestClient:
    return PinterestClient(sandbox.base_url)


def valid(path: str, status: int, document: Any, method: str = "get") -> None:
    problems = errors(path, status, document, method)
    assert not problems, "\n".join(problems[:10])


def test_the_excerpt_holds_exactly_the_served_operations() -> None:
    spec = load()
    assert spec["info"]["version"] == operations.SPEC_VERSION
    assert spec["info"]["license"]["name"] == "MIT"
    held = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert held == set(SERVED)
    for (method, path), category in SERVED.items():
        assert operation(path, method)["x-ratelimit-category"] == category


def test_limits_are_the_specs() -> None:
    parameters = load()["components"]["parameters"]
    page = parameters["query_page_size"]["schema"]
    assert (page["default"], page["maximum"]) == (listing.PAGE_DEFAULT, listing.PAGE_MAX)
    statuses = parameters["query_entity_statuses"]["schema"]
    assert tuple(statuses["default"]) == listing.DEFAULT_STATUSES
    assert parameters["query_campaign_ids_required"]["schema"]["maxItems"] == analytics.MAX_IDS
    granularity = load()["components"]["schemas"]["Granularity"]["enum"]
    assert tuple(granularity) == analytics.GRANULARITIES


@pytest.mark.skipif(not REFERENCE.is_file(), reason="the reference spec is not on this machine")
def test_the_excerpt_is_what_the_trim_script_writes() -> None:
    loaded = importlib.util.spec_from_file_location("trim_pinterest_openapi", SCRIPT)
    assert loaded is not None
    assert loaded.loader is not None
    script = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(script)
    expected = script.excerpt(json.loads(REFERENCE.read_text()))
    assert script.OUT.read_text() == expected


def test_token_answers() -> None:
    with PinterestSandbox(seed=2, campaigns=3, now=NOW, clients={"app": "right"}) as sb:
        url = f"{sb.base_url}/oauth/token"
        form = {"grant_type": "refresh_token", "refresh_token": "pinr_first"}
        answer = requests.post(url, auth=("app", "right"), data=form, timeout=30)
        assert answer.status_code == 200
        valid(operations.TOKEN, 200, answer.json(), "post")
        assert answer.json()["response_type"] == "refresh_token"
        wrong = requests.post(url, auth=("app", "wrong"), data=form, timeout=30)
        assert wrong.status_code == 401
        valid(operations.TOKEN, 401, wrong.json(), "post")
        again = requests.post(url, auth=("app", "right"), data=form, timeout=30)  # rotated away
        assert again.status_code == 400
        valid(operations.TOKEN, 400, again.json(), "post")


def test_the_token_schema_is_the_refresh_variant() -> None:
    body = {"access_token": "pina_x", "token_type": "bearer", "expires_in": 1, "scope": "s"}
    assert errors(operations.TOKEN, 200, {**body, "response_type": "refresh_token"}, "post")
    assert not errors(operations.TOKEN, 200, body, "post")  # no response_type: the base schema


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"entity_statuses": "ACTIVE,PAUSED,ARCHIVED,DRAFT"},
        {"entity_statuses": ["ARCHIVED", "DELETED_DRAFT"], "order": "DESCENDING", "page_size": 250},
    ],
)
def test_list_pages(client: PinterestClient, params: dict[str, Any]) -> None:
    valid(operations.AD_ACCOUNTS, 200, client.ok(client.get("/ad_accounts", {"page_size": 1})))
    for path, template in (
        (f"/ad_accounts/{ACCOUNT}/campaigns", operations.CAMPAIGNS),
        (f"/ad_accounts/{ACCOUNT}/ad_groups", operations.AD_GROUPS),
        (f"/ad_accounts/{ACCOUNT}/ads", operations.ADS),
    ):
        body = client.ok(client.get(path, params))
        assert body["items"], path
        valid(template, 200, body)


def test_every_record_of_every_status(sandbox: PinterestSandbox) -> None:
    for kind, template in (
        ("ad_account", operations.AD_ACCOUNTS),
        ("campaign", operations.CAMPAIGNS),
        ("ad_group", operations.AD_GROUPS),
        ("ad", operations.ADS),
    ):
        valid(template, 200, {"items": sandbox.control.truth(kind), "bookmark": None})


@pytest.mark.parametrize("granularity", ["DAY", "TOTAL"])
def test_analytics_answers(
    client: PinterestClient, sandbox: PinterestSandbox, granularity: str
) -> None:
    for kind, template, ids in (
        ("campaign", operations.CAMPAIGN_ANALYTICS, "campaign_ids"),
        ("ad_group", operations.AD_GROUP_ANALYTICS, "ad_group_ids"),
        ("ad", operations.AD_ANALYTICS, "ad_ids"),
    ):
        picked = [r["id"] for r in sandbox.control.truth(kind) if r["ad_account_id"] == ACCOUNT]
        params = {
            "start_date": "2026-10-01",
            "end_date": "2026-11-30",
            ids: ",".join(picked[:250]),
            "columns": COLUMNS,
            "granularity": granularity,
            "click_window_days": 30,
            "conversion_report_time": "TIME_OF_CONVERSION",
        }
        rows = client.ok(client.get(f"/ad_accounts/{ACCOUNT}/{kind}s/analytics", params))
        assert rows
        valid(template, 200, rows)


def test_error_bodies(sandbox: PinterestSandbox, client: PinterestClient) -> None:
    campaigns = f"/ad_accounts/{ACCOUNT}/campaigns"
    bad = client.get(campaigns, {"page_size": 251})
    assert bad.status_code == 400
    valid(operations.CAMPAIGNS, 400, bad.json())
    report = client.get(f"{campaigns}/analytics", {"start_date": "2026-01-01"})
    assert report.status_code == 400
    valid(operations.CAMPAIGN_ANALYTICS, 400, report.json())
    anonymous = requests.get(sandbox.base_url + "/ad_accounts", timeout=30)
    assert anonymous.status_code == 401
    valid(operations.AD_ACCOUNTS, 401, anonymous.json())
    stranger = client.get("/ad_accounts/123456/ads")
    assert stranger.status_code == 403
    valid(operations.ADS, 403, stranger.json())


def test_throttled_bodies() -> None:
    with PinterestSandbox(seed=3, campaigns=3, now=NOW, rate_scale=0.001) as sb:
        client = PinterestClient(sb.base_url)
        assert client.get("/ad_accounts").status_code == 200
        throttled = client.get("/ad_accounts")
        assert throttled.status_code == 429
        valid(operations.AD_ACCOUNTS, 429, throttled.json())
        sb.control.set_rate_limits(enabled=False)
        sb.control.inject_fault("429", count=1, path="/v5/ad_accounts/")
        injected = client.get(f"/ad_accounts/{ACCOUNT}/campaigns")
        assert injected.status_code == 429
        valid(operations.CAMPAIGNS, 429, injected.json())


def test_the_checks_refuse_invented_fields_and_wrong_types(client: PinterestClient) -> None:
    body = client.ok(client.get(f"/ad_accounts/{ACCOUNT}/campaigns", {"page_size": 1}))
    body["items"][0]["spend"] = 3
    assert errors(operations.CAMPAIGNS, 200, body)
    del body["items"][0]["spend"]
    body["items"][0]["updated_time"] = "2026-11-01T00:00:00Z"
    assert errors(operations.CAMPAIGNS, 200, body)
    body["items"][0]["updated_time"] = 1
    body["items"][0]["status"] = "RUNNING"
    assert errors(operations.CAMPAIGNS, 200, body)
    assert errors(operations.CAMPAIGN_ANALYTICS, 200, [{"CAMPAIGN_ID": "x1"}])
