"""The one reach into httpcore (``genmedia_download/readsize.py``): bigger socket reads.

These tests fail loudly when an httpx/httpcore upgrade renames or stops using the read-size
attribute, so the upgrade cannot silently make big downloads slow again; and they pin the
fallback: without the attribute nothing is patched and downloads still work.
"""

from __future__ import annotations

from typing import Any

import httpcore
import pytest

from genmedia_download import readsize


class RecordingStream(httpcore.NetworkStream):
    """A network stream that serves one canned response and records each read's size."""

    def __init__(self, body: bytes) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        self.data = head + body
        self.asked: list[int] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.asked.append(max_bytes)
        out, self.data = self.data[:max_bytes], self.data[max_bytes:]
        return out

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass

    def close(self) -> None:
        pass

    def get_extra_info(self, info: str) -> Any:
        return None


def test_the_installed_httpcore_has_the_read_size_attribute() -> None:
    # If this fails after an upgrade, httpcore renamed or dropped READ_NUM_BYTES:
    # find its new read-size knob and update readsize.py (downloads still work, slower).
    assert isinstance(getattr(httpcore.HTTP11Connection, readsize.ATTRIBUTE, None), int)
    assert readsize.apply() is True
    assert getattr(httpcore.HTTP11Connection, readsize.ATTRIBUTE) == readsize.READ_BYTES


def test_httpcore_reads_the_socket_in_blocks_of_the_patched_size() -> None:
    assert readsize.apply() is True
    body = bytes(range(256)) * 8192  # 2 MiB
    stream = RecordingStream(body)
    origin = httpcore.Origin(b"http", b"media.example", 80)
    with httpcore.HTTP11Connection(origin=origin, stream=stream) as connection:
        response = connection.request("GET", "http://media.example/file.bin")
    assert response.content == body
    # every read asked for the patched size, not httpcore's stock 64 KiB
    assert stream.asked and set(stream.asked) == {readsize.READ_BYTES}
    assert len(stream.asked) <= len(body) // readsize.READ_BYTES + 2


def test_without_the_attribute_nothing_is_patched(monkeypatch: pytest.MonkeyPatch) -> None:
    class Renamed:  # an httpcore whose connection class no longer has READ_NUM_BYTES
        READ_SIZE = 64 * 1024

    monkeypatch.setattr(httpcore, "HTTP11Connection", Renamed)
    assert readsize.apply() is False
    assert not hasattr(Renamed, readsize.ATTRIBUTE)
    assert Renamed.READ_SIZE == 64 * 1024


def test_a_larger_stock_size_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpcore.HTTP11Connection, readsize.ATTRIBUTE, 4 << 20)
    assert readsize.apply() is True
    assert getattr(httpcore.HTTP11Connection, readsize.ATTRIBUTE) == 4 << 20


@pytest.mark.parametrize("patched", [True, False], ids=["256KiB-reads", "stock-fallback"])
def test_a_big_download_is_verified_either_way(
    patched, monkeypatch, put, result_for, finish, workdir
):
    """Over real HTTP from the emulator: same bytes, same hash, with or without the patch."""
    from .conftest import blob, listing, sha

    if not patched:  # an httpcore without the attribute: apply() must leave it alone
        monkeypatch.setattr(httpcore, "HTTP11Connection", type("Renamed", (), {}))
        monkeypatch.setattr(httpcore._sync.http11.HTTP11Connection, readsize.ATTRIBUTE, 64 * 1024)
    data = blob(9 * (1 << 20) + 5)  # above the size written on the helper thread
    url = put(data, "big.bin")
    out = finish(
        result_for([{"url": url, "file_name": "big.bin", "file_size": len(data)}]),
        download="out/",
    )
    assert out.exit_code == 0, out
    [saved] = out.saved
    assert saved["sha256"] == sha(data) and saved["size_bytes"] == len(data)
    assert (workdir / "out" / "big.bin").read_bytes() == data
    assert listing(workdir) == ["out/big.bin"]
