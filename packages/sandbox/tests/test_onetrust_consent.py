"""The OneTrust emulator's consent reads: transactions (24 h, continuation in the body), data
subjects V4 (7 days, continuation in a header, or a 403 when the tenant lacks V4), purposes
and collection points."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping

import pytest
import requests

from sandbox.onetrust.client import OneTrustClient
from sandbox.onetrust.sandbox import OneTrustSandbox

NOW = "2026-12-01T00:00:00Z"
TRANSACTIONS = "/api/consent/v2/transactions"
SUBJECTS = "/rest/api/consent/v4/datasubjects"
CONSENT_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[OneTrustSandbox]:
    with OneTrustSandbox(seed=6, requests=50, now=NOW, frozen_clock=True, rate_limits=False) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: OneTrustSandbox) -> OneTrustClient:
    return OneTrustClient(sandbox.base_url)


def post(
    client: OneTrustClient, params: Mapping[str, str | int], body: object = None
) -> requests.Response:
    return client.request("POST", TRANSACTIONS, params=params, json={} if body is None else body)


def test_the_seed_spreads_transactions_over_purposes_and_points(sandbox: OneTrustSandbox) -> None:
    truth = sandbox.control.truth("transaction")
    assert len(truth) == 3_000
    assert len(sandbox.control.truth("purpose")) == 6
    assert len(sandbox.control.truth("collection_point")) == 4
    kinds = Counter(t["transactionType"] for t in truth)
    assert {"CONFIRMED", "WITHDRAWN", "OPT_OUT", "NO_CHOICE"} <= set(kinds)
    assert min(t["consentCreationDate"] for t in truth) >= "2026-10-17"
    assert all(CONSENT_TIME.fullmatch(t["consentCreationDate"]) for t in truth)
    subjects = {s["identifier"] for s in sandbox.control.truth("data_subject")}
    assert {t["identifier"] for t in truth} <= subjects


def test_a_day_reads_whole_through_body_continuations(
    client: OneTrustClient, sandbox: OneTrustSandbox
) -> None:
    # The bulk import: 60 transactions share one millisecond, across pages of 20.
    bulk_day = Counter(t["consentCreationDate"] for t in sandbox.control.truth("transaction"))
    bulk_at, count = bulk_day.most_common(1)[0]
    assert count == 60
    day = bulk_at[:10]
    params = {"fromDate": day, "toDate": f"{day}T23:59:59", "size": 20}
    records, calls = client.transactions(params)
    expected = [
        t for t in sandbox.control.truth("transaction")
        if day <= t["consentCreationDate"] < f"{day}T23:59:59"
    ]  # fmt: skip
    assert sorted(t["transactionGuid"] for t in records) == sorted(
        t["transactionGuid"] for t in expected
    )
    assert len({t["transactionGuid"] for t in records}) == len(records)
    assert calls == -(-len(expected) // 20)
    dates = [t["consentCreationDate"] for t in records]
    assert dates == sorted(dates, reverse=True)  # consentCreationDate,desc by default


def test_window_bounds_from_inclusive_to_exclusive() -> None:
    with OneTrustSandbox(seed=6, requests=10, now=NOW, frozen_clock=True) as sb:
        client = OneTrustClient(sb.base_url)
        [made] = sb.control.create("transaction", 1, at="2026-11-30T12:00:00Z")
        before, _ = client.transactions(
            {"fromDate": "2026-11-30T11:00:00", "toDate": "2026-11-30T12:00:00"}
        )
        after, _ = client.transactions(
            {"fromDate": "2026-11-30T12:00:00", "toDate": "2026-11-30T13:00:00"}
        )
    assert made not in {t["transactionGuid"] for t in before}
    assert made in {t["transactionGuid"] for t in after}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"fromDate": "2026-11-01", "toDate": "2026-11-02T00:00:01"}, "toDate"),
        ({"fromDate": "2026-11-02", "toDate": "2026-11-01"}, "toDate"),
        ({"fromDate": "2026-11-01T00:00:00Z", "toDate": "2026-11-02"}, "fromDate"),
        ({"fromDate": "20261101"}, "fromDate"),
        ({"fromDate": "2026-11-01", "size": 51}, "size"),
        ({"fromDate": "2026-11-01", "sort": "identifier,asc"}, "sort"),
    ],
)
def test_bad_transaction_windows_are_400s(
    client: OneTrustClient, params: dict[str, str | int], named: str
) -> None:
    response = post(client, params)
    assert response.status_code == 400
    assert named in response.json()["message"]


def test_transactions_need_a_body_and_a_token_of_their_own_query(client: OneTrustClient) -> None:
    window = {"fromDate": "2026-11-20", "toDate": "2026-11-21"}
    no_body = client.request("POST", TRANSACTIONS, params=window)
    assert no_body.status_code == 400
    token = client.ok(post(client, window))["pageable"]["requestContinuation"]
    other = post(
        client, {"fromDate": "2026-11-21", "toDate": "2026-11-22"}, {"requestContinuation": token}
    )
    assert other.status_code == 400
    assert "requestContinuation" in other.json()["message"]
    forged = post(client, window, {"requestContinuation": token[:-3] + "abc"})
    assert forged.status_code == 400


def test_data_subjects_page_by_header_within_seven_days(
    client: OneTrustClient, sandbox: OneTrustSandbox
) -> None:
    window = {"fromDate": "2026-11-24T00:00:00", "toDate": "2026-12-01T00:00:00", "size": 10}
    records, calls = client.data_subjects(window)
    expected = [
        s["id"] for s in sandbox.control.truth("data_subject")
        if "2026-11-24" <= s["lastUpdatedDate"] < "2026-12-01"
    ]  # fmt: skip
    assert sorted(s["id"] for s in records) == sorted(expected)
    assert calls > 2
    assert all(CONSENT_TIME.fullmatch(s["lastUpdatedDate"]) for s in records)
    for params, named in (
        ({"fromDate": "2026-11-23T23:59:59", "toDate": "2026-12-01T00:00:00"}, "toDate"),
        ({"toDate": "2026-12-01T00:00:00"}, "fromDate"),
        ({"fromDate": "2026-11-24", "toDate": "2026-12-01T00:00:00"}, "fromDate"),
        ({**window, "size": 51}, "size"),
    ):
        response = client.get(SUBJECTS, params)
        assert response.status_code == 400
        assert named in response.json()["message"]


def test_v4_disabled_is_a_403_saying_so() -> None:
    with OneTrustSandbox(seed=6, requests=10, now=NOW, v4_enabled=False) as sb:
        client = OneTrustClient(sb.base_url)
        window = {"fromDate": "2026-11-24T00:00:00", "toDate": "2026-12-01T00:00:00"}
        response = client.get(SUBJECTS, window)
        assert response.status_code == 403
        assert "V4 APIs are not enabled" in response.json()
        assert client.ok(post(client, {"fromDate": "2026-11-24"}))  # the rest still answers
        sb.emulator.v4_enabled = True
        assert client.get(SUBJECTS, window).status_code == 200


def test_purposes_and_collection_points_are_spring_pages(
    client: OneTrustClient, sandbox: OneTrustSandbox
) -> None:
    purposes = client.ok(client.get("/api/consentmanager/v2/purposes", {"size": 4}))
    assert purposes["totalPages"] == 2
    assert purposes["totalElements"] == 6
    assert client.pages("/api/consentmanager/v2/purposes", {"size": 4}) == sorted(
        sandbox.control.truth("purpose"), key=lambda p: (p["createdDate"], p["purposeId"])
    )
    points = client.pages("/api/consentmanager/v2/collectionpoints", {"size": 3})
    assert [p["createDate"] for p in points] == sorted(
        (p["createDate"] for p in points), reverse=True
    )
    assert len(points) == 4
    assert client.get("/api/consentmanager/v2/purposes", {"size": 101}).status_code == 400
