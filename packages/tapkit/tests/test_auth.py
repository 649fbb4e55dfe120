"""tapkit.auth against a real token server on 127.0.0.1: grants, renewal, rotation, failures."""

from __future__ import annotations

import base64
import json
import logging
import stat
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from singer_sdk import RESTStream, Stream, Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError

from tapkit.auth import ClientCredentials, OAuth2Grant, RefreshToken, token_sent_with
from tapkit.testing import json_api

CLIENT_ID = "client-1234"
CLIENT_SECRET = "s3cret/+client=secret"  # symbols, so the URL-encoded echo is scrubbed too
SEED = "refresh-seed-0000"
BASIC = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
DAY = 86400


@dataclass
class TokenServer:
    """A token endpoint (POST /token) and an API (GET /items) that wants its bearer tokens."""

    url: str = ""
    expires_in: int | None = 3600
    rotate: bool = False  # each refresh retires the refresh token used and issues a new one
    refresh_token_expires_in: int | None = None
    refresh_token_expires_at: int | None = None
    failures: int = 0  # answer 500 to this many token requests, echoing what was sent
    delay: float = 0.0  # seconds each grant takes
    require_basic: bool = False
    live_refresh_tokens: set[str] = field(default_factory=lambda: {SEED})
    grants: list[dict[str, str]] = field(default_factory=list)  # successful ones
    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)  # issued by rotation
    lock: threading.Lock = field(default_factory=threading.Lock)

    def revoke_all(self) -> None:
        self.live_refresh_tokens.clear()

    def known_secrets(self) -> list[str]:
        return [CLIENT_SECRET, BASIC, SEED, *self.access_tokens, *self.refresh_tokens]

    def token(self, body: str, authorization: str) -> tuple[int, dict[str, Any] | str]:
        form = {k: v[0] for k, v in parse_qs(body).items()}
        with self.lock:
            if self.failures:
                self.failures -= 1
                return 500, f"upstream failed for {body} ({authorization})"
        time.sleep(self.delay)
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        elif self.require_basic:
            return 401, {"error": "invalid_client", "error_description": "use HTTP Basic"}
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {
                "error": "invalid_client",
                "error_description": f"client {client_id} with secret {secret} is unknown",
            }
        answer: dict[str, Any] = {"token_type": "bearer", "scope": form.get("scope", "")}
        with self.lock:
            if form["grant_type"] == "refresh_token":
                used = form.get("refresh_token", "")
                if used not in self.live_refresh_tokens:
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": f"refresh token {used} was revoked",
                    }
                if self.rotate:
                    rotated = f"refresh-{uuid.uuid4().hex}"
                    self.live_refresh_tokens.discard(used)
                    self.live_refresh_tokens.add(rotated)
                    self.refresh_tokens.append(rotated)
                    answer["refresh_token"] = rotated
                if self.refresh_token_expires_in is not None:
                    answer["refresh_token_expires_in"] = self.refresh_token_expires_in
                if self.refresh_token_expires_at is not None:
                    answer["refresh_token_expires_at"] = self.refresh_token_expires_at
            access = f"access-{uuid.uuid4().hex}"
            self.access_tokens.append(access)
            self.grants.append(form)
        answer["access_token"] = access
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        return 200, answer

    def items(self, authorization: str) -> tuple[int, dict[str, Any] | str]:
        token = authorization.removeprefix("Bearer ")
        if token not in self.access_tokens:
            return 401, {"message": "bad token"}
        return 200, {"items": [{"id": 1}, {"id": 2}]}


@pytest.fixture
def server(caplog: pytest.LogCaptureFixture) -> Iterator[TokenServer]:
    state = TokenServer()

    def answer(method: str, path: str, headers: Any, body: str) -> tuple[int, Any]:
        authorization = headers.get("Authorization", "")
        return state.token(body, authorization) if method == "POST" else state.items(authorization)

    with json_api(answer) as url:
        state.url = url
        caplog.set_level(logging.DEBUG)
        yield state
    # whatever a test did, nothing logged may carry a token or the client secret
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        text = record.getMessage()
        for secret in state.known_secrets():
            assert secret not in text, f"secret in log record: {text}"
        assert "s3cret" not in text


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def client_credentials(server: TokenServer, **kwargs: Any) -> ClientCredentials:
    config = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    kwargs.setdefault("sleep", lambda seconds: None)
    return ClientCredentials(
        kwargs.pop("config", config), token_url=f"{server.url}/token", **kwargs
    )


def refresh_token(server: TokenServer, **kwargs: Any) -> RefreshToken:
    config = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": SEED}
    config |= kwargs.pop("config", {})
    kwargs.setdefault("sleep", lambda seconds: None)
    return RefreshToken(config, token_url=f"{server.url}/token", **kwargs)


