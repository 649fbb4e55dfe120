"""A project switching from the hub's tap-shopify keeps its setting names."""

from __future__ import annotations

from tapkit.testing import TapRunner


def test_the_hub_variants_store_setting_names_the_shop(run_tap: TapRunner) -> None:
    config = dict(run_tap.base_config)
    config["store"] = config.pop("shop")
    run = TapRunner(run_tap.module, run_tap.tap_class, run_tap.workdir, config)(
        streams=["locations"]
    )
    assert run.returncode == 0, run.stderr[-1500:]
    assert run.records("locations")
    assert "unknown setting" not in run.stderr
