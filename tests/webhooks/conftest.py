"""Helpers for the webhook tests: deliveries signed with the emulator's key (or another)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest


def sign(
    key: Any, request_id: str, body: bytes, *, timestamp: int | None = None, user: str = "u"
) -> dict[str, str]:
    """The four ``X-Fal-Webhook-*`` headers of ``body`` signed with ``key`` (Ed25519)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    message = "\n".join([request_id, user, ts, hashlib.sha256(body).hexdigest()]).encode()
    return {
        "X-Fal-Webhook-Request-Id": request_id,
        "X-Fal-Webhook-User-Id": user,
        "X-Fal-Webhook-Timestamp": ts,
        "X-Fal-Webhook-Signature": key.sign(message).hex(),
    }


@pytest.fixture
def emulator_key(fal_sandbox_env: Any) -> Any:
    """The emulator's own signing key (the private half of the JWKS it serves)."""
    from cryptography.hazmat.primitives import serialization

    from genmedia_sandbox.webhooks import KEY_FILE, jwks

    jwks(fal_sandbox_env.store)  # creates the key on first use
    pem = (Path(fal_sandbox_env.store.root) / KEY_FILE).read_bytes()
    return serialization.load_pem_private_key(pem, password=None)


@pytest.fixture
def other_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()
