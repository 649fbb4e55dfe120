"""Checks that a declared emulator keeps its contract, as a client sees it over HTTP: used by
this package's own tests and by the contract tests ``devstack new-source`` writes."""

from __future__ import annotations

from typing import Any

import requests

from sandbox.declared.data import epoch, iso
from sandbox.declared.sandbox import DeclaredSandbox
from sandbox.declared.spec import Auth, Surface, TimeFormat


class Contract:
    def __init__(self, sandbox: DeclaredSandbox, credentials: dict[str, str]) -> None:
        self.sandbox = sandbox
        self.api = sandbox.emulator.api
        self.credentials = credentials
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self._token()}"
        # reads page freely; check_rate_limit turns the limit back on
        sandbox.control.set_rate_limits(enabled=False)

    def _token(self) -> str:
        if self.api.auth is Auth.API_KEY:
            return self.credentials["api_key"]
        answer = requests.post(
            f"{self.sandbox.base_url}/oauth/token",
            data={"grant_type": "client_credentials", **self.credentials},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    # -- reading as a client ------------------------------------------------------------------

    def read(self, kind: str, limit: int = 7, **params: Any) -> list[dict[str, Any]]:
        """Every record of ``kind`` the API gives for ``params``, following every page."""
        if self.api.surface is Surface.SQL:
            return self._select(kind, **params)
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
            answer = self.http.get(f"{self.sandbox.base_url}/{kind}", params=page, timeout=10)
            assert answer.status_code == 200, answer.text
            document = answer.json()
            found += document["data"]
            cursor = document["next_cursor"]
            if not cursor:
                return found

    def _select(self, kind: str, since: str | None = None) -> list[dict[str, Any]]:
        sql = f'SELECT * FROM "{kind}"' + (" WHERE updated_at >= ?" if since else "")
        body = {
            "statement": sql + " ORDER BY updated_at, id",
            "parameters": [since] if since else [],
        }
        answer = self.http.post(f"{self.sandbox.base_url}/statements", json=body, timeout=10)
        found: list[dict[str, Any]] = []
        while True:
            assert answer.status_code == 200, answer.text
            document = answer.json()
            found += [dict(zip(document["columns"], row, strict=True)) for row in document["rows"]]
            if not document["next_page"]:
                return found
            answer = self.http.get(self.sandbox.base_url + document["next_page"], timeout=10)

    # -- the checks ---------------------------------------------------------------------------

    def check_paging(self, kind: str) -> None:
        truth = self.sandbox.control.truth(kind)
        got = self.read(kind)
        ids = [r["id"] for r in got]
        assert len(ids) == len(set(ids)), "a record came twice"
        assert sorted(ids) == sorted(r["id"] for r in truth)
        # a change between pages moves the record, never skips another one
        half = self.read(kind, limit=50)[:50]
        self.sandbox.control.update(kind, ids=[half[0]["id"]])
        assert {r["id"] for r in self.read(kind)} == {r["id"] for r in truth}

    def check_filter(self, kind: str) -> None:
        truth = sorted(self.sandbox.control.truth(kind), key=lambda r: (_seconds(r), r["id"]))
        middle = truth[len(truth) // 2]
        since = _seconds(middle)
        if self.api.surface is Surface.SQL:
            got = self._select(kind, since=middle["updated_at"])
            expected = [r for r in truth if _seconds(r) >= since]
        else:
            value, since = self._rendered(since)
            got = self.read(kind, **{self.api.filter_param: value})
            inclusive = self.api.filter_inclusive or self.api.time_format is TimeFormat.DATE
            expected = [
                r for r in truth if _seconds(r) > since or (inclusive and _seconds(r) == since)
            ]
        assert sorted(r["id"] for r in got) == sorted(r["id"] for r in expected)
        assert 0 < len(got) < len(truth), "the filter kept all or nothing: the check proves little"

    def _rendered(self, since: int) -> tuple[Any, int]:
        """The filter value for ``since`` in the API's format, and the instant it means."""
        if self.api.time_format is TimeFormat.EPOCH_SECONDS:
            return str(since), since
        if self.api.time_format is TimeFormat.DATE:
            day = since - since % 86_400
            return iso(day)[:10], day
        return iso(since), since

    def check_refused_credential(self) -> None:
        kind = self.api.objects[0].name
        route = "statements" if self.api.surface is Surface.SQL else kind
        answer = requests.get(
            f"{self.sandbox.base_url}/{route}",
            headers={"Authorization": "Bearer not-a-credential"},
            timeout=10,
        )
        assert answer.status_code == 401
        assert answer.json()["error"]["detail"]
        if self.api.auth is Auth.OAUTH_CLIENT_CREDENTIALS:
            refused = requests.post(
                f"{self.sandbox.base_url}/oauth/token",
                data={
                    **self.credentials,
                    "grant_type": "client_credentials",
                    "client_secret": "wrong",
                },
                timeout=10,
            )
            assert refused.status_code == 401

    def check_rate_limit(self) -> None:
        kind = self.api.objects[0].name
        self.sandbox.control.set_rate_limits(enabled=True)
        statuses = []
        for _ in range(self.api.rate_per_second * 3):
            if self.api.surface is Surface.SQL:
                answer = self.http.post(
                    f"{self.sandbox.base_url}/statements",
                    json={"statement": f'SELECT id FROM "{kind}" LIMIT 1'},
                    timeout=10,
                )
            else:
                answer = self.http.get(
                    f"{self.sandbox.base_url}/{kind}", params={"limit": 1}, timeout=10
                )
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                assert int(answer.headers["Retry-After"]) >= 1
                return
        raise AssertionError(f"no 429 after {len(statuses)} requests at once: {statuses}")

    def check_fault(self) -> None:
        kind = self.api.objects[0].name
        self.sandbox.control.inject_fault("503", count=1)
        route = "statements" if self.api.surface is Surface.SQL else kind
        answer = self.http.get(f"{self.sandbox.base_url}/{route}", timeout=10)
        assert answer.status_code == 503


def _seconds(record: dict[str, Any]) -> int:
    value = record["updated_at"]
    return value if isinstance(value, int) else epoch(value)
