"""fal's Assets API (``{api}/assets``, e.g. ``https://api.fal.ai/v1/assets``) for one command.

Everything that is fal's comes from the fal plugin's :class:`~genmedia_fal.client.FalClient`,
so it exists once: the platform host (role ``api``, ``GENMEDIA_FAL_API_URL``), the key and
its "No fal.ai API key found." error, the rule that the key goes only to configured fal
hosts (:meth:`FalClient.auth_for`), the shared httpx client, the retry loop (``Retry-After``
honoured) and the transport-failure error. What is the Assets API's own lives here:

- ``Content-Type: application/json`` on every call (upstream sends it even on GET);
  mutating calls add ``Idempotency-Key``.
- One Idempotency-Key per client, i.e. per command invocation: the user's
  ``--idempotency_key`` or a fresh uuid4. It is sent on every attempt of the call, so
  GETs *and* mutations are retried (429, 408, 5xx, connection resets, read timeouts): a
  mutation that did reach fal is replayed by fal, never done twice. A command makes at
  most one mutating call, so one key per invocation never covers two different requests.
  A mutation that fails for good on the network carries the key (and a hint) in its error.
- Failures: the Platform envelope ``{"error": {"type", "message"}}`` (or any other body)
  becomes upstream's error object, ``Assets <METHOD> <path> failed (<status>)`` with the
  parsed body (or the raw text) as ``details``, raised as the genmedia error class of the
  status (404 → exit 4, 400/409/422 → 5, 401/403 → 3, 429 → 6, 5xx → 7).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from genmedia import errors
from genmedia.http import RetryPolicy

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from genmedia_fal.client import FalClient

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Bounded: 4 tries, ~0.25 → 2 s backoff (Retry-After honoured up to 30 s), 60 s in all.
POLICY = RetryPolicy(attempts=4, base=0.25, cap=4.0, total=60.0)

QueryValue = str | int | bool | Iterable[str] | None
QueryParams = list[tuple[str, str | int | float | bool | None]]


def seg(value: str) -> str:
    """One path segment (an id), percent-encoded so it cannot escape its place."""
    return quote(value, safe="")


def status_error(status: int) -> type[errors.GenmediaError]:
    """The genmedia error class for an Assets API status."""
    if status == 404:
        return errors.NotFoundError
    if status in (400, 409, 422):
        return errors.ValidationError
    if status in (401, 403):
        return errors.AuthError
    if status == 429:
        return errors.RateLimitedError
    if status >= 500 or status == 408:
        return errors.RemoteError
    return errors.GenmediaError


def build_query(query: Mapping[str, QueryValue]) -> QueryParams:
    """Upstream's serialisation: lists repeat the key, None/empty lists are omitted."""
    out: QueryParams = []
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, (str, int)):
            out.append((key, str(value)))
        else:
            out.extend((key, str(item)) for item in value)
    return out


class AssetsClient:
    """Calls to ``{api}/assets`` for one command invocation, over a :class:`FalClient`."""

    def __init__(
        self,
        fal: FalClient,
        *,
        idempotency_key: str | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.fal = fal
        self.policy = policy or POLICY
        self.idempotency_key = idempotency_key or str(uuid.uuid4())
        self.base_url = fal.host("api") + "/assets"

    def send(self, method: str, path: str, body: Any = None) -> Any:
        """A mutating call with the invocation's Idempotency-Key; None for a 204."""
        return self.request(method, path, body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        body: Any = None,
    ) -> Any:
        """One call to ``/assets<path>``; the parsed JSON body (None for a 204)."""
        from genmedia.serialization import unstructure

        method = method.upper()
        url = self.base_url + path
        # the key check comes first: no key, no request
        headers = {**self.fal.auth_for(url), "Content-Type": "application/json"}
        if method in MUTATING:
            headers["Idempotency-Key"] = self.idempotency_key
        content = None
        if body is not None:
            content = json.dumps(unstructure(body), ensure_ascii=False).encode("utf-8")
        try:
            response = self.fal.call(
                method,
                url,
                what=f"Assets {method} {path} failed",
                policy=self.policy,
                ok=_any_status,  # statuses become upstream's Assets errors below
                params=build_query(query or {}),
                headers=headers,
                content=content,
            )
        except errors.NetworkError as exc:
            if method in MUTATING:
                exc.add_details(
                    idempotency_key=self.idempotency_key,
                    hint="The change may or may not have been made. Re-run with "
                    f"--idempotency_key {self.idempotency_key} to retry it safely.",
                )
            raise
        return _result(method, path, response)


def _any_status(response: httpx.Response) -> bool:
    return True


def _result(method: str, path: str, response: httpx.Response) -> Any:
    status = response.status_code
    if 200 <= status < 300:
        if status == 204 or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise errors.RemoteError(
                f"Assets {method} {path} returned invalid JSON ({status})",
                {"status": status, "body": response.text[:2000]},
            ) from None
    text = response.text
    try:
        details: Any = json.loads(text)
    except ValueError:
        details = text
    raise status_error(status)(f"Assets {method} {path} failed ({status})", details)


def structure_response(data: Any, cls: type[Any], method: str, path: str) -> Any:
    """Structure a response body, turning a malformed one into a RemoteError."""
    from genmedia_fal.assets.models import WireError, structure

    try:
        return structure(data, cls)
    except (WireError, TypeError, ValueError) as exc:
        raise errors.RemoteError(
            f"Assets {method} {path} returned an unexpected response: {exc}",
            {"body": data},
        ) from None
