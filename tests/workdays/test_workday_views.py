"""The admin's working-day calendar pages: list, month grid, entering a year by lines."""

import re

import pytest
import sqlalchemy as sa
from factories import unchanged
from flask_babel import gettext
from markupsafe import escape

from casework.workdays import services
from casework.workdays.models import CalendarDay, CalendarYear
from casework.workdays.seed import seed_from_package

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

GOOD_HOLIDAYS = "2027-01-01..2027-01-03 元旦\n\n# 春节 (test data, not the official notice)\n" \
    "2027-02-06..2027-02-12 春节\n"
GOOD_WORKDAYS = "2027-02-14 春节\n2027-02-20 春节"


# These tests build the calendar themselves, from nothing.
pytestmark = pytest.mark.usefixtures("empty_calendar")

def _t(app, msgid, **kwargs):
    """A message as the admin (zh_CN, the default) reads it, HTML-escaped."""
    with app.test_request_context():
        return str(escape(gettext(msgid, **kwargs)))


def _post(client, year, **data):
    html = client.get(f"/admin/calendar/{year}").get_data(as_text=True)
    token = CSRF_RE.search(html).group(1)
    return client.post(f"/admin/calendar/{year}", data={"csrf_token": token, **data})


@pytest.fixture(autouse=True)
def no_hooks(monkeypatch):
    monkeypatch.setattr(services, "_YEAR_CONFIRMED_HOOKS", [])


def _saved(db):
    return db.session.scalar(sa.select(sa.func.count()).select_from(CalendarYear)), \
        db.session.scalar(sa.select(sa.func.count()).select_from(CalendarDay))


