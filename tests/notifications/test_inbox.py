"""The inbox through HTTP: only one's own notifications, the unread badge, marking read
(POST with CSRF only), 404 for someone else's, constant queries, every kind's text, and
the e-mail preference page."""

import re

import pytest
import sqlalchemy as sa
from factories import csrf_token, fresh

from casework.notifications import services
from casework.notifications.kinds import KINDS, render_in
from casework.notifications.models import Notification
from casework.notifications.services import Notice, notify

INBOX = "/notifications/"

# One example of each kind, with the params the sweeps write.
EXAMPLES = {
    "order_deadline_reminder": {"number": "ZW-2022-001", "deadline": "2022-03-01", "days": 3},
    "order_overdue": {"number": "ZW-2022-001", "deadline": "2022-03-01"},
    "order_escalated": {"number": "ZW-2022-001", "deadline": "2022-03-01",
                        "institution": "Zhongwei People's Hospital"},
    "report_created": {"period_start": "2022-01-01", "period_end": "2022-03-31",
                       "due_on": "2022-03-31"},
    "report_due": {"due_on": "2022-03-31", "days": 7},
    "report_overdue": {"due_on": "2022-03-31", "institution": "Binhe Clinic"},
    "supervision_report_due": {"campaign": "Test campaign", "month": "2022-02",
                               "due_on": "2022-02-28", "days": 1},
    "bulletin_draft": {"campaign": "Test campaign", "period_start": "2022-01-01",
                       "period_end": "2022-06-30"},
    "case_phase_blocked": {"institution": "Binhe Clinic",
                           "reasons": ["Every order must be closed first.", "理由二"]},
    "complaint_deadline_reminder": {"number": "#12", "category": "red_envelope",
                                    "deadline": "2022-03-01", "days": 3},
    "complaint_overdue": {"number": "#12", "category": "over_treatment",
                          "deadline": "2022-03-01"},
    "points_threshold_institution": {"institution": "Binhe Clinic", "year": 2022,
                                     "total": 12, "threshold": 12},
    "points_threshold_staff": {"institution": "Binhe Clinic", "staff": "Li Ming", "year": 2022,
                               "total": 13, "threshold": 12},
}
# What an English reader must see for each example (subject, then text).
ENGLISH = {
    "order_deadline_reminder": ("Order ZW-2022-001 is due in 3 days", "March 1, 2022"),
    "order_overdue": ("Order ZW-2022-001 is overdue", "deadline of March 1, 2022"),
    "order_escalated": ("Order ZW-2022-001 has been escalated",
                        "of Zhongwei People's Hospital has been overdue since March 1, 2022"),
    "report_created": ("New progress report to fill in",
                       "January 1, 2022 to March 31, 2022"),
    "report_due": ("Progress report due in 7 days", "due on March 31, 2022, in 7 days"),
    "report_overdue": ("Progress report of Binhe Clinic is overdue", "March 31, 2022"),
    "supervision_report_due": ("Supervision report for February 2022 due in 1 day",
                               "of Test campaign for February 2022 is due on February 28, 2022"),
    "bulletin_draft": ("Bulletin draft ready for review",
                       "of Test campaign for January 1, 2022 to June 30, 2022"),
    "case_phase_blocked": ("Phase change blocked for Binhe Clinic", "- 理由二"),
    "complaint_deadline_reminder": ("Complaint #12 is due in 3 days",
                                    "(Red envelopes and kickbacks) must be handled by "
                                    "March 1, 2022, in 3 days"),
    "complaint_overdue": ("Complaint #12 is overdue",
                          "(Over-treatment) passed its handling deadline of March 1, 2022"),
    "points_threshold_institution": ("Binhe Clinic reached the points threshold",
                                     "has 12 bad-conduct points in 2022, at or above the "
                                     "threshold of 12"),
    "points_threshold_staff": ("Li Ming of Binhe Clinic reached the points threshold",
                               "has 13 bad-conduct points in 2022"),
}


