"""The OneTrust emulator: OAuth tokens, and the DSAR reads (filters, 0-based pages, ties)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from sandbox.onetrust.client import OneTrustClient
from sandbox.onetrust.sandbox import OneTrustSandbox

NOW = "2026-12-01T00:00:00Z"
QUEUE = "/api/datasubject/v2/requestqueues/en-us"
TOKEN_URL = "/api/access/v1/oauth/token"
DSAR_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
HISTORY_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[OneTrustSandbox]:
    with OneTrustSandbox(seed=5, requests=500, now=NOW, frozen_clock=True, rate_limits=False) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: OneTrustSandbox) -> OneTrustClient:
    return OneTrustClient(sandbox.base_url)


def token_form(sb: OneTrustSandbox, **fields: str) -> requests.Response:
    form = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "s3cret"}
    return requests.post(sb.base_url + TOKEN_URL, data=form | fields, timeout=10)


# -- tokens ------------------------------------------------------------------------------------


def test_tokens_from_urlencoded_and_multipart_forms(sandbox: OneTrustSandbox) -> None:
    body = token_form(sandbox).json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"]
    multipart = requests.post(
        sandbox.base_url + TOKEN_URL,
        files={
            "grant_type": (None, "client_credentials"),
            "client_id": (None, "id"),
            "client_secret": (None, "s3cret"),
        },
        timeout=10,
    )
    assert multipart.status_code == 200
    assert multipart.json()["access_token"] != body["access_token"]


def test_missing_or_wrong_credentials() -> None:
    with OneTrustSandbox(seed=1, requests=10, now=NOW, clients={"app": "right"}) as sb:
        wrong = token_form(sb, client_id="app", client_secret="wrong-secret-value")
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"
        assert "wrong-secret-value" not in wrong.text
        missing = token_form(sb, client_id="app", client_secret="")
        assert missing.status_code == 400
        assert "client_secret" in missing.json()["error_description"]
        grant = token_form(sb, client_id="app", client_secret="right", grant_type="password")
        assert grant.json()["error"] == "unsupported_grant_type"
        assert token_form(sb, client_id="app", client_secret="right").status_code == 200
        logged = sb.control.requests()
        assert all("wrong-secret-value" not in str(entry) for entry in logged)


def test_no_bearer_is_a_401(sandbox: OneTrustSandbox) -> None:
    response = requests.get(sandbox.base_url + QUEUE, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    forged = requests.get(
        sandbox.base_url + QUEUE, headers={"Authorization": "Bearer forged"}, timeout=10
    )
    assert forged.json()["error"] == "invalid_token"


def test_a_token_expires_by_the_clock_and_by_the_admin_route() -> None:
    with OneTrustSandbox(seed=1, requests=10, now=NOW, frozen_clock=True, token_ttl=60) as sb:
        client = OneTrustClient(sb.base_url)
        assert client.fetch_token()["expires_in"] == 60
        assert client.get(QUEUE).status_code == 200
        sb.control.advance_clock(59)
        assert client.get(QUEUE).status_code == 200
        sb.control.advance_clock(1)
        expired = client.get(QUEUE)
        assert expired.status_code == 401
        assert expired.json()["error"] == "invalid_token"
        assert client.token not in expired.text
        client.fetch_token()
        assert client.get(QUEUE).status_code == 200
        assert sb.control.expire_tokens() == 2
        assert client.get(QUEUE).status_code == 401


# -- the request queue ---------------------------------------------------------------------


def test_records_carry_millisecond_z_timestamps(client: OneTrustClient) -> None:
    record = client.ok(client.get(QUEUE, {"status": "Completed", "size": 1}))["content"][0]
    for name in ("dateCreated", "dateUpdated", "deadline", "dateCompleted"):
        assert DSAR_TIME.fullmatch(record[name]), (name, record[name])
    history = client.ok(
        client.get(
            f"/api/datasubject/v2/requestqueues/{record['requestQueueRefId']}/requesthistory"
        )
    )["content"]
    assert HISTORY_TIME.fullmatch(history[0]["changeDateTime"])


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"modifieddate": "2026-11-01"}, "modifieddate"),
        ({"modifieddate": "20261301"}, "modifieddate"),
        ({"createddate": "1 Nov 2026"}, "createddate"),
        ({"size": "501"}, "size"),
        ({"size": "0"}, "size"),
        ({"page": "-1"}, "page"),
        ({"sort": "firstName,asc"}, "sort"),
    ],
)
def test_bad_parameters_are_400s_naming_them(
    client: OneTrustClient, params: dict[str, str], named: str
) -> None:
    response = client.get(QUEUE, params)
    assert response.status_code == 400
    assert named in response.json()["message"]


def test_filters_are_on_or_after_the_utc_day(
    client: OneTrustClient, sandbox: OneTrustSandbox
) -> None:
    truth = sandbox.control.truth("request")
    got = client.pages(QUEUE, {"modifieddate": "20261115", "size": 500})
    assert sorted(r["requestQueueRefId"] for r in got) == sorted(
        r["requestQueueRefId"] for r in truth if r["dateUpdated"] >= "2026-11-15"
    )
    created = client.pages(QUEUE, {"createddate": "20260601", "status": "in progress"})
    assert created
    assert all(r["dateCreated"] >= "2026-06-01" and r["status"] == "In Progress" for r in created)


def test_zero_based_pages_cross_a_tie_without_gaps_or_repeats(
    client: OneTrustClient, sandbox: OneTrustSandbox
) -> None:
    truth = sandbox.control.truth("request")
    tied_at, tied = Counter(r["dateUpdated"] for r in truth).most_common(1)[0]
    assert tied >= 40
    first = client.ok(client.get(QUEUE, {"sort": "dateUpdated,asc", "size": 20}))
    assert first["number"] == 0
    assert first["first"]
    assert first["totalElements"] == len(truth)
    seen = client.pages(QUEUE, {"sort": "dateUpdated,asc", "size": 20})
    ids = [r["requestQueueRefId"] for r in seen]
    assert len(ids) == len(set(ids)) == len(truth)
    positions = [i for i, r in enumerate(seen) if r["dateUpdated"] == tied_at]
    assert positions == list(range(positions[0], positions[0] + tied))
    assert {p // 20 for p in positions} != {positions[0] // 20}  # the tie spans pages
    descending = client.pages(QUEUE, {"sort": "dateUpdated,desc", "size": 20})
    assert [r["requestQueueRefId"] for r in descending] == ids[::-1]


def test_a_page_past_the_end_is_empty(client: OneTrustClient) -> None:
    body = client.ok(client.get(QUEUE, {"page": 400, "size": 20}))
    assert body["content"] == []
    assert body["empty"]
    assert body["last"]


def test_hard_cases_are_in_the_seed(sandbox: OneTrustSandbox) -> None:
    truth = sandbox.control.truth("request")
    names = " ".join(r["firstName"] + r["lastName"] for r in truth)
    assert re.search(r"[\u4e00-\u9fff]", names)  # CJK
    assert re.search(r"[\U0001F300-\U0001FAFF]", names)  # emoji
    assert re.search(r"[éëøł]", names)
    open_late = [r for r in truth if r["status"] == "In Progress" and r["deadline"] < NOW]
    completed_late = [r for r in truth if r.get("dateCompleted", "") > r["deadline"]]
    assert open_late
    assert completed_late
    assert any(r["isExtended"] for r in truth)
    assert {r["status"] for r in truth} >= {"New", "In Progress", "Completed", "Rejected"}
    assert {t for r in truth for t in r["requestTypes"]} >= {"Access", "Deletion", "Do Not Sell"}
    assert len({r["language"] for r in truth}) >= 4
    same_day = Counter(r["dateUpdated"][:10] for r in truth).most_common(2)
    assert same_day[1][1] >= 20
    months_later = [r for r in truth if r["dateUpdated"][:7] > r["dateCreated"][:7]]
    late_in_month = [
        r for r in truth if r["dateCreated"][8:10] <= "05" and r["dateUpdated"][:7] == r["dateCreated"][:7]
        and r["dateUpdated"][8:10] >= "20"
    ]  # fmt: skip
    assert months_later
    assert late_in_month
    assert 0 < len(sandbox.data.deleted) < 20


# -- subtasks and history ------------------------------------------------------------------


def test_a_requests_subtasks_and_history(client: OneTrustClient, sandbox: OneTrustSandbox) -> None:
    subtasks = sandbox.control.truth("subtask")
    with_complete = next(s for s in subtasks if s["subTaskStatus"] == "Complete")
    ref = with_complete["requestQueueRefId"]
    served = client.pages(f"/api/datasubject/v2/requestqueues/{ref}/subtasks")
    assert served == [s for s in subtasks if s["requestQueueRefId"] == ref]
    history = client.pages(f"/api/datasubject/v2/requestqueues/{ref}/requesthistory", {"size": 2})
    truth = [h for h in sandbox.control.truth("request_history") if h["requestQueueRefId"] == ref]
    assert 2 <= len(history) == len(truth)
    assert history == [{k: v for k, v in h.items() if k != "requestQueueRefId"} for h in truth]
    missing = client.get("/api/datasubject/v2/requestqueues/NOSUCHREF1/subtasks")
    assert missing.status_code == 404
    per_request = Counter(s["requestQueueRefId"] for s in subtasks)
    assert max(per_request.values()) <= 4
    per_history = Counter(h["requestQueueRefId"] for h in sandbox.control.truth("request_history"))
    assert min(per_history.values()) >= 2
    assert max(per_history.values()) <= 6


def test_all_subtasks_leave_out_complete_ones(
    client: OneTrustClient, sandbox: OneTrustSandbox
) -> None:
    truth = sandbox.control.truth("subtask")
    served = client.pages("/api/datasubject/v2/subtasks", {"size": 500})
    assert sorted(s["subTaskId"] for s in served) == sorted(
        s["subTaskId"] for s in truth if s["subTaskStatus"] != "Complete"
    )
    recent = client.pages("/api/datasubject/v2/subtasks", {"modifieddate": "20261101"})
    assert all(s["subTaskLastUpdatedDate"] >= "2026-11-01" for s in recent)
    assert client.get("/api/datasubject/v2/subtasks", {"openrequests": "maybe"}).status_code == 400
