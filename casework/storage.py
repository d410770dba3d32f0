"""Where evidence files live: one small interface, a local directory or an S3 bucket.

Keys are made here, never from what a user sent: a random uuid4 in hex behind a
two-character fan-out directory, e.g. ``3f/3f9c0e...``. The database row keeps the key
and what the checks found (type, size, hash; see casework/uploads.py); the name the
user gave is kept for display only.

Pick the backend with ``STORAGE_BACKEND``:

- ``local`` (default): files under ``UPLOAD_DIR``, which must be outside the web root
  (files are served only through views that check permission). One web host, or
  several sharing that directory over a network file system.
- ``s3``: a bucket on any S3-compatible server (AWS S3, MinIO, Ceph RGW, moto) for
  several web hosts: ``S3_BUCKET``, ``S3_ENDPOINT_URL`` (unset for AWS itself),
  ``S3_REGION``, ``S3_ACCESS_KEY_ID``, ``S3_SECRET_ACCESS_KEY`` (unset: boto3's own
  credential chain). The bucket must exist and stay private; the application never
  hands out bucket URLs.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO

from flask import current_app

EXTENSION_KEY = "casework_storage"
_KEY_RE = re.compile(r"([0-9a-f]{2})/([0-9a-f]{32})")
_CHUNK = 1024 * 1024


class InvalidKey(ValueError):
    """A key this module did not make: never turned into a path or an object name."""


def new_key() -> str:
    """A fresh random key: ``ab/ab...`` (2-char fan-out, then the 32-hex uuid4)."""
    hex_ = uuid.uuid4().hex
    return f"{hex_[:2]}/{hex_}"


def validate_key(key: str) -> str:
    """Return `key` if it has exactly the shape `new_key` makes; raise InvalidKey."""
    match = _KEY_RE.fullmatch(key) if isinstance(key, str) else None
    if match is None or match.group(2)[:2] != match.group(1):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


class Storage(ABC):
    """Stores byte streams under keys it chooses itself."""

    @abstractmethod
    def save(self, stream: BinaryIO, *, content_type: str) -> str:
        """Store `stream` read from its current position to its end; return the new key."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A binary file-like object to read and close; FileNotFoundError if absent."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; removing one that is absent is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""


class LocalStorage(Storage):
    """Files in a directory tree: ``root/ab/ab...``, written atomically."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = (self.root / key).resolve()
        # The key's shape already rules out "..", "/" and the like; this second check
        # also holds if someone makes a fan-out directory a symlink to elsewhere.
        if not path.is_relative_to(self.root):
            raise InvalidKey(f"key leaves the storage root: {key!r}")
        return path

    def save(self, stream: BinaryIO, *, content_type: str) -> str:
        key = new_key()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write under a temporary name and rename: a reader never sees half a file,
        # and a failed upload leaves nothing behind.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")  # the caller closes it

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Storage(Storage):
    """Objects in one bucket of an S3-compatible server, named by the key."""

    def __init__(self, bucket: str, endpoint_url: str | None = None,
                 region: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None):
        import boto3
        from botocore.config import Config as BotoConfig

        if not bucket:
            raise ValueError("S3Storage needs a bucket name (S3_BUCKET)")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        config = BotoConfig(
            signature_version="s3v4",
            # Path-style URLs (host/bucket/key) work on MinIO and other servers
            # without wildcard DNS; AWS accepts them too.
            s3={"addressing_style": "path"},
            # Newer botocore adds CRC checksums to every upload by default; not every
            # S3-compatible server understands them, so send them only when required.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 3, "mode": "standard"},
        )
        # A session of our own: boto3's default session is not thread-safe to build.
        session = boto3.session.Session()
        self.client = session.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, config=config,
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    @staticmethod
    def _missing(error) -> bool:
        code = str(error.response.get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound"}

    def save(self, stream: BinaryIO, *, content_type: str) -> str:
        key = new_key()
        self.client.upload_fileobj(stream, self.bucket, key,
                                   ExtraArgs={"ContentType": content_type})
        return key

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        validate_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if self._missing(error):
                raise FileNotFoundError(f"no object {key!r} in bucket {self.bucket!r}") from None
            raise
        # botocore's StreamingBody: read(), iteration and close(); not seekable.
        return response["Body"]

    def delete(self, key: str) -> None:
        validate_key(key)
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        validate_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if self._missing(error):
                return False
            raise
        return True


def storage_from_config(config) -> Storage:
    """Build the storage that `config` (a Flask config mapping) describes."""
    backend = (config.get("STORAGE_BACKEND") or "local").strip().lower()
    if backend == "local":
        return LocalStorage(config["UPLOAD_DIR"])
    if backend == "s3":
        if not config.get("S3_BUCKET"):
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET to be set.")
        return S3Storage(
            bucket=config["S3_BUCKET"],
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            region=config.get("S3_REGION") or None,
            access_key=config.get("S3_ACCESS_KEY_ID") or None,
            secret_key=config.get("S3_SECRET_ACCESS_KEY") or None,
        )
    raise RuntimeError(f"Unknown STORAGE_BACKEND {backend!r}; use 'local' or 's3'.")


def get_storage(app=None) -> Storage:
    """The application's storage, built from its config once and kept in app.extensions."""
    if app is None:
        app = current_app._get_current_object()
    storage = app.extensions.get(EXTENSION_KEY)
    if storage is None:
        storage = app.extensions.setdefault(EXTENSION_KEY, storage_from_config(app.config))
    return storage
