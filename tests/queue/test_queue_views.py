"""Queue pages: who sees them, claiming, assigning, bulk actions, stale claims, the
actions taken from an item."""

import re

import pytest
import sqlalchemy as sa
from factories import csrf_token, unchanged
from queue_scenario import NOW, build

from casework.queue.models import QueueClaim


@pytest.fixture
def scenario(db, world, clock):
    clock(NOW)
    return build(db, world)


def claims(db):
    return dict(db.session.execute(sa.select(QueueClaim.item_key, QueueClaim.assignee_id)).all())


def test_coordinator_sees_the_queue_page(scenario, client, login):
    login.as_("coordinator")
    html = client.get("/queue/").get_data(as_text=True)
    assert html.count('data-testid="queue-row"') == 9
    assert "督办队列" in html


@pytest.mark.parametrize("role", ["inspector", "institution", "admin"])
def test_others_get_403(scenario, client, login, role):
    login.as_(role)
    assert client.get("/queue/").status_code == 403


def test_viewer_reads_but_cannot_claim(db, scenario, client, login):
    objects, _ = scenario
    login.as_("viewer")
    html = client.get("/queue/").get_data(as_text=True)
    assert 'data-testid="queue-select"' not in html
    key = f"order_escalated:{objects['escalated'].id}"
    with unchanged(db, "queue_claim"):
        response = client.post("/queue/assign", data={
            "item": key, "action": "claim", "csrf_token": csrf_token(client, "/queue/")})
    assert response.status_code == 403


def test_claim_assign_unassign_in_bulk(scenario, client, login, users, db):
    objects, _ = scenario
    me = login.as_("coordinator")
    a = f"order_escalated:{objects['escalated'].id}"
    b = f"case_blocked:{objects['case_h'].id}"
    token = csrf_token(client, "/queue/")
    response = client.post("/queue/assign", data={
        "item": [a, b], "action": "claim", "csrf_token": token, f"seen:{a}": "", f"seen:{b}": ""})
    assert response.status_code == 302
    assert claims(db) == {a: me.id, b: me.id}
    html = client.get("/queue/?owner=mine").get_data(as_text=True)
    assert html.count('data-testid="queue-row"') == 2
    # Assign to a coordinator whose region holds the items: the city coordinator only;
    # the district coordinator cannot own a city-district item.
    response = client.post("/queue/assign", data={
        "item": [a], "action": "assign", "assignee": users["district_coordinator"].id,
        "csrf_token": token})
    assert response.status_code == 422
    assert "督导协调员" in response.get_data(as_text=True) or "协调员" in response.get_data(
        as_text=True)
    response = client.post("/queue/assign", data={
        "item": [a, b], "action": "unassign", "csrf_token": token})
    assert response.status_code == 302
    assert claims(db) == {}


def test_stale_claim_is_409(scenario, client, login, users, db):
    objects, _ = scenario
    a = f"order_escalated:{objects['escalated'].id}"
    db.session.add(QueueClaim(item_key=a, assignee_id=users["viewer"].id,
                              assigned_by_id=users["viewer"].id))
    db.session.commit()
    login.as_("coordinator")
    response = client.post("/queue/assign", data={
        "item": a, "action": "claim", f"seen:{a}": "", "csrf_token": csrf_token(client, "/queue/")})
    assert response.status_code == 409
    assert claims(db)[a] == users["viewer"].id


def test_district_coordinator_cannot_reach_city_items(db, scenario, client, login):
    objects, _ = scenario
    login.as_("district_coordinator")
    a = f"order_escalated:{objects['escalated'].id}"
    assert client.get(f"/queue/item/{a}").status_code == 404
    with unchanged(db, "queue_claim"):
        response = client.post("/queue/assign", data={
            "item": a, "action": "claim", "csrf_token": csrf_token(client, "/queue/")})
    assert response.status_code == 404


def test_nothing_chosen_is_422_in_chinese(scenario, client, login):
    login.as_("coordinator")
    response = client.post("/queue/assign", data={
        "action": "claim", "csrf_token": csrf_token(client, "/queue/")})
    assert response.status_code == 422
    assert re.search(r"[\u4e00-\u9fff]", response.get_data(as_text=True))


