"""The administrators' settings page: every definition with its label, errors per field
in the user's language, admins only."""

import pytest
from factories import csrf_token, unchanged

from casework.settings import services


def test_admin_sees_and_changes_settings(client, login, db, users):
    login.as_("admin")
    html = client.get("/admin/settings").get_data(as_text=True)
    for key in services.DEFINITIONS:
        assert f'name="{key}"' in html
    assert "投诉办理时限（自然日）" in html
    assert 'href="/admin/settings"' in html  # the navigation item
    token = csrf_token(client, "/admin/settings")
    values = {**services.current(), "complaint_handling_days": "20"}
    response = client.post("/admin/settings", data={"csrf_token": token, **values})
    assert response.status_code == 302
    assert services.get("complaint_handling_days") == 20


def test_bad_values_are_shown_per_field_and_nothing_saved(client, login, db, users):
    login.as_("admin")
    token = csrf_token(client, "/admin/settings")
    values = {**services.current(), "complaint_handling_days": "abc",
              "points_threshold_staff": "0", "complaint_reminder_days": "5"}
    response = client.post("/admin/settings", data={"csrf_token": token, **values})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请输入整数。" in html and "请输入 1 至 1000 之间的数字。" in html
    assert 'value="abc"' in html
    assert services.get("complaint_reminder_days") == 3


@pytest.mark.parametrize("role", ["coordinator", "inspector", "viewer", "institution"])
def test_only_admins(client, login, db, users, role):
    login.as_(role)
    assert client.get("/admin/settings").status_code == 403
    token = csrf_token(client, "/dashboard")
    with unchanged(db, "setting"):
        assert client.post("/admin/settings", data={
            "csrf_token": token, "complaint_handling_days": "1"}).status_code == 403
    assert services.get("complaint_handling_days") == 15
