"""Webhook signatures (fal's API notes c.7): Ed25519 over request id, user id, time, body hash.

The emulator signs every delivery with its own Ed25519 key, kept in the store as
``webhook-key.pem`` (0600; created once, shared by every process using the store),
and serves the public half as a JWKS at fal's path (``/rest/.well-known/jwks.json``,
like ``https://rest.alpha.fal.ai/.well-known/jwks.json``). A receiver checks:
``request_id + "\\n" + user_id + "\\n" + timestamp + "\\n" + sha256_hex(raw_body)``
against ``X-Fal-Webhook-Signature`` (hex) with any key of the JWKS.

``cryptography`` is imported lazily: only a webhook delivery or a JWKS request needs it,
so starting the emulator (and ``genmedia --sandbox``) does not pay for it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .records import Job

KEY_FILE = "webhook-key.pem"
#: The user id the emulator puts in ``X-Fal-Webhook-User-Id``.
USER_ID = "sandbox-user"


def _private_key(root: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = root / KEY_FILE
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = root / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        try:
            os.link(tmp, path)  # never replaces a key another process created first
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return loaded


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwks(store: Any) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    public = (
        _private_key(store.root)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    kid = hashlib.sha256(public).hexdigest()[:16]
    return {
        "keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public), "kid": kid, "alg": "EdDSA",
             "use": "sig"}
        ]
    }  # fmt: skip


def signed_headers(store: Any, request_id: str, body: bytes) -> dict[str, str]:
    """The four ``X-Fal-Webhook-*`` headers of a delivery of ``body``."""
    timestamp = str(int(time.time()))
    message = "\n".join([request_id, USER_ID, timestamp, hashlib.sha256(body).hexdigest()]).encode()
    signature = _private_key(store.root).sign(message).hex()
    return {
        "x-fal-webhook-request-id": request_id,
        "x-fal-webhook-user-id": USER_ID,
        "x-fal-webhook-timestamp": timestamp,
        "x-fal-webhook-signature": signature,
    }


def post_webhook(store: Any, job: Job, webhooks: list[dict[str, Any]]) -> None:
    """Deliver ``job``'s result to its ``webhook_url`` on a thread, signed like fal's.

    The delivery (URL, payload, headers, status code or error) is appended to
    ``webhooks`` at once and completed by the thread (:func:`post_with_retries`);
    failures are recorded, never raised.
    """
    ok = job.result_status < 400
    payload: dict[str, Any] = {
        "request_id": job.request_id,
        "gateway_request_id": job.request_id,
        "status": "OK" if ok else "ERROR",
        "payload": job.result_body,
    }
    if not ok:
        payload["error"] = f"Invalid status code: {job.result_status}"
    url = job.webhook_url
    record: dict[str, Any] = {
        "url": url,
        "payload": payload,
        "status_code": None,
        "error": None,
    }
    webhooks.append(record)

    def deliver() -> None:
        post_with_retries(store, str(url), job.request_id, payload, record)

    threading.Thread(target=deliver, name="sandbox-webhook", daemon=True).start()


#: Retries after a failed delivery (non-2xx answer or no answer), like fal's 10.
RETRIES_ENV = "GENMEDIA_SANDBOX_WEBHOOK_RETRIES"
DEFAULT_RETRIES = 10
#: The first wait before a retry (seconds); each next wait doubles: 7 s … 3584 s, about
#: 2 hours in all, as fal retries "10 times over 2 hours".
RETRY_DELAY_ENV = "GENMEDIA_SANDBOX_WEBHOOK_RETRY_DELAY"
DEFAULT_RETRY_DELAY = 7.0


def _env_number(name: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(name) or default))
    except ValueError:
        return default


def post_with_retries(
    store: Any, url: str, request_id: str, payload: Any, record: dict[str, Any]
) -> None:
    """POST ``payload`` to ``url``, signed afresh for each attempt, retrying failures.

    ``record`` (one entry of ``SandboxServer.webhooks``) is updated as it goes:
    ``status_code``/``error`` of the last attempt, ``attempts``, ``delivered``.
    Counts and delays come from the environment at delivery time, so tests can shorten
    them. Never raises.
    """
    import httpx

    retries = int(_env_number(RETRIES_ENV, DEFAULT_RETRIES))
    delay = _env_number(RETRY_DELAY_ENV, DEFAULT_RETRY_DELAY)
    body = json.dumps(payload).encode()
    record.setdefault("attempts", 0)
    record.setdefault("delivered", False)
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(delay * 2 ** (attempt - 1))
        record["attempts"] = attempt + 1
        try:
            headers = {"content-type": "application/json"}
            headers.update(signed_headers(store, request_id, body))
            record["headers"] = headers
            resp = httpx.post(url, content=body, headers=headers, timeout=10)
            record["status_code"], record["error"] = resp.status_code, None
            if 200 <= resp.status_code < 300:
                record["delivered"] = True
                return
        except Exception as exc:  # delivery failures are recorded, never raised
            record["error"] = repr(exc)
