"""Bad settings fail before any request, with a message naming the setting."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.shopify.sandbox import ShopifySandbox
from tapkit.testing import TapRunner


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"access_token": None}, "access_token"),
        ({"shop": None}, "shop"),
        ({"shop": "my store!"}, "shop"),
        ({"api_version": "latest"}, "api_version"),
        ({"api_version": "2025-02"}, "api_version"),
        ({"start_date": "last tuesday"}, "start_date"),
        ({"start_date": "2025-05-01T00:00:00Z", "end_date": "2025-04-01T00:00:00Z"}, "end_date"),
        ({"calls_per_second": 0}, "calls_per_second"),
        ({"page_size": 500}, "page_size"),
        ({"backfill_window_days": 0}, "backfill_window_days"),
        ({"base_url": "127.0.0.1:8000"}, "base_url"),
    ],
)
def test_bad_config_fails_before_any_request(
    run_tap: TapRunner, sandbox: ShopifySandbox, overrides: dict[str, Any], fragment: str
) -> None:
    config = {k: v for k, v in {**run_tap.base_config, **overrides}.items() if v is not None}
    run = TapRunner(run_tap.module, run_tap.tap_class, run_tap.workdir, config)()
    assert run.returncode != 0
    assert fragment in run.stderr, run.stderr[-1500:]
    assert sandbox.control.requests() == []
    assert not [m for m in run.messages if m["type"] in ("RECORD", "STATE")]
    assert run_tap.base_config["access_token"] not in run.stderr


def test_shop_names_become_the_shop_url() -> None:
    from tap_shopify.client import shop_url

    assert shop_url({"shop": "my-store"}) == "https://my-store.myshopify.com"
    assert shop_url({"shop": "https://my-store.myshopify.com/"}) == "https://my-store.myshopify.com"
    assert shop_url({"shop": "x", "base_url": "http://127.0.0.1:9/"}) == "http://127.0.0.1:9"
