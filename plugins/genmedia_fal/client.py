"""The fal HTTP layer: hosts, authentication, retries and error mapping.

Hosts (each overridable by an environment variable, then the config file's ``hosts``
mapping; see docs/fal.md):

==========  ===========================  ==========================
role        environment variable         default
==========  ===========================  ==========================
``queue``   ``GENMEDIA_FAL_QUEUE_URL``   https://queue.fal.run
``run``     ``GENMEDIA_FAL_RUN_URL``     https://fal.run
``rest``    ``GENMEDIA_FAL_REST_URL``    https://rest.fal.ai
``api``     ``GENMEDIA_FAL_API_URL``     https://api.fal.ai/v1
``cdn``     ``GENMEDIA_FAL_CDN_URL``     https://v3.fal.media
``docs``    ``GENMEDIA_FAL_DOCS_URL``    https://docs.fal.ai/mcp
==========  ===========================  ==========================

``Authorization: Key <key>`` is added per request and only for the queue, REST and
platform hosts; CDN uploads carry the short-lived CDN token instead, and downloads and
docs search carry nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from genmedia import errors
from genmedia.http import RetryPolicy, retry_call
from genmedia_fal import errors as fal_errors

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from genmedia.context import AppContext
    from genmedia_fal.credentials import FalKey

HOSTS: dict[str, tuple[str, str]] = {
    "queue": ("GENMEDIA_FAL_QUEUE_URL", "https://queue.fal.run"),
    "run": ("GENMEDIA_FAL_RUN_URL", "https://fal.run"),
    "rest": ("GENMEDIA_FAL_REST_URL", "https://rest.fal.ai"),
    "api": ("GENMEDIA_FAL_API_URL", "https://api.fal.ai/v1"),
    "cdn": ("GENMEDIA_FAL_CDN_URL", "https://v3.fal.media"),
    "docs": ("GENMEDIA_FAL_DOCS_URL", "https://docs.fal.ai/mcp"),
}
#: fal's media storage hosts: a URL on one of them is already fal-hosted.
MEDIA_HOSTS = frozenset({"fal.media", "v2.fal.media", "v3.fal.media", "v3b.fal.media"})
NO_KEY_HINT = (
    "Set FAL_KEY (export FAL_KEY=<key id>:<key secret>, from https://fal.ai/dashboard/keys), "
    "save it once with: genmedia setup, or rehearse offline without a key: add --sandbox"
)

#: status, result, cancel, platform GETs: safe to repeat.
IDEMPOTENT = RetryPolicy(attempts=5, base=0.25, cap=8.0, total=60.0)
#: upload parts: repeat a little harder (a part is cheap to resend).
PART_POLICY = RetryPolicy(attempts=4, base=0.25, cap=4.0, total=60.0)
MiB = 1024 * 1024


def _size(value: Any, default: int) -> int:
    """``"8M"``, ``"512k"``, ``1048576`` → bytes; anything unparsable → ``default``."""
    if value is None or value == "":
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return max(1, int(value))
    text = str(value).strip().lower().removesuffix("b").removesuffix("i")
    scale = {"k": 1024, "m": MiB, "g": 1024 * MiB}.get(text[-1:], 1)
    digits = text[:-1] if text[-1:] in "kmg" else text
    try:
        return max(1, int(float(digits) * scale))
    except ValueError:
        return default


@attrs.frozen
class FalOptions:
    """fal plugin settings: environment first, then the config file's ``plugins.fal``."""

    multipart_threshold: int = 100 * MiB
    part_size: int = 10 * MiB
    upload_concurrency: int = 4
    use_stream: bool = True
    #: seconds a cached model schema is used without asking (0: ask every time).
    schema_ttl: float = 24 * 3600.0

    @classmethod
    def load(cls, section: dict[str, Any]) -> FalOptions:
        env = os.environ
        stream_env = env.get("GENMEDIA_FAL_STATUS_STREAM", "").strip().lower()
        use_stream = (
            section.get("status_stream", True)
            if not stream_env
            else stream_env not in ("0", "false", "no", "off")
        )
        return cls(
            multipart_threshold=_size(
                env.get("GENMEDIA_FAL_MULTIPART_THRESHOLD") or section.get("multipart_threshold"),
                100 * MiB,
            ),
            part_size=_size(
                env.get("GENMEDIA_FAL_PART_SIZE") or section.get("part_size"), 10 * MiB
            ),
            upload_concurrency=_size(
                env.get("GENMEDIA_FAL_UPLOAD_CONCURRENCY") or section.get("upload_concurrency"), 4
            ),
            use_stream=bool(use_stream),
            schema_ttl=_seconds(
                env.get("GENMEDIA_FAL_SCHEMA_TTL") or section.get("schema_ttl"), 24 * 3600.0
            ),
        )


def _seconds(value: Any, default: float) -> float:
    """A duration in seconds (``3600``, ``"90"``); anything unparsable or negative →
    ``default``."""
    if value is None or value == "" or isinstance(value, bool):
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds >= 0 and seconds == seconds else default


