"""Authentication and the revision header, as Klaviyo checks them."""

from __future__ import annotations

import pytest
import requests

from sandbox.klaviyo.client import KlaviyoClient as Client
from sandbox.klaviyo.sandbox import KlaviyoSandbox


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "not_authenticated"),
        ("pk_sandbox_test_key", "authentication_failed"),  # scheme missing
        ("Bearer pk_sandbox_test_key", "authentication_failed"),
        ("Klaviyo-API-Key sk_not_a_private_key", "authentication_failed"),
        ("Klaviyo-API-Key ", "authentication_failed"),
    ],
)
def test_bad_credentials_get_401(client: Client, authorization: str | None, code: str) -> None:
    headers = {"revision": "2026-07-15"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = requests.get(client.api_url + "/profiles", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == code


def test_configured_keys_reject_other_private_keys() -> None:
    with KlaviyoSandbox(
        profiles=50, events=50, api_keys={"pk_right"}, rate_limits=False
    ) as sandbox:
        assert Client(sandbox.api_url, key="pk_right").get("/api/metrics").status_code == 200
        wrong = Client(sandbox.api_url, key="pk_wrong").get("/api/metrics")
        assert wrong.status_code == 401
        assert "pk_wrong" not in wrong.text


@pytest.mark.parametrize(
    "revision", [None, "", "2026-07-16", "2027-01-15", "latest", "2026-07-15.beta"]
)
def test_missing_or_unknown_revision_is_400(client: Client, revision: str | None) -> None:
    headers = {"Authorization": client.session.headers["Authorization"]}
    if revision is not None:
        headers["revision"] = revision
    response = requests.get(client.api_url + "/metrics", headers=headers, timeout=10)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["source"] == {"parameter": "revision"}
    assert "revision" in error["detail"]


@pytest.mark.parametrize("revision", ["2026-07-15", "2026-07-15.pre", "2024-10-15", "2025-01-15"])
def test_published_revisions_are_accepted(client: Client, revision: str) -> None:
    assert client.get("/api/metrics", headers={"revision": revision}).status_code == 200


def test_only_get_is_served(client: Client) -> None:
    response = client.session.post(client.api_url + "/profiles", json={}, timeout=10)
    assert response.status_code == 405
