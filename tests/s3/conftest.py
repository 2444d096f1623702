"""Fixtures for the genmedia-s3 sink: a real S3 API (moto's server mode, IAM auth on) on
127.0.0.1, and the standard AWS credential chain pointed at it.

genmedia-s3 is a separately packaged plugin (plugins/genmedia-s3); the README's test
command installs it with its ``test`` extra. These tests never skip: without it they fail
and say how to install it.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from genmedia.testing import InvokeResult, invoke
from tests.s3.motoserver import MotoS3, start

INSTALL = "pip install -e 'plugins/genmedia-s3[test]'"


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    for module in ("genmedia_s3", "moto", "boto3"):
        if importlib.util.find_spec(module) is None:
            pytest.fail(f"{module} is not installed; run: {INSTALL}", pytrace=False)
    server = start()
    try:
        yield server
    finally:
        server.stop()


@attrs.define
class S3:
    server: MotoS3
    client: Any
    bucket: str

    def keys(self, prefix: str = "") -> list[str]:
        answer = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in answer.get("Contents", []))

    def body(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def head(self, key: str) -> dict[str, Any]:
        return dict(self.client.head_object(Bucket=self.bucket, Key=key))

    def open_uploads(self) -> list[dict[str, Any]]:
        return list(self.client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []))

    def key_of(self, uri: str) -> str:
        prefix = f"s3://{self.bucket}/"
        assert uri.startswith(prefix), uri
        return uri[len(prefix) :]


@pytest.fixture
def s3(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3:
    """A fresh bucket, and AWS_* set as a user would (nothing read from ~/.aws)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_s3.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_s3.endpoint)
    client = moto_s3.client()
    bucket = f"genmedia-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3(moto_s3, client, bucket)


@pytest.fixture
def gm(fal_sandbox_env: Any) -> Callable[..., InvokeResult]:
    """Run genmedia in-process with the built-ins and genmedia-s3 (``--json`` added)."""
    import genmedia_s3.plugin

    def run(*args: str) -> InvokeResult:
        return invoke([*args, "--json"], plugins=[genmedia_s3.plugin])

    return run


@pytest.fixture
def fault_proxy(s3: S3, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The S3 endpoint, seen through a proxy that can fail chosen requests."""
    from tests.s3.faultproxy import FaultProxy

    proxy = FaultProxy(s3.server.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.endpoint)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def genmedia_config(isolated_env: Path) -> Callable[[dict[str, Any]], None]:
    """Write genmedia's config file (``$GENMEDIA_HOME/config/config.json``)."""
    import json

    def write(values: dict[str, Any]) -> None:
        path = isolated_env / "config" / "config.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
        path.chmod(0o600)

    return write
