"""``devstack new-source``'s answers and files, without writing a project: every refused
answer names its flag, every template renders code that compiles and a README that says what
was declared, and the wiring refuses a file that lost its marker.  (tests/test_new_source.py
scaffolds each template into a copy of the project and runs it end to end.)"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from devstack.cli import build_parser, source_answers
from devstack.scaffold import render, wiring
from devstack.scaffold.command import ScaffoldError, new_source
from devstack.scaffold.spec import SpecError, Template, build

ROOT = Path(__file__).resolve().parents[3]

REFUSED = {
    "a tap- name": (["tap-acme", "--template", "rest"], "NAME"),
    "upper case": (["Acme", "--template", "rest"], "NAME"),
    "a keyword": (["class", "--template", "rest"], "NAME"),
    "an object name": (["acme", "--template", "rest", "--object", "Bad-Name"], "--object"),
    "a field type": (["acme", "--template", "rest", "--object", "a:x=money"], "--object a"),
    "a system field": (["acme", "--template", "rest", "--object", "a:id=string"], "--object a"),
    "an object twice": (
        ["acme", "--template", "rest", "--object", "a", "--object", "a"],
        "--object",
    ),
    "a parameter": (["acme", "--template", "rest", "--filter-param", "since!"], "--filter-param"),
    "a warehouse filter": (
        ["acme", "--template", "warehouse", "--filter-param", "x"],
        "--filter-param",
    ),
    "a warehouse format": (
        ["acme", "--template", "warehouse", "--time-format", "date"],
        "--time-format",
    ),
    "rates": (
        ["acme", "--template", "rest", "--rate-per-second", "50", "--rate-per-minute", "40"],
        "--rate-per-minute",
    ),
    "a window": (["acme", "--template", "backfill", "--window-days", "0"], "--window-days"),
    "same parameters": (
        ["acme", "--template", "rest", "--filter-param", "since", "--upper-param", "since"],
        "must differ",
    ),
}


def answers(argv: list[str]) -> dict[str, object]:
    return source_answers(build_parser().parse_args(["new-source", *argv]))


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_answer_names_its_flag(case: str) -> None:
    argv, flag = REFUSED[case]
    with pytest.raises(SpecError, match=flag.replace("-", r"\-")):
        build(**answers(argv))


VARIANTS = {
    "rest": ["--template", "rest"],
    "rest, epoch, exclusive, oauth": [
        "--template", "rest", "--time-format", "epoch_seconds", "--filter-exclusive",
        "--auth", "oauth_client_credentials",
    ],
    "rest, no upper bound": ["--template", "rest", "--no-upper-bound"],
    "rest, full table": ["--template", "rest", "--mode", "full_table"],
    "backfill": ["--template", "backfill"],
    "backfill, api key, iso": ["--template", "backfill", "--auth", "api_key", "--time-format", "iso8601"],
    "warehouse": ["--template", "warehouse", "--object", "orders:total=number,paid=boolean"],
    "warehouse, full table": ["--template", "warehouse", "--mode", "full_table"],
}  # fmt: skip


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_renders_python_that_compiles_and_json_that_parses(variant: str) -> None:
    spec = build(**answers(["acme-co", *VARIANTS[variant]]))
    written = render.files(spec)
    for path, text in written.items():
        if path.endswith(".py"):
            compile(text, path, "exec")
        elif path.endswith(".json"):
            json.loads(text)
    client = written["taps/tap-acme-co/tap_acme_co/client.py"]
    streams = written["taps/tap-acme-co/tap_acme_co/streams.py"]
    assert ("CHANGES = Incremental(" in client) is spec.incremental
    assert ("incremental = CHANGES" in streams) is spec.incremental
    assert streams.count("(AcmeCoStream):") == len(spec.objects)
    if spec.template is Template.WAREHOUSE:
        assert "TableQuery(" in client
    elif spec.incremental:
        assert f'"{spec.filter_param}"' in client


def test_the_readme_is_the_source_page_of_its_declarations() -> None:
    spec = build("acme", "backfill", objects=["tickets:subject=string,priority=integer"])
    readme = render.files(spec)["taps/tap-acme/README.md"]
    for row in (
        "| Authentication | OAuth 2 client credentials",
        "| Objects | tickets |",
        "| Incremental field in the record | `updated_at` (kept in state) |",
        "first load: `created_since` (creation, by 30-day windows, resumable); then `modified_since`",
        "| Timestamp format | the filter by day (`2024-01-02`)",
        "| Rate limits | 10 requests/s and 300/min",
        "| Parallelism | `max_concurrent_requests` 3",
        "| Mode | incremental |",
    ):
        assert row in readme, row
    assert "<!-- streams:start -->" in readme
    assert "<!-- settings:start -->" in readme


def test_the_wiring_adds_each_entry_once_above_its_marker() -> None:
    spec = build("acme", "rest")
    changes = wiring.edits(ROOT, spec)
    meltano = changes["meltano.yml"]
    assert meltano.count("- name: tap-acme\n") == 1
    assert meltano.index("- name: tap-acme\n") < meltano.index(wiring.marker("dev configs"))
    assert "  - dbt-postgres:build-acme\n" in meltano
    assert "job: acme-to-postgres\n" in meltano
    pyproject = changes["pyproject.toml"]
    assert '"taps/tap-acme/tests"]' in pyproject
    assert '"tap_acme"]' in pyproject
    assert pyproject.count('"tapworks-tap-acme"') == 1
    selectors = changes["transform/selectors.yml"]
    assert "  - name: acme\n" in selectors
    assert "value: tap_klaviyo" in selectors.split("  - name: acme\n")[1].split("  - name:")[0]
    for path, text in changes.items():
        assert text != (ROOT / path).read_text(), f"{path} unchanged"


def test_a_file_without_its_marker_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    for path in wiring.edits(ROOT, build("acme", "rest")):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, tmp_path / path)
    selectors = tmp_path / "transform" / "selectors.yml"
    selectors.write_text(selectors.read_text().replace(wiring.marker("source selectors"), ""))
    (tmp_path / "plugins").mkdir(exist_ok=True)
    shutil.copyfile(
        ROOT / "plugins/extractors.meltano.yml", tmp_path / "plugins/extractors.meltano.yml"
    )
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(wiring.WiringError, match=r"transform/selectors\.yml"):
        new_source(tmp_path, build("acme", "rest"), quiet=True)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_a_name_that_exists_is_refused() -> None:
    with pytest.raises(ScaffoldError, match="NAME: 'onetrust' exists already"):
        new_source(ROOT, build("onetrust", "backfill"), quiet=True)