def make_notices(db, user, n, *, kind="order_overdue", prefix="n", read=0):
    notify([Notice(user_id=user.id, key=f"{prefix}:{i}", kind=kind,
                   params={"number": f"ZW-{i:03d}", "deadline": "2022-03-01"},
                   link=f"/orders/{i}") for i in range(n)])
    db.session.commit()
    rows = list(db.session.scalars(sa.select(Notification).where(
        Notification.user_id == user.id, Notification.key.startswith(f"{prefix}:"))
        .order_by(Notification.id)))
    for row in rows[:read]:
        services.mark_read(row.id, user)
    return rows


def html(response) -> str:
    return response.get_data(as_text=True)


def ids_on_page(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="notification" data-id="(\d+)"',
                                       html(response))]


def badge(response) -> str | None:
    match = re.search(r'data-testid="unread-count">([^<]*)<', html(response))
    return match.group(1) if match else None


def post(client, path, data=None, with_csrf=True):
    data = dict(data or {})
    if with_csrf:
        data["csrf_token"] = csrf_token(client, INBOX)
    return client.post(path, data=data)


def english(db, user):
    """Read the pages in English: the assertions then quote the source strings."""
    user.locale = "en"
    db.session.commit()


def test_inbox_needs_login(client):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_inbox_lists_only_the_owners_notifications_newest_first(client, login, users, db):
    mine = make_notices(db, users["institution"], 3, prefix="mine")
    theirs = make_notices(db, users["coordinator"], 2, prefix="theirs")
    login.as_("institution")

    response = client.get(INBOX)

    assert response.status_code == 200
    assert ids_on_page(response) == [row.id for row in reversed(mine)]
    assert not set(ids_on_page(response)) & {row.id for row in theirs}
    # Each with its link.
    for row in mine:
        assert f'href="{row.link}"' in html(response)


def test_unread_notifications_are_highlighted_and_counted_in_the_navbar(client, login,
                                                                        users, db):
    rows = make_notices(db, users["institution"], 3, read=1)
    login.as_("institution")

    response = client.get(INBOX)

    assert badge(response) == "2"
    page = html(response)
    assert f'data-id="{rows[0].id}" data-kind="order_overdue" data-unread="false"' in page
    assert f'data-id="{rows[1].id}" data-kind="order_overdue" data-unread="true"' in page
    # The badge is on every page, not only the inbox.
    assert badge(client.get("/dashboard")) == "2"


def test_no_badge_without_unread_notifications(client, login, users, db):
    make_notices(db, users["institution"], 2, read=2)
    login.as_("institution")
    response = client.get("/dashboard")
    assert 'data-testid="nav-notifications"' in html(response)
    assert badge(response) is None


def test_mark_one_read(client, login, users, db):
    rows = make_notices(db, users["institution"], 2)
    login.as_("institution")

    response = post(client, f"/notifications/{rows[0].id}/read", {"page": 1})

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/notifications/?page=1")
    assert fresh(db, rows[0]).read_at is not None
    assert fresh(db, rows[1]).read_at is None
    assert badge(client.get(INBOX)) == "1"
    # Again: no change, no error.
    read_at = fresh(db, rows[0]).read_at
    assert post(client, f"/notifications/{rows[0].id}/read").status_code == 302
    assert fresh(db, rows[0]).read_at == read_at


def test_mark_all_read_touches_only_ones_own(client, login, users, db):
    english(db, users["institution"])
    mine = make_notices(db, users["institution"], 3, prefix="mine")
    theirs = make_notices(db, users["other_institution"], 2, prefix="theirs")
    login.as_("institution")

    response = post(client, "/notifications/read-all")

    assert response.status_code == 302
    assert all(fresh(db, row).read_at is not None for row in mine)
    assert all(fresh(db, row).read_at is None for row in theirs)
    page = client.get(INBOX)
    assert badge(page) is None
    assert "3 notifications marked as read." in html(page)


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, login, users,
                                                                    db):
    notify([Notice(user_id=users["institution"].id, key="with-link", kind="order_overdue",
                   params={"number": "ZW-1", "deadline": "2022-03-01"}, link="/orders/7"),
            Notice(user_id=users["institution"].id, key="off-site", kind="order_overdue",
                   params={"number": "ZW-2", "deadline": "2022-03-01"},
                   link="//evil.example/x")])
    db.session.commit()
    with_link, off_site = db.session.scalars(
        sa.select(Notification).order_by(Notification.id)).all()
    login.as_("institution")
    assert 'data-href="/orders/7"' in html(client.get(INBOX))

    response = post(client, f"/notifications/{with_link.id}/open")

    assert response.status_code == 302 and response.headers["Location"] == "/orders/7"
    assert fresh(db, with_link).read_at is not None
    # A stored link off the site is never followed: back to the inbox instead.
    response = post(client, f"/notifications/{off_site.id}/open")
    assert response.headers["Location"].endswith("/notifications/")
    assert fresh(db, off_site).read_at is not None


