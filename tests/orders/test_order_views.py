"""Order pages through HTTP: who sees what, who may post what, idempotent submits, forms
that come back with their errors and what was typed, the to-do list."""

import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from factories import add_findings, confirm_year, csrf_token, fresh, history, issue_order, unchanged
from sample_files import png_bytes

from casework.extensions import db as _db
from casework.orders import services
from casework.orders.models import ExtensionRequest, RectificationOrder, Submission


@pytest.fixture(autouse=True)
def today(clock, db):
    clock("2025-03-03T09:00:00+08:00")
    confirm_year(db, 2025)


@pytest.fixture
def order(world, db, users):
    return issue_order(world, db, users, photos=True)


def _post(client, path, data, **kw):
    return client.post(path, data={"csrf_token": csrf_token(client, "/orders/"), **data}, **kw)


def _html(response):
    return response.get_data(as_text=True)


def _acknowledged(db, users, order):
    services.fire_order(order.id, "acknowledge", actor=users["institution"], version=1)
    return fresh(db, order)


def _submitted(db, users, order):
    order = _acknowledged(db, users, order)
    services.submit_rectification(order.id, actor=users["institution"], version=order.version,
                                  report="已整改", files=[("图.png", io.BytesIO(png_bytes()))])
    return fresh(db, order)


# --- who sees what ---------------------------------------------------------------------

@pytest.mark.parametrize("role", ["coordinator", "inspector", "viewer", "institution"])
def test_order_pages_for_every_role_that_sees_the_case(client, login, users, order, role):
    login.as_(role)
    listing = _html(client.get("/orders/"))
    assert order.number in listing
    page = client.get(f"/orders/{order.id}")
    assert page.status_code == 200
    body = _html(page)
    assert order.number in body and "中卫市人民医院" in body
    assert 'data-testid="diagram"' in body or "diagram is not available" in body
    notice = client.get(f"/orders/{order.id}/notice")
    assert notice.status_code == 200
    text = _html(notice)
    assert "整改通知书" in text and "中卫市人民医院：" in text
    assert "限期于2025年3月31日前完成整改并书面报告整改情况" in text
    assert "中卫市卫生健康委员会" in text and "2025年3月3日" in text
    assert "notice.css" in text and "style=" not in text


@pytest.mark.parametrize("role, status", [("inspector", 200), ("coordinator", 200),
                                          ("institution", 403), ("viewer", 403)])
def test_new_order_form_only_for_officers(client, login, world, db, users, role, status):
    case = world.make_case(db, state="rectification")
    add_findings(db, case, users["inspector"])
    login.as_(role)
    assert client.get(f"/cases/{case.id}/orders/new").status_code == status
    case_page = _html(client.get(f"/cases/{case.id}"))
    assert ('data-testid="raise-order"' in case_page) is (status == 200)


def test_case_page_lists_orders_awaiting_findings_and_drafts(client, login, world, db, users,
                                                              order):
    add_findings(db, order.case, users["inspector"])
    add_findings(db, order.case, users["inspector"], final=False)
    login.as_("inspector")
    body = _html(client.get(f"/cases/{order.case.id}"))
    assert order.number in body and 'data-state="issued"' in body
    assert 'data-testid="awaiting-findings"' in body
    assert 'data-testid="draft-findings-note"' in body


def test_provisional_deadline_is_shown(client, login, world, db, users, clock):
    clock("2026-12-21T09:00:00+08:00")
    order = issue_order(world, db, users)
    assert order.deadline_provisional
    login.as_("institution")
    assert 'data-testid="provisional-note"' in _html(client.get(f"/orders/{order.id}"))
    assert 'data-testid="provisional"' in _html(client.get("/orders/"))
    assert "暂定期限" in _html(client.get(f"/orders/{order.id}/notice"))


def test_notice_is_chinese_in_the_english_interface(client, login, db, users, order):
    users["institution"].locale = "en"
    db.session.commit()
    login.as_("institution")
    body = _html(client.get(f"/orders/{order.id}/notice"))
    assert "Print" in body  # the toolbar follows the interface
    assert "整改通知书" in body and "请你单位限期于" in body


