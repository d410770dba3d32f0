"""Upload checks: the type comes from the content, sizes are capped, names are cleaned.

Every file is made here, byte by byte; messages are checked in English (the msgids)
so that the zh_CN translation of them does not change these tests.
"""

import hashlib
import io
import struct
import zlib

import pytest
from flask_babel import force_locale

from casework.errors import Invalid
from casework.storage import LocalStorage
from casework.uploads import (
    MAX_NAME_LENGTH,
    CheckedFile,
    check_upload,
    sanitize_filename,
    store_upload,
)

EVIDENCE = {"image", "pdf"}
MB = 1024 * 1024


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def make_png() -> bytes:
    """A complete, valid 1×1 white PNG."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", pixels)
            + _png_chunk(b"IEND", b""))


def make_jpeg() -> bytes:
    """The start of a JFIF JPEG (SOI, APP0) and its end marker."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def make_webp() -> bytes:
    payload = b"WEBP" + b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + b"\x00"
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def make_ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO base media file's first box, as HEIC photos and MP4 videos start."""
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    box = struct.pack(">I", 8 + len(body)) + b"ftyp" + body
    return box + struct.pack(">I", 8) + b"meta"


def make_pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
       b"<script>alert(1)</script></svg>")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"


def check(name, data, allowed=EVIDENCE, max_bytes=20 * MB, **kw) -> CheckedFile:
    return check_upload(name, io.BytesIO(data), allowed=allowed, max_bytes=max_bytes, **kw)


def refusal(name, data, **kw) -> str:
    with force_locale("en"), pytest.raises(Invalid) as info:
        check(name, data, **kw)
    messages = info.value.details["errors"][kw.get("field", "file")]
    assert len(messages) == 1
    return messages[0]


