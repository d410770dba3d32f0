"""The campaign report: figures for a seeded scenario, counted by hand (see
tests/report_scenario.py for the arithmetic), export, print and permissions."""

from io import BytesIO

import pytest
from factories import make_region
from openpyxl import load_workbook
from report_scenario import END, START, add_more, build

from casework.dashboard.campaign_report import campaign_report
from casework.errors import Invalid, NotFound, NotPermitted


@pytest.fixture
def scenario(world, db):
    return build(world, db)


def url(scenario, suffix="", start=START, end=END):
    return f"/campaigns/{scenario.campaign.id}/report{suffix}?start={start}&end={end}"


def test_figures_equal_the_hand_counted_ones(scenario, users, app):
    with app.test_request_context():
        report = campaign_report(scenario.campaign.id, actor=users["coordinator"],
                                 start=START, end=END)
    hospitals, others = report.coverage
    # Hospitals (100 %): H1 and H2 in scope, both inspected in the period -> met.
    assert (hospitals.in_scope, hospitals.counted, hospitals.required, hospitals.met) == (
        2, 2, 2, True)
    # Others (50 %): C1 in scope, its only finalised inspection is in 2022 -> 0 of 1 needed.
    assert (others.in_scope, others.counted, others.required, others.met) == (1, 0, 1, False)
    assert (report.inspections, report.institutions_inspected) == (2, 2)
    kt1, kt2 = report.findings
    # KT1: F1, F3, F4 found; F1, F4 need rectification; both in closed orders.
    assert (kt1.found, kt1.to_rectify, kt1.rectified) == (3, 2, 2)
    assert (kt2.found, kt2.to_rectify, kt2.rectified) == (1, 1, 0)
    assert report.findings_total == (4, 3, 2)
    # O1, O2, O3 issued; O1 and O3 closed, O1 on time (1 of 2 = 50 %); O2 overdue.
    assert report.orders == {"issued": 3, "closed": 2, "closed_on_time": 1, "overdue": 1,
                             "on_time_rate": 50.0}
    assert report.complaints == {"received": 3, "handled": 1, "substantiated": 1,
                                 "transferred": 1}
    assert [(r[0], r[2], r[3]) for r in report.disputes] == [
        ("negotiation", 1, 0), ("mediation", 1, 1), ("litigation", 0, 0)]
    assert (report.interviews_held, report.accountability) == (1, 1)
    assert report.points == {"given": 9, "reversed": 3, "net": 6}
    assert report.mobilisation == {"cases": 3, "filed": 2, "late": 1, "missing": 1}


def test_a_county_coordinator_gets_the_county_figures_only(scenario, users, app):
    with app.test_request_context():
        report = campaign_report(scenario.campaign.id, actor=users["district_coordinator"],
                                 start=START, end=END)
    # Only H2: O3 issued and closed late; C-b transferred; the mediation; +6 points.
    assert report.orders == {"issued": 1, "closed": 1, "closed_on_time": 0, "overdue": 0,
                             "on_time_rate": 0.0}
    assert report.complaints == {"received": 1, "handled": 0, "substantiated": 0,
                                 "transferred": 1}
    assert report.points == {"given": 6, "reversed": 0, "net": 6}
    assert [c.in_scope for c in report.coverage] == [1, 0]
    assert report.mobilisation == {"cases": 1, "filed": 1, "late": 1, "missing": 0}


def test_the_period_limits_the_figures(scenario, users, app):
    from datetime import date

    with app.test_request_context():
        report = campaign_report(scenario.campaign.id, actor=users["coordinator"],
                                 start=date(2021, 7, 1), end=date(2021, 7, 31))
    # July: O3 issued; O1 closed (on time); O2 overdue at 07-31 (deadline 07-15).
    assert report.orders == {"issued": 1, "closed": 1, "closed_on_time": 1, "overdue": 1,
                             "on_time_rate": 100.0}
    assert report.inspections == 1  # I2 (07-05)


