"""Photos, documents and evidence files: checked, stored, attached, served."""

from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from casework import policy
from casework.errors import Invalid, NotFound
from casework.evidence.models import Attachment
from casework.extensions import db
from workflows import binding

# Images straight from a tablet camera, and PDFs for scanned documents.
ALLOWED_KINDS = {"jpeg", "png", "webp", "heic", "pdf"}
MAX_FILES = 20


@dataclass
class StoredFile:
    checked: object  # casework.uploads.CheckedFile
    key: str


def store_files(files: list[tuple[str, BinaryIO]], *, field: str) -> list[StoredFile]:
    """Check every file by its content and store the good ones.

    Raises Invalid naming every bad file (and stores nothing then). The caller attaches
    the result with `attach()` in its own transaction, or calls `discard()` if that fails.
    """
    from casework.storage import get_storage
    from casework.uploads import check_upload

    if len(files) > MAX_FILES:
        raise Invalid({field: [_("At most %(n)d files at a time.", n=MAX_FILES)]})
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    checked, problems = [], []
    for name, stream in files:
        try:
            checked.append((check_upload(name, stream, allowed=ALLOWED_KINDS,
                                         max_bytes=max_bytes), stream))
        except Invalid as error:
            problems.append(error.message)
    if problems:
        raise Invalid({field: problems})
    storage = get_storage()
    stored = []
    try:
        for info, stream in checked:
            stream.seek(0)
            stored.append(StoredFile(info, storage.save(stream, content_type=info.content_type)))
    except BaseException:
        discard(stored)
        raise
    return stored


def store_with_errors(files: list[tuple[str, BinaryIO]], errors: dict, *,
                      field: str = "files") -> list[StoredFile]:
    """Store `files` unless they or the other fields (`errors`) are bad.

    Raises Invalid with the fields' and the files' problems together; nothing is stored
    then, so the user corrects everything in one round.
    """
    stored: list[StoredFile] = []
    try:
        stored = store_files(list(files), field=field) if files else []
    except Invalid as error:
        errors = {**errors, **error.details["errors"]}
    if errors:
        discard(stored)
        raise Invalid(errors)
    return stored


@contextmanager
def kept_only_if_committed(stored: list[StoredFile]):
    """A unit of work for the rows of `stored`: they commit when the block ends (with
    the enclosing unit, if any). If the block or its commit fails, the unit rolls back
    and the files are removed again, so no file outlives its rows. (Use it as the outer
    unit: inside another, a failure after this block would leave the files behind.)"""
    try:
        with binding.unit_of_work():
            yield
    except BaseException:
        discard(stored)
        raise


def attach(stored: list[StoredFile], *, actor, finding=None, submission=None,
           report=None) -> list[Attachment]:
    """Attachment rows for stored files, added to the session (the caller commits).
    Exactly one owner: a finding, an order's submission or a progress report."""
    rows = [
        Attachment(finding=finding, submission=submission, report=report, kind=s.checked.kind,
                   original_name=s.checked.original_name, content_type=s.checked.content_type,
                   size=s.checked.size, sha256=s.checked.sha256, storage_key=s.key,
                   uploaded_by_id=actor.id)
        for s in stored
    ]
    db.session.add_all(rows)
    return rows


def discard(stored: list[StoredFile]) -> None:
    """Remove stored files whose rows were never committed."""
    from casework.storage import get_storage

    storage = get_storage()
    for s in stored:
        try:
            storage.delete(s.key)
        except OSError:
            current_app.logger.warning("could not remove orphaned upload %s", s.key)


def open_attachment(attachment_uuid: str, actor) -> tuple[Attachment, BinaryIO]:
    """The attachment and its bytes, if the actor may see what it belongs to; else NotFound."""
    from casework.storage import get_storage

    attachment = db.session.scalar(sa.select(Attachment).where(Attachment.uuid == attachment_uuid))
    if attachment is None or not policy.allows("attachment_view", actor, attachment):
        raise NotFound()
    return attachment, get_storage().open(attachment.storage_key)
