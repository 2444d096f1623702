"""One redactor for every error message and debug line (public helper).

Whatever a key went through before it reached a message — an HTTP library quoting a header
(``b'Key id:secret\\n'``), URL encoding, base64 (``Basic`` auth), JSON or ``repr`` escaping —
:func:`redact` removes it. The core knows no key: a provider (or any plugin) registers every
secret it reads with :func:`register_secret` (the fal provider its key, from whichever source;
:meth:`genmedia.config.Settings.set_credential` registers a runtime override), and shows one
only as :func:`mask` makes it. The error boundary passes the error object (message and every
string in ``details``) and ``--debug`` tracebacks through :func:`redact_value`, and
:meth:`genmedia.context.AppContext.warn` passes every warning and debug line.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

#: what a secret becomes in printed text.
MASK = "****"
#: fragments shorter than this are not redacted on their own (they would mangle text).
MIN_LENGTH = 6

_forms: set[str] = set()
_ordered: list[str] = []


def _variants(secret: str) -> Iterable[str]:
    """The forms ``secret`` may take in a message."""
    yield secret
    yield repr(secret)[1:-1]
    yield json.dumps(secret)[1:-1]
    yield quote(secret, safe="")
    yield quote(secret)
    yield quote_plus(secret)
    raw = secret.encode("utf-8", "surrogateescape")
    yield repr(raw)[2:-1]
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        yield text
        yield text.rstrip("=")


def mask(secret: str | None) -> str | None:
    """``"1234abcd-…:secret"`` → ``"1234…****"``; never more than 4 characters shown."""
    if not secret:
        return None
    head = secret[:4]
    if len(secret) < 12 or not all(33 <= ord(c) <= 126 for c in head):
        return MASK
    return head + "…" + MASK


def register_secret(secret: str | None) -> None:
    """Remember ``secret`` (and its stripped form, and the secret half of ``id:secret``)
    so that :func:`redact` removes it from any text printed by this process."""
    if not secret:
        return
    bases = {secret, secret.strip()}
    _id, sep, tail = secret.strip().partition(":")
    if sep:
        bases.add(tail)
    added = False
    for base in bases:
        if len(base) < MIN_LENGTH:
            continue
        for form in _variants(base):
            if len(form) >= MIN_LENGTH and form not in _forms:
                _forms.add(form)
                added = True
    if added:
        _ordered[:] = sorted(_forms, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every registered secret, in any of its forms, replaced by ``****``."""
    if not _ordered or not isinstance(text, str):
        return text
    for form in _ordered:
        if form in text:
            text = text.replace(form, MASK)
    return text


def redact_value(value: Any) -> Any:
    """:func:`redact` applied to every string inside ``value`` (dicts, lists, tuples)."""
    if not _ordered:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


def clear() -> None:
    """Forget every registered secret (tests)."""
    _forms.clear()
    _ordered.clear()