def bearer(authenticator: OAuth2Grant) -> str:
    request = requests.Request("GET", "http://api.invalid/items").prepare()
    authenticator(request)
    scheme, _, token = request.headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    return token


def assert_no_secrets(text: str, server: TokenServer) -> None:
    for secret in server.known_secrets():
        assert secret not in text
    assert "s3cret" not in text  # nor its URL-encoded form


# -- grants --------------------------------------------------------------------------------


def test_first_token_is_fetched_once_and_sent_as_bearer(server: TokenServer) -> None:
    auth = client_credentials(server, scopes=["DSAR_READ", "CONSENT_READ"])
    assert auth.current_token is None
    first = bearer(auth)
    assert bearer(auth) == first == auth.current_token == server.access_tokens[0]
    assert server.grants == [
        {
            "grant_type": "client_credentials",
            "scope": "DSAR_READ CONSENT_READ",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    ]


def test_client_credentials_can_authenticate_with_http_basic(server: TokenServer) -> None:
    server.require_basic = True
    bearer(client_credentials(server, client_auth="client_secret_basic"))
    assert server.grants == [{"grant_type": "client_credentials"}]


def test_refresh_token_grant_sends_basic_auth_and_the_refresh_token(server: TokenServer) -> None:
    server.require_basic = True
    bearer(refresh_token(server, extra_body={"continuous_refresh": "true"}))
    assert server.grants == [
        {"grant_type": "refresh_token", "refresh_token": SEED, "continuous_refresh": "true"}
    ]


@pytest.mark.parametrize(
    ("expires_in", "still_valid_at", "renewed_at"),
    [
        (3600, 3600 - 61, 3600 - 59),  # long token: renewed a minute early
        (100, 89, 91),  # short token: renewed a tenth of its lifetime early
        (None, 600 - 61, 600 - 59),  # no expires_in: the default lifetime
    ],
)
def test_token_is_renewed_a_margin_before_it_expires(
    server: TokenServer, expires_in: int | None, still_valid_at: float, renewed_at: float
) -> None:
    server.expires_in = expires_in
    clock = Clock()
    auth = client_credentials(server, clock=clock, default_lifetime=600)
    start = clock.now
    first = bearer(auth)
    clock.now = start + still_valid_at
    assert bearer(auth) == first
    assert auth.is_token_valid()
    clock.now = start + renewed_at
    assert not auth.is_token_valid()
    assert bearer(auth) != first
    assert len(server.grants) == 2


def test_renew_from_eight_threads_with_the_same_rejected_token_renews_once(
    server: TokenServer,
) -> None:
    auth = client_credentials(server)
    rejected = bearer(auth)
    server.delay = 0.2  # a slow token endpoint widens the race
    start = threading.Barrier(8)
    renewed: list[str] = []

    def after_401() -> None:
        start.wait()
        renewed.append(auth.renew(rejected))

    threads = [threading.Thread(target=after_401) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.grants) == 2
    assert renewed == [server.access_tokens[1]] * 8 == [auth.current_token] * 8


def test_eight_threads_needing_a_first_token_fetch_it_once(server: TokenServer) -> None:
    auth = client_credentials(server)
    server.delay = 0.2
    start = threading.Barrier(8)
    sent: list[str] = []

    def request() -> None:
        start.wait()
        sent.append(bearer(auth))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.grants) == 1
    assert sent == [server.access_tokens[0]] * 8


def test_renew_with_a_token_already_replaced_does_not_renew(server: TokenServer) -> None:
    auth = client_credentials(server)
    stale = bearer(auth)
    current = auth.renew(stale)
    assert current != stale
    assert auth.renew(stale) == current
    assert len(server.grants) == 2


def test_renew_after_a_401_uses_the_token_the_request_carried(server: TokenServer) -> None:
    auth = client_credentials(server)
    request = requests.Request("GET", f"{server.url}/items").prepare()
    auth(request)
    server.access_tokens.clear()  # the API forgets the token: the next call answers 401
    assert requests.Session().send(request).status_code == 401
    auth.renew(token_sent_with(request))
    auth(request)
    assert requests.Session().send(request).status_code == 200
    assert token_sent_with(request) == auth.current_token
    assert token_sent_with(requests.Request("GET", server.url).prepare()) is None


# -- rotated refresh tokens ----------------------------------------------------------------


