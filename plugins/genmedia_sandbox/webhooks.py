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
    ``webhooks`` at once and completed by the thread; failures are recorded, never raised.
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
        import httpx

        try:
            body = json.dumps(payload).encode()
            headers = {"content-type": "application/json"}
            headers.update(signed_headers(store, job.request_id, body))
            record["headers"] = headers
            resp = httpx.post(
                url,  # type: ignore[arg-type]
                content=body,
                headers=headers,
                timeout=10,
            )
            record["status_code"] = resp.status_code
        except Exception as exc:  # delivery failures are recorded, never raised
            record["error"] = repr(exc)

    threading.Thread(target=deliver, name="sandbox-webhook", daemon=True).start()
