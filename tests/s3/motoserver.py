"""A real S3 API on 127.0.0.1: moto's server mode in a child process, with IAM auth on.

:func:`start` launches ``python -c <launcher>`` (moto's ``ThreadedMotoServer`` on a free
port), creates an IAM user with an access key and an ``s3:*`` policy while the server
still accepts anonymous calls, then switches authentication on (``/moto-api/reset-auth``):
from then on a request signed with any other key is refused like AWS refuses it
(``InvalidAccessKeyId``, ``SignatureDoesNotMatch``). The child dies with its stdin, so a
killed test run leaves no server behind. Used by tests/s3 and bench/s3.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from typing import Any

import attrs

LAUNCHER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


@attrs.define
class MotoS3:
    process: subprocess.Popen[str]
    endpoint: str
    access_key: str
    secret_key: str

    def client(self, **kw: Any) -> Any:
        import boto3

        args = {
            "endpoint_url": self.endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
        }
        args.update(kw)
        return boto3.client("s3", **args)

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start() -> MotoS3:
    import boto3

    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.isdigit():
        proc.kill()
        raise RuntimeError(f"moto server did not start (said {line!r})")
    endpoint = f"http://127.0.0.1:{line}"
    anon = {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"}
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **anon)
    iam.create_user(UserName="genmedia-test")
    iam.put_user_policy(
        UserName="genmedia-test", PolicyName="s3", PolicyDocument=json.dumps(POLICY)
    )
    key = iam.create_access_key(UserName="genmedia-test")["AccessKey"]
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
    return MotoS3(proc, endpoint, key["AccessKeyId"], key["SecretAccessKey"])
