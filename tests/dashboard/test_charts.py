"""Dashboard charts: series values for the seeded scenario (tests/report_scenario.py,
period 2021-06 .. 2021-12), scope per role, constant query counts, the page itself."""

import json
import re

import pytest
from report_scenario import END, START, add_more, build

from casework.dashboard import services

MONTHS = ["2021-06", "2021-07", "2021-08", "2021-09", "2021-10", "2021-11", "2021-12"]


@pytest.fixture
def scenario(world, db):
    return build(world, db)


def charts_for(app, user, scenario, start=START, end=END):
    with app.test_request_context():
        data = services.overview(user, scenario.campaign.id, start, end)
        return {c.key: c for c in data["charts"].charts}


def series(chart):
    return {d.label: d.data for d in chart.datasets}


def test_coordinator_series(scenario, users, app):
    charts = charts_for(app, users["coordinator"], scenario)
    orders = charts["orders"]
    assert orders.labels == MONTHS
    values = [d.data for d in orders.datasets]
    # Issued: O1, O2 in June, O3 in July. Closed: O1 in July, O3 in August.
    assert values[0] == [2, 1, 0, 0, 0, 0, 0]
    assert values[1] == [0, 1, 1, 0, 0, 0, 0]
    # Overdue and open at month end: O2 (deadline 07-15) from July on; O5 was cancelled
    # on 06-25, O3's deadline 08-06 passed but it was closed 08-20, before August's end.
    assert values[2] == [0, 1, 1, 1, 1, 1, 1]
    # On time: O1 (July) yes, O3 (August, late submission) no; no closures elsewhere.
    assert charts["on_time"].datasets[0].data == [None, 100.0, 0.0, None, None, None, None]
    # Overdue now, by institution: O2 (overdue) on H1 only.
    top = charts["overdue_institutions"]
    assert (top.labels, top.datasets[0].data) == (["中卫市人民医院"], [1])
    # Findings of inspections finalised in the period: KT1 F1, F3, F4; KT2 F2.
    assert charts["findings"].datasets[0].data == [3, 1]
    # Coverage: hospitals 2 of 2 inspected (target 100), clinics 0 of 1 (target 50).
    assert [d.data for d in charts["coverage"].datasets] == [[100.0, 0], [100, 50]]
    complaints = [d.data for d in charts["complaints"].datasets]
    assert complaints[0] == [1, 1, 1, 0, 0, 0, 0]      # received: 06-05, 07-01, 08-01
    assert complaints[1] == [1, 0, 0, 0, 0, 0, 0]      # substantiated: the June one
    assert complaints[2] == [1, 0, 0, 1, 0, 0, 0]      # disputes: 06-01, 09-01


def test_institution_sees_only_its_own_figures(scenario, users, app):
    charts = charts_for(app, users["institution"], scenario)
    # No regional charts at all for an institution.
    assert set(charts) == {"orders", "on_time", "findings"}
    issued, closed, overdue = (d.data for d in charts["orders"].datasets)
    # H1 only: O1, O2 issued in June; O3 (H2's, July) is not there.
    assert issued == [2, 0, 0, 0, 0, 0, 0]
    assert closed == [0, 1, 0, 0, 0, 0, 0]
    assert overdue == [0, 1, 1, 1, 1, 1, 1]
    # KT1: F1, F3 (F4 is H2's); KT2: F2.
    assert charts["findings"].datasets[0].data == [2, 1]


def test_county_coordinator_sees_the_county(scenario, users, app):
    charts = charts_for(app, users["district_coordinator"], scenario)
    assert charts["orders"].datasets[0].data == [0, 1, 0, 0, 0, 0, 0]
    assert charts["overdue_institutions"].labels == []
    assert charts["findings"].datasets[0].data == [1, 0]


def test_admin_has_no_casework_charts(scenario, login, client):
    login.as_("admin")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "data-chart" not in html and "chart.umd.min.js" not in html


def test_another_institutions_campaign_is_not_found(scenario, world, db, login, client):
    other = world.make_campaign(db, code="other", region=world.other_district)
    login.as_("institution")
    assert client.get(f"/dashboard?campaign={other.id}").status_code == 404


