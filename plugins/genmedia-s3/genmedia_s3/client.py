"""The S3 client: where it points, how it retries, and what its errors mean to genmedia.

Credentials and region come from botocore's standard chain (environment, shared config and
credentials files with ``AWS_PROFILE``, container and instance roles). The endpoint is, in
order: ``--s3-endpoint-url``, the config file's ``plugins.s3.endpoint_url``, then AWS's own
settings (``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``, a profile's ``endpoint_url``).

The client is built from a botocore session whose data loader empties the service model's
documentation strings while parsing (S3's model is ~11 MB of Python objects with them and
~2 MB without) and keeps, of the endpoint table of every AWS service, only the services
this sink's clients use (~4 MB of objects less): the sink promises a small memory
footprint. If botocore ever changes the loader's shape, the normal loader is used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import attrs

from genmedia import __version__ as genmedia_version
from genmedia import errors
from genmedia_s3 import __version__

#: S3 error codes that mean "these credentials are not good here": exit 3, like a 401/403.
AUTH_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AccessDenied",
        "AllAccessDisabled",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }
)


#: S3's smallest part: two of them (one uploading, one filling) are the sink's buffers.
DEFAULT_PART_SIZE = 5 * 1024 * 1024


@attrs.frozen
class S3Settings:
    """What the sink needs to build a client (options over config over AWS defaults)."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    addressing_style: str | None = None
    part_size: int = DEFAULT_PART_SIZE
    max_attempts: int = 5
    #: part buffers, each being filled or uploading (memory: ``inflight × part_size``)
    inflight: int = 2

    @classmethod
    def from_sources(cls, options: Mapping[str, Any], config: Mapping[str, Any]) -> S3Settings:
        endpoint = options.get("s3_endpoint_url") or config.get("endpoint_url") or None
        style = config.get("addressing_style") or ("path" if endpoint else None)
        part_mib = config.get("part_size_mib")
        return cls(
            endpoint_url=str(endpoint) if endpoint else None,
            region=str(config["region"]) if config.get("region") else None,
            profile=str(config["profile"]) if config.get("profile") else None,
            addressing_style=str(style) if style else None,
            part_size=int(float(part_mib) * 1024 * 1024) if part_mib else DEFAULT_PART_SIZE,
            max_attempts=int(config.get("max_attempts") or 5),
            inflight=max(2, int(config.get("concurrency") or 2)),
        )


@attrs.frozen
class S3Problem:
    """An S3 or credential failure in genmedia's terms."""

    message: str
    code: str | None
    exit_code: int


def make_client(settings: S3Settings) -> Any:
    """A low-level botocore S3 client (what ``boto3.client("s3")`` returns)."""
    import botocore.session
    from botocore.config import Config

    session = botocore.session.Session(profile=settings.profile)
    _lean_loader(session)
    region = settings.region or session.get_config_variable("region")
    if not region and settings.endpoint_url:
        region = "us-east-1"  # S3-compatible services ignore it, SigV4 needs one
    s3_config: dict[str, Any] = {}
    if settings.addressing_style:
        s3_config["addressing_style"] = settings.addressing_style
    if session.get_config_variable("request_checksum_calculation") != "when_required":
        # Every part carries a CRC32 checksum header that S3 verifies and the signature
        # covers; hashing the body a second time for the signature is what botocore
        # already skips over https, and skipping it over plain http (a local MinIO) too
        # saves a SHA-256 pass over every byte.
        s3_config["payload_signing_enabled"] = False
    config = Config(
        retries={"mode": "standard", "max_attempts": settings.max_attempts},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=settings.inflight + 2,
        user_agent_extra=f"genmedia/{genmedia_version} genmedia-s3/{__version__}",
        s3=s3_config or None,
    )
    return session.create_client(
        "s3", region_name=region or None, endpoint_url=settings.endpoint_url, config=config
    )


def _lean_loader(session: Any) -> None:
    try:
        from botocore import loaders

        class LeanJSONFileLoader(loaders.JSONFileLoader):  # type: ignore[misc]
            def _load_file(self, full_path: str, open_method: Any) -> Any:
                if not os.path.isfile(full_path):
                    return None
                with open_method(full_path, "rb") as fp:
                    payload = fp.read().decode("utf-8")
                data = json.loads(payload, object_pairs_hook=_without_docs)
                if os.path.basename(full_path).startswith("endpoints.json"):
                    _only_needed_services(data)
                return data

        session.register_component("data_loader", loaders.Loader(file_loader=LeanJSONFileLoader()))
    except Exception:  # pragma: no cover - botocore changed: keep its own loader
        return


#: the services whose legacy endpoint data a client of this sink can need: S3 itself, and
#: the credential chain's own clients (AssumeRole, SSO).
_SERVICES = frozenset({"s3", "s3-control", "sts", "sso", "sso-oidc"})


def _only_needed_services(data: Any) -> None:
    # endpoints.json describes every AWS service in every region: ~4 MB of objects
    for partition in data.get("partitions", ()) if isinstance(data, dict) else ():
        services = partition.get("services")
        if isinstance(services, dict):
            partition["services"] = {k: v for k, v in services.items() if k in _SERVICES}


def _without_docs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # emptied, not dropped: some of botocore's readers index the key
    return {k: "" if k in ("documentation", "documentationUrl") else v for k, v in pairs}


def check_credentials(settings: S3Settings) -> None:
    """Raise AuthError (exit 3) when the chain finds no credentials (no network call
    unless the chain itself asks an instance or container endpoint)."""
    import botocore.exceptions
    import botocore.session

    try:
        creds = botocore.session.Session(profile=settings.profile).get_credentials()
    except botocore.exceptions.ProfileNotFound as exc:
        raise errors.AuthError(f"--save-to: {exc}", {"sink": "s3"}) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise errors.AuthError(f"--save-to: S3 credentials: {exc}", {"sink": "s3"}) from None
    if creds is None:
        raise errors.AuthError(
            "--save-to needs AWS credentials and none were found",
            {
                "sink": "s3",
                "hint": "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "
                "or run where an instance or container role is available",
            },
        )


def classify(exc: BaseException) -> S3Problem:
    """An exception from botocore (or the chain) as a message, S3 code and exit code."""
    import botocore.exceptions as bx

    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return S3Problem(f"S3 credentials: {exc}", "NoCredentials", errors.EXIT_AUTH)
    if isinstance(exc, (bx.ProfileNotFound, bx.CredentialRetrievalError)):
        return S3Problem(f"S3 credentials: {exc}", "NoCredentials", errors.EXIT_AUTH)
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = str(err.get("Message") or code or exc)
        op = getattr(exc, "operation_name", "request")
        if code in AUTH_CODES or status in (401, 403):
            return S3Problem(f"S3 refused the credentials ({code}): {message}", code, 3)
        if code == "NoSuchBucket":
            return S3Problem(f"S3 bucket does not exist: {message}", code, errors.EXIT_SAVE)
        return S3Problem(f"S3 {op} failed ({code or status}): {message}", code or None, 9)
    if isinstance(exc, bx.EndpointConnectionError):
        return S3Problem(f"cannot reach the S3 endpoint: {exc}", "EndpointConnectionError", 9)
    if isinstance(exc, bx.BotoCoreError):
        return S3Problem(f"S3: {exc}", type(exc).__name__, errors.EXIT_SAVE)
    return S3Problem(f"{type(exc).__name__}: {exc}", None, errors.EXIT_SAVE)
