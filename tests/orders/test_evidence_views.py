"""Evidence files and finding photos: served with their checked type to those who may see
them, 404 for everyone else."""

import io
from urllib.parse import quote

import pytest
from factories import confirm_year, issue_order
from sample_files import PDF_BYTES, png_bytes

from casework.orders import services


@pytest.fixture(autouse=True)
def today(clock, db):
    clock("2025-03-03T09:00:00+08:00")
    confirm_year(db, 2025)


@pytest.fixture
def files(world, db, users):
    """(photo of a finding, PDF of a submission) of one order of the hospital."""
    order = issue_order(world, db, users, photos=True)
    services.fire_order(order.id, "acknowledge", actor=users["institution"], version=1)
    submission = services.submit_rectification(
        order.id, actor=users["institution"], version=2, report="报告",
        files=[("整改 报告.pdf", io.BytesIO(PDF_BYTES))])
    return order.findings[0].attachments[0], submission.attachments[0]


@pytest.mark.parametrize("role", ["institution", "inspector", "coordinator", "viewer"])
def test_permitted_users_get_the_file_inline(client, login, files, role):
    photo, pdf = files
    login.as_(role)
    response = client.get(f"/evidence/{photo.uuid}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.get_data() == png_bytes()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"] == \
        "inline; filename*=UTF-8''" + quote("现场照片.png", safe="")
    response = client.get(f"/evidence/{pdf.uuid}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data() == PDF_BYTES
    assert response.headers["Content-Disposition"] == \
        "inline; filename*=UTF-8''%E6%95%B4%E6%94%B9%20%E6%8A%A5%E5%91%8A.pdf"
    assert int(response.headers["Content-Length"]) == len(PDF_BYTES)


@pytest.mark.parametrize("role", ["other_institution", "district_coordinator", "admin"])
def test_others_get_404(client, login, files, role):
    login.as_(role)
    for attachment in files:
        assert client.get(f"/evidence/{attachment.uuid}").status_code == 404


def test_unknown_file_is_404_and_anonymous_users_are_sent_to_login(client, login, files):
    response = client.get(f"/evidence/{files[0].uuid}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login.as_("institution")
    assert client.get("/evidence/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.get("/evidence/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_a_file_missing_from_storage_is_404(client, login, files):
    from casework.storage import get_storage

    get_storage().delete(files[1].storage_key)
    login.as_("institution")
    assert client.get(f"/evidence/{files[1].uuid}").status_code == 404
