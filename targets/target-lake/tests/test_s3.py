"""The lake in S3 (moto's server, signatures checked): the records come back equal through
pyarrow datasets and through tap-lake, the manifests' sha256 values match the objects, and a
rerun writes nothing new."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pyarrow.dataset as ds
import pyarrow.fs as pafs

from target_lake import manifest
from target_lake.testing import TAP_NAME, Lake, events, without_nulls


def objects(s3_client: Any, lake: Lake) -> dict[str, tuple[str, Any]]:
    prefix = lake.settings["root"].removeprefix("s3://bronze/")
    listed = s3_client.list_objects_v2(Bucket="bronze", Prefix=prefix)
    return {o["Key"]: (o["ETag"], o["LastModified"]) for o in listed.get("Contents", [])}


def test_a_lake_in_s3(s3_lake: Lake, s3_client: Any, s3_server: dict[str, Any]) -> None:
    messages = list(events(0, 2_000, every=250))
    first = s3_lake.write(
        messages, cli=True, partition_date_field="datetime", batch_size_rows=1_200
    )
    (run,) = s3_lake.manifests()
    prefix = s3_lake.settings["root"].removeprefix("s3://")
    for entry in run.files:  # the manifest's sha256 values are the objects' own
        bucket, key = f"{prefix}/{entry.path}".split("/", 1)
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == entry.sha256
    assert s3_lake.check_files() == 2_000

    fs = pafs.S3FileSystem(
        access_key=s3_server["aws_access_key_id"],
        secret_key=s3_server["aws_secret_access_key"],
        endpoint_override=s3_server["endpoint"].removeprefix("http://"),
        scheme="http",
        region="us-east-1",
    )
    paths = [f"{prefix}/{p}" for p in manifest.listed_files(s3_lake.store(), TAP_NAME)]
    table = ds.dataset(paths, filesystem=fs, format="parquet", partitioning="hive").to_table()
    sent = {m["record"]["id"]: m["record"] for m in messages if m["type"] == "RECORD"}
    assert table.num_rows == len(sent)
    for row in table.to_pylist():
        data = {k: v for k, v in row.items() if not k.startswith("_sdc_") and k != "dt"}
        assert row["dt"] == sent[row["id"]]["datetime"][:10]
        data["attributes"] = json.loads(data["attributes"])
        assert without_nulls(data) == without_nulls(sent[row["id"]])

    replay = s3_lake.replay(cli=True)
    assert replay.records() == [without_nulls(r) for r in sent.values()]

    before = objects(s3_client, s3_lake)
    again = s3_lake.write(messages, partition_date_field="datetime", batch_size_rows=1_200)
    assert objects(s3_client, s3_lake) == before
    assert again.states == first.states
    secrets = [s3_lake.settings["aws_secret_access_key"], s3_lake.settings["aws_access_key_id"]]
    for output in (first, replay, again):
        assert not any(s in output.stdout + output.stderr for s in secrets)


def test_jsonl_in_s3(s3_lake: Lake) -> None:
    s3_lake.write(list(events(0, 300, every=100)), format="jsonl")
    assert s3_lake.check_files() == 300
