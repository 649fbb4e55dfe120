"""OAuth 2.0 access tokens on singer-sdk's ``OAuthAuthenticator``: ``ClientCredentials``
(RFC 6749 §4.4, e.g. OneTrust) and ``RefreshToken`` (§6, e.g. Pinterest).

One instance serves every stream of a tap, from several threads at once. A token is renewed
once, under a lock, shortly before it expires; after a 401 the REST layer calls
``renew(token_sent_with(request))``, which renews only if no other thread has done so already.
The REST layer reports every answer to ``accepted``. Once the API has answered one of the run's
tokens, a 401 is an expiry and is renewed as often as it happens. Before that, a 401 is renewed
once, and a second one is fatal: the API refuses this client's tokens. (Whether this exact token
was answered is not a usable test: with requests in flight, another thread may have been answered
with it and not yet said so.)
Every token and secret this module sees is listed by ``secrets()`` so the REST layer can scrub
it, and this module scrubs them from everything it logs or raises.

Rotated refresh tokens: some token endpoints (Pinterest's continuous refresh) answer every
refresh with a new refresh token and retire the old one. Meltano cannot write a new value back
into a plugin's config, so without help a token rotated during a run is lost when the tap
exits, and the next run starts from the retired token in the config and fails. Set the tap's
token store setting (``refresh_token_file``) to a file path that outlives the run: each new
refresh token is written there (atomically, readable by its owner only), and the next run
starts from the file. The ``refresh_token`` in the config is only the seed: after you
re-authorise the app and put a new token there, the tap sees the seed has changed and starts
from it instead of the file. Do not run two syncs with the same token store at once: both
would rotate the same token, and one of them would be refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import requests
from singer_sdk.authenticators import OAuthAuthenticator
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError

from tapkit.http import error_detail, retry_after_seconds, scrub

ClientAuth = Literal["client_secret_post", "client_secret_basic"]

# Statuses worth asking again; every other refusal from a token endpoint is about the settings.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def token_sent_with(request: requests.PreparedRequest) -> str | None:
    """The bearer token a request carried: what ``renew`` needs after a 401.  (Reading
    ``current_token`` after the answer could see a newer token another thread fetched.)"""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


@dataclass(frozen=True)
class _Issued:
    token: str
    renew_at: float  # clock time


class OAuth2Grant(OAuthAuthenticator):
    """What both grants share: asking the token endpoint (with retries on 5xx), keeping the
    token until shortly before it expires, sending it as ``Authorization: Bearer``."""

    grant_type: ClassVar[str]

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        token_url: str,
        client_id_setting: str = "client_id",
        client_secret_setting: str = "client_secret",
        client_auth: ClientAuth = "client_secret_post",
        scopes: Sequence[str] = (),
        extra_body: Mapping[str, str] | None = None,
        default_lifetime: int = 3600,
        renew_margin: float = 60.0,
        max_tries: int = 4,
        timeout: float = 60.0,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client_id_setting = client_id_setting
        self.client_secret_setting = client_secret_setting
        _require(config, self.credential_settings)
        # No stream: singer-sdk 0.54 deprecates tying an authenticator to one.
        super().__init__(
            auth_endpoint=token_url,
            oauth_scopes=" ".join(scopes) or None,
            default_expiration=default_lifetime,
            client_id=str(config[client_id_setting]),
            client_secret=str(config[client_secret_setting]),
        )
        self.logger = logger or logging.getLogger(__name__)
        self._client_auth = client_auth
        self._extra_body = dict(extra_body or {})
        self._default_lifetime = float(default_lifetime)
        self._renew_margin = renew_margin
        self._max_tries = max_tries
        self._timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._issued: _Issued | None = None
        self._answered = False  # has the API answered a request carrying one of our tokens?
        self._secrets: list[str] = [str(config[client_secret_setting])]
        if client_auth == "client_secret_basic":  # a token endpoint may echo the header
            self._secrets.append(self._basic_credentials())
        # Our own session: the base class's retries connection errors ten times under ours.
        self._http = requests.Session()

    # -- what the REST layer uses ------------------------------------------------------------

    @property
    def current_token(self) -> str | None:
        issued = self._issued
        return issued.token if issued else None

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        # Not super(): it writes the token into the shared ``auth_headers`` first, where
        # another thread's renewal could swap it before it is copied onto this request.
        request.headers["Authorization"] = f"Bearer {self._valid_token()}"
        return request

    def renew(self, rejected: str | None) -> str:
        """After the API refused ``rejected``: a new token, unless another thread has already
        replaced it.  The token to send from now on."""
        with self._lock:
            issued = self._issued
            if issued is None or issued.token == rejected:
                issued = self._fetch()
            return issued.token

    def accepted(self) -> None:
        """The API answered a request carrying one of our tokens: from now on a 401 means a
        token expired, not that the API refuses this client's tokens."""
        self._answered = True

    @property
    def answered(self) -> bool:
        return self._answered

    def secrets(self) -> list[str]:
        """Every value to scrub from logs and errors: the client secret, refresh tokens and
        every access token issued in this run."""
        return list(dict.fromkeys(self._secrets))

    def rejected_hint(self) -> str:
        """What to tell the user when the API refuses a token just issued."""
        raise NotImplementedError

    @property
    def credential_settings(self) -> tuple[str, ...]:
        return (self.client_id_setting, self.client_secret_setting)

    # -- singer-sdk's OAuthAuthenticator -----------------------------------------------------

    def is_token_valid(self) -> bool:
        issued = self._issued
        return issued is not None and self._clock() < issued.renew_at

    def update_access_token(self) -> None:
        with self._lock:
            self._fetch()

    @property
    def oauth_request_body(self) -> dict[str, str]:
        body = {"grant_type": self.grant_type, **self.grant_fields()}
        if self.oauth_scopes:
            body["scope"] = self.oauth_scopes
        if self._client_auth == "client_secret_post":
            body |= {"client_id": str(self.client_id), "client_secret": str(self.client_secret)}
        return body | self._extra_body

    # -- for the grants ----------------------------------------------------------------------

    def grant_fields(self) -> dict[str, str]:
        """The grant's own fields in the token request body."""
        return {}

    def refusal_message(self, status: int, error: str | None, detail: str) -> str:
        """What to tell the user when the token endpoint refuses the grant (4xx)."""
        raise NotImplementedError

    def on_issued(self, answer: Mapping[str, Any]) -> None:
        """Called with the token endpoint's answer, under the lock."""

    def refused(self, status: int, detail: str) -> str:
        return f"The OAuth token endpoint {self.auth_endpoint} refused the {self.grant_type} grant ({status}: {detail})"

    def scrubbed(self, text: str) -> str:
        return scrub(text, self.secrets())

    # -- internals ---------------------------------------------------------------------------

    def _valid_token(self) -> str:
        issued = self._issued
        if issued is None or self._clock() >= issued.renew_at:
            with self._lock:
                issued = self._issued  # another thread may have renewed while we waited
                if issued is None or self._clock() >= issued.renew_at:
                    issued = self._fetch()
        return issued.token

    def _fetch(self) -> _Issued:
        """A new access token from the token endpoint; the caller holds the lock."""
        self.logger.info(
            "Requesting an OAuth access token from %s (%s grant)",
            self.auth_endpoint,
            self.grant_type,
        )
        requested_at = self._clock()
        answer = self._ask_token_endpoint()
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise FatalAPIError(
                f"The OAuth token endpoint {self.auth_endpoint} answered without an access_token "
                f"(fields: {', '.join(sorted(answer)) or 'none'})"
            )
        self._secrets.append(token)
        lifetime = _seconds(answer.get("expires_in")) or self._default_lifetime
        # renew ahead: a minute for long tokens, a tenth of the lifetime for short ones
        renew_at = requested_at + lifetime - min(self._renew_margin, lifetime / 10)
        self.on_issued(answer)
        # singer-sdk's own bookkeeping, for code that reads it
        self.access_token = token
        self.expires_in = int(lifetime)
        self.last_refreshed = datetime.fromtimestamp(requested_at, UTC)
        self._issued = _Issued(token, renew_at)
        self.logger.info("OAuth access token issued, valid for %d s", lifetime)
        return self._issued

    def _ask_token_endpoint(self) -> dict[str, Any]:
        problem = ""
        for attempt in range(1, self._max_tries + 1):
            wait = float(2 ** (attempt - 1))
            try:
                response = self._http.post(
                    self.auth_endpoint,
                    data=self.oauth_request_body,
                    headers=self._token_request_headers(),
                    timeout=self._timeout,
                )
            except requests.RequestException as exc:
                problem = f"{type(exc).__name__}: {str(exc)[:300]}"
            else:
                if response.status_code < 400:
                    return self._answer(response)
                detail = self.scrubbed(error_detail(response, limit=300))
                if response.status_code not in RETRYABLE_STATUSES:
                    error = _oauth_error_code(response)
                    raise FatalAPIError(
                        self.scrubbed(self.refusal_message(response.status_code, error, detail))
                    )
                problem = f"{response.status_code}: {detail}"
                wait = min(60.0, max(wait, retry_after_seconds(response) or 0.0))
            if attempt < self._max_tries:
                self.logger.warning(
                    "%s",
                    self.scrubbed(
                        f"OAuth token request to {self.auth_endpoint} failed ({problem}); "
                        f"retrying in {wait:.0f} s (attempt {attempt} of {self._max_tries})"
                    ),
                )
                self._sleep(wait)
        raise FatalAPIError(
            self.scrubbed(
                f"Could not get an OAuth access token from {self.auth_endpoint} after "
                f"{self._max_tries} attempts ({problem}). The token endpoint is failing or "
                "unreachable, not refusing the settings: run again later."
            )
        )

    def _answer(self, response: requests.Response) -> dict[str, Any]:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise FatalAPIError(
                f"The OAuth token endpoint {self.auth_endpoint} answered {response.status_code} "
                f"with a body that is not a JSON object ({len(response.content)} bytes)"
            )
        return answer

    def _token_request_headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._client_auth == "client_secret_basic":
            # RFC 6749 §2.3.1 asks to form-encode both first; servers that do not decode
            # them (most) then refuse secrets with symbols, so send them as they are.
            headers["Authorization"] = f"Basic {self._basic_credentials()}"
        return headers

    def _basic_credentials(self) -> str:
        pair = f"{self.client_id}:{self.client_secret}".encode()
        return base64.b64encode(pair).decode("ascii")


