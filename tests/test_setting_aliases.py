"""Projects switching from MeltanoLabs' tap-klaviyo or the hub's tap-shopify keep their
setting names: Meltano maps them through the plugin definitions, the taps accept them too."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from devstack.testing import MELTANO, clean_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("plugin", "variable", "setting"),
    [
        ("tap-klaviyo", "TAP_KLAVIYO_AUTH_TOKEN", "api_key"),
        ("tap-klaviyo", "TAP_KLAVIYO_EVENTS_LOOKBACK_MINUTES", "events_lookback"),
        ("tap-shopify", "TAP_SHOPIFY_STORE", "shop"),
    ],
)
def test_another_variants_setting_name_sets_ours(
    tmp_path: Path, plugin: str, variable: str, setting: str
) -> None:
    env = clean_env()
    env["MELTANO_DATABASE_URI"] = f"sqlite:///{tmp_path / 'meltano.db'}"
    env[variable] = "value-from-the-other-name"
    done = subprocess.run(
        [MELTANO, "--environment=prod", "config", "--unsafe", "print", plugin],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    config = json.loads(done.stdout[done.stdout.index("{") :])
    assert config[setting] == "value-from-the-other-name"
