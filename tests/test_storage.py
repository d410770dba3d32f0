"""Evidence storage: the local directory and an S3 bucket on a real local S3 server.

The S3 tests start moto's S3-compatible HTTP server in a thread on 127.0.0.1 (a free
port) and talk to it over HTTP with boto3, as the application would talk to MinIO.
"""

import hashlib
import io
import os
import re

import pytest
from flask import Flask

from casework.storage import (
    EXTENSION_KEY,
    InvalidKey,
    LocalStorage,
    S3Storage,
    get_storage,
    new_key,
    storage_from_config,
)
from casework.uploads import check_upload, store_upload

KEY_RE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}")

CRAFTED_KEYS = [
    "../outside.txt",
    "../../etc/passwd",
    "/etc/passwd",
    "ab/../../outside.txt",
    "ab/" + "0" * 32,  # fan-out prefix that does not match the name
    "AB/AB" + "0" * 30,  # upper case
    "ab/ab" + "0" * 30 + "\n",
    "ab\\ab" + "0" * 30,
    "ab/ab" + "0" * 30 + "/..",
    "ab/ab" + "0" * 30 + ".html",
    "%2e%2e/outside.txt",
    "ab" + "0" * 30,  # no fan-out directory
    "",
    None,
]


@pytest.fixture
def local(tmp_path):
    # A root that does not exist yet: the storage makes the directories it needs.
    return LocalStorage(tmp_path / "uploads" / "evidence")


def test_local_round_trip(local):
    key = local.save(io.BytesIO(b"%PDF-1.4 evidence"), content_type="application/pdf")

    assert KEY_RE.fullmatch(key) and key[:2] == key[3:5]
    assert (local.root / key).is_file()
    assert local.exists(key)
    with local.open(key) as f:
        assert f.read() == b"%PDF-1.4 evidence"

    local.delete(key)
    assert not local.exists(key)
    assert not (local.root / key).exists()
    local.delete(key)  # deleting twice is fine
    with pytest.raises(FileNotFoundError):
        local.open(key)


def test_local_keys_are_random(local):
    keys = {local.save(io.BytesIO(b"same bytes"), content_type="image/png") for _ in range(5)}
    assert len(keys) == 5
    assert not local.exists(new_key())


def test_local_leaves_no_partial_file_when_the_upload_breaks(local):
    class Broken(io.BytesIO):
        def read(self, n=-1):
            if self.tell() > 0:
                raise OSError("connection reset")
            return super().read(4)

    with pytest.raises(OSError, match="connection reset"):
        local.save(Broken(b"0123456789"), content_type="image/png")
    assert [p for p in local.root.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("key", CRAFTED_KEYS)
def test_local_crafted_keys_never_reach_the_disk(local, tmp_path, key):
    outside = tmp_path / "uploads" / "outside.txt"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_text("keep me")

    for call in (local.open, local.delete, local.exists):
        with pytest.raises(InvalidKey):
            call(key)
    assert outside.read_text() == "keep me"


def test_local_symlinked_fan_out_directory_is_refused(local, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    key = new_key()
    (elsewhere / key[3:]).write_bytes(b"secret")
    local.root.mkdir(parents=True)
    os.symlink(elsewhere, local.root / key[:2])

    with pytest.raises(InvalidKey):
        local.open(key)
    with pytest.raises(InvalidKey):
        local.delete(key)
    assert (elsewhere / key[3:]).read_bytes() == b"secret"


def test_get_storage_follows_config_and_is_cached(app, db):
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    assert str(storage.root) == os.path.realpath(app.config["UPLOAD_DIR"])
    assert get_storage(app) is storage
    assert app.extensions[EXTENSION_KEY] is storage


def test_get_storage_builds_s3_from_config():
    other = Flask("other")
    other.config.update(STORAGE_BACKEND="s3", S3_BUCKET="evidence",
                        S3_ENDPOINT_URL="http://127.0.0.1:9000", S3_REGION="us-east-1",
                        S3_ACCESS_KEY_ID="k", S3_SECRET_ACCESS_KEY="s")
    storage = get_storage(other)
    assert isinstance(storage, S3Storage)
    assert storage.bucket == "evidence"
    assert storage.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert get_storage(other) is storage


@pytest.mark.parametrize("config, message", [
    ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET"),
    ({"STORAGE_BACKEND": "ftp", "UPLOAD_DIR": "/tmp"}, "Unknown STORAGE_BACKEND 'ftp'"),
])
def test_storage_config_mistakes_are_named(config, message):
    with pytest.raises(RuntimeError, match=message):
        storage_from_config(config)


# --- S3 against a real S3-compatible server on the loopback interface --------------

BUCKET = "casework-evidence-test"


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def s3(s3_server):
    storage = S3Storage(bucket=BUCKET, endpoint_url=s3_server, region="us-east-1",
                        access_key="testing", secret_key="testing")
    storage.client.create_bucket(Bucket=BUCKET)
    return storage


def test_s3_round_trip(s3):
    key = s3.save(io.BytesIO(b"\x89PNG\r\n\x1a\n photo"), content_type="image/png")

    assert KEY_RE.fullmatch(key)
    assert s3.exists(key)
    head = s3.client.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "image/png"
    body = s3.open(key)
    try:
        assert body.read() == b"\x89PNG\r\n\x1a\n photo"
    finally:
        body.close()

    s3.delete(key)
    assert not s3.exists(key)
    s3.delete(key)  # deleting twice is fine
    with pytest.raises(FileNotFoundError):
        s3.open(key)


def test_s3_keys_are_random(s3):
    keys = {s3.save(io.BytesIO(b"same"), content_type="application/pdf") for _ in range(3)}
    assert len(keys) == 3
    listed = {o["Key"] for o in s3.client.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys <= listed


@pytest.mark.parametrize("key", CRAFTED_KEYS)
def test_s3_crafted_keys_are_refused(s3, key):
    for call in (s3.open, s3.delete, s3.exists):
        with pytest.raises(InvalidKey):
            call(key)


def test_s3_store_upload_of_a_large_pdf(s3):
    # Over boto3's 8 MB multipart threshold, through the verifying reader (which is not
    # seekable): the path a big scanned report takes.
    data = b"%PDF-1.7\n" + os.urandom(9 * 1024 * 1024)
    stream = io.BytesIO(data)
    checked = check_upload("报告.pdf", stream, allowed={"image", "pdf"},
                           max_bytes=20 * 1024 * 1024)

    key = store_upload(s3, checked, stream)

    body = s3.open(key)
    try:
        stored = body.read()
    finally:
        body.close()
    assert hashlib.sha256(stored).hexdigest() == checked.sha256 == hashlib.sha256(data).hexdigest()
    assert s3.client.head_object(Bucket=BUCKET, Key=key)["ContentType"] == "application/pdf"
    s3.delete(key)
