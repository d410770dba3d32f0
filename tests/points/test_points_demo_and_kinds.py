"""Demo points data is idempotent; the new notification kinds render in Chinese."""

from factories import count
from flask_babel import force_locale

from casework.institutions.models import StaffMember
from casework.notifications.kinds import render
from casework.points.demo import load_points_demo
from casework.points.models import PointsEntry, PointsRule


def test_demo_points_load_twice_adds_nothing(world, db):
    load_points_demo()
    first = (count(db, PointsRule), count(db, StaffMember), count(db, PointsEntry))
    assert first == (4, 6, 4)
    load_points_demo()
    assert (count(db, PointsRule), count(db, StaffMember), count(db, PointsEntry)) == first


def test_new_kinds_render_in_chinese(app):
    with app.test_request_context(), force_locale("zh_CN"):
        r = render("complaint_deadline_reminder", {"number": "#5", "category": "red_envelope",
                                                   "deadline": "2026-03-17", "days": 3})
        assert "#5" in r.subject and "3" in r.subject and "红包" in r.text
        r = render("complaint_overdue", {"number": "#5", "category": "other",
                                         "deadline": "2026-03-17"})
        assert "逾期" in r.subject
        r = render("points_threshold_institution", {"institution": "人民医院", "year": 2026,
                                                    "total": 12, "threshold": 12})
        assert "人民医院" in r.subject and "12" in r.text
        r = render("points_threshold_staff", {"institution": "人民医院", "staff": "李明",
                                              "year": 2026, "total": 12, "threshold": 12})
        assert "李明" in r.subject
        assert render("points_threshold_staff", {"institution": "x"}).subject == \
            render("no_such_kind", {}).subject