def test_admin_sees_the_years_and_a_warning_for_next_year(app, client, login, db, clock):
    clock("2026-11-25T09:00:00+08:00")
    seed_from_package([2025, 2026])
    login.as_("admin")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/admin/calendar/"' in dashboard          # in the admin's navigation
    response = client.get("/admin/calendar/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'data-year="2026"' in body and 'data-year="2025"' in body
    assert re.search(r'data-testid="missing-year" data-year="2027"', body)
    assert 'data-testid="missing-year" data-year="2026"' not in body
    with app.test_request_context():  # template text: translated, not escaped
        assert gettext("The arrangement of %(year)d is not entered yet. The State Council "
                       "publishes next year's arrangement each November/December — enter it "
                       "here.", year=2027) in body
    assert client.get("/admin/calendar/?year=2027").headers["Location"] == "/admin/calendar/2027"


def test_year_page_shows_the_month_grid(client, login, db):
    seed_from_package([2024])
    login.as_("admin")
    response = client.get("/admin/calendar/2024")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.count('<table class="table table-sm table-borderless text-center mb-0 month">') == 12
    assert 'data-date="2024-10-01" data-kind="holiday" title="国庆节"' in body
    assert re.search(r'data-date="2024-09-29" data-kind="workday"[^>]*>'
                     r'<span class="badge text-bg-primary w-100">29 班</span>', body)
    assert 'data-date="2024-10-13" data-kind="rest"' in body
    assert 'data-date="2024-10-14" data-kind="work"' in body
    # The form holds the year as lines, ready to correct and save again.
    assert "2024-10-01..2024-10-07 国庆节" in body
    assert "2024-09-29 国庆节" in body


def test_an_unentered_year_shows_weekends_only(client, login, db):
    login.as_("admin")
    body = client.get("/admin/calendar/2027").get_data(as_text=True)
    assert 'data-date="2027-01-01" data-kind="work"' in body
    assert 'data-kind="holiday"' not in body


def test_bad_lines_get_per_line_errors_and_nothing_is_saved(app, client, login, db):
    login.as_("admin")
    holidays = ("2027-01-01 元旦\n"               # 1 fine
                "2027-02-30 春节\n"               # 2 no such date
                "2027-02-12..2027-02-06 春节\n"   # 3 reversed range
                "春节 2027-02-06\n"               # 4 not understood
                "2026-12-31 元旦\n"               # 5 another year
                "2027-05-01\n"                    # 6 no name
                "2027-01-01 元旦")                 # 7 again
    workdays = "2027-02-15 春节\n2027-01-01 元旦"   # 1 a Monday, 2 a Friday and a holiday
    response = _post(client, 2027, holidays=holidays, workdays=workdays, note="草稿")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    with app.test_request_context():
        def problem(msgid, **values):
            return gettext(msgid) % values

        expected = [
            ("Line %(line)d: “%(value)s” is not a date. Write YYYY-MM-DD, for example "
             "2027-02-06.", dict(line=2, value="2027-02-30")),
            ("Line %(line)d: the range ends before it starts.", dict(line=3)),
            ("Line %(line)d: “%(text)s” is not understood. Write a date and a name "
             "(2027-01-01 元旦) or a range and a name (2027-02-06..2027-02-12 春节).",
             dict(line=4, text="春节 2027-02-06")),
            ("Line %(line)d: %(problem)s", dict(line=5, problem=problem(
                "%(date)s is not in %(year)d.", date="2026-12-31", year=2027))),
            ("Line %(line)d: %(problem)s", dict(line=6, problem=problem(
                "%(date)s has no holiday name (for example 春节).", date="2027-05-01"))),
            ("Line %(line)d: %(problem)s (first on line %(other)d)", dict(
                line=7, other=1, problem=problem("%(date)s is entered twice.",
                                                 date="2027-01-01"))),
            ("Line %(line)d: %(problem)s", dict(line=1, problem=problem(
                "%(date)s is a weekday: an adjusted working day (调休上班) is always a "
                "Saturday or Sunday.", date="2027-02-15"))),
            ("Line %(line)d: %(problem)s (holidays, line %(other)d)", dict(
                line=2, other=1, problem=problem("%(date)s is entered as a holiday as well.",
                                                 date="2027-01-01"))),
        ]
        shown = [str(escape(gettext(msgid, **kwargs))) for msgid, kwargs in expected]
    for message in shown:
        assert message in body
    # In line order, holidays first.
    positions = [body.index(message) for message in shown[:6]]
    assert positions == sorted(positions)
    assert _t(app, "Nothing was saved. Correct the lines below and save again.") in body
    # What was typed is still there.
    assert "2027-02-12..2027-02-06 春节" in body and "2027-02-15 春节" in body
    assert 'value="草稿"' in body
    assert _saved(db) == (0, 0)


def test_a_year_without_adjusted_working_days_must_be_stated(app, client, login, db):
    login.as_("admin")
    response = _post(client, 2027, holidays=GOOD_HOLIDAYS, workdays="")
    assert response.status_code == 422
    assert _saved(db) == (0, 0)
    response = _post(client, 2027, holidays=GOOD_HOLIDAYS, workdays="", no_workdays="y")
    assert response.status_code == 302
    assert _saved(db) == (1, 10)


def test_good_lines_save_the_year_and_show_the_grid(client, login, db, users):
    login.as_("admin")
    response = _post(client, 2027, holidays=GOOD_HOLIDAYS, workdays=GOOD_WORKDAYS,
                     note="国办发明电〔2026〕X号")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/calendar/2027"
    year = db.session.get(CalendarYear, 2027)
    assert (year.confirmed, year.source, year.entered_by_id, year.note) == \
        (True, "admin", users["admin"].id, "国办发明电〔2026〕X号")
    assert _saved(db) == (1, 12)
    body = client.get("/admin/calendar/2027").get_data(as_text=True)
    assert 'data-date="2027-02-06" data-kind="holiday" title="春节"' in body
    assert 'data-date="2027-02-14" data-kind="workday"' in body
    assert "2027-02-06..2027-02-12 春节" in body
    listing = client.get("/admin/calendar/").get_data(as_text=True)
    assert 'data-year="2027"' in listing


def test_entering_a_year_replaces_it(client, login, db):
    login.as_("admin")
    _post(client, 2027, holidays=GOOD_HOLIDAYS, workdays=GOOD_WORKDAYS)
    response = _post(client, 2027, holidays="2027-01-01 元旦", workdays="2027-01-02 元旦")
    assert response.status_code == 302
    assert _saved(db) == (1, 2)


def test_a_post_without_csrf_token_saves_nothing(client, login, db):
    login.as_("admin")
    response = client.post("/admin/calendar/2027",
                           data={"holidays": GOOD_HOLIDAYS, "workdays": GOOD_WORKDAYS})
    assert response.status_code in (400, 422)
    assert _saved(db) == (0, 0)


@pytest.mark.parametrize("role", ["coordinator", "inspector", "institution", "viewer"])
def test_non_admins_get_403(client, login, db, role):
    login.as_(role)
    assert client.get("/admin/calendar/").status_code == 403
    assert client.get("/admin/calendar/2024").status_code == 403
    token = CSRF_RE.search(client.get("/dashboard").get_data(as_text=True)).group(1)
    with unchanged(db, "calendar_year", "calendar_day"):
        response = client.post("/admin/calendar/2027", data={
            "csrf_token": token, "holidays": GOOD_HOLIDAYS, "workdays": GOOD_WORKDAYS})
    assert response.status_code == 403
    assert _saved(db) == (0, 0)
    assert 'href="/admin/calendar/"' not in client.get("/dashboard").get_data(as_text=True)


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/admin/calendar/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_lines_as_the_notices_write_them(app):
    from casework.workdays.forms import parse_lines

    with app.test_request_context():
        entries, errors = parse_lines("2027/2/6～2027/2/12 春节\n  2027-10-01 至 2027-10-03\t国庆节 \n"
                                      "2027-01-01元旦\n# a comment\n\n2027-05-01..2027-06-15 x")
    assert [(e.day.isoformat(), e.name, e.line) for e in entries][::3] == [
        ("2027-02-06", "春节", 1), ("2027-02-09", "春节", 1), ("2027-02-12", "春节", 1),
        ("2027-10-03", "国庆节", 2)]
    assert len(entries) == 11 and (entries[-1].name, entries[-1].line) == ("元旦", 3)
    assert [line for line, _message in errors] == [6]   # a 46-day range is a typo
