"""HTTP helpers shared by every plugin: the client factory and the retry helper.

The client is created lazily by :attr:`genmedia.context.AppContext.http`: timeouts on every
call, ``User-Agent: genmedia/<version>``, keep-alive. It carries **no** Authorization
header; providers add theirs per request, only to their own hosts, so a key never reaches
a download host.

:func:`retry_call` repeats a call that the caller marked safe to repeat, with jittered
exponential backoff, caps on attempts and total time, and ``Retry-After`` honoured.

``GENMEDIA_RETRY_DELAY_SCALE`` (a test setting, :func:`delay_scale`) multiplies every wait
between attempts; the delays computed, reported to ``on_retry`` and counted against the
policy's total stay the same.
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from genmedia import __version__

if TYPE_CHECKING:  # pragma: no cover
    import httpx

T = TypeVar("T")

USER_AGENT = f"genmedia/{__version__}"
#: The test setting that scales every retry wait (see :func:`delay_scale`).
DELAY_SCALE_ENV = "GENMEDIA_RETRY_DELAY_SCALE"
#: Statuses that are safe to retry for an idempotent call.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def make_client(*, transport: Any = None, timeout: float = 30.0) -> httpx.Client:
    """A keep-alive client with timeouts and genmedia's User-Agent.

    One SSL context (CA bundle loaded once, ``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured) is
    shared by every transport: with ``HTTP(S)_PROXY``/``ALL_PROXY`` set, httpx builds one
    transport per proxy, and each would otherwise load the CA bundle again.
    """
    import httpx

    return httpx.Client(
        verify=httpx.create_ssl_context(trust_env=True),
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=10.0),
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        follow_redirects=True,
    )


@attrs.frozen
class RetryPolicy:
    """How hard to try. ``attempts`` counts the first try; ``total`` caps all waiting."""

    attempts: int = 5
    base: float = 0.25
    cap: float = 8.0
    total: float = 60.0
    #: the largest Retry-After honoured (a server asking for more gets this much).
    retry_after_cap: float = 30.0
    statuses: Collection[int] = RETRY_STATUSES
    #: retry transport errors (connect errors, resets, read timeouts). Callers whose
    #: request may have reached the server and is not idempotent set this False.
    transport_errors: bool = True


DEFAULT_POLICY = RetryPolicy()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds or an HTTP date; None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff(attempt: int, policy: RetryPolicy) -> float:
    """Full-jitter exponential backoff for retry number ``attempt`` (0-based)."""
    ceiling = min(policy.cap, policy.base * (2**attempt))
    return random.uniform(ceiling / 2, ceiling)


def delay_scale() -> float:
    """The factor applied to every retry wait: ``$GENMEDIA_RETRY_DELAY_SCALE``, default 1.

    A test setting: genmedia's test suite sets 0, so retries happen at once while the
    delay each one would have waited is still computed (back-off or ``Retry-After``),
    reported to ``on_retry`` (``--debug`` prints it) and counted against the policy's
    total, so the number of attempts is what it is in real use. Values are clamped to
    0–1 (a setting can only shorten waits); anything that is not a number means 1.
    """
    raw = os.environ.get(DELAY_SCALE_ENV)
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        return 1.0
    return min(1.0, max(0.0, value)) if value == value else 1.0


def scaled(delay: float) -> float:
    """``delay`` as actually waited: ``delay * delay_scale()`` (for plugins that sleep
    between retries themselves, e.g. with :func:`backoff`)."""
    return delay * delay_scale()


def is_transport_error(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError)


def retry_call(
    call: Callable[[], T],
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    should_retry: Callable[[T], bool] | None = None,
    retry_exception: Callable[[BaseException], bool] | None = None,
    on_retry: Callable[[int, float, str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``call()`` until it succeeds, the policy gives up, or the result is final.

    :param call: makes one attempt; returns a response (or anything) or raises.
    :param should_retry: given a returned value, whether to try again. Default: an
        ``httpx.Response`` whose status is in ``policy.statuses``.
    :param retry_exception: whether an exception is retryable. Default: any
        ``httpx.TransportError`` when ``policy.transport_errors``.
    :param on_retry: ``on_retry(attempt, delay, reason)`` before each wait (logging).
    :returns: the last value returned by ``call`` (possibly a retryable status when the
        attempts ran out: the caller turns it into an error).
    """
    start = clock()
    attempt = 0
    skipped = 0.0  # waits the delay scale cut short, still counted against policy.total
    while True:
        try:
            value = call()
        except Exception as exc:
            retryable = (
                retry_exception(exc)
                if retry_exception is not None
                else policy.transport_errors and is_transport_error(exc)
            )
            delay = backoff(attempt, policy)
            if not retryable or not _budget_left(attempt, delay, start - skipped, policy, clock):
                raise
            reason = f"{type(exc).__name__}: {exc}"
            stale: Any = None
        else:
            retry = (
                should_retry(value) if should_retry is not None else _retry_status(value, policy)
            )
            if not retry:
                return value
            delay = backoff(attempt, policy)
            advised = parse_retry_after(_header(value, "retry-after"))
            if advised is not None:
                delay = min(advised, policy.retry_after_cap)
            if not _budget_left(attempt, delay, start - skipped, policy, clock):
                return value
            reason = f"HTTP {getattr(value, 'status_code', '?')}"
            stale = value
        if on_retry is not None:
            on_retry(attempt + 1, delay, reason)
        _close(stale)
        waited = scaled(delay)
        skipped += delay - waited
        sleep(waited)
        attempt += 1


def _budget_left(
    attempt: int, delay: float, start: float, policy: RetryPolicy, clock: Callable[[], float]
) -> bool:
    return attempt + 1 < policy.attempts and (clock() - start) + delay <= policy.total


def _retry_status(value: Any, policy: RetryPolicy) -> bool:
    status = getattr(value, "status_code", None)
    return status in policy.statuses


def _header(value: Any, name: str) -> str | None:
    headers = getattr(value, "headers", None)
    return headers.get(name) if headers is not None else None


def _close(value: Any) -> None:
    close = getattr(value, "close", None)
    if callable(close):
        try:
            close()
        except Exception:
            pass
