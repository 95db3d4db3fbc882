#!/usr/bin/env python3
"""Draws samples/mug_224.png: a 224x224 RGB picture of a coffee mug on a table, made from
nothing but arithmetic (no photo, no library beyond the Python standard library), so the
repository can ship a sample image with no third-party rights. Byte-identical on every run.

    python3 samples/make_sample.py [OUT.png]      (default: samples/mug_224.png)

Licence: CC0 1.0 (public domain dedication), as samples/README.md states.
"""

import math
import struct
import sys
import zlib
from pathlib import Path

W = H = 224


def pixel(x, y):
    # Wall: a soft vertical gradient; table: a warm brown from y = 150 down, with wood grain.
    if y < 150:
        r, g, b = 196 - y // 3, 214 - y // 4, 232 - y // 5
    else:
        grain = int(10 * math.sin(x / 9.0 + 3 * math.sin(y / 7.0)))
        r, g, b = 150 + grain, 96 + grain, 54 + grain // 2
    # Shadow of the mug on the table.
    if 150 <= y < 176 and ((x - 112) / 62.0) ** 2 + ((y - 163) / 11.0) ** 2 <= 1:
        r, g, b = r * 2 // 3, g * 2 // 3, b * 2 // 3
    # Handle: a ring to the right of the body.
    d = math.hypot(x - 150, y - 104)
    if 20 <= d <= 31 and x > 150:
        shade = int(40 * (d - 20) / 11)
        r, g, b = 190 - shade, 40 - shade // 4, 40 - shade // 4
    # Body: a cylinder from x 66 to 150, y 56 to 162, shaded left to right.
    if 66 <= x <= 150 and 56 <= y <= 162:
        t = (x - 66) / 84.0
        light = 0.55 + 0.45 * math.sin(math.pi * (0.15 + 0.7 * t))
        r, g, b = int(215 * light), int(45 * light), int(45 * light)
        if 96 <= y <= 118:  # a white band with a darker stripe
            r, g, b = int(240 * light), int(236 * light), int(228 * light)
            if 104 <= y <= 109:
                r, g, b = int(60 * light), int(70 * light), int(120 * light)
    # Rim and coffee: an ellipse on top.
    e = ((x - 108) / 42.0) ** 2 + ((y - 56) / 9.0) ** 2
    if e <= 1:
        r, g, b = (70, 40, 22) if e <= 0.72 else (236, 226, 220)
    return bytes((max(0, min(255, r)), max(0, min(255, g)), max(0, min(255, b))))


def png(width, height, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + row for row in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "mug_224.png"
    rows = [b"".join(pixel(x, y) for x in range(W)) for y in range(H)]
    out.write_bytes(png(W, H, rows))
    print(f"wrote {out} ({out.stat().st_size} bytes, {W}x{H} RGB)")


if __name__ == "__main__":
    main()
