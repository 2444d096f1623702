"""Checking that a webhook delivery comes from fal (fal's API notes, c.7).

A delivery carries four headers: ``X-Fal-Webhook-Request-Id``, ``-User-Id``,
``-Timestamp`` (Unix seconds) and ``-Signature`` (hex). The signed message is
``request_id + "\\n" + user_id + "\\n" + timestamp + "\\n" + sha256_hex(raw_body)``; the
signature is Ed25519 and is valid under **any** key of fal's JWKS.

The JWKS is fetched from :data:`DEFAULT_JWKS_URL` (``--jwks-url`` or ``GENMEDIA_WEBHOOK_JWKS_URL``
override it; when fal's REST host is redirected, as under ``--sandbox``, the JWKS of that
host is used), cached on disk for :data:`DEFAULT_TTL` seconds
(``GENMEDIA_WEBHOOK_JWKS_TTL``) and fetched again, once, when no cached key verifies a
delivery (fal rotated its keys). The headers carry no key id, so a body changed in transit
and a signature by a key fal does not publish are the same failure: ``bad_signature``.

Everything fails closed: a missing or malformed header, a timestamp more than
:data:`TOLERANCE` seconds away from this machine's clock, keys that cannot be fetched,
or any error while checking make the delivery invalid.

``cryptography`` is imported inside :meth:`Verifier.verify`, so ``--help`` and the rest
of genmedia never load it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

DEFAULT_JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
JWKS_URL_ENV = "GENMEDIA_WEBHOOK_JWKS_URL"
JWKS_TTL_ENV = "GENMEDIA_WEBHOOK_JWKS_TTL"
#: How long the fetched JWKS is trusted (seconds): 24 h, as fal's own examples do.
DEFAULT_TTL = 24 * 3600.0
#: Accepted distance between the delivery's timestamp and this machine's clock (seconds).
TOLERANCE = 300

HEADER_REQUEST_ID = "x-fal-webhook-request-id"
HEADER_USER_ID = "x-fal-webhook-user-id"
HEADER_TIMESTAMP = "x-fal-webhook-timestamp"
HEADER_SIGNATURE = "x-fal-webhook-signature"
HEADERS = (HEADER_REQUEST_ID, HEADER_USER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE)

#: Why a delivery is invalid (``details.reason`` of the error).
REASONS = {
    "missing_header": "a signature header is missing",
    "malformed_header": "a signature header is malformed",
    "stale_timestamp": f"the timestamp is more than {TOLERANCE} s from this machine's clock",
    "bad_signature": "no key of fal's JWKS verifies the signature "
    "(the body was changed, or it was signed by another key)",
    "keys_unavailable": "fal's public keys (JWKS) could not be fetched",
}


@attrs.frozen
class Verdict:
    """The outcome of one check. ``reason`` is a key of :data:`REASONS` when invalid."""

    valid: bool
    reason: str | None = None
    detail: str | None = None
    request_id: str | None = None
    user_id: str | None = None
    timestamp: int | None = None
    key_id: str | None = None

    @property
    def message(self) -> str:
        if self.valid:
            return "valid"
        text = REASONS.get(self.reason or "", self.reason or "invalid")
        return f"{text}: {self.detail}" if self.detail else text


def jwks_url(override: str | None = None, settings: Any = None) -> str:
    """The JWKS to trust: ``override``, ``GENMEDIA_WEBHOOK_JWKS_URL``, the JWKS of a
    redirected fal REST host (``GENMEDIA_FAL_REST_URL``, the config's ``hosts.rest``, or
    the emulator under ``--sandbox``), else fal's."""
    if override:
        return override
    if os.environ.get(JWKS_URL_ENV):
        return os.environ[JWKS_URL_ENV]
    rest = os.environ.get("GENMEDIA_FAL_REST_URL")
    if settings is not None:
        rest = settings.host("rest", env="GENMEDIA_FAL_REST_URL", default="")
    if rest:
        return rest.rstrip("/") + "/.well-known/jwks.json"
    return DEFAULT_JWKS_URL


def ttl() -> float:
    raw = os.environ.get(JWKS_TTL_ENV)
    try:
        return float(raw) if raw else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL


