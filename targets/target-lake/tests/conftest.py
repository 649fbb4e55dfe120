"""Fixtures: a lake in a fresh folder, and one in a bucket of moto's S3 server on 127.0.0.1,
which checks signatures (an IAM user's keys) like S3 does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from target_lake.testing import Lake

BUCKET = "bronze"


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake({"root": str(tmp_path / "lake")}, tmp_path)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, Any]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    anyone = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    setup = {**anyone, "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="lake")
    key = iam.create_access_key(UserName="lake")["AccessKey"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    arn = iam.create_policy(PolicyName="lake", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="lake", PolicyArn=arn)
    boto3.client("s3", **setup).create_bucket(Bucket=BUCKET)
    # from here on every request must be signed with a key IAM knows
    requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    credentials = {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }
    yield {"endpoint": endpoint, **credentials}
    server.stop()


@pytest.fixture
def s3_lake(s3_server: dict[str, Any], tmp_path: Path) -> Lake:
    settings = {
        "root": f"s3://{BUCKET}/runs-{uuid.uuid4().hex[:8]}/lake",
        "s3_endpoint_url": s3_server["endpoint"],
        "s3_region": "us-east-1",
        "aws_access_key_id": s3_server["aws_access_key_id"],
        "aws_secret_access_key": s3_server["aws_secret_access_key"],
    }
    return Lake(settings, tmp_path)


@pytest.fixture
def s3_client(s3_server: dict[str, Any]) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_server["endpoint"],
        region_name="us-east-1",
        aws_access_key_id=s3_server["aws_access_key_id"],
        aws_secret_access_key=s3_server["aws_secret_access_key"],
    )