def test_someone_elses_notification_cannot_be_opened(client, login, users, db):
    theirs = make_notices(db, users["coordinator"], 1)[0]
    login.as_("institution")
    assert post(client, f"/notifications/{theirs.id}/open").status_code == 404
    assert fresh(db, theirs).read_at is None


@pytest.mark.parametrize("path", ["/notifications/{id}/read", "/notifications/read-all",
                                  "/notifications/{id}/open"])
def test_marking_read_is_post_only_with_csrf(client, login, users, db, path):
    rows = make_notices(db, users["institution"], 1)
    login.as_("institution")
    path = path.format(id=rows[0].id)

    assert client.get(path).status_code == 405
    assert post(client, path, with_csrf=False).status_code == 400
    assert post(client, path, {"csrf_token": "forged"}, with_csrf=False).status_code == 400
    assert fresh(db, rows[0]).read_at is None


def test_someone_elses_notification_is_not_found(client, login, users, db):
    theirs = make_notices(db, users["coordinator"], 1)[0]
    login.as_("institution")

    assert post(client, f"/notifications/{theirs.id}/read").status_code == 404
    assert post(client, "/notifications/999999/read").status_code == 404
    assert fresh(db, theirs).read_at is None


def test_inbox_is_paginated(client, login, users, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    rows = make_notices(db, users["institution"], 6)
    login.as_("institution")

    first, second = client.get(INBOX), client.get(INBOX + "?page=2")

    assert ids_on_page(first) == [row.id for row in reversed(rows)][:4]
    assert ids_on_page(second) == [rows[1].id, rows[0].id]
    assert "?page=2" in html(first)


def test_inbox_query_count_does_not_grow_with_notifications(client, login, users, db,
                                                            count_queries):
    user = users["institution"]
    make_notices(db, user, 5, prefix="few")
    login.as_("institution")
    with count_queries() as few:
        assert client.get(INBOX).status_code == 200
    make_notices(db, user, 45, prefix="many")
    with count_queries() as many:
        response = client.get(INBOX)
    assert len(ids_on_page(response)) == 50
    assert len(many) == len(few), "\n".join(many)
    # The badge costs one query, not one per use.
    unread_counts = [s for s in many if "count" in s.lower() and "read_at IS NULL" in s]
    assert len(unread_counts) == 1, unread_counts


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_reads_well_in_english(client, login, users, db, kind):
    assert set(EXAMPLES) == set(KINDS)
    user = users["institution"]
    english(db, user)
    notify([Notice(user_id=user.id, key=f"example:{kind}", kind=kind,
                   params=EXAMPLES[kind], link="/orders/")])
    db.session.commit()
    login.as_("institution")

    page = html(client.get(INBOX)).replace("&#39;", "'")

    subject, text = ENGLISH[kind]
    assert subject in page
    assert text in page
    assert "New notification" not in page


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_chinese_with_chinese_dates(app, kind):
    with app.test_request_context():
        rendered = render_in("zh_CN", kind, EXAMPLES[kind])
    assert rendered.subject and rendered.text
    if any(key in EXAMPLES[kind] for key in ("deadline", "due_on", "period_start")):
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", rendered.text), rendered.text


@pytest.mark.parametrize("kind, params", [
    ("no_such_kind", {"number": "X"}),
    ("order_overdue", {}),
    ("order_overdue", {"number": "ZW-1", "deadline": "not a date"}),
    ("order_deadline_reminder", {"number": "ZW-1", "deadline": "2022-03-01", "days": "x"}),
    ("case_phase_blocked", {"institution": "A", "reasons": 3}),
    ("supervision_report_due", {"campaign": "C", "month": "2022-13", "due_on": "2022-02-28",
                                "days": 1}),
    ("report_due", None),
])
def test_unknown_kinds_and_bad_params_render_the_generic_line(client, login, users, db,
                                                                kind, params):
    user = users["institution"]
    english(db, user)
    notify([Notice(user_id=user.id, key="odd", kind=kind, params=params)])
    db.session.commit()
    login.as_("institution")

    response = client.get(INBOX)

    assert response.status_code == 200
    assert "New notification" in html(response)


def test_names_given_in_both_languages_follow_the_reader(app):
    params = {"number": "ZW-1", "deadline": "2022-03-01",
              "institution": {"zh_CN": "中卫市人民医院", "en": "Zhongwei People's Hospital"}}
    with app.test_request_context():
        assert "Zhongwei People's Hospital" in render_in("en", "order_escalated", params).text
        assert "中卫市人民医院" in render_in("zh_CN", "order_escalated", params).text


def test_a_link_off_the_site_is_not_rendered(client, login, users, db):
    notify([Notice(user_id=users["institution"].id, key="bad-link", kind="order_overdue",
                   params={"number": "ZW-1", "deadline": "2022-03-01"},
                   link="javascript:alert(1)")])
    db.session.commit()
    login.as_("institution")
    page = html(client.get(INBOX))
    assert "javascript:" not in page
    assert 'data-testid="notification-link"' not in page


# --- the e-mail preference ---------------------------------------------------------

SETTINGS = "/notifications/settings"


def save_settings(client, enabled, email):
    data = {"csrf_token": csrf_token(client, SETTINGS), "email": email}
    if enabled:
        data["email_notifications"] = "y"
    return client.post(SETTINGS, data=data)


def test_preferences_page_shows_the_current_choice(client, login, users, db):
    user = users["institution"]
    user.email, user.email_notifications = "hosp@example.org", True
    db.session.commit()
    login.as_("institution")

    page = html(client.get(SETTINGS))

    assert 'value="hosp@example.org"' in page
    assert re.search(r'id="email_notifications"[^>]*checked', page)


def test_preferences_are_saved(client, login, users, db):
    user = users["institution"]
    login.as_("institution")

    response = save_settings(client, True, "  hosp@example.org ")

    assert response.status_code == 302
    user = fresh(db, user)
    assert (user.email, user.email_notifications) == ("hosp@example.org", True)
    assert save_settings(client, False, "").status_code == 302
    user = fresh(db, user)
    assert (user.email, user.email_notifications) == (None, False)


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "two words@example.org",
                                   "a@example.org\r\nBcc: x@example.org", "x" * 250 + "@e.org",
                                   "名字@example.org"])
def test_a_bad_address_is_refused_and_nothing_saved(client, login, users, db, email):
    user = users["institution"]
    user.email, user.email_notifications, user.locale = "old@example.org", False, "en"
    db.session.commit()
    login.as_("institution")

    response = save_settings(client, True, email)

    assert response.status_code == 422
    page = html(response)
    assert 'data-error="email"' in page
    assert "e-mail address" in page
    user = fresh(db, user)
    assert (user.email, user.email_notifications) == ("old@example.org", False)


def test_email_on_needs_an_address(client, login, users, db):
    user = users["institution"]
    english(db, user)
    login.as_("institution")

    response = save_settings(client, True, "")

    assert response.status_code == 422
    assert "Enter an e-mail address to receive notifications by e-mail." in html(response)
    user = fresh(db, user)
    assert (user.email, user.email_notifications) == (None, True)


def test_preferences_need_csrf(client, login, users):
    login.as_("institution")
    response = client.post(SETTINGS, data={"email": "a@example.org",
                                           "email_notifications": "y"})
    assert response.status_code == 400