@pytest.mark.parametrize("role, status", [
    ("coordinator", 200), ("viewer", 200), ("district_coordinator", 200),
    ("inspector", 403), ("institution", 403), ("admin", 403), ("other_institution", 403),
])
def test_who_may_read_the_report(scenario, login, client, role, status):
    login.as_(role)
    assert client.get(url(scenario)).status_code == status
    assert client.get(url(scenario, ".xlsx")).status_code == status
    assert client.get(url(scenario, "/print")).status_code == status


def test_a_campaign_outside_the_region_is_not_found(world, db, users, app):
    region = make_region(db, "150000", "别处", "city")
    db.session.commit()
    campaign = world.make_campaign(db, code="elsewhere", region=region)
    with app.test_request_context(), pytest.raises(NotFound):
        campaign_report(campaign.id, actor=users["coordinator"], start=START, end=END)
    with app.test_request_context(), pytest.raises(NotPermitted):
        campaign_report(campaign.id, actor=users["admin"], start=START, end=END)


def test_page_shows_the_figures_in_chinese(scenario, login, client):
    login.as_("coordinator")
    html = client.get(url(scenario)).get_data(as_text=True)
    assert "专项行动工作报表" in html
    assert 'data-figure="orders.issued">3<' in html
    assert 'data-figure="orders.closed_on_time">1 (50%)<' in html
    assert 'data-figure="complaints.transferred">1<' in html
    assert 'data-figure="disputes.mediation">1<' in html
    assert 'data-figure="points.net">6<' in html
    assert "3 个督查案件中已有 2 个报送动员部署情况" in html


@pytest.mark.parametrize("query, field, message", [
    ("start=2021-13-01&end=2021-12-31", "start", "请按“年-月-日”"),
    ("start=2021-06-01&end=nope", "end", "请按“年-月-日”"),
    ("start=2021-12-31&end=2021-06-01", "end", "截止日期不能早于起始日期"),
    ("start=2021-06-01", "end", "请按“年-月-日”"),
])
def test_bad_periods_are_refused_in_the_users_language(scenario, login, client, query, field,
                                                       message):
    login.as_("coordinator")
    response = client.get(f"/campaigns/{scenario.campaign.id}/report?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'data-testid="error-{field}"' in html and message in html
    # What was typed stays in the form.
    assert client.get(f"/campaigns/{scenario.campaign.id}/report.xlsx?{query}").status_code == 422


def test_service_refuses_start_after_end(scenario, users, app):
    with app.test_request_context(), pytest.raises(Invalid):
        campaign_report(scenario.campaign.id, actor=users["coordinator"], start=END, end=START)


def test_xlsx_holds_the_same_figures(scenario, login, client):
    login.as_("coordinator")
    response = client.get(url(scenario, ".xlsx"))
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(BytesIO(response.data))
    assert book.sheetnames == ["汇总", "覆盖率", "发现问题", "医疗纠纷"]
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True)
               if row and len(row) > 1}
    assert summary["下发整改通知（件）"] == 3
    assert summary["整改销号（件）"] == 2
    assert summary["按期整改销号（件）"] == 1
    assert summary["逾期未整改（件）"] == 1
    assert summary["受理投诉举报"] == 3
    assert summary["约谈（次）"] == 1
    assert summary["不良积分（净计）"] == 6
    assert summary["未报送动员部署情况的案件"] == 1
    coverage = [row for row in book.worksheets[1].iter_rows(values_only=True)]
    assert ("医院", "100%", 2, 2, 2, "100%", "是") in coverage
    assert ("其他机构", "50%", 1, 0, 1, "0%", "否") in coverage
    findings = list(book.worksheets[2].iter_rows(values_only=True))
    assert ("整治红包回扣", 3, 2, 2) in findings and ("整治不合理收费", 1, 1, 0) in findings


def test_print_page_is_an_a4_document(scenario, login, client):
    login.as_("viewer")
    html = client.get(url(scenario, "/print")).get_data(as_text=True)
    assert "css/report.css" in html and 'data-testid="report-paper"' in html
    assert "data-print" in html
    assert 'data-figure="orders.issued">3<' in html