def parse_raw_headers(text: str) -> dict[str, str]:
    """Raw HTTP headers (``Name: value`` lines, an optional request line first, up to the
    first blank line) → lower-case names to values."""
    headers: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if headers:
                break
            continue
        name, sep, value = line.partition(":")
        if not sep or " " in name.strip():
            continue  # the request line ("POST /hook HTTP/1.1") or not a header
        headers[name.strip().lower()] = value.strip()
    return headers


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Verifier:
    """Checks deliveries against fal's JWKS, cached under ``cache_dir``. Thread-safe."""

    def __init__(
        self,
        cache_dir: Path,
        url: str | None = None,
        *,
        settings: Any = None,
        max_age: float | None = None,
        tolerance: int = TOLERANCE,
    ) -> None:
        self.url = jwks_url(url, settings)
        self.max_age = ttl() if max_age is None else max_age
        self.tolerance = tolerance
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        self.cache_file = cache_dir / "webhooks" / f"jwks-{digest}.json"
        self._lock = threading.Lock()

    # -- keys ------------------------------------------------------------------------
    def _cached(self) -> list[dict[str, Any]] | None:
        try:
            data = json.loads(self.cache_file.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("url") != self.url:
            return None
        fetched = data.get("fetched_at")
        if not isinstance(fetched, (int, float)) or time.time() - fetched > self.max_age:
            return None
        keys = data.get("keys")
        return keys if isinstance(keys, list) else None

    def _fetch(self) -> list[dict[str, Any]]:
        from genmedia.http import make_client

        with make_client(timeout=10.0) as client:
            resp = client.get(self.url)
        resp.raise_for_status()
        keys = resp.json().get("keys")
        if not isinstance(keys, list):
            raise ValueError("the JWKS has no 'keys' list")
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_file.with_name(f".{self.cache_file.name}.{secrets.token_hex(4)}")
        tmp.write_text(json.dumps({"url": self.url, "fetched_at": time.time(), "keys": keys}))
        os.replace(tmp, self.cache_file)  # readers see the old or the new file, never half
        return keys

    def keys(self, *, refresh: bool = False) -> list[dict[str, Any]]:
        """The JWKS's keys: from the cache unless stale or ``refresh``; raises on failure."""
        with self._lock:
            cached = None if refresh else self._cached()
            return cached if cached is not None else self._fetch()

    # -- checking --------------------------------------------------------------------
    def verify(
        self, headers: Mapping[str, str], body: bytes, *, now: float | None = None
    ) -> Verdict:
        """Check one delivery (``headers`` with any case of names, ``body`` as received)."""
        try:
            return self._verify(headers, body, time.time() if now is None else now)
        except Exception as exc:  # fail closed, whatever happened
            return Verdict(False, "bad_signature", f"{type(exc).__name__}: {exc}")

    def _verify(self, headers: Mapping[str, str], body: bytes, now: float) -> Verdict:
        lower = {k.lower(): v for k, v in headers.items()}
        missing = [h for h in HEADERS if not (lower.get(h) or "").strip()]
        if missing:
            return Verdict(False, "missing_header", ", ".join(missing))
        request_id, user_id = lower[HEADER_REQUEST_ID].strip(), lower[HEADER_USER_ID].strip()
        raw_ts, raw_sig = lower[HEADER_TIMESTAMP].strip(), lower[HEADER_SIGNATURE].strip()
        ids: dict[str, Any] = {"request_id": request_id, "user_id": user_id}
        if not raw_ts.isdigit():
            return Verdict(False, "malformed_header", f"{HEADER_TIMESTAMP}: {raw_ts!r}", **ids)
        timestamp = int(raw_ts)
        try:
            signature = binascii.unhexlify(raw_sig)
        except (binascii.Error, ValueError):
            return Verdict(False, "malformed_header", f"{HEADER_SIGNATURE} is not hex", **ids)
        if abs(now - timestamp) > self.tolerance:
            return Verdict(
                False,
                "stale_timestamp",
                f"{int(now - timestamp)} s old",
                timestamp=timestamp,
                **ids,
            )
        message = "\n".join([request_id, user_id, raw_ts, hashlib.sha256(body).hexdigest()])
        try:
            keys = self.keys()
        except Exception as exc:
            return Verdict(False, "keys_unavailable", f"{self.url}: {type(exc).__name__}", **ids)
        kid = _matching_key(keys, message.encode(), signature)
        if kid is None:  # fal may have rotated its keys: fetch them again, once
            try:
                fresh = self.keys(refresh=True)
            except Exception as exc:
                return Verdict(
                    False, "keys_unavailable", f"{self.url}: {type(exc).__name__}", **ids
                )
            if fresh != keys:
                kid = _matching_key(fresh, message.encode(), signature)
        if kid is None:
            return Verdict(False, "bad_signature", None, timestamp=timestamp, **ids)
        return Verdict(True, None, None, timestamp=timestamp, key_id=kid or None, **ids)


def _matching_key(keys: list[dict[str, Any]], message: bytes, signature: bytes) -> str | None:
    """The ``kid`` ("" without one) of the first Ed25519 key that verifies, else None."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    for key in keys:
        if not isinstance(key, dict) or key.get("kty") != "OKP" or key.get("crv") != "Ed25519":
            continue
        try:
            public = Ed25519PublicKey.from_public_bytes(_b64url_decode(str(key.get("x", ""))))
            public.verify(signature, message)
        except (InvalidSignature, ValueError):
            continue
        return str(key.get("kid") or "")
    return None


def require_cryptography() -> None:
    """A usage error naming the extra when ``cryptography`` is not installed."""
    try:
        import cryptography  # noqa: F401
    except ImportError:
        from genmedia import errors

        raise errors.UsageError(
            "genmedia webhook needs the cryptography package (Ed25519)",
            {"hint": "pip install 'genmedia-cli[webhooks]'"},
        ) from None
