"""Progress-report pages through HTTP: who sees which page, forms that come back with
their errors and what was typed, crafted POSTs refused, files, the case page's section,
and a list whose query count does not grow with its rows."""

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from factories import FIGURES, Q1, csrf_token, fresh, history, make_report, submit_report, unchanged
from sample_files import png_bytes

from casework.evidence.models import Attachment


@pytest.fixture(autouse=True)
def today(clock):
    clock("2025-03-03T09:00:00+08:00")


@pytest.fixture
def case(world, db):
    return world.make_case(db, state="rectification")


@pytest.fixture
def report(db, case):
    return make_report(db, case)


def _html(response):
    return response.get_data(as_text=True)


def _post(client, path, data, **kw):
    return client.post(path, data={"csrf_token": csrf_token(client, "/reports/"), **data}, **kw)


def _form(report, **overrides):
    return {"version": str(report.version), "body": "本季度开展自查3次。", **FIGURES,
            **overrides}


# --- who sees what ---------------------------------------------------------------------

@pytest.mark.parametrize("role", ["institution", "coordinator", "viewer", "inspector"])
def test_list_and_report_page_for_the_roles_that_see_the_case(client, login, report, role):
    login.as_(role)
    listing = client.get("/reports/")
    assert listing.status_code == 200
    assert f'href="/reports/{report.id}"' in _html(listing)
    page = client.get(f"/reports/{report.id}")
    assert page.status_code == 200
    body = _html(page)
    assert "中卫市人民医院" in body and 'data-testid="report-state"' in body
    # Only the institution gets the form; nobody gets review buttons for a pending report.
    assert ('data-testid="report-form"' in body) is (role == "institution")
    assert 'data-testid="report-actions"' not in body


@pytest.mark.parametrize("role", ["other_institution", "district_coordinator", "admin"])
def test_report_page_is_not_found_outside_jurisdiction(client, login, report, role):
    login.as_(role)
    assert client.get(f"/reports/{report.id}").status_code == 404
    assert f'/reports/{report.id}"' not in _html(client.get("/reports/"))


def test_navigation_shows_reports_to_whoever_may_read_them(client, login):
    # Inspectors read the reports of their cases (report_list), admins have no casework.
    for role, shown in (("institution", True), ("coordinator", True), ("viewer", True),
                        ("inspector", True), ("admin", False)):
        login.as_(role)
        nav = _html(client.get("/dashboard"))
        assert ('href="/reports/"' in nav) is shown, role
        login.logout()


def test_case_page_lists_the_cases_reports_with_states(client, login, db, case):
    make_report(db, case, state="accepted", period=(date(2024, 10, 1), date(2024, 12, 31)))
    current = make_report(db, case)
    login.as_("institution")
    page = _html(client.get(f"/cases/{case.id}"))
    section = page[page.index('data-testid="case-reports"'):]
    assert section.count('data-testid="case-report"') == 2
    assert f'href="/reports/{current.id}"' in section
    assert 'data-state="pending"' in section and 'data-state="accepted"' in section


# --- the institution's form ---------------------------------------------------------------

def test_save_draft_then_submit(client, login, db, report):
    login.as_("institution")
    response = _post(client, f"/reports/{report.id}/draft",
                     {"version": "1", "body": "写了一半", "problems_found": "2"})
    assert response.status_code == 302
    report = fresh(db, report)
    assert report.state == "pending" and report.body == "写了一半"
    page = _html(client.get(f"/reports/{report.id}"))
    assert "写了一半" in page and 'value="2"' in page

    response = _post(client, f"/reports/{report.id}/submit",
                     _form(report, request_key="k-1"),
                     content_type="multipart/form-data")
    assert response.status_code == 302
    report = fresh(db, report)
    assert report.state == "submitted" and report.fields["problems_found"] == 5
    page = _html(client.get(f"/reports/{report.id}"))
    assert 'data-testid="report-form"' not in page
    assert "本季度开展自查3次。" in page and 'data-field="problems_rectified">4<' in page