def test_report_queries_do_not_grow_with_the_data(scenario, world, db, users, app,
                                                   count_queries):
    def run():
        db.session.expire_all()
        with app.test_request_context(), count_queries() as statements:
            report = campaign_report(scenario.campaign.id, actor=users["coordinator"],
                                     start=START, end=END)
        return len(statements), report

    small, before = run()
    add_more(scenario, world, db, 30)
    large, after = run()
    assert after.orders["issued"] == before.orders["issued"] + 30
    assert after.complaints["received"] == before.complaints["received"] + 30
    assert large == small


def test_report_in_english(scenario, users, db, login, client):
    users["viewer"].locale = "en"
    db.session.commit()
    login.as_("viewer")
    html = client.get(url(scenario)).get_data(as_text=True)
    assert "Campaign report" in html and "Orders closed on time" in html
    assert "Mediation" in html
    response = client.get(f"/campaigns/{scenario.campaign.id}/report?start=2021-06-01&end=x")
    assert response.status_code == 422
    assert "Enter a valid end date (YYYY-MM-DD)." in response.get_data(as_text=True)
    book = load_workbook(BytesIO(client.get(url(scenario, ".xlsx")).data))
    assert book.sheetnames == ["Summary", "Coverage", "Findings", "Disputes"]
    assert book["Summary"]["A1"].value == "Test campaign"


def test_an_order_awaiting_verification_is_not_overdue(scenario, world, db, users, app):
    from datetime import UTC, date, datetime

    from casework.orders.models import RectificationOrder, Submission

    def figures():
        with app.test_request_context():
            return campaign_report(scenario.campaign.id, actor=users["coordinator"],
                                   start=START, end=END).orders

    before = figures()
    # Issued 09-01, due 09-15, rectification submitted in time on 09-14, not verified yet.
    order = RectificationOrder(number="整改〔2021〕0999号", case_id=scenario.h1.id,
                               requirements="整改", issuing_body="卫健委",
                               issued_on=date(2021, 9, 1), issued_by_id=users["inspector"].id,
                               deadline=date(2021, 9, 15), deadline_rule={"kind": "date"},
                               state="submitted")
    db.session.add(order)
    db.session.flush()
    db.session.add(Submission(order_id=order.id, report="已整改", late=False,
                              submitted_by_id=users["institution"].id,
                              submitted_at=datetime(2021, 9, 14, 2, tzinfo=UTC)))
    db.session.commit()
    after = figures()
    assert after["issued"] == before["issued"] + 1
    assert after["overdue"] == before["overdue"]


def test_an_order_returned_after_a_timely_submission_is_overdue_past_its_deadline(
        scenario, world, db, users, app):
    from datetime import UTC, date, datetime

    from casework.history.models import HistoryEvent
    from casework.orders.models import RectificationOrder, Submission

    def figures():
        with app.test_request_context():
            return campaign_report(scenario.campaign.id, actor=users["coordinator"],
                                   start=START, end=END).orders

    before = figures()
    # Issued 09-01, due 09-15; submitted in time 09-10, returned 09-12, never resubmitted:
    # the sweep marked it overdue on 09-16 and it still is at the period's end.
    order = RectificationOrder(number="整改〔2021〕0998号", case_id=scenario.h1.id,
                               requirements="整改", issuing_body="卫健委",
                               issued_on=date(2021, 9, 1), issued_by_id=users["inspector"].id,
                               deadline=date(2021, 9, 15), deadline_rule={"kind": "date"},
                               state="overdue")
    db.session.add(order)
    db.session.flush()
    db.session.add(Submission(order_id=order.id, report="已整改", late=False,
                              submitted_by_id=users["institution"].id,
                              submitted_at=datetime(2021, 9, 10, 2, tzinfo=UTC)))
    for trigger, source, target, day in (("submit", "acknowledged", "submitted", 10),
                                         ("return", "submitted", "returned", 12),
                                         ("mark_overdue", "returned", "overdue", 16)):
        db.session.add(HistoryEvent(object_type="order", object_id=order.id, trigger=trigger,
                                    from_state=source, to_state=target, actor_role="system",
                                    at=datetime(2021, 9, day, 2, tzinfo=UTC)))
    db.session.commit()
    after = figures()
    assert after["issued"] == before["issued"] + 1
    assert after["overdue"] == before["overdue"] + 1