@pytest.mark.parametrize("role", ["coordinator", "inspector", "viewer", "institution"])
def test_page_draws_charts_with_tables_and_no_inline_script(scenario, login, client, role):
    login.as_(role)
    response = client.get(f"/dashboard?campaign={scenario.campaign.id}&start={START}&end={END}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "/static/vendor/chartjs/chart.umd.min.js" in html and "/static/js/charts.js" in html
    # Every <script> is either a file or JSON data, never inline code.
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in attrs or ('type="application/json"' in attrs and body.strip())
    data = json.loads(re.search(
        r'<script type="application/json" id="chart-data-orders">(.*?)</script>', html,
        re.S).group(1))
    assert data["labels"] == MONTHS
    assert 'data-testid="table-orders"' in html
    assert "整改通知（按月）" in html
    if role == "institution":
        assert "中宁县人民医院" not in html and "chart-data-complaints" not in html
    else:
        assert "chart-data-complaints" in html


def test_bad_dates_on_the_dashboard_are_422_in_chinese(scenario, login, client):
    login.as_("coordinator")
    response = client.get(f"/dashboard?campaign={scenario.campaign.id}&start=2021-02-30")
    assert response.status_code == 422
    assert "请按“年-月-日”" in response.get_data(as_text=True)
    response = client.get(f"/dashboard?campaign={scenario.campaign.id}"
                          f"&start={END}&end={START}")
    assert response.status_code == 422
    assert "截止日期不能早于起始日期" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["coordinator", "institution"])
def test_dashboard_queries_do_not_grow_with_the_data(scenario, world, db, login, client,
                                                     count_queries, role):
    login.as_(role)
    page = f"/dashboard?campaign={scenario.campaign.id}&start={START}&end={END}"
    client.get(page)
    with count_queries() as small:
        assert client.get(page).status_code == 200
    add_more(scenario, world, db, 40)
    with count_queries() as large:
        html = client.get(page).get_data(as_text=True)
    assert len(large) == len(small)
    if role == "coordinator":
        # The 40 escalated orders of H1 show (41 with O2).
        assert "<td class=\"text-end\">41</td>" in html


def add_orders_with_history(scenario, db, n):
    """n more orders of H1 (issued 06-16), each submitted in time on 06-20 and returned
    on 06-25: a submission and two history events per order."""
    from datetime import UTC, datetime

    from casework.history.models import HistoryEvent
    from casework.orders.models import Submission

    for order in scenario.more_orders(n):
        db.session.add(Submission(order_id=order.id, report="已整改", late=False,
                                  submitted_by_id=order.issued_by_id,
                                  submitted_at=datetime(2021, 6, 20, 2, tzinfo=UTC)))
        for trigger, source, target, day in (("submit", "acknowledged", "submitted", 20),
                                             ("return", "submitted", "returned", 25)):
            db.session.add(HistoryEvent(object_type="order", object_id=order.id,
                                        trigger=trigger, from_state=source, to_state=target,
                                        actor_role="institution",
                                        at=datetime(2021, 6, day, 2, tzinfo=UTC)))
    db.session.commit()


@pytest.mark.parametrize("role", ["coordinator", "inspector", "institution"])
def test_each_dashboard_costs_the_same_statements_with_10_and_200_orders(
        scenario, db, login, client, count_queries, role):
    add_orders_with_history(scenario, db, 5)        # 10 orders in all
    login.as_(role)
    page = f"/dashboard?campaign={scenario.campaign.id}&start={START}&end={END}"
    client.get(page)
    with count_queries() as ten:
        assert client.get(page).status_code == 200
    add_orders_with_history(scenario, db, 190)      # 200 orders
    with count_queries() as two_hundred:
        html = client.get(page).get_data(as_text=True)
    assert len(two_hundred) == len(ten)
    # Issued in June: O1, O2 and the 195 added, all H1's (every role here sees H1).
    assert '<td class="text-end">197</td>' in html