@pytest.mark.parametrize("role", ["other_institution", "district_coordinator", "admin"])
def test_outsiders_get_404_for_order_notice_and_files(client, login, db, users, order, role):
    order = _submitted(db, users, order)
    files = [a.uuid for f in order.findings for a in f.attachments] + \
        [a.uuid for s in order.submissions for a in s.attachments]
    assert len(files) == 2
    login.as_(role)
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert client.get(f"/orders/{order.id}/notice").status_code == 404
    for uuid in files:
        assert client.get(f"/evidence/{uuid}").status_code == 404
    assert order.number not in _html(client.get("/orders/"))
    response = _post(client, f"/orders/{order.id}/fire/verify", {"version": order.version})
    assert response.status_code == 404


# --- who may post what ------------------------------------------------------------------

@pytest.mark.parametrize("trigger", ["verify", "return", "cancel", "escalate"])
@pytest.mark.parametrize("comment", ["理由", ""])
def test_institution_cannot_fire_officer_triggers(client, login, db, users, order, trigger,
                                                  comment):
    order = _submitted(db, users, order)
    login.as_("institution")
    with unchanged(db, order):
        response = _post(client, f"/orders/{order.id}/fire/{trigger}",
                         {"version": order.version, "comment": comment})
    assert response.status_code == 403
    assert (fresh(db, order).state, len(history(db, order))) == ("submitted", 2)


def test_inspector_cannot_acknowledge_or_submit(client, login, db, users, order):
    login.as_("inspector")
    with unchanged(db, order):
        assert _post(client, f"/orders/{order.id}/fire/acknowledge",
                     {"version": 1}).status_code == 403
    order = _acknowledged(db, users, order)
    with unchanged(db, order, "submission"):
        response = _post(client, f"/orders/{order.id}/submit",
                         {"version": order.version, "report": "代为提交",
                          "files": (io.BytesIO(png_bytes()), "a.png")},
                         content_type="multipart/form-data")
    assert response.status_code == 403
    with unchanged(db, order, "extension_request"):
        assert _post(client, f"/orders/{order.id}/extensions",
                     {"reason": "x", "proposed_deadline": "2025-05-01"}).status_code == 403
    assert fresh(db, order).state == "acknowledged"
    assert _db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0


def test_actions_offered_follow_policy(client, login, db, users, order):
    login.as_("institution")
    body = _html(client.get(f"/orders/{order.id}"))
    assert 'data-trigger="acknowledge"' in body and 'id="form-request_extension"' in body
    assert 'data-trigger="verify"' not in body and 'data-trigger="cancel"' not in body
    login.logout()
    login.as_("coordinator")
    body = _html(client.get(f"/orders/{order.id}"))
    assert 'data-trigger="cancel"' in body and 'data-trigger="escalate"' in body
    assert 'data-trigger="acknowledge"' not in body and 'id="form-request_extension"' not in body
    assert 'data-confirm=' in body


def test_stale_version_is_409_and_changes_nothing(client, login, db, users, order):
    login.as_("institution")
    assert _post(client, f"/orders/{order.id}/fire/acknowledge",
                 {"version": 1}).status_code == 302
    order = fresh(db, order)
    with unchanged(db, order):
        response = _post(client, f"/orders/{order.id}/fire/acknowledge", {"version": 1})
    assert response.status_code == 409
    assert len(history(db, order)) == 1


# --- the institution's journey -------------------------------------------------------------

def test_acknowledge_submit_with_evidence(client, login, db, users, order):
    login.as_("institution")
    assert _post(client, f"/orders/{order.id}/fire/acknowledge",
                 {"version": 1}).status_code == 302
    response = _post(client, f"/orders/{order.id}/submit",
                     {"version": 2, "report": "已建立台账", "request_key": "k1",
                      "files": [(io.BytesIO(png_bytes()), "照片.png"),
                                (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "报告.pdf")]},
                     content_type="multipart/form-data")
    assert response.status_code == 302
    order = fresh(db, order)
    assert order.state == "submitted"
    body = _html(client.get(f"/orders/{order.id}"))
    assert "已建立台账" in body and body.count('data-testid="evidence-link"') == 3
    assert "bi-file-earmark-pdf" in body  # the PDF is a link, the photos thumbnails


def test_double_submit_creates_one_submission_and_one_event(client, login, db, users, order):
    order = _acknowledged(db, users, order)
    login.as_("institution")
    for _ in range(2):
        response = _post(client, f"/orders/{order.id}/submit",
                         {"version": order.version, "report": "报告", "request_key": "same",
                          "files": (io.BytesIO(png_bytes()), "p.png")},
                         content_type="multipart/form-data")
        assert response.status_code == 302
    assert _db.session.scalar(sa.select(sa.func.count(Submission.id))) == 1
    assert [e.trigger for e in history(db, order)] == ["acknowledge", "submit"]