class ClientCredentials(OAuth2Grant):
    """The client-credentials grant: a client id and secret from the settings buy a token.

    ``ClientCredentials(tap.config, token_url=f"https://{host}/api/access/v1/oauth/token")``
    """

    grant_type = "client_credentials"

    def refusal_message(self, status: int, error: str | None, detail: str) -> str:
        refused = self.refused(status, detail)
        if error == "invalid_scope":
            return (
                f"{refused}: the client in the setting {self.client_id_setting} may not have the "
                f"scopes {self.oauth_scopes!r}; grant them to the client, or ask for fewer."
            )
        return (
            f"{refused}: check the settings {self.client_id_setting} and "
            f"{self.client_secret_setting} (the client may have been deleted, or its secret "
            "regenerated)."
        )

    def rejected_hint(self) -> str:
        scopes = f" (asked for: {self.oauth_scopes})" if self.oauth_scopes else ""
        return (
            "The API refused a freshly issued access token: the OAuth client in the settings "
            f"{self.client_id_setting} and {self.client_secret_setting} gets tokens from "
            f"{self.auth_endpoint}, but the API does not accept them for this request. Check "
            f"that the client belongs to this account and environment and has the scopes the "
            f"tap needs{scopes}."
        )


class RefreshToken(OAuth2Grant):
    """The refresh-token grant: an app's client id and secret (HTTP Basic by default) and a
    refresh token from the settings buy an access token; a rotated refresh token is kept
    (see the module docstring).

    ``RefreshToken(tap.config, token_url="https://api.pinterest.com/v5/oauth/token",
    store_setting="refresh_token_file")``
    """

    grant_type = "refresh_token"

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        refresh_token_setting: str = "refresh_token",
        store_setting: str | None = None,
        warn_expiry_days: float = 14,
        client_auth: ClientAuth = "client_secret_basic",
        **common: Any,  # OAuth2Grant's
    ) -> None:
        self.refresh_token_setting = refresh_token_setting
        self.store_setting = store_setting
        super().__init__(config, client_auth=client_auth, **common)
        self._warn_expiry = timedelta(days=warn_expiry_days)
        self._expiry_warned = False
        self._rotation_warned = False
        seed = str(config[refresh_token_setting])
        self._seed = seed
        path = config.get(store_setting) if store_setting else None
        self.store = RefreshTokenStore(Path(str(path)).expanduser()) if path else None
        stored = self.store.load(seed, self.logger) if self.store else None
        self.refresh_token = stored or seed
        self._from_store = stored is not None
        self._secrets += [seed, *([stored] if stored else [])]
        if stored and self.store:
            self.logger.info("Starting from the rotated refresh token in %s", self.store.path)

    @property
    def credential_settings(self) -> tuple[str, ...]:
        return (*super().credential_settings, self.refresh_token_setting)

    def grant_fields(self) -> dict[str, str]:
        return {"refresh_token": str(self.refresh_token)}

    def on_issued(self, answer: Mapping[str, Any]) -> None:
        rotated = answer.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != self.refresh_token:
            self._secrets.append(rotated)
            self.refresh_token = rotated
            self._keep(rotated)
        self._warn_if_expiring(answer)

    def refusal_message(self, status: int, error: str | None, detail: str) -> str:
        refused = self.refused(status, detail)
        client = f"{self.client_id_setting} and {self.client_secret_setting}"
        if error == "invalid_grant":
            if self._from_store and self.store:
                source = f"from the token store {self.store.path} (rotated from the setting {self.refresh_token_setting})"
            else:
                source = f"in the setting {self.refresh_token_setting}"
            return (
                f"{refused}: the refresh token {source} was revoked or has expired. Re-authorise "
                f"the app and put the new refresh token in the setting {self.refresh_token_setting}"
                + (
                    f"; the tap then starts from it, not from {self.store.path} (or delete that file)."
                    if self.store
                    else "."
                )
            )
        if error in ("invalid_client", "unauthorized_client") or status == 401:
            return f"{refused}: check the settings {client} (the app's id and secret)."
        if error == "invalid_scope":
            return f"{refused}: the refresh token was not granted the scopes {self.oauth_scopes!r}; re-authorise the app with them."
        return (
            f"{refused}: check the settings {client} and {self.refresh_token_setting}; if they "
            "are right, re-authorise the app and set the new refresh token."
        )

    def rejected_hint(self) -> str:
        return (
            "The API refused a freshly issued access token: the app in the settings "
            f"{self.client_id_setting} and {self.client_secret_setting}, authorised through the "
            f"setting {self.refresh_token_setting}, gets tokens from {self.auth_endpoint}, but the "
            "API does not accept them for this request. Check that the user who authorised the "
            "app can read this account and granted the scopes the tap needs; if not, re-authorise "
            f"the app and set the new {self.refresh_token_setting}."
        )

    def _keep(self, rotated: str) -> None:
        if self.store is not None:
            try:
                self.store.save(rotated, self._seed)
            except OSError as exc:
                self.logger.error(
                    "%s",
                    self.scrubbed(
                        f"The token endpoint rotated the refresh token but it could not be written "
                        f"to {self.store.path} ({exc}); it lasts for this run only, and the next "
                        f"run may be refused. Make that path writable, or re-authorise the app "
                        f"and set {self.refresh_token_setting} after this run."
                    ),
                )
                return
            self._from_store = True
            self.logger.info("Saved the rotated refresh token to %s", self.store.path)
        elif not self._rotation_warned:
            self._rotation_warned = True
            where = (
                f"set {self.store_setting} to a file path so the next run starts from it"
                if self.store_setting
                else "this tap has no token store setting, so the next run may be refused"
            )
            self.logger.warning(
                "The token endpoint rotated the refresh token; the new one is kept for this run "
                "only (Meltano cannot write it back to %s): %s.",
                self.refresh_token_setting,
                where,
            )

    def _warn_if_expiring(self, answer: Mapping[str, Any]) -> None:
        now = datetime.fromtimestamp(self._clock(), UTC)
        if (seconds := _seconds(answer.get("refresh_token_expires_in"))) is not None:
            expires = now + timedelta(seconds=seconds)
        elif (at := _seconds(answer.get("refresh_token_expires_at"))) is not None:
            expires = datetime.fromtimestamp(at, UTC)
        else:
            return
        if self._expiry_warned or expires - now > self._warn_expiry:
            return
        self._expiry_warned = True
        days = max(0, (expires - now).days)
        self.logger.warning(
            "The refresh token (setting %s) expires in %d days, on %s: re-authorise the app and "
            "put the new refresh token in %s before then, or syncs will be refused.",
            self.refresh_token_setting,
            days,
            expires.strftime("%Y-%m-%d %H:%M UTC"),
            self.refresh_token_setting,
        )


