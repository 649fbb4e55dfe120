"""A minimal client of the (emulated or real) Pinterest Ads API, for tests and scripts: a
bearer token (or one fetched with a refresh token), and every page of a bookmark listing."""

from __future__ import annotations

from typing import Any

import requests

SANDBOX_CLIENT = ("sandbox-app", "sandbox-secret")


class PinterestClient:
    def __init__(self, base_url: str, token: str = "pina_sandbox") -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def refresh(
        self, refresh_token: str, client: tuple[str, str] = SANDBOX_CLIENT
    ) -> requests.Response:
        """``POST /oauth/token``; on success the new access token is used from then on."""
        response = requests.post(
            f"{self.base_url}/oauth/token",
            auth=client,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            timeout=30,
        )
        if response.status_code == 200:
            self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return response

    def get(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        return self.session.get(self.base_url + path, params=params, timeout=30)

    def ok(self, response: requests.Response) -> Any:
        if response.status_code != 200:
            raise AssertionError(
                f"GET {response.url} answered {response.status_code}: {response.text[:500]}"
            )
        return response.json()

    def pages(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a listing, following ``bookmark`` until it is null."""
        params = dict(params or {})
        items: list[dict[str, Any]] = []
        while True:
            body = self.ok(self.get(path, params))
            items += body["items"]
            if not body.get("bookmark"):
                return items
            params["bookmark"] = body["bookmark"]
