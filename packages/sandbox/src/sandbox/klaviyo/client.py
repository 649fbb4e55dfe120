"""A minimal client of the (emulated or real) Klaviyo API, for tests, scripts and benchmarks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

SANDBOX_KEY = "pk_sandbox_0123456789abcdef"
REVISION = "2026-07-15"


class KlaviyoClient:
    def __init__(
        self, api_url: str, key: str = SANDBOX_KEY, revision: str | None = REVISION
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Klaviyo-API-Key {key}"
        if revision:
            self.session.headers["revision"] = revision

    def get(
        self, path: str, params: dict[str, Any] | None = None, **kwargs: Any
    ) -> requests.Response:
        """GET an absolute URL or an API path (``/api/profiles`` or ``/profiles``)."""
        url = path if path.startswith("http") else self.api_url + path.removeprefix("/api")
        kwargs.setdefault("timeout", 30)
        return self.session.get(url, params=params, **kwargs)

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a listing, following ``links.next``; fails on any non-200."""
        response = self.get(path, params)
        while True:
            if response.status_code != 200:
                raise AssertionError(
                    f"GET {response.url} answered {response.status_code}: {response.text[:500]}"
                )
            document = response.json()
            yield document
            next_url = document["links"].get("next")
            if next_url is None:
                return
            response = self.get(next_url)

    def all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [item for page in self.pages(path, params) for item in page["data"]]
