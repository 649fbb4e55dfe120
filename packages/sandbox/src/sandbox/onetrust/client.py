"""A minimal client of the (emulated or real) OneTrust API, for tests and scripts: it fetches
a client-credentials token and reads every page of each paging style."""

from __future__ import annotations

from typing import Any

import requests

SANDBOX_CLIENT = ("sandbox-client", "sandbox-secret")


class OneTrustClient:
    def __init__(self, base_url: str, client: tuple[str, str] = SANDBOX_CLIENT) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.session = requests.Session()
        self.token: str | None = None

    def fetch_token(self) -> dict[str, Any]:
        response = requests.post(
            f"{self.base_url}/api/access/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client[0],
                "client_secret": self.client[1],
            },
            timeout=30,
        )
        if response.status_code != 200:
            raise AssertionError(f"token request answered {response.status_code}")
        body: dict[str, Any] = response.json()
        self.token = body["access_token"]
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        return body

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if self.token is None:
            self.fetch_token()
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> requests.Response:
        return self.request("GET", path, params=params, **kw)

    def ok(self, response: requests.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise AssertionError(
                f"{response.request.method} {response.url} answered {response.status_code}: "
                f"{response.text[:500]}"
            )
        body: dict[str, Any] = response.json()
        return body

    def pages(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every record of a page/size listing, page 0 to ``totalPages - 1``."""
        params = dict(params or {})
        records, page = [], 0
        while True:
            body = self.ok(self.get(path, {**params, "page": page}))
            records += body["content"]
            page += 1
            if page >= body["totalPages"]:
                return records

    def transactions(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """Every transaction of a window, the continuation token sent back in the body;
        and how many requests that took."""
        records: list[dict[str, Any]] = []
        body: dict[str, Any] = {}
        calls = 0
        while True:
            calls += 1
            page = self.ok(
                self.request("POST", "/api/consent/v2/transactions", params=params, json=body)
            )
            records += page["content"]
            token = page["pageable"].get("requestContinuation")
            if not token:
                return records, calls
            body = {"requestContinuation": token}

    def data_subjects(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """Every data subject of a window, the continuation sent back in a header."""
        records: list[dict[str, Any]] = []
        headers: dict[str, str] = {}
        calls = 0
        while True:
            calls += 1
            page = self.ok(self.get("/rest/api/consent/v4/datasubjects", params, headers=headers))
            records += page["content"]
            token = page.get("requestContinuation")
            if not token:
                return records, calls
            headers = {"requestContinuation": token}