def test_designate_tackling_from_the_item(scenario, client, login, db):
    objects, _ = scenario
    login.as_("coordinator")
    key = f"case_blocked:{objects['case_h'].id}"
    page = client.get(f"/queue/item/{key}")
    assert page.status_code == 200 and 'data-testid="tackling-form"' in page.get_data(
        as_text=True)
    token = csrf_token(client, f"/queue/item/{key}")
    response = client.post(f"/queue/item/{key}/tackling", data={
        "version": objects["case_h"].version, "comment": "", "csrf_token": token})
    assert response.status_code == 422
    response = client.post(f"/queue/item/{key}/tackling", data={
        "version": objects["case_h"].version, "comment": "整改滞后", "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert objects["case_h"].state == "tackling"
    html = client.get("/queue/").get_data(as_text=True)
    assert f'data-key="{key}"' not in html
    assert f'data-key="case_tackling:{objects["case_h"].id}"' in html


def test_escalate_and_decide_extension_from_the_item(scenario, client, login, db, users):
    from casework.orders.models import ExtensionRequest

    objects, _ = scenario
    overdue = objects["overdue"]
    db.session.add(ExtensionRequest(order=overdue, reason="设备未到", proposed_deadline=__import__(
        "datetime").date(2023, 1, 20), requested_by_id=users["institution"].id))
    db.session.commit()
    login.as_("coordinator")
    key = f"order_overdue:{overdue.id}"
    token = csrf_token(client, f"/queue/item/{key}")
    response = client.post(f"/queue/item/{key}/extension", data={
        "version": overdue.version, "decision": "decline", "comment": "", "csrf_token": token})
    assert response.status_code == 422
    response = client.post(f"/queue/item/{key}/escalate", data={
        "version": overdue.version, "comment": "逾期未整改", "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert overdue.state == "escalated"
    key = f"order_escalated:{overdue.id}"
    response = client.post(f"/queue/item/{key}/extension", data={
        "version": overdue.version, "decision": "approve", "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert overdue.state == "acknowledged"
    html = client.get("/queue/").get_data(as_text=True)
    assert f"order_escalated:{overdue.id}" not in html


def test_dashboard_shows_the_queue_count(scenario, client, login):
    login.as_("coordinator")
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'data-testid="queue-count">9<', html)


def test_a_long_queue_is_counted_up_to_the_cap(scenario, client, login, monkeypatch):
    # A province's queue runs to tens of thousands: counted up to COUNT_CAP, it says
    # "more than" (here the cap is 4 of the scenario's 9 items).
    from casework import pagination

    monkeypatch.setattr(pagination, "COUNT_CAP", 4)
    login.as_("coordinator")
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'data-testid="queue-count">4\+<', html)
    html = client.get("/queue/").get_data(as_text=True)
    assert "超过 4 项" in html
    assert html.count('data-testid="queue-row"') == 9  # the page itself is not cut
    monkeypatch.setattr(pagination, "COUNT_CAP", 100)
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'data-testid="queue-count">9<', html)


def test_the_page_issues_a_constant_number_of_queries(scenario, client, login, db, world,
                                                      count_queries):
    from queue_scenario import more_rows

    objects, _ = scenario
    login.as_("coordinator")
    client.get("/queue/")
    with count_queries() as small:
        assert client.get("/queue/").status_code == 200
    more_rows(db, world, objects, n=15)
    with count_queries() as large:
        html = client.get("/queue/?sort=kind").get_data(as_text=True)
    assert html.count('data-testid="queue-row"') == 50      # one full page
    assert len(large) == len(small)


def test_tackling_from_an_order_item(scenario, client, login, db):
    objects, _ = scenario
    login.as_("coordinator")
    key = f"order_escalated:{objects['escalated'].id}"
    html = client.get(f"/queue/item/{key}").get_data(as_text=True)
    assert 'data-testid="tackling-form"' in html


def _overdue_orders(db, world, objects, n):
    from factories import make_order

    for _ in range(n):
        make_order(db, objects["case_c"], world.users["inspector"], state="overdue", commit=False)
    db.session.commit()


def test_the_page_issues_the_same_statements_with_10_and_200_overdue_orders(
        scenario, client, login, db, world, count_queries):
    objects, _ = scenario
    login.as_("coordinator")
    _overdue_orders(db, world, objects, 10)
    client.get("/queue/")
    with count_queries() as ten:
        html = client.get("/queue/?kind=order_overdue").get_data(as_text=True)
    assert html.count('data-testid="queue-row"') == 11
    _overdue_orders(db, world, objects, 190)
    with count_queries() as two_hundred:
        html = client.get("/queue/?kind=order_overdue&page=2").get_data(as_text=True)
    assert html.count('data-testid="queue-row"') == 50
    assert len(two_hundred) == len(ten), two_hundred
    # The queue itself is two statements: the count and the page, both over the union.
    assert sum("queue_item" in s for s in two_hundred) == 2


def test_the_badge_is_one_query_per_request(scenario, client, login, app, count_queries):
    from flask_login import login_user

    user = login.as_("coordinator")
    client.get("/dashboard")
    with count_queries() as statements:
        html = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'data-testid="queue-count">9<', html)
    assert sum("queue_item" in s for s in statements) == 1
    # However many templates ask for it, a request counts once.
    with app.test_request_context("/dashboard"):
        login_user(user)
        helpers = {}
        for processor in app.template_context_processors[None]:
            helpers.update(processor())
        badge = helpers["queue_badge"]
        assert user.region.path
        with count_queries() as statements:
            assert badge() == 9 and badge() == 9
        assert len(statements) == 1, statements
