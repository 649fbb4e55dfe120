"""The Pinterest emulator's OAuth (refresh, rotation, expiry, refusals) and list endpoints
(entity_statuses, ids, order, bookmark paging under updated_time ties, 400s)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from sandbox.pinterest.client import PinterestClient
from sandbox.pinterest.dataset import MIN_AD_GROUPS_PER_ACCOUNT, TIED_AD_GROUPS
from sandbox.pinterest.sandbox import PinterestSandbox

NOW = "2026-12-01T00:00:00Z"
ACCOUNT = "549755885175"
EVERY_STATUS = "ACTIVE,PAUSED,ARCHIVED,DRAFT,DELETED_DRAFT"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[PinterestSandbox]:
    with PinterestSandbox(seed=4, now=NOW, frozen_clock=True, rate_limits=False) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: PinterestSandbox) -> PinterestClient:
    return PinterestClient(sandbox.base_url)


# -- OAuth ---------------------------------------------------------------------------------


def test_refresh_rotates_and_revokes_the_old_refresh_token() -> None:
    with PinterestSandbox(seed=1, campaigns=2, now=NOW, frozen_clock=True) as sb:
        client = PinterestClient(sb.base_url, token="not-a-pinterest-token")
        assert client.get("/ad_accounts").status_code == 401
        first = client.refresh("pinr_from_the_config")
        assert first.status_code == 200
        body = first.json()
        assert body["access_token"].startswith("pina_")
        assert body["refresh_token"].startswith("pinr_")
        assert body["expires_in"] == 2_592_000
        assert body["refresh_token_expires_in"] == 60 * 86_400
        assert body["refresh_token_expires_at"] == sb.data.clock.now() + 60 * 86_400
        assert client.ok(client.get("/ad_accounts"))["items"]
        reused = client.refresh("pinr_from_the_config")
        assert reused.status_code == 400
        assert "revoked" in reused.json()["message"]
        second = client.refresh(body["refresh_token"])
        assert second.status_code == 200
        assert second.json()["refresh_token"] != body["refresh_token"]


def test_access_tokens_expire_by_the_clock_and_at_once() -> None:
    with PinterestSandbox(
        seed=1, campaigns=2, now=NOW, frozen_clock=True, access_token_ttl=600
    ) as sb:
        client = PinterestClient(sb.base_url)
        assert client.refresh("pinr_a").status_code == 200
        sb.control.advance_clock(599)
        assert client.get("/ad_accounts").status_code == 200
        sb.control.advance_clock(1)
        expired = client.get("/ad_accounts")
        assert expired.status_code == 401
        assert expired.json() == {
            "code": 2,
            "message": "Authentication failed. Access token expired.",
        }
        assert client.refresh("pinr_b").status_code == 200
        assert client.get("/ad_accounts").status_code == 200
        assert sb.control.expire_tokens() == 2
        assert client.get("/ad_accounts").status_code == 401


def test_refusals_never_echo_credentials() -> None:
    with PinterestSandbox(
        seed=1,
        campaigns=2,
        now=NOW,
        clients={"app": "s3cret-value"},
        refresh_tokens=["pinr_known"],
        tokens=["static-token"],
        refresh_token_ttl=60,
        frozen_clock=True,
    ) as sb:
        client = PinterestClient(sb.base_url, token="pina_unlisted")
        url = f"{sb.base_url}/oauth/token"
        form = {"grant_type": "refresh_token", "refresh_token": "pinr_known"}
        wrong = requests.post(url, auth=("app", "guessed-secret"), data=form, timeout=30)
        assert wrong.status_code == 401
        assert "invalid_client" in wrong.json()["message"]
        assert requests.post(url, data=form, timeout=30).status_code == 401  # no Basic auth
        unknown = client.refresh("pinr_unknown", ("app", "s3cret-value"))
        assert unknown.status_code == 400
        grant = requests.post(
            url, auth=("app", "s3cret-value"), data={"grant_type": "password"}, timeout=30
        )
        assert grant.status_code == 400
        assert client.get("/ad_accounts").status_code == 401  # only the listed static token
        assert PinterestClient(sb.base_url, "static-token").get("/ad_accounts").status_code == 200
        issued = client.refresh("pinr_known", ("app", "s3cret-value")).json()
        sb.control.advance_clock(60)
        late = client.refresh(issued["refresh_token"], ("app", "s3cret-value"))
        assert late.status_code == 400
        assert "expired" in late.json()["message"]
        texts = [r.text for r in (wrong, unknown, grant, late)]
        for secret in ("guessed-secret", "s3cret-value", "pinr_unknown", issued["refresh_token"]):
            assert all(secret not in text for text in texts)
        logged = str(sb.control.requests())
        assert "s3cret" not in logged
        assert "static-token" not in logged


def test_rotated_refresh_tokens_can_be_kept() -> None:
    with PinterestSandbox(seed=1, campaigns=2, now=NOW, revoke_rotated=False) as sb:
        client = PinterestClient(sb.base_url)
        assert client.refresh("pinr_same").status_code == 200
        assert client.refresh("pinr_same").status_code == 200


# -- lists ---------------------------------------------------------------------------------


def test_seeded_shape(sandbox: PinterestSandbox) -> None:
    campaigns = sandbox.control.truth("campaign")
    statuses = Counter(c["status"] for c in campaigns)
    assert statuses["ARCHIVED"] >= len(campaigns) * 0.2
    assert statuses["DRAFT"] >= 1
    assert statuses["DELETED_DRAFT"] == 1
    accounts = {a["id"]: a["currency"] for a in sandbox.control.truth("ad_account")}
    assert sorted(accounts.values()) == ["GBP", "USD"]
    groups = Counter(g["ad_account_id"] for g in sandbox.control.truth("ad_group"))
    assert groups[ACCOUNT] >= MIN_AD_GROUPS_PER_ACCOUNT
    names = " ".join(c["name"] for c in campaigns)
    assert any(ord(ch) > 0x3000 for ch in names)
    assert "é" in names
    for campaign in campaigns:
        assert campaign["id"].isdigit()
        assert isinstance(campaign["updated_time"], int)
        assert (campaign["status"] == "ARCHIVED") == (campaign["summary_status"] == "ARCHIVED")


def test_entity_statuses_default_hides_archived(
    client: PinterestClient, sandbox: PinterestSandbox
) -> None:
    truth = [c for c in sandbox.control.truth("campaign") if c["ad_account_id"] == ACCOUNT]
    path = f"/ad_accounts/{ACCOUNT}/campaigns"
    default = client.pages(path, {"page_size": 250})
    assert {c["status"] for c in default} == {"ACTIVE", "PAUSED"}
    repeated = client.pages(path, {"entity_statuses": EVERY_STATUS.split(","), "page_size": 7})
    comma = client.pages(path, {"entity_statuses": EVERY_STATUS})
    assert repeated == comma == truth
    archived = client.pages(path, {"entity_statuses": "ARCHIVED"})
    assert archived
    assert {c["status"] for c in archived} == {"ARCHIVED"}
    unknown = client.get(path, {"entity_statuses": "RUNNING"})
    assert unknown.status_code == 400
    assert "entity_statuses" in unknown.json()["message"]


def test_paging_through_updated_time_ties(
    client: PinterestClient, sandbox: PinterestSandbox
) -> None:
    truth = [g for g in sandbox.control.truth("ad_group") if g["ad_account_id"] == ACCOUNT]
    tie = Counter(g["updated_time"] for g in truth).most_common(1)[0]
    assert tie[1] >= TIED_AD_GROUPS
    path = f"/ad_accounts/{ACCOUNT}/ad_groups"
    for order in ("ASCENDING", "DESCENDING"):
        items = client.pages(path, {"entity_statuses": EVERY_STATUS, "order": order})
        ids = [g["id"] for g in items]
        assert len(ids) == len(set(ids)) == len(truth)
        assert ids == sorted(ids, key=int, reverse=order == "DESCENDING")
    first = client.ok(client.get(path))
    assert len(first["items"]) == 25
    assert first["bookmark"]


def test_id_filters_and_no_date_filter(client: PinterestClient, sandbox: PinterestSandbox) -> None:
    group = next(g for g in sandbox.control.truth("ad_group") if g["status"] == "ACTIVE")
    ads = client.pages(
        f"/ad_accounts/{group['ad_account_id']}/ads",
        {
            "ad_group_ids": group["id"],
            "updated_since": "2099-01-01",
            "entity_statuses": EVERY_STATUS,
        },
    )
    expected = [a for a in sandbox.control.truth("ad") if a["ad_group_id"] == group["id"]]
    assert ads == expected


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"page_size": 251}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"order": "NEWEST"}, "order"),
        ({"campaign_ids": ",".join(str(n) for n in range(1, 252))}, "campaign_ids"),
        ({"bookmark": "bm90LWEtYm9va21hcms"}, "bookmark"),
    ],
)
def test_bad_list_parameters(client: PinterestClient, params: dict, named: str) -> None:
    response = client.get(f"/ad_accounts/{ACCOUNT}/campaigns", params)
    assert response.status_code == 400
    assert response.json()["code"] == 1
    assert named in response.json()["message"]


def test_a_bookmark_belongs_to_its_filters(client: PinterestClient) -> None:
    path = f"/ad_accounts/{ACCOUNT}/campaigns"
    bookmark = client.ok(client.get(path, {"page_size": 2}))["bookmark"]
    other = client.get(path, {"page_size": 2, "bookmark": bookmark, "entity_statuses": "ARCHIVED"})
    assert other.status_code == 400
    tampered = client.get(path, {"page_size": 2, "bookmark": bookmark[:-2] + "xx"})
    assert tampered.status_code == 400


def test_an_unknown_ad_account_is_forbidden(client: PinterestClient) -> None:
    response = client.get("/ad_accounts/999/campaigns")
    assert response.status_code == 403
    assert response.json()["code"] == 29
