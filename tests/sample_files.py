"""Small but real files for upload tests: the checks look at the content, not the name."""

import struct
import zlib

PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
HTML_AS_JPG = b"<!doctype html><html><script>alert(1)</script></html>"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bytes(colour=(200, 60, 40), size=24, *, width=None, height=None,
              stripes=False) -> bytes:
    """A valid PNG of one colour (or striped, so a thumbnail visibly shows a picture)."""
    width, height = width or size, height or size

    def pixel(x, y):
        if stripes and (x // 20 + y // 20) % 2 == 0:
            return bytes((240, 220, 90))
        return bytes(colour)

    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(rows))
            + _chunk(b"IEND", b""))