@pytest.mark.parametrize("name, data, kind, content_type, extension", [
    ("photo.png", make_png(), "image", "image/png", "png"),
    ("IMG_0001.JPG", make_jpeg(), "image", "image/jpeg", "jpg"),
    ("pic.webp", make_webp(), "image", "image/webp", "webp"),
    ("IMG_0002.HEIC", make_ftyp(b"heic", b"mif1", b"heic"), "image", "image/heic", "heic"),
    ("burst.heic", make_ftyp(b"heix", b"mif1", b"heix"), "image", "image/heic", "heic"),
    ("still.heif", make_ftyp(b"mif1", b"mif1", b"heic"), "image", "image/heif", "heif"),
    ("整改报告.pdf", make_pdf(), "pdf", "application/pdf", "pdf"),
    # Only the magic number is checked for a PDF: a damaged one is still a PDF.
    ("scan.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 4, "pdf", "application/pdf", "pdf"),
])
def test_accepted_types(name, data, kind, content_type, extension):
    checked = check(name, data)

    assert checked == CheckedFile(kind=kind, content_type=content_type, extension=extension,
                                  size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                  original_name=name)


def test_the_type_comes_from_the_content_not_the_name():
    checked = check("scan.jpg", make_png())
    assert (checked.content_type, checked.extension) == ("image/png", "png")
    assert checked.original_name == "scan.jpg"

    assert check("no-extension", make_pdf()).content_type == "application/pdf"


@pytest.mark.parametrize("data", [HTML, EXE, SVG, SVG.replace(b'<?xml version="1.0" encoding="UTF-8"?>\n', b""),
                                  b"GIF89a\x01\x00\x01\x00", b"PK\x03\x04 word document",
                                  make_ftyp(b"isom", b"isom", b"mp42"),  # an MP4 video
                                  make_ftyp(b"avif", b"mif1", b"avif"),
                                  b"just some text\n", b"\xef\xbb\xbf<html></html>",
                                  b" %PDF-1.4 not at the start"])
def test_renamed_files_are_refused_by_content(data):
    assert refusal("照片.jpg", data) == "照片.jpg: this file is not an image or PDF."


@pytest.mark.parametrize("data", [
    make_png() + b"<html><script>alert(1)</script></html>",
    make_jpeg()[:-2] + b"<SVG onload=alert(1)>",
    b"%PDF-1.4\n<iframe src=//example.org>",
])
def test_an_image_or_pdf_carrying_markup_is_refused(data):
    assert refusal("a.png", data) == (
        "a.png: this file contains web page or SVG code and cannot be accepted.")


def test_empty_file_is_refused():
    assert refusal("空.pdf", b"") == "空.pdf: the file is empty."


def test_oversize_file_is_refused_after_reading_at_most_the_limit_plus_one():
    class CountingStream(io.BytesIO):
        read_bytes = 0

        def read(self, n=-1):
            data = super().read(n)
            self.read_bytes += len(data)
            return data

    limit = 2 * MB
    stream = CountingStream(b"%PDF-1.4\n" + b"0" * (5 * MB))
    with force_locale("en"), pytest.raises(Invalid) as info:
        check_upload("big.pdf", stream, allowed=EVIDENCE, max_bytes=limit)

    assert str(info.value.message) == "big.pdf: the file is larger than the limit of 2 MB."
    assert stream.read_bytes <= limit + 1


def test_a_file_of_exactly_the_limit_is_accepted():
    data = make_pdf()
    assert check("a.pdf", data, max_bytes=len(data)).size == len(data)
    assert "larger than the limit of" in refusal("a.pdf", data, max_bytes=len(data) - 1)


@pytest.mark.parametrize("allowed, name, data, message", [
    ({"image"}, "r.pdf", make_pdf(), "r.pdf: this file is not an image."),
    ({"pdf"}, "p.png", make_png(), "p.png: this file is not a PDF."),
    ({"jpeg", "pdf"}, "p.png", make_png(),
     "p.png: this type of file is not accepted here (accepted: JPEG, PDF)."),
])
def test_allowed_types_narrow_what_is_accepted(allowed, name, data, message):
    assert refusal(name, data, allowed=allowed) == message


def test_allowed_types_may_name_formats_and_aliases():
    assert check("a.jpg", make_jpeg(), allowed={"jpg"}).kind == "image"
    assert check("a.heif", make_ftyp(b"mif1"), allowed={"HEIF"}).content_type == "image/heif"


def test_unknown_allowed_types_are_a_programming_error():
    with pytest.raises(ValueError, match="gif"):
        check("a.png", make_png(), allowed={"image", "gif"})


def test_errors_name_the_form_field():
    assert refusal("x.jpg", HTML, field="photos") == "x.jpg: this file is not an image or PDF."


def test_the_stream_is_read_from_its_start_and_rewound():
    stream = io.BytesIO(make_png())
    stream.seek(10)
    checked = check_upload("p.png", stream, allowed=EVIDENCE, max_bytes=MB)
    assert checked.size == len(make_png())
    assert stream.tell() == 0


def test_a_refused_file_is_named_by_its_cleaned_name():
    assert refusal("C:\\Users\\王\\Desktop\\../照片.jpg", HTML) == (
        "照片.jpg: this file is not an image or PDF.")


@pytest.mark.parametrize("raw, shown", [
    ("C:\\Users\\王\\Desktop\\照片.jpg", "照片.jpg"),
    ("../../etc/passwd", "passwd"),
    ("/var/www/index.html", "index.html"),
    ("report\x00.pdf", "report.pdf"),
    ("line\r\nbreak\t.pdf", "line break .pdf"),
    ("invoice\u202egpj.exe", "invoicegpj.exe"),  # right-to-left override removed
    ("  spaced   out  .png ", "spaced out .png"),
    ("Re\u0301sume\u0301.pdf", "Résumé.pdf"),  # NFC
    ("..", "upload"),
    ("", "upload"),
    (None, "upload"),
    ("dir/", "upload"),
])
def test_sanitize_filename(raw, shown):
    assert sanitize_filename(raw) == shown


def test_sanitize_filename_limits_length_and_keeps_the_extension():
    shown = sanitize_filename("很长的名字" * 100 + ".jpeg")
    assert len(shown) <= MAX_NAME_LENGTH
    assert shown.endswith("….jpeg")
    assert len(sanitize_filename("x" * 500)) <= MAX_NAME_LENGTH


def test_store_upload_stores_exactly_the_checked_bytes(tmp_path):
    storage = LocalStorage(tmp_path)
    data = make_jpeg()
    stream = io.BytesIO(data)
    checked = check_upload("../../照片.jpg", stream, allowed=EVIDENCE, max_bytes=MB)

    key = store_upload(storage, checked, stream)

    assert "照片" not in key and "jpg" not in key
    with storage.open(key) as f:
        assert f.read() == data


@pytest.mark.parametrize("change", [
    lambda s: s.write(b"<html>"),  # overwritten at the start
    lambda s: (s.seek(0, 2), s.write(b"more")),  # grown
    lambda s: s.truncate(5),  # shrunk
])
def test_store_upload_refuses_a_stream_changed_after_the_check(tmp_path, change):
    storage = LocalStorage(tmp_path)
    stream = io.BytesIO(make_png())
    checked = check_upload("p.png", stream, allowed=EVIDENCE, max_bytes=MB)
    change(stream)

    with pytest.raises(ValueError, match="changed"):
        store_upload(storage, checked, stream)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