def test_rotated_refresh_token_is_kept_in_memory_and_in_the_store(
    server: TokenServer, tmp_path: Path
) -> None:
    server.rotate = True  # strict: a refresh token works once
    store = tmp_path / "state" / "pinterest-refresh-token.json"
    config = {"refresh_token_file": str(store)}
    auth = refresh_token(server, config=config, store_setting="refresh_token_file")
    bearer(auth)
    first_rotation = server.refresh_tokens[0]
    assert json.loads(store.read_text())["refresh_token"] == first_rotation
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    # the seed is retired now: renewing works only because the rotated token was kept
    auth.renew(auth.current_token)
    assert server.grants[1]["refresh_token"] == first_rotation
    assert json.loads(store.read_text())["refresh_token"] == server.refresh_tokens[1]
    assert [p.name for p in store.parent.iterdir()] == [store.name]  # no temp files left
    # the next run starts from the store, not from the retired seed in the config
    next_run = refresh_token(server, config=config, store_setting="refresh_token_file")
    bearer(next_run)
    assert server.grants[2]["refresh_token"] == server.refresh_tokens[1]


def test_a_new_refresh_token_in_the_config_wins_over_the_store(
    server: TokenServer, tmp_path: Path
) -> None:
    server.rotate = True
    store = tmp_path / "token.json"
    config = {"refresh_token_file": str(store)}
    bearer(refresh_token(server, config=config, store_setting="refresh_token_file"))
    # the user re-authorises the app: a new seed, and the stored token is revoked
    server.revoke_all()
    server.live_refresh_tokens.add("refresh-reauthorised-1111")
    again = refresh_token(
        server,
        config={**config, "refresh_token": "refresh-reauthorised-1111"},
        store_setting="refresh_token_file",
    )
    bearer(again)
    assert server.grants[-1]["refresh_token"] == "refresh-reauthorised-1111"


