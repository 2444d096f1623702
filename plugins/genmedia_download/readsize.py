"""Read HTTP/1.1 response bodies from the socket in 256 KiB system calls (httpcore: 64 KiB).

httpx's default transport reads through ``httpcore.HTTP11Connection``, which asks the socket
for ``READ_NUM_BYTES`` (64 KiB) at a time: 8,192 ``recv`` calls, h11 events and httpx chunks
for a 512 MiB file, each with its share of Python overhead. Neither httpx nor httpcore
offers a setting for it, so this module is the one place genmedia reaches into httpcore:
it raises that class attribute to :data:`READ_BYTES`. A ``recv`` returns what is already
there (at most this much), so small responses and event streams behave exactly as before;
only bulk bodies arrive in fewer, larger pieces.

Why 256 KiB and not 1 MiB: the per-chunk overhead is already small at 256 KiB (2,048 reads
for 512 MiB), while 1 MiB reads cost ~7 MiB more peak RSS (each chunk is copied three times
on its way through h11 and httpcore, and blocks that big fragment the heap); see
docs/performance.md.

The fallback is the stock behaviour: if an httpcore upgrade renames or drops the attribute,
:func:`apply` changes nothing and returns False, downloads stay correct (just slower), and
``tests/download/test_readsize.py`` fails so the upgrade cannot slip through unnoticed.

TLS: an ``ssl`` read usually returns one TLS record (at most 16 KiB) whatever is asked, so
on ``https://`` this changes little; the figures in docs/performance.md are plain HTTP
on 127.0.0.1.
"""

from __future__ import annotations

#: bytes asked of the socket per read.
READ_BYTES = 256 * 1024
ATTRIBUTE = "READ_NUM_BYTES"


def apply() -> bool:
    """Raise httpcore's HTTP/1.1 read size to :data:`READ_BYTES`; False if it cannot."""
    try:
        import httpcore

        connection = httpcore.HTTP11Connection
    except (ImportError, AttributeError):  # pragma: no cover - another httpx backend
        return False
    current = getattr(connection, ATTRIBUTE, None)
    if not isinstance(current, int) or isinstance(current, bool):
        return False
    if current < READ_BYTES:
        setattr(connection, ATTRIBUTE, READ_BYTES)
    return True
