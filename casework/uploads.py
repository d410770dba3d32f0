"""Checking uploaded evidence before it is stored: type from the content, size, name.

What a file is comes from its first bytes (magic numbers), never from its name or from
the content type the browser sent: a web page renamed ``photo.jpg`` is refused, a PNG
named ``scan.jpg`` is accepted and recorded as PNG. Web pages and SVG drawings are
never accepted, since a browser could run script in them. The name the user gave is
cleaned for display and kept; the stored object's key is random (casework/storage.py).

Accepted: JPEG, PNG, WebP, HEIC/HEIF (what iPads save camera photos as) and PDF.

Not done yet: images are stored as sent, EXIF/GPS metadata included. Re-encoding them
(Pillow, plus pillow-heif for HEIC) would strip it; it needs those dependencies.
"""

from __future__ import annotations

import hashlib
import posixpath
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import gettext as _

from casework.errors import Invalid
from casework.storage import Storage

_CHUNK = 64 * 1024
# How much of the start of a file is examined for its type and for markup.
_HEAD = 1024
MAX_NAME_LENGTH = 120


@dataclass(frozen=True)
class Format:
    name: str  # also what ALLOWED_EVIDENCE_TYPES may list
    kind: str  # "image" | "pdf", as Attachment.kind
    content_type: str
    extension: str


JPEG = Format("jpeg", "image", "image/jpeg", "jpg")
PNG = Format("png", "image", "image/png", "png")
WEBP = Format("webp", "image", "image/webp", "webp")
HEIC = Format("heic", "image", "image/heic", "heic")
HEIF = Format("heic", "image", "image/heif", "heif")  # allowed under the name "heic" too
PDF = Format("pdf", "pdf", "application/pdf", "pdf")

KINDS = frozenset({"image", "pdf"})
FORMAT_NAMES = frozenset({"jpeg", "png", "webp", "heic", "pdf"})
_ALIASES = {"jpg": "jpeg", "heif": "heic"}

# ISO base media "ftyp" major brands of HEIF images: HEVC-coded (heic...) and the
# generic HEIF image brands (mif1, msf1). AVIF, MP4 and QuickTime brands are not here.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"heif"})

# Markup that a browser would render as a page or run as script. Looked for at the
# start of every file, so an image with a page glued behind its magic number (a
# polyglot) is refused as well.
_MARKUP = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg",
           b"<iframe", b"<object", b"<embed")


@dataclass(frozen=True)
class CheckedFile:
    """What check_upload found out about an upload."""

    kind: str  # "image" | "pdf"
    content_type: str  # from the content, e.g. "image/png"
    extension: str  # from the content, without the dot: "jpg", "png", "pdf"...
    size: int  # bytes
    sha256: str  # hex
    original_name: str  # the user's name for it, cleaned for display only