def test_submit_without_evidence_is_422_and_keeps_the_report(client, login, db, users, order):
    order = _acknowledged(db, users, order)
    login.as_("institution")
    response = _post(client, f"/orders/{order.id}/submit",
                     {"version": order.version, "report": "我们已经整改了<全部>问题",
                      "request_key": "k-422", "files": (io.BytesIO(b""), "")},
                     content_type="multipart/form-data")
    assert response.status_code == 422
    body = _html(response)
    assert "我们已经整改了&lt;全部&gt;问题" in body
    assert 'data-error="files"' in body and 'value="k-422"' in body
    assert fresh(db, order).state == "acknowledged"
    assert _db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0


def test_submit_with_wrong_type_is_422(client, login, db, users, order):
    order = _acknowledged(db, users, order)
    login.as_("institution")
    response = _post(client, f"/orders/{order.id}/submit",
                     {"version": order.version, "report": "报告",
                      "files": (io.BytesIO(b"<svg onload=alert(1)>"), "x.png")},
                     content_type="multipart/form-data")
    assert response.status_code == 422
    assert "x.png" in _html(response)


def test_extension_request_and_decisions(client, login, db, users, order):
    login.as_("institution")
    response = _post(client, f"/orders/{order.id}/extensions",
                     {"reason": "设备采购需要时间", "proposed_deadline": ""})
    assert response.status_code == 422
    assert "设备采购需要时间" in _html(response)
    assert 'data-error="proposed_deadline"' in _html(response)
    assert _db.session.scalar(sa.select(sa.func.count(ExtensionRequest.id))) == 0
    assert _post(client, f"/orders/{order.id}/extensions",
                 {"reason": "设备采购需要时间", "proposed_deadline": "2025-04-30"}
                 ).status_code == 302
    request = _db.session.scalar(sa.select(ExtensionRequest))
    login.logout()
    login.as_("coordinator")
    body = _html(client.get(f"/orders/{order.id}"))
    assert f'id="form-approve-{request.id}"' in body
    with unchanged(db, order, request):
        response = _post(client, f"/orders/{order.id}/extensions/{request.id}",
                         {"version": 1, "decision": "decline", "comment": " "})
    assert response.status_code == 422
    assert f'id="form-decline-{request.id}"' in _html(response)
    response = _post(client, f"/orders/{order.id}/extensions/{request.id}",
                     {"version": 1, "decision": "approve", "new_deadline": "2025-04-20"})
    assert response.status_code == 302
    order = fresh(db, order)
    assert order.deadline == date(2025, 4, 20)
    assert [e.trigger for e in history(db, order)] == ["extend"]
    # The order page shows the request's own events beside the order's.
    assert [(e.object_type, e.trigger) for e in services.order_history(order)] == [
        ("extension", "request"), ("extension", "approve"), ("order", "extend")]
    page = _html(client.get(f"/orders/{order.id}"))
    assert "2025-04-20" in page and "批准延期" in page


def test_institution_cannot_decide_its_own_extension(client, login, db, users, order):
    request = services.request_extension(order.id, actor=users["institution"], reason="理由",
                                         proposed_deadline=order.deadline + timedelta(days=9))
    login.as_("institution")
    with unchanged(db, order, request):
        response = _post(client, f"/orders/{order.id}/extensions/{request.id}",
                         {"version": 1, "decision": "approve"})
    assert response.status_code == 403
    assert _db.session.get(ExtensionRequest, request.id).status == "pending"


# --- officers' forms -----------------------------------------------------------------------

def test_return_without_reason_is_422_and_changes_nothing(client, login, db, users, order):
    order = _submitted(db, users, order)
    login.as_("inspector")
    response = _post(client, f"/orders/{order.id}/fire/return",
                     {"version": order.version, "comment": "   "})
    assert response.status_code == 422
    assert 'data-error="comment"' in _html(response)
    assert fresh(db, order).state == "submitted"
    assert _post(client, f"/orders/{order.id}/fire/return",
                 {"version": order.version, "comment": "照片不清晰"}).status_code == 302
    assert fresh(db, order).state == "returned"