def test_refused_submit_comes_back_with_what_was_typed(client, login, db, report):
    login.as_("institution")
    typed = "我们写了很长的一段报告<script>alert(1)</script>"
    response = _post(client, f"/reports/{report.id}/submit",
                     _form(report, body=typed, problems_found="2", problems_rectified="3",
                           self_inspections="三", next_steps="下一步计划"),
                     content_type="multipart/form-data")
    assert response.status_code == 422
    page = _html(response)
    assert 'data-testid="form-errors"' in page
    assert 'data-error="problems_rectified"' in page and 'data-error="self_inspections"' in page
    # Typed text kept, escaped.
    assert "我们写了很长的一段报告&lt;script&gt;" in page and "<script>alert(1)" not in page
    assert 'value="三"' in page and 'value="3"' in page and "下一步计划" in page
    report = fresh(db, report)
    assert report.state == "pending" and report.body is None and report.version == 1


def test_submit_with_a_photo_shows_it_to_the_coordinator_only(client, login, db, users, report):
    login.as_("institution")
    response = _post(client, f"/reports/{report.id}/submit",
                     {**_form(report), "files": (io.BytesIO(png_bytes()), "自查.png")},
                     content_type="multipart/form-data")
    assert response.status_code == 302
    attachment = db.session.scalar(sa.select(Attachment))
    assert attachment.report_id == report.id
    login.logout()
    login.as_("coordinator")
    page = _html(client.get(f"/reports/{report.id}"))
    assert f"/evidence/{attachment.uuid}" in page
    assert client.get(f"/evidence/{attachment.uuid}").status_code == 200
    login.logout()
    login.as_("other_institution")
    assert client.get(f"/evidence/{attachment.uuid}").status_code == 404


def test_a_retried_submit_post_is_one_submit(client, login, db, report):
    login.as_("institution")
    data = _form(report, request_key="same-key")
    for _ in range(2):
        response = _post(client, f"/reports/{report.id}/submit", data,
                         content_type="multipart/form-data")
        assert response.status_code == 302
    assert [e.trigger for e in history(db, report)] == ["submit"]


# --- review ----------------------------------------------------------------------------

def test_coordinator_returns_with_a_reason_and_the_institution_sees_it(client, login, db, users,
                                                                      report):
    submit_report(report, users["institution"])
    login.as_("coordinator")
    page = _html(client.get(f"/reports/{report.id}"))
    assert 'data-trigger="accept"' in page and 'data-trigger="return"' in page
    refused = _post(client, f"/reports/{report.id}/fire/return", {"version": "2", "comment": ""})
    assert refused.status_code == 422
    assert 'data-error="comment"' in _html(refused)
    assert fresh(db, report).state == "submitted"
    done = _post(client, f"/reports/{report.id}/fire/return",
                 {"version": "2", "comment": "请补充整改台账"})
    assert done.status_code == 302
    login.logout()
    login.as_("institution")
    page = _html(client.get(f"/reports/{report.id}"))
    assert 'data-testid="return-reason"' in page and "请补充整改台账" in page
    assert 'data-testid="report-form"' in page and "本季度开展自查3次" in page


def test_coordinator_accepts(client, login, db, users, report):
    submit_report(report, users["institution"])
    login.as_("coordinator")
    response = _post(client, f"/reports/{report.id}/fire/accept", {"version": "2"})
    assert response.status_code == 302
    assert fresh(db, report).state == "accepted"
    assert [e.trigger for e in history(db, report)] == ["submit", "accept"]


# --- crafted requests ------------------------------------------------------------------