@dataclass(frozen=True)
class RefreshTokenStore:
    """A file holding the newest rotated refresh token, and a hash of the config's token it
    descends from (so a new token put in the config after re-authorising wins over the file)."""

    path: Path

    def load(self, seed: str, logger: logging.Logger) -> str | None:
        """The newest token rotated from ``seed``; None without a file, or when the config
        holds a different seed than the one the file descends from."""
        try:
            document = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning(
                "Ignoring the token store %s (%s): starting from the config's refresh token",
                self.path,
                type(exc).__name__,
            )
            return None
        token = document.get("refresh_token") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            logger.warning("Ignoring the token store %s: it holds no refresh_token", self.path)
            return None
        if document.get("seed_sha256") != _sha256(seed):
            logger.info(
                "The config holds a different refresh token than the one %s was rotated from: "
                "starting from the config's",
                self.path,
            )
            return None
        return token

    def save(self, token: str, seed: str) -> None:
        """Write atomically (temp file, then rename) with mode 0600: a crash leaves the old
        file or the new one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "refresh_token": token,
            "seed_sha256": _sha256(seed),
            "rotated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        descriptor, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w") as file:
                json.dump(document, file)
                file.flush()
                os.fsync(file.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _require(config: Mapping[str, Any], settings: Sequence[str]) -> None:
    missing = [name for name in settings if not config.get(name)]
    if missing:
        errors = [f"{name}: not set; the OAuth token request needs it" for name in missing]
        raise ConfigValidationError("; ".join(errors), errors=errors)


def _seconds(value: Any) -> float | None:
    """A positive number of seconds from a token answer (APIs send ints, floats or strings)."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


#: RFC 6749 §5.2's error codes.
OAUTH_ERRORS = frozenset(
    (
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    )
)


def _oauth_error_code(response: requests.Response) -> str | None:
    """RFC 6749 §5.2's ``error`` (``invalid_grant``, ...), when the endpoint sends one: as
    ``error``, or leading the ``message`` of an API's own error document (Pinterest's
    ``{"code": 1, "message": "invalid_grant: ..."}``)."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    error, message = body.get("error"), body.get("message")
    if isinstance(error, str):
        return error
    if isinstance(message, str):
        leading = message.split(":", 1)[0].strip()
        return leading if leading in OAUTH_ERRORS else None
    return None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