def test_issue_order_through_the_form(client, login, world, db, users):
    case = world.make_case(db, state="rectification")
    findings = add_findings(db, case, users["inspector"], 2)
    login.as_("inspector")
    form = _html(client.get(f"/cases/{case.id}/orders/new"))
    key = re.search(r'name="request_key" value="([^"]+)"', form).group(1)
    assert form.count("checked") >= 2 and "中卫市卫生健康委员会" in form
    bad = _post(client, f"/cases/{case.id}/orders/new",
                {"findings": [findings[1].id], "requirements": "  ", "issuing_body": "某某卫健局",
                 "deadline_kind": "working_days", "working_days": "abc", "request_key": key})
    assert bad.status_code == 422
    body = _html(bad)
    assert 'data-error="requirements"' in body and 'data-error="deadline"' in body
    assert "某某卫健局" in body and 'value="abc"' in body
    assert f'value="{findings[0].id}" id="finding-{findings[0].id}">' in body  # unchecked
    assert _db.session.scalar(sa.select(sa.func.count(RectificationOrder.id))) == 0
    data = {"findings": [f.id for f in findings], "requirements": "限期整改",
            "issuing_body": "中卫市卫生健康委员会", "deadline_kind": "working_days",
            "working_days": "20", "request_key": key}
    first = _post(client, f"/cases/{case.id}/orders/new", data)
    again = _post(client, f"/cases/{case.id}/orders/new", data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    order = _db.session.scalar(sa.select(RectificationOrder))
    assert (order.deadline, len(order.findings)) == (date(2025, 3, 31), 2)


def test_issue_order_deadline_by_date_in_the_past_is_422(client, login, world, db, users):
    case = world.make_case(db, state="rectification")
    findings = add_findings(db, case, users["inspector"])
    login.as_("coordinator")
    response = _post(client, f"/cases/{case.id}/orders/new",
                     {"findings": [findings[0].id], "requirements": "整改",
                      "deadline_kind": "date", "deadline_date": "2025-03-01"})
    assert response.status_code == 422
    assert 'value="2025-03-01"' in _html(response)


# --- the to-do list ---------------------------------------------------------------------------

def _rows(db, case, issuer, states, start=0):
    for i, state in enumerate(states, start=start):
        db.session.add(RectificationOrder(
            number=f"整改〔2025〕{9000 + i}号", case=case, state=state, requirements="整改",
            issuing_body="卫健委", issued_on=date(2025, 3, 1), issued_by_id=issuer.id,
            deadline=date(2025, 3, 20) + timedelta(days=i % 7), deadline_rule={"kind": "x"},
        ))
    db.session.commit()


def test_todo_list_puts_returned_and_overdue_first(client, login, world, db, users):
    case = world.make_case(db, state="rectification")
    _rows(db, case, users["inspector"],
          ["issued", "acknowledged", "overdue", "closed", "returned", "submitted", "escalated"])
    login.as_("institution")
    body = _html(client.get("/orders/"))
    states = re.findall(r'data-testid="order-row" data-state="(\w+)"', body)
    assert states == ["returned", "escalated", "overdue", "issued", "acknowledged", "submitted"]
    assert "待办" in body or "To-do" in body
    everything = _html(client.get("/orders/?state=all"))
    assert 'data-state="closed"' in everything


def test_officers_filter_by_state(client, login, world, db, users):
    case = world.make_case(db, state="rectification")
    _rows(db, case, users["inspector"], ["issued", "closed", "returned"])
    login.as_("coordinator")
    body = _html(client.get("/orders/?state=closed"))
    assert re.findall(r'data-testid="order-row" data-state="(\w+)"', body) == ["closed"]
    assert client.get("/orders/?state=nonsense").status_code == 422


def test_todo_list_query_count_does_not_grow_with_rows(client, login, world, db, users,
                                                       count_queries):
    case = world.make_case(db, state="rectification")
    login.as_("institution")
    counts = []
    for total, states in ((2, ["issued", "returned"]), (20, ["overdue", "escalated"] * 9)):
        _rows(db, case, users["inspector"], states, start=total)
        with count_queries() as statements:
            response = client.get("/orders/")
        assert response.status_code == 200
        counts.append(len(statements))
        assert len(re.findall(r'data-testid="order-row"', _html(response))) == total
    assert counts[0] == counts[1], counts