@pytest.mark.parametrize("role, path, data, status", [
    # An institution reviewing its own report.
    ("institution", "fire/accept", {"version": "2"}, 403),
    ("institution", "fire/return", {"version": "2", "comment": "x"}, 403),
    ("institution", "fire/return", {"version": "2"}, 403),
    # Read-only and review roles writing the report, even with bad input (403, not 422).
    ("viewer", "submit", {"version": "2", "body": "", "problems_found": "-1"}, 403),
    ("viewer", "fire/accept", {"version": "2"}, 403),
    ("coordinator", "draft", {"version": "2", "body": "代写"}, 403),
    ("coordinator", "submit", {"version": "2", "body": "代写", **FIGURES}, 403),
    # Another institution: the report does not exist for it.
    ("other_institution", "draft", {"version": "2", "body": "x"}, 404),
    ("other_institution", "fire/accept", {"version": "2"}, 404),
    # The scheduler's trigger, or no trigger at all.
    ("coordinator", "fire/mark_overdue", {"version": "2"}, 409),
    ("coordinator", "fire/explode", {"version": "2"}, 409),
    # Stale version.
    ("coordinator", "fire/accept", {"version": "1"}, 409),
])
def test_crafted_posts_are_refused(client, login, db, users, report, role, path, data, status):
    submit_report(report, users["institution"])
    login.as_(role)
    response = _post(client, f"/reports/{report.id}/{path}", data)
    assert response.status_code == status, _html(response)[:300]
    report = fresh(db, report)
    assert report.state == "submitted" and report.version == 2
    assert [e.trigger for e in history(db, report)] == ["submit"]


def test_posts_without_csrf_token_are_refused(client, login, db, report):
    login.as_("institution")
    response = client.post(f"/reports/{report.id}/submit", data=_form(report))
    assert response.status_code == 400
    assert fresh(db, report).state == "pending"


def test_submit_of_an_accepted_report_is_a_conflict(client, login, db, case):
    report = make_report(db, case, state="accepted", body="旧", version=3)
    login.as_("institution")
    with unchanged(db, report):
        response = _post(client, f"/reports/{report.id}/submit", _form(report, body=""))
    assert response.status_code == 409


# --- the list ----------------------------------------------------------------------------

def _reports(db, case, n, start_year):
    states = ("pending", "returned", "submitted", "overdue", "accepted")
    for i in range(n):
        year, quarter = start_year + i // 4, i % 4
        start = date(year, 3 * quarter + 1, 1)
        make_report(db, case, period=(start, start.replace(day=28)), due_on=start.replace(day=28),
                    state=states[i % len(states)])


@pytest.mark.parametrize("role", ["institution", "coordinator"])
def test_list_query_count_does_not_grow_with_rows(client, login, world, db, case, count_queries,
                                                  role):
    clinic_case = world.make_case(db, institution=world.clinic, campaign=case.campaign)
    login.as_(role)
    counts = []
    for n, start_year in ((3, 2000), (27, 2010)):
        _reports(db, case, n, start_year)
        _reports(db, clinic_case, 1 if n == 3 else 3, start_year)
        with count_queries() as statements:
            response = client.get("/reports/")
        assert response.status_code == 200
        counts.append(len(statements))
        rows = len(re.findall(r'data-testid="report-row"', _html(response)))
        # The clinic's reports are the coordinator's too, not the hospital's.
        expected = {"institution": {3: 3, 27: 30}, "coordinator": {3: 4, 27: 34}}
        assert rows == expected[role][n]
    assert counts[0] == counts[1], counts


def test_list_filters_by_state_and_period(client, login, db, case):
    make_report(db, case, state="submitted", period=(date(2024, 10, 1), date(2024, 12, 31)))
    make_report(db, case)
    login.as_("coordinator")
    page = _html(client.get("/reports/?state=submitted"))
    assert page.count('data-testid="report-row"') == 1
    page = _html(client.get(f"/reports/?period={Q1[0].isoformat()}"))
    assert page.count('data-testid="report-row"') == 1 and 'data-state="pending"' in page
    assert client.get("/reports/?state=nonsense").status_code == 422
    # Garbage in the other filters is ignored, not an error.
    assert client.get("/reports/?period=yesterday&campaign=x&page=-1").status_code == 200