def sniff(head: bytes) -> Format | None:
    """The format whose magic number `head` (the first bytes of a file) starts with."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and int.from_bytes(head[:4], "big") >= 16:
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return HEIC
        if brand in _HEIF_BRANDS:
            return HEIF
        return None
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def has_markup(head: bytes) -> bool:
    """Whether `head` holds HTML or SVG tags that a browser might act on."""
    lowered = head.lower()
    return any(tag in lowered for tag in _MARKUP)


def sanitize_filename(name: str | None, fallback: str = "upload") -> str:
    """The user's file name made safe to show: no directories, no control or
    direction-changing characters, whitespace collapsed, at most MAX_NAME_LENGTH
    characters (the extension kept). Never use it as a path."""
    name = unicodedata.normalize("NFC", name or "")
    # Browsers on Windows and some apps send the whole path; keep the last part.
    name = posixpath.basename(name.replace("\\", "/"))
    # Tabs, line breaks and odd spaces become one plain space; then the remaining
    # control characters (Cc), format characters (Cf, e.g. U+202E right-to-left
    # override, which shows "gpj.exe" as "exe.jpg") and lone surrogates (Cs) go.
    name = " ".join(name.split())
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"})
    name = " ".join(name.split())
    if name.strip(".") == "":
        return fallback
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 2].rstrip() + "…." + ext
        else:
            name = name[: MAX_NAME_LENGTH - 1].rstrip() + "…"
    return name


def _normalise_allowed(allowed) -> frozenset[str]:
    names = frozenset(_ALIASES.get(a.lower(), a.lower()) for a in allowed)
    unknown = names - KINDS - FORMAT_NAMES
    if unknown or not names:
        raise ValueError(f"allowed upload types must be among {sorted(KINDS | FORMAT_NAMES)}, "
                         f"got {sorted(allowed)}")
    return names


def _is_allowed(fmt: Format, allowed: frozenset[str]) -> bool:
    return fmt.kind in allowed or fmt.name in allowed


def _wrong_type_message(name: str, allowed: frozenset[str]) -> str:
    images = "image" in allowed or {"jpeg", "png", "webp", "heic"} <= allowed
    pdfs = "pdf" in allowed
    if images and pdfs:
        return _("%(name)s: this file is not an image or PDF.", name=name)
    if images:
        return _("%(name)s: this file is not an image.", name=name)
    if allowed == {"pdf"}:
        return _("%(name)s: this file is not a PDF.", name=name)
    labels = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "heic": "HEIC", "pdf": "PDF"}
    accepted = ", ".join(labels[n] for n in sorted(allowed & FORMAT_NAMES))
    return _("%(name)s: this type of file is not accepted here (accepted: %(types)s).",
             name=name, types=accepted)


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return f"{n} B"


def check_upload(filename: str | None, stream: BinaryIO, *, allowed, max_bytes: int,
                 field: str = "file") -> CheckedFile:
    """Check an uploaded file and describe it.

    `stream` must be seekable (Werkzeug's FileStorage.stream is); it is read from its
    start, at most `max_bytes` + 1 bytes, and rewound. `allowed` lists kinds ("image",
    "pdf") and/or formats ("jpeg", "png", "webp", "heic", "pdf").

    Returns a CheckedFile. Raises Invalid ({field: [message]}, the message naming the
    file) for an empty file, one over `max_bytes`, one whose content is not an
    allowed type, and one that carries HTML or SVG markup. Raises ValueError for an
    `allowed` that names unknown types.
    """
    allowed = _normalise_allowed(allowed)
    name = sanitize_filename(filename)

    def refuse(message: str):
        raise Invalid({field: [message]})

    stream.seek(0)
    digest = hashlib.sha256()
    head = b""
    size = 0
    try:
        while size <= max_bytes:
            chunk = stream.read(min(_CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            if len(head) < _HEAD:
                head += chunk[: _HEAD - len(head)]
            digest.update(chunk)
            size += len(chunk)
    finally:
        stream.seek(0)

    if size == 0:
        refuse(_("%(name)s: the file is empty.", name=name))
    if size > max_bytes:
        refuse(_("%(name)s: the file is larger than the limit of %(limit)s.",
                 name=name, limit=_human_size(max_bytes)))
    fmt = sniff(head)
    if fmt is None or not _is_allowed(fmt, allowed):
        refuse(_wrong_type_message(name, allowed))
    if has_markup(head):
        refuse(_("%(name)s: this file contains web page or SVG code and cannot be accepted.",
                 name=name))
    return CheckedFile(kind=fmt.kind, content_type=fmt.content_type, extension=fmt.extension,
                       size=size, sha256=digest.hexdigest(), original_name=name)


class _VerifyingReader:
    """Passes a stream through, counting and hashing; stops one byte past `limit`."""

    def __init__(self, stream: BinaryIO, limit: int):
        self._stream = stream
        self._left = limit + 1
        self.size = 0
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._stream.read(n)
        self._left -= len(data)
        self.size += len(data)
        self.digest.update(data)
        return data


def store_upload(storage: Storage, checked: CheckedFile, stream: BinaryIO) -> str:
    """Store the checked file's bytes (the whole of `stream`, from its start); return
    the storage key.

    The bytes stored are hashed on the way: if they are not those that check_upload
    examined (the stream changed in between), the object is deleted again and
    ValueError raised, so an unchecked file can never end up stored.
    """
    stream.seek(0)
    reader = _VerifyingReader(stream, checked.size)
    key = storage.save(reader, content_type=checked.content_type)
    if reader.size != checked.size or reader.digest.hexdigest() != checked.sha256:
        storage.delete(key)
        raise ValueError("the upload changed between check_upload and store_upload")
    return key