class FalClient:
    """Thin wrapper over the shared httpx client: hosts, auth headers, retries, errors."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._options: FalOptions | None = None
        self._key: FalKey | None = None

    # -- configuration -------------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        return self.ctx.http

    @property
    def options(self) -> FalOptions:
        if self._options is None:
            self._options = FalOptions.load(self.ctx.settings.plugin_config("fal"))
        return self._options

    def host(self, role: str) -> str:
        env, default = HOSTS[role]
        return self.ctx.settings.host(role, env=env, default=default)

    @property
    def credential(self) -> FalKey:
        """fal's key as resolved from the settings (see :mod:`genmedia_fal.credentials`)."""
        if self._key is None:
            from genmedia_fal.credentials import resolve_key

            self._key = resolve_key(self.ctx.settings)
        return self._key

    def key(self) -> str:
        key = self.credential.usable()
        if not key:
            raise errors.AuthError(
                "No fal.ai API key found: set FAL_KEY, run `genmedia setup`, or use --sandbox.",
                {"hint": NO_KEY_HINT},
            )
        return key

    def auth(self, *, required: bool = True) -> dict[str, str]:
        """``Authorization: Key …`` for fal's own hosts (never for CDN or download hosts)."""
        if not required and not self.credential.usable():
            return {}
        return {"Authorization": f"Key {self.key()}"}

    def is_fal_origin(self, url: str) -> bool:
        """Whether ``url`` is on one of the configured fal API hosts (queue, run, REST,
        platform) — the only places the key may go."""
        origin = _origin(url)
        return any(origin == _origin(self.host(role)) for role in ("queue", "run", "rest", "api"))

    def auth_for(self, url: str) -> dict[str, str]:
        """``auth()`` for a URL a server handed us (status/response/cancel URLs): refused
        unless the URL is on a configured fal host, so a stale or foreign URL (a journal
        entry from a sandbox that is gone, a tampered submit reply) never receives the key."""
        if not self.is_fal_origin(url):
            raise errors.UsageError(
                f"Refusing to send the fal key to {_origin(url)}: not a configured fal host",
                {"url": url.split("?", 1)[0], "hint": "GENMEDIA_FAL_QUEUE_URL sets the queue host"},
            )
        return self.auth()

    def is_fal_media(self, url: str) -> bool:
        """Whether ``url`` is already on fal's storage: a fal media host
        (:data:`MEDIA_HOSTS`) or under the configured CDN base URL (so the emulator's
        CDN counts too). Such URLs need no upload before fal uses them."""
        from urllib.parse import urlsplit

        if (urlsplit(url).hostname or "").lower() in MEDIA_HOSTS:
            return True
        return url.startswith(self.host("cdn").rstrip("/") + "/")

    # -- calls -----------------------------------------------------------------------------

    def on_retry(self, what: str) -> Callable[[int, float, str], None]:
        def report(attempt: int, delay: float, reason: str) -> None:
            if self.ctx.debug:
                self.ctx.warn(f"{what}: {reason}; retry {attempt} in {delay:.2f}s", once=False)

        return report

    def call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        policy: RetryPolicy | None = IDEMPOTENT,
        ok: Callable[[httpx.Response], bool] | None = None,
        context: dict[str, Any] | None = None,
        parse: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request, retried per ``policy`` (None: once); non-2xx raises a fal error.

        ``ok`` may accept more statuses as success (the caller reads them). With
        ``parse``, a 2xx body must be JSON (kept in ``response.fal_json``); a garbled
        body is retried like a transport error.
        """
        import httpx

        from genmedia.http import is_transport_error

        def attempt() -> httpx.Response:
            response = self.http.request(method, url, **kwargs)
            if parse and response.is_success:
                try:
                    response.fal_json = response.json()  # type: ignore[attr-defined]
                except ValueError:
                    raise BadReply(response) from None
            return response

        def retryable(exc: BaseException) -> bool:
            return is_transport_error(exc) or isinstance(exc, BadReply)

        try:
            if policy is None:
                response = attempt()
            else:
                response = retry_call(
                    attempt, policy, retry_exception=retryable, on_retry=self.on_retry(what)
                )
        except httpx.TransportError as exc:
            raise fal_errors.network_error(exc, url, what=what) from None
        except BadReply as exc:
            raise bad_reply(exc.response, what=what) from None
        if response.is_success or (ok is not None and ok(response)):
            return response
        raise fal_errors.error_from_response(response, what=what, **(context or {}))

    def get_json(self, url: str, *, what: str, **kwargs: Any) -> Any:
        """GET a JSON document (idempotent, retried)."""
        return self.call("GET", url, what=what, parse=True, **kwargs).fal_json  # type: ignore[attr-defined]


class BadReply(Exception):
    """A 2xx reply whose body is not the JSON it should be."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"malformed JSON reply from {str(response.url).split('?')[0]}")
        self.response = response


def bad_reply(response: httpx.Response, *, what: str) -> errors.GenmediaError:
    return fal_errors.fal_error(
        errors.RemoteError,
        f"{what}: the server sent a reply that is not valid JSON",
        {
            "status": response.status_code,
            "body": response.text[:300],
            "url": str(response.url).split("?")[0],
        },
    )


def _origin(url: str) -> tuple[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), f"{(parts.hostname or '').lower()}:{port}"
