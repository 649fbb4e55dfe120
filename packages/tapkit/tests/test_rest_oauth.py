"""A tapkit tap with OAuth client credentials, end to end against a real HTTP API on 127.0.0.1:
windows fetched concurrently, a token the API expires mid-run renewed once, a revoked client
failing with the setting named, and no token or secret in stdout, stderr or state."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from singer_sdk import typing as th
from singer_sdk.exceptions import FatalAPIError

from tapkit.auth import ClientCredentials
from tapkit.incremental import ApiFilter, Incremental, Op
from tapkit.rest import PoliteRESTStream
from tapkit.settings import common_settings
from tapkit.tap import PoliteTap
from tapkit.testing import json_api
from tapkit.windows import WindowPolicy

CLIENT_SECRET = "cs-SeCrEt-0123456789"
START = datetime(2024, 1, 1, tzinfo=UTC)
ITEMS: list[dict[str, Any]] = [
    {"id": n, "updated": (START + timedelta(hours=7 * n)).isoformat()} for n in range(120)
]


@dataclass
class Api:
    """``POST /token`` (client credentials) and ``GET /items?since=&until=`` (bearer)."""

    url: str = ""
    revoked: bool = False
    refuse_tokens: bool = False  # the token endpoint grants tokens the API then refuses
    expire_after: int | None = None  # every token dies after this many API answers
    grants: int = 0
    issued: list[str] = field(default_factory=list)
    used: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.revoked or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client", "error_description": "client unknown"}
        with self.lock:
            self.grants += 1
            token = f"at-{uuid.uuid4().hex}"
            self.issued.append(token)
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": 3600}

    def items(self, token: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if (
                self.refuse_tokens
                or token not in self.issued
                or (self.expire_after is not None and self.used.get(token, 0) >= self.expire_after)
            ):
                return 401, {"message": "token expired"}
            self.used[token] = self.used.get(token, 0) + 1
        since, until = query["since"], query["until"]
        found = [i for i in ITEMS if since <= i["updated"].replace("+00:00", "Z") < until]
        return 200, {"data": found}


class ItemsStream(PoliteRESTStream):
    name = "items"
    path = "/items"
    primary_keys = ("id",)
    incremental = Incremental(
        "updated",
        ApiFilter("since", Op.GTE, upper_field="until", upper_op=Op.LT),
        windows=WindowPolicy(timedelta(days=4)),
    )
    schema: ClassVar[dict[str, Any]] = th.PropertiesList(
        th.Property("id", th.IntegerType), th.Property("updated", th.DateTimeType)
    ).to_dict()

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"])

    @property
    def authenticator(self) -> ClientCredentials:
        url = f"{self.config['api_url']}/token"
        return self.shared("oauth", lambda: ClientCredentials(self.config, token_url=url))

    def request_params(self, context: Any, next_page_token: Any, bounds: Any) -> dict[str, Any]:
        return {bound.field: bound.value for bound in bounds}


class OAuthTap(PoliteTap):
    name = "tap-oauth-example"
    stream_classes = (ItemsStream,)
    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType, required=True),
        th.Property("client_id", th.StringType, required=True),
        th.Property("client_secret", th.StringType, required=True, secret=True),
        *common_settings(max_concurrent_requests=4),
    ).to_dict()


@pytest.fixture
def api() -> Iterator[Api]:
    state = Api()

    def answer(method: str, path: str, headers: Any, body: str) -> tuple[int, Any]:
        if method == "POST":
            return state.token({k: v[0] for k, v in parse_qs(body).items()})
        query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        return state.items(headers.get("Authorization", "").removeprefix("Bearer "), query)

    with json_api(answer) as url:
        state.url = url
        yield state


def run(api: Api, capfd: pytest.CaptureFixture[str]) -> tuple[list[dict[str, Any]], str]:
    config = {
        "api_url": api.url,
        "client_id": "client-1",
        "client_secret": CLIENT_SECRET,
        "start_date": START.isoformat(),
        "end_date": (START + timedelta(days=40)).isoformat(),
    }
    tap = OAuthTap(config=config)
    try:
        tap.sync_all()
    finally:
        tap.__dict__["_tapkit_shared"]["pool"].shutdown()  # its workers are done
        out, err = capfd.readouterr()
    return [json.loads(line) for line in out.splitlines() if line.strip()], err


def assert_no_secret(api: Api, *texts: str) -> None:
    for text in texts:
        for secret in (CLIENT_SECRET, *api.issued):
            assert secret not in text


def test_a_token_expired_mid_run_is_renewed_once_and_the_run_completes(
    api: Api, capfd: pytest.CaptureFixture[str]
) -> None:
    api.expire_after = 2  # four windows in flight: the token dies under concurrent requests
    messages, err = run(api, capfd)
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    expected = [i for i in ITEMS if i["updated"] < (START + timedelta(days=40)).isoformat()]
    assert sorted(r["id"] for r in records) == [i["id"] for i in expected]
    assert len(records) == len(expected)  # each once
    # ten windows, two answers a token: five grants, one per expiry, however many of the
    # four threads in flight saw the 401
    assert sum(api.used.values()) == 10
    assert api.grants == 5
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    # the last record is on Feb 4; the window before the last ended Feb 6, all read by then
    assert states[-1]["bookmarks"]["items"]["replication_key_value"] == "2024-02-06T00:00:00+00:00"
    assert_no_secret(api, json.dumps(messages), err)


def test_a_revoked_client_fails_naming_the_credential_setting(
    api: Api, capfd: pytest.CaptureFixture[str]
) -> None:
    api.revoked = True
    with pytest.raises(FatalAPIError) as failure:
        run(api, capfd)
    assert "client_secret" in str(failure.value)
    assert_no_secret(api, str(failure.value))


def test_tokens_dying_after_every_answer_under_four_threads_do_not_fail_the_run(
    api: Api, capfd: pytest.CaptureFixture[str]
) -> None:
    # the worst race: a token renewed for one thread is used up by another before the first
    # one's retry arrives; an expiry is not a refusal, so the run goes on
    api.expire_after = 1
    messages, err = run(api, capfd)
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    expected = [i for i in ITEMS if i["updated"] < (START + timedelta(days=40)).isoformat()]
    assert sorted(r["id"] for r in records) == [i["id"] for i in expected]
    assert api.grants == 10  # one token per answer, none wasted
    assert_no_secret(api, json.dumps(messages), err)


def test_freshly_granted_tokens_the_api_refuses_fail_after_one_renewal(
    api: Api, capfd: pytest.CaptureFixture[str]
) -> None:
    api.refuse_tokens = True
    with pytest.raises(FatalAPIError) as failure:
        run(api, capfd)
    assert "after renewing the token" in str(failure.value)
    assert "client_id" in str(failure.value)
    # the first token, then one renewal per request in flight at most (each request renews
    # once; a thread whose first token was already the renewed one may renew it once more)
    assert 2 <= api.grants <= 1 + 4
    assert_no_secret(api, str(failure.value))
