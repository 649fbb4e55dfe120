"""Bad input stops the target (or the replay) with one line naming the setting, record or
line, before anything is listed; no secret appears in any output; ``--about`` of both."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from target_lake.target import TargetLake
from target_lake.testing import TAP, TAP_NAME, TARGET, Lake, event, lines, record, schema, state


@pytest.fixture
def load_here(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Callable[[dict[str, Any], bytes], str]:
    """The target in this process (its start-up is the slow part of a subprocess): the one
    error line it logs; it must exit 1 and forward no STATE."""

    def load(config: dict[str, Any], data: bytes) -> str:
        caplog.clear()
        # (the CLI validates the settings against --about first: same names, two lines)
        target = TargetLake(
            config={"tap": TAP_NAME, **config}, validate_config=False, setup_mapper=False
        )
        with pytest.raises(SystemExit) as exit_info:
            target.load(io.BytesIO(data))
        assert exit_info.value.code == 1
        assert capsys.readouterr().out == ""
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1, errors
        return errors[0]

    return load


Loader = Callable[[dict[str, Any], bytes], str]


GOOD = [schema(), record(event(1)), state({"n": 1})]


def test_an_unwritable_root_is_named(tmp_path: Path, load_here: Loader) -> None:
    (tmp_path / "a-file").write_text("")
    error = load_here({"root": str(tmp_path / "a-file" / "lake")}, lines(GOOD))
    assert "root: cannot write" in error


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        (
            b'{"type": "RECORD", "stream": "events", "record": {"id": 2}\n',
            "input line 3 is not valid JSON",
        ),
        (
            b'{"type": "RECORD", "stream": "other", "record": {"id": 2}}\n',
            "stream 'other' before its SCHEMA",
        ),
        (
            b'{"type": "RECORD", "stream": "events", "record": [1]}\n',
            "input line 3: the record of stream 'events' is not a JSON object",
        ),
        (
            b'{"type": "RECORD", "stream": "events", "record": {"id": 2, "_sdc_run_id": 1}}\n',
            "names of columns target-lake adds",
        ),
    ],
)
def test_a_bad_line_stops_the_run_before_its_batch_is_listed(
    lake: Lake, load_here: Loader, bad: bytes, named: str
) -> None:
    data = lines(GOOD[:2]) + bad + lines(GOOD[2:])
    assert named in load_here(lake.settings, data)
    assert lake.manifests() == []


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"format": "csv"}, "format: 'csv' is not one of parquet, jsonl"),
        ({"batch_size_rows": 0}, "batch_size_rows: must be a positive integer"),
        ({"root": "s3://"}, "root: 's3://' names no bucket"),
        ({"root": "nope://x/y"}, "root: no filesystem for nope:// URLs"),
        (
            {"root": "s3://b/p", "s3_endpoint_url": "127.0.0.1:9000"},
            "s3_endpoint_url: '127.0.0.1:9000' is not an http(s) URL",
        ),
        (
            {"root": "s3://b/p", "aws_access_key_id": "AKIA1"},
            "aws_access_key_id, aws_secret_access_key: set both",
        ),
    ],
)
def test_a_bad_setting_is_named(
    lake: Lake, load_here: Loader, settings: dict[str, Any], named: str
) -> None:
    assert named in load_here({**lake.settings, **settings}, lines(GOOD))


def test_s3_errors_name_the_setting_and_show_no_secret(
    s3_lake: Lake, s3_client: Any, load_here: Loader
) -> None:
    secret = s3_lake.settings["aws_secret_access_key"]
    wrong = {**s3_lake.settings, "aws_secret_access_key": "wrong-" + secret}
    error = load_here(wrong, lines(GOOD))
    assert "aws_access_key_id, aws_secret_access_key" in error
    assert "S3 refused them" in error
    bucket = {**s3_lake.settings, "root": "s3://no-such-bucket/lake"}
    assert "root: the bucket of s3://no-such-bucket/lake does not exist" in load_here(
        bucket, lines(GOOD)
    )
    far = {**s3_lake.settings, "s3_endpoint_url": "http://127.0.0.1:9"}
    assert "s3_endpoint_url: cannot reach the S3 server" in load_here(far, lines(GOOD))
    prefix = s3_lake.settings["root"].removeprefix("s3://bronze/")
    assert s3_client.list_objects_v2(Bucket="bronze", Prefix=prefix)["KeyCount"] == 0

    # the CLIs themselves (test_s3 checks their successful runs): no secret in any output
    runs = [
        s3_lake.write(GOOD, cli=True, expect_failure=True, aws_secret_access_key="wrong-" + secret),
        s3_lake.replay(cli=True, expect_failure=True, aws_secret_access_key="wrong-" + secret),
    ]
    for run in runs:
        assert run.returncode == 1
        (line,) = [x for x in run.stderr.splitlines() if "ERROR" in x]
        assert "aws_access_key_id, aws_secret_access_key" in line
        assert secret not in run.stdout + run.stderr


@pytest.mark.parametrize("program", [TARGET, TAP])
def test_about(program: str) -> None:
    done = subprocess.run(
        [program, "--about", "--format=json"], capture_output=True, text=True, check=True
    )
    about = json.loads(done.stdout)
    properties = about["settings"]["properties"]
    secrets = {name for name, spec in properties.items() if spec.get("secret")}
    assert secrets == {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
    assert {"root", "s3_endpoint_url", "s3_region", "tap"} <= set(properties)
    assert about["settings"]["required"] == ["root", "tap"]
    if program == TARGET:
        assert {"format", "partition_date_field", "batch_size_rows", "tap_version"} <= set(
            properties
        )
        assert about["capabilities"] == ["about", "activate-version"]
    else:
        assert {"streams", "run_ids"} <= set(properties)
        assert about["capabilities"] == ["about", "state"]
