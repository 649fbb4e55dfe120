"""The declared emulator (``sandbox.declared``) keeps its contract on both surfaces, with API
keys and with OAuth, in each timestamp format: what every scaffolded source's emulator is."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from sandbox.declared.contract import Contract
from sandbox.declared.data import epoch
from sandbox.declared.sandbox import DeclaredSandbox
from sandbox.declared.spec import (
    Auth,
    DeclaredApi,
    DeclaredObject,
    Field,
    FieldType,
    Surface,
    TimeFormat,
)

OBJECTS = (
    DeclaredObject(
        "customers",
        (Field("name"), Field("email", FieldType.EMAIL), Field("active", FieldType.BOOLEAN)),
        rows=120,
    ),
    DeclaredObject(
        "orders", (Field("total", FieldType.NUMBER), Field("lines", FieldType.INTEGER)), rows=90
    ),
)
KEY = {"api_key": "sandbox_not_a_secret"}
CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox_not_a_secret"}
APIS = {
    "rest, api key, iso8601": (DeclaredApi("rest_iso", OBJECTS), KEY),
    "rest, oauth, epoch seconds, exclusive": (
        DeclaredApi(
            "rest_epoch",
            OBJECTS,
            auth=Auth.OAUTH_CLIENT_CREDENTIALS,
            time_format=TimeFormat.EPOCH_SECONDS,
            filter_inclusive=False,
            created_param="created_since",
            created_upper_param="created_before",
        ),
        CLIENT,
    ),
    "rest, api key, by day": (DeclaredApi("rest_day", OBJECTS, time_format=TimeFormat.DATE), KEY),
    "sql, api key": (DeclaredApi("sql", OBJECTS, surface=Surface.SQL, max_page_size=25), KEY),
}


@pytest.fixture(params=list(APIS))
def contract(request: pytest.FixtureRequest) -> Iterator[Contract]:
    api, credentials = APIS[request.param]
    with DeclaredSandbox(api, seed=4) as sandbox:
        yield Contract(sandbox, credentials)


@pytest.mark.parametrize("kind", ["customers", "orders"])
def test_paging_reads_every_record_once(contract: Contract, kind: str) -> None:
    contract.check_paging(kind)


@pytest.mark.parametrize("kind", ["customers", "orders"])
def test_the_filter_bounds_the_records(contract: Contract, kind: str) -> None:
    contract.check_filter(kind)


def test_a_wrong_credential_is_refused(contract: Contract) -> None:
    contract.check_refused_credential()


def test_the_rate_limit_answers_429_with_retry_after(contract: Contract) -> None:
    contract.check_rate_limit()


def test_an_injected_fault_is_served(contract: Contract) -> None:
    contract.check_fault()


def test_the_same_seed_gives_the_same_records() -> None:
    api, _ = APIS["rest, api key, iso8601"]
    first = DeclaredSandbox(api, seed=9, now="2026-06-01T00:00:00Z").emulator.truth("customers")
    again = DeclaredSandbox(api, seed=9, now="2026-06-01T00:00:00Z").emulator.truth("customers")
    assert first == again
    assert len({r["updated_at"] for r in first[: api.tied_records]}) == 1, "no seeded ties"
    tied = [r for r in first if r["updated_at"] == first[0]["updated_at"]]
    assert len(tied) >= api.tied_records


def test_mutations_change_the_truth_the_api_serves() -> None:
    api, credentials = APIS["rest, api key, iso8601"]
    with DeclaredSandbox(api, seed=4) as sandbox:
        contract = Contract(sandbox, credentials)
        control = sandbox.control
        created = control.create("orders", count=2)
        updated = control.update("orders", count=3, at="2026-01-02T03:04:05Z")
        deleted = control.delete("orders", count=1)
        served = {r["id"]: r for r in contract.read("orders")}
        assert set(created) <= set(served)
        assert not set(deleted) & set(served)
        for record_id in set(updated) - set(deleted):
            assert served[record_id]["updated_at"] == "2026-01-02T03:04:05Z"
        assert {r["id"] for r in control.truth("orders")} == set(served)


def test_a_bad_parameter_and_a_foreign_cursor_are_named() -> None:
    api, credentials = APIS["rest, api key, iso8601"]
    with DeclaredSandbox(api, seed=4) as sandbox:
        headers = {"Authorization": f"Bearer {credentials['api_key']}"}
        url = f"{sandbox.base_url}/customers"
        bad = requests.get(url, headers=headers, params={"updated_since": "yesterday"}, timeout=10)
        assert bad.status_code == 400
        assert "updated_since" in bad.json()["error"]["detail"]
        unknown = requests.get(url, headers=headers, params={"sort": "name"}, timeout=10)
        assert unknown.status_code == 400
        assert "sort" in unknown.json()["error"]["detail"]
        first = requests.get(url, headers=headers, params={"limit": 5}, timeout=10).json()
        other = requests.get(
            url,
            headers=headers,
            params={
                "limit": 5,
                "cursor": first["next_cursor"],
                "updated_since": "2020-01-01T00:00:00Z",
            },
            timeout=10,
        )
        assert other.status_code == 400
        assert other.json()["error"]["code"] == "invalid_cursor"


def test_the_sql_surface_runs_only_one_select() -> None:
    api, credentials = APIS["sql, api key"]
    with DeclaredSandbox(api, seed=4) as sandbox:
        headers = {"Authorization": f"Bearer {credentials['api_key']}"}
        for statement in (
            'DELETE FROM "orders"',
            'SELECT 1; DROP TABLE "orders"',
            "SELECT nope FROM orders",
        ):
            answer = requests.post(
                f"{sandbox.base_url}/statements",
                headers=headers,
                json={"statement": statement},
                timeout=10,
            )
            assert answer.status_code == 400, statement
            assert answer.json()["error"]["code"] == "invalid_sql"
        assert len(sandbox.control.truth("orders")) == 90


def test_an_expired_token_is_refused_until_renewed() -> None:
    api, credentials = APIS["rest, oauth, epoch seconds, exclusive"]
    with DeclaredSandbox(api, seed=4) as sandbox:
        contract = Contract(sandbox, credentials)
        assert contract.read("orders", limit=50)
        assert sandbox.control.expire_tokens() == 1
        answer = contract.http.get(f"{sandbox.base_url}/orders", timeout=10)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "token_expired"


def test_a_change_is_stamped_now_never_in_the_future() -> None:
    """A tap reads up to its own now: a change stamped ahead of it would be skipped."""
    api, credentials = APIS["rest, api key, iso8601"]
    with DeclaredSandbox(api, seed=4) as sandbox:
        changed = sandbox.control.update("orders", count=3) + sandbox.control.create(
            "orders", count=2
        )
        served = {r["id"]: r for r in Contract(sandbox, credentials).read("orders", limit=100)}
        for record_id in changed:
            assert epoch(served[record_id]["updated_at"]) <= time.time()