def test_rotation_without_a_store_warns_that_the_token_lasts_one_run(
    server: TokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.rotate = True
    auth = refresh_token(server, store_setting="refresh_token_file")
    bearer(auth)
    auth.renew(auth.current_token)  # works: the rotated token is kept in memory
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "refresh_token_file" in warnings[0]


def test_an_unwritable_store_is_reported_and_the_run_goes_on(
    server: TokenServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.rotate = True
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    config = {"refresh_token_file": str(blocker / "token.json")}
    auth = refresh_token(server, config=config, store_setting="refresh_token_file")
    bearer(auth)
    auth.renew(auth.current_token)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors
    assert str(blocker / "token.json") in errors[0]


@pytest.mark.parametrize(
    ("expires_in", "expires_at_in", "warned"),
    [(5 * DAY, None, True), (None, 3 * DAY, True), (60 * DAY, None, False), (None, None, False)],
)
def test_a_refresh_token_expiring_soon_is_warned_about(
    server: TokenServer,
    caplog: pytest.LogCaptureFixture,
    expires_in: int | None,
    expires_at_in: int | None,
    warned: bool,
) -> None:
    clock = Clock()
    server.refresh_token_expires_in = expires_in
    if expires_at_in is not None:
        server.refresh_token_expires_at = int(clock.now) + expires_at_in
    auth = refresh_token(
        server,
        config={"pinterest_refresh_token": SEED},
        refresh_token_setting="pinterest_refresh_token",
        clock=clock,
    )
    bearer(auth)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if warned:
        assert len(warnings) == 1
        assert "pinterest_refresh_token" in warnings[0]
        assert "re-authorise" in warnings[0]
    else:
        assert warnings == []


# -- failures --------------------------------------------------------------------------------


def test_a_revoked_refresh_token_is_fatal_and_names_the_setting(
    server: TokenServer, tmp_path: Path
) -> None:
    server.revoke_all()
    auth = refresh_token(
        server,
        config={"refresh_token_file": str(tmp_path / "token.json")},
        store_setting="refresh_token_file",
    )
    with pytest.raises(FatalAPIError) as failure:
        bearer(auth)
    message = str(failure.value)
    assert "invalid_grant" in message or "revoked" in message
    assert "setting refresh_token" in message
    assert "re-authorise" in message.lower()
    assert str(tmp_path / "token.json") in message
    assert_no_secrets(message, server)


@pytest.mark.parametrize("grant", ["client_credentials", "refresh_token"])
def test_a_wrong_client_secret_is_fatal_and_names_the_settings(
    server: TokenServer, grant: str
) -> None:
    config = {"onetrust_client_id": CLIENT_ID, "onetrust_client_secret": "wrong-secret-9999"}
    settings = {
        "client_id_setting": "onetrust_client_id",
        "client_secret_setting": "onetrust_client_secret",
    }
    auth: OAuth2Grant
    if grant == "client_credentials":
        auth = client_credentials(server, config=config, **settings)
    else:
        auth = refresh_token(server, config=config, **settings)
    with pytest.raises(FatalAPIError) as failure:
        bearer(auth)
    message = str(failure.value)
    assert "onetrust_client_id" in message
    assert "onetrust_client_secret" in message
    assert "wrong-secret-9999" not in message  # the server echoed it
    assert_no_secrets(message, server)


def test_missing_settings_are_named() -> None:
    with pytest.raises(ConfigValidationError) as failure:
        RefreshToken({"client_id": CLIENT_ID}, token_url="http://127.0.0.1:9/token")
    assert failure.value.errors == [
        "client_secret: not set; the OAuth token request needs it",
        "refresh_token: not set; the OAuth token request needs it",
    ]


def test_5xx_is_retried_with_backoff_then_succeeds(
    server: TokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.failures = 2  # each 500 echoes the request body and its Authorization header
    slept: list[float] = []
    auth = refresh_token(server, sleep=slept.append)
    token = bearer(auth)
    assert token == server.access_tokens[0]
    assert slept == [1.0, 2.0]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("500" in w for w in warnings)


def test_5xx_that_persists_is_fatal_without_secrets(server: TokenServer) -> None:
    server.failures = 10
    auth = client_credentials(server, max_tries=3)
    with pytest.raises(FatalAPIError) as failure:
        bearer(auth)
    message = str(failure.value)
    assert "after 3 attempts" in message
    assert "500" in message
    assert_no_secrets(message, server)
    assert server.failures == 7


def test_an_unreachable_token_endpoint_is_retried_then_fatal() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]  # closed on leaving: nothing listens there
    slept: list[float] = []
    auth = ClientCredentials(
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        token_url=f"http://127.0.0.1:{port}/token",
        sleep=slept.append,
        max_tries=3,
    )
    with pytest.raises(FatalAPIError, match="ConnectionError"):
        bearer(auth)
    assert slept == [1.0, 2.0]


# -- what the REST layer needs ---------------------------------------------------------------


def test_secrets_lists_every_token_and_the_client_secret(
    server: TokenServer, tmp_path: Path
) -> None:
    server.rotate = True
    auth = refresh_token(
        server,
        config={"refresh_token_file": str(tmp_path / "t.json")},
        store_setting="refresh_token_file",
    )
    bearer(auth)
    auth.renew(auth.current_token)
    auth.renew(auth.current_token)
    assert len(server.access_tokens) == 3
    assert set(auth.secrets()) == set(server.known_secrets())
    assert CLIENT_ID not in auth.secrets()


def test_rejected_hint_names_the_credential_settings(server: TokenServer) -> None:
    hint = refresh_token(
        server, config={"pin_refresh": SEED}, refresh_token_setting="pin_refresh"
    ).rejected_hint()
    assert "client_id" in hint
    assert "client_secret" in hint
    assert "pin_refresh" in hint
    hint = client_credentials(server, scopes=["DSAR_READ"]).rejected_hint()
    assert "client_id and client_secret" in hint
    assert "DSAR_READ" in hint


# -- one authenticator for every stream of a real singer-sdk tap ------------------------------

_shared: weakref.WeakKeyDictionary[Tap, RefreshToken] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


def authenticator_for(tap: Tap) -> RefreshToken:
    with _shared_lock:
        if tap not in _shared:
            _shared[tap] = RefreshToken(
                tap.config, token_url=f"{tap.config['api_url']}/token", logger=tap.logger
            )
        return _shared[tap]


class Items(RESTStream[Any]):
    name = "items"
    path = "/items"
    records_jsonpath = "$.items[*]"
    schema = th.PropertiesList(th.Property("id", th.IntegerType)).to_dict()

    def __init__(self, tap: Tap, **kwargs: Any) -> None:
        super().__init__(tap, **kwargs)
        self.owning_tap = tap

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"])

    @property
    def authenticator(self) -> RefreshToken:
        return authenticator_for(self.owning_tap)


class MoreItems(Items):
    name = "more_items"


class TapExample(Tap):
    name = "tap-example"
    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType, required=True),
        th.Property("client_id", th.StringType, required=True),
        th.Property("client_secret", th.StringType, required=True, secret=True),
        th.Property("refresh_token", th.StringType, required=True, secret=True),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        return [Items(self), MoreItems(self)]


def test_streams_of_a_tap_share_one_authenticator(server: TokenServer) -> None:
    tap = TapExample(
        config={
            "api_url": server.url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": SEED,
        }
    )
    streams = [stream for stream in tap.streams.values() if isinstance(stream, Items)]
    assert len(streams) == 2
    for stream in streams:  # through singer-sdk's own request path
        assert [record["id"] for record in stream.request_records(None)] == [1, 2]
    assert streams[0].authenticator is streams[1].authenticator
    assert len(server.grants) == 1
