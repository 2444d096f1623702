"""Real media files, generated in pure Python and deterministic from a seed.

- PNG: zlib-compressed RGB, any width/height.
- JPEG: a minimal baseline (SOF0) encoder. The picture is made of flat 8x8 blocks
  (horizontal colour bands, split in two halves), so every block is DC-only and
  the entropy-coded scan can be built with string arithmetic.
- WAV: 16-bit mono PCM sine tone of the requested duration.
- MP4: ISO-BMFF (ftyp, moov, mdat) carrying real H.264 Baseline video made of
  I_PCM macroblocks (uncompressed samples inside a valid bitstream), 1 frame per
  second at 256x144 (or 144x256 / 192x192 by aspect ratio), so any MP4 parser and
  H.264 decoder accepts it. Small and fast to build; not a quality encoder.
- GLB: glTF 2.0 binary with one tetrahedron mesh.
- Blobs: N bytes of deterministic pseudo-random data, generated per 64 KiB block
  on demand (never held in memory as a whole), for large-output benchmarks.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import struct
import zlib
from array import array
from collections.abc import Iterator

BLOCK = 64 * 1024


def seeded(*parts: object) -> random.Random:
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _palette(seed: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    rng = random.Random(seed)
    a = tuple(rng.randrange(30, 226) for _ in range(3))
    b = tuple(rng.randrange(30, 226) for _ in range(3))
    return a, b  # type: ignore[return-value]


def _band_color(base: tuple[int, int, int], band: int, bands: int, shift: int) -> tuple[int, ...]:
    t = band / max(1, bands - 1)
    return tuple(max(0, min(255, int(c + (shift - c) * t * 0.6))) for c in base)


def _picture(
    width: int, height: int, seed: int
) -> tuple[int, list[tuple[tuple[int, ...], tuple[int, ...]]]]:
    """The shared picture: per 8-pixel band, (left colour, right colour); split column."""
    a, b = _palette(seed)
    bands = (height + 7) // 8
    split = ((width + 7) // 8 // 2) * 8
    rows = [(_band_color(a, i, bands, 255), _band_color(b, i, bands, 0)) for i in range(bands)]
    return split, rows


# --------------------------------------------------------------------------- PNG


def png(width: int, height: int, seed: int) -> bytes:
    split, bands = _picture(width, height, seed)
    lines = []
    for left, right in bands:
        line = b"\x00" + bytes(left) * split + bytes(right) * (width - split)
        lines.append(line)
    raw = b"".join(lines[y // 8] for y in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


# -------------------------------------------------------------------------- JPEG

_DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]  # ITU T.81 Annex K.3 (luminance DC)
_DC_CODES = [
    "00", "010", "011", "100", "101", "110", "1110", "11110", "111110", "1111110",
    "11111110", "111111110",
]  # fmt: skip
_EOB = "0"  # our one-symbol AC table: EOB (0x00) has the code "0"


def _ycc(rgb: tuple[int, ...]) -> tuple[int, int, int]:
    r, g, b = rgb
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return tuple(max(0, min(255, round(v))) - 128 for v in (y, cb, cr))  # type: ignore[return-value]


def _dc(diff: int) -> str:
    if diff == 0:
        return _DC_CODES[0]
    cat = abs(diff).bit_length()
    extra = diff if diff > 0 else diff + (1 << cat) - 1
    return _DC_CODES[cat] + format(extra, f"0{cat}b")


def jpeg(width: int, height: int, seed: int) -> bytes:
    split, bands = _picture(width, height, seed)
    mcus_x = (width + 7) // 8
    left_n = split // 8
    right_n = mcus_x - left_n
    pred = [0, 0, 0]
    zero_mcu = (_DC_CODES[0] + _EOB) * 3
    parts: list[str] = []
    for left, right in bands:
        for color, n in ((left, left_n), (right, right_n)):
            if n <= 0:
                continue
            ycc = _ycc(color)
            first = ""
            for c in range(3):
                first += _dc(ycc[c] - pred[c]) + _EOB
                pred[c] = ycc[c]
            parts.append(first + zero_mcu * (n - 1))
    bits = "".join(parts)
    bits += "1" * (-len(bits) % 8)
    scan = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    scan = scan.replace(b"\xff", b"\xff\x00")

    def seg(marker: int, payload: bytes) -> bytes:
        return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload

    qt = bytes([8] + [16] * 63)
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"".join(
        bytes([i, 0x11, 0]) for i in (1, 2, 3)
    )
    dht_dc = bytes([0x00]) + bytes(_DC_BITS) + bytes(range(12))
    dht_ac = bytes([0x10]) + bytes([1] + [0] * 15) + bytes([0])
    sos = bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0])
    return (
        b"\xff\xd8"
        + seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + seg(0xDB, b"\x00" + qt)
        + seg(0xC0, sof)
        + seg(0xC4, dht_dc + dht_ac)
        + seg(0xDA, sos)
        + scan
        + b"\xff\xd9"
    )


# --------------------------------------------------------------------------- WAV


def wav(duration_s: float, seed: int, rate: int = 16000) -> bytes:
    n = max(1, round(duration_s * rate))
    period = 20 + seed % 40
    one = array("h", (int(8000 * math.sin(2 * math.pi * i / period)) for i in range(period)))
    if struct.pack("=h", 1) != struct.pack("<h", 1):
        one.byteswap()
    cycle = one.tobytes()
    data = cycle * (n // period) + cycle[: 2 * (n % period)]
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(data)) + data


# --------------------------------------------------------------------------- GLB


def glb(seed: int) -> bytes:
    s = 1.0 + (seed % 5) / 10
    verts = [(0.0, s, 0.0), (-s, -s, s), (s, -s, s), (0.0, -s, -s)]
    pos = b"".join(struct.pack("<3f", *v) for v in verts)
    idx = struct.pack("<12H", 0, 1, 2, 0, 2, 3, 0, 3, 1, 1, 3, 2)
    binary = pos + idx
    gltf = {
        "asset": {"version": "2.0", "generator": "genmedia-sandbox"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(pos), "target": 34962},
            {"buffer": 0, "byteOffset": len(pos), "byteLength": len(idx), "target": 34963},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3",
             "min": [-s, -s, -s], "max": [s, s, s]},
            {"bufferView": 1, "componentType": 5123, "count": 12, "type": "SCALAR"},
        ],
    }  # fmt: skip
    js = json.dumps(gltf, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    binary += b"\x00" * (-len(binary) % 4)
    body = struct.pack("<I4s", len(js), b"JSON") + js + struct.pack("<I4s", len(binary), b"BIN\x00")
    body += binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


# --------------------------------------------------------------------------- MP4


class _Bits:
    def __init__(self) -> None:
        self.bits: list[str] = []

    def u(self, n: int, v: int) -> _Bits:
        self.bits.append(format(v, f"0{n}b"))
        return self

    def ue(self, v: int) -> _Bits:
        code = format(v + 1, "b")
        self.bits.append("0" * (len(code) - 1) + code)
        return self

    def se(self, v: int) -> _Bits:
        return self.ue(2 * v - 1 if v > 0 else -2 * v)

    def trailing(self) -> bytes:
        s = "".join(self.bits) + "1"
        s += "0" * (-len(s) % 8)
        return int(s, 2).to_bytes(len(s) // 8, "big")

    def aligned(self) -> bytes:
        s = "".join(self.bits)
        s += "0" * (-len(s) % 8)
        return int(s, 2).to_bytes(len(s) // 8, "big")


def _ep(rbsp: bytes) -> bytes:
    """H.264 emulation prevention (insert 0x03 after 00 00 before 00..03)."""
    out = bytearray()
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def _sps(mbw: int, mbh: int) -> bytes:
    w = _Bits()
    w.u(8, 66), w.u(8, 0), w.u(8, 30)  # profile Baseline, constraints, level 3.0
    w.ue(0), w.ue(0), w.ue(2), w.ue(0)  # sps id, log2_max_frame_num-4, poc type 2, refs
    w.u(1, 0), w.ue(mbw - 1), w.ue(mbh - 1), w.u(1, 1), w.u(1, 1), w.u(1, 0), w.u(1, 0)
    return b"\x67" + _ep(w.trailing())


def _pps() -> bytes:
    w = _Bits()
    w.ue(0), w.ue(0), w.u(1, 0), w.u(1, 0), w.ue(0), w.ue(0), w.ue(0), w.u(1, 0), w.u(2, 0)
    w.se(0), w.se(0), w.se(0), w.u(1, 0), w.u(1, 0), w.u(1, 0)
    return b"\x68" + _ep(w.trailing())


def _idr(mbw: int, mbh: int, frame: int, seed: int) -> bytes:
    head = _Bits()
    head.ue(0), head.ue(7), head.ue(0), head.u(4, 0), head.ue(frame % 2)
    head.u(1, 0), head.u(1, 0), head.se(0)  # ref pic marking, slice_qp_delta
    head.ue(25)  # first macroblock: I_PCM
    first = head.aligned()
    rng = random.Random(seed)
    bg = (rng.randrange(40, 200), rng.randrange(60, 190), rng.randrange(60, 190))
    fg = (235, 128, 128)
    bar = frame % mbw

    def mb(c: tuple[int, int, int]) -> bytes:
        return bytes([c[0]]) * 256 + bytes([c[1]]) * 64 + bytes([c[2]]) * 64

    prefix = b"\x0d\x00"  # ue(25) = 000011010 then alignment zeros
    row = [mb(fg if x == bar else bg) for x in range(mbw)]
    mbs = [row[x] for _ in range(mbh) for x in range(mbw)]
    body = first + mbs[0] + b"".join(prefix + m for m in mbs[1:]) + b"\x80"
    return b"\x65" + _ep(first) + body[len(first) :]


def _box(tag: bytes, *payload: bytes) -> bytes:
    data = b"".join(payload)
    return struct.pack(">I4s", 8 + len(data), tag) + data


def _full(tag: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(tag, struct.pack(">I", (version << 24) | flags), *payload)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def video_size(aspect_ratio: str | None) -> tuple[int, int]:
    if aspect_ratio in ("9:16", "3:4", "2:3"):
        return 144, 256
    if aspect_ratio in ("1:1",):
        return 192, 192
    return 256, 144


def mp4(duration_s: float, seed: int, width: int = 256, height: int = 144) -> bytes:
    frames = max(1, math.ceil(duration_s))
    mbw, mbh = width // 16, height // 16
    sps, pps = _sps(mbw, mbh), _pps()
    samples = []
    for f in range(frames):
        nal = _idr(mbw, mbh, f, seed)
        samples.append(struct.pack(">I", len(nal)) + nal)
    timescale, delta = 1000, 1000
    dur = frames * delta
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    avcc = _box(
        b"avcC",
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),
        struct.pack(">H", len(sps)),
        sps,
        b"\x01",
        struct.pack(">H", len(pps)),
        pps,
    )
    avc1 = _box(
        b"avc1",
        b"\x00" * 6 + struct.pack(">H", 1) + b"\x00" * 16,
        struct.pack(">HHIIIH", width, height, 0x480000, 0x480000, 0, 1),
        b"\x00" * 32,
        struct.pack(">Hh", 0x18, -1),
        avcc,
    )

    sizes = [struct.pack(">I", len(s)) for s in samples]

    def moov(offset: int) -> bytes:
        stbl = _box(
            b"stbl",
            _full(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
            _full(b"stts", 0, 0, struct.pack(">III", 1, frames, delta)),
            _full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, frames, 1)),
            _full(b"stsz", 0, 0, struct.pack(">II", 0, frames), *sizes),
            _full(b"stco", 0, 0, struct.pack(">II", 1, offset)),
        )  # fmt: skip
        minf = _box(
            b"minf",
            _full(b"vmhd", 0, 1, b"\x00" * 8),
            _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1))),
            stbl,
        )
        mdia = _box(
            b"mdia",
            _full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, dur, 0x55C4, 0)),
            _full(b"hdlr", 0, 0, b"\x00" * 4, b"vide", b"\x00" * 12, b"VideoHandler\x00"),
            minf,
        )
        tkhd = _full(
            b"tkhd", 0, 3,
            struct.pack(">IIIII", 0, 0, 1, 0, dur), b"\x00" * 8,
            struct.pack(">hhhH", 0, 0, 0, 0), _MATRIX,
            struct.pack(">II", width << 16, height << 16),
        )  # fmt: skip
        mvhd = _full(
            b"mvhd", 0, 0,
            struct.pack(">IIII", 0, 0, timescale, dur), struct.pack(">IH", 0x10000, 0x100),
            b"\x00" * 10, _MATRIX, b"\x00" * 24, struct.pack(">I", 2),
        )  # fmt: skip
        return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))

    size = len(moov(0))
    mdat = _box(b"mdat", *samples)
    return ftyp + moov(len(ftyp) + size + 8) + mdat


# ------------------------------------------------------------------------- blobs


def blob_block(seed: str, index: int, size: int) -> bytes:
    """Block ``index`` (64 KiB) of the deterministic blob ``seed`` of ``size`` bytes."""
    start = index * BLOCK
    n = max(0, min(BLOCK, size - start))
    return random.Random(f"{seed}:{index}").randbytes(n)


def blob_range(seed: str, size: int, start: int, end: int, chunk: int = BLOCK) -> Iterator[bytes]:
    """Yield bytes ``start..end`` (inclusive) of the blob, one block at a time."""
    pos = start
    while pos <= end:
        index = pos // BLOCK
        block = blob_block(seed, index, size)
        lo = pos - index * BLOCK
        hi = min(len(block), end - index * BLOCK + 1)
        yield block[lo:hi]
        pos = index * BLOCK + hi
