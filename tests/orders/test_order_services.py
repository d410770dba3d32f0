"""Rectification orders through their services: raising, the whole lifecycle, evidence,
late submissions, extensions, cancelling, and provisional deadlines recomputed.

The helpers (a case with findings, evidence files, an order) are tests/factories.py's.
"""

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from factories import (
    RULE_20_WORKING_DAYS,
    add_findings,
    confirm_year,
    fresh,
    history,
    issue_order,
    pdf,
    photo,
    raise_order,
    stored_files,
    unchanged,
)
from sample_files import png_bytes

from casework import clock as app_clock
from casework import policy
from casework.errors import GuardFailed, Invalid, NotFound, NotPermitted, StaleObject
from casework.evidence.models import Attachment
from casework.history.models import HistoryEvent
from casework.orders import services
from casework.orders.models import ExtensionRequest, RectificationOrder, Submission
from workflows import binding

# A Monday, in a year the tests confirm (weekends only, no holidays entered): deadlines
# are then exact and not provisional.
MONDAY = "2025-03-03T09:00:00+08:00"


@pytest.fixture
def today(clock, db):
    clock(MONDAY)
    confirm_year(db, 2025)
    return date(2025, 3, 3)


# --- raising an order ------------------------------------------------------------------

def test_raise_order_computes_deadline_and_numbers(world, db, users, today):
    order = issue_order(world, db, users)
    assert order.state == "issued" and order.version == 1
    assert order.number == "整改〔2025〕0001号"
    # 20 working days after Monday 3 March 2025, weekends only: Monday 31 March.
    assert order.deadline == date(2025, 3, 31)
    assert order.deadline_provisional is False
    assert order.issuing_body == "中卫市卫生健康委员会"  # the campaign's
    assert order.deadline_rule == RULE_20_WORKING_DAYS
    second = issue_order(world, db, users, case=order.case)
    assert second.number == "整改〔2025〕0002号"
    assert history(db, order) == []  # issuing is the initial state, not a transition


def test_numbers_start_again_each_year(world, db, users, clock):
    clock("2025-12-30T10:00:00+08:00")
    first = issue_order(world, db, users)
    clock("2026-01-05T10:00:00+08:00")
    second = issue_order(world, db, users, case=first.case)
    assert (first.number, second.number) == ("整改〔2025〕0001号", "整改〔2026〕0001号")


@pytest.mark.parametrize("finding_ids, requirements, message_field", [
    ([], "整改", "findings"),
    (None, "   ", "requirements"),
])
def test_raise_order_requires_findings_and_requirements(world, db, users, today, finding_ids,
                                                        requirements, message_field):
    case = world.make_case(db, state="rectification")
    findings = add_findings(db, case, users["inspector"])
    with pytest.raises(Invalid) as caught:
        services.raise_order(case.id, actor=users["inspector"],
                             finding_ids=[f.id for f in findings] if finding_ids is None
                             else finding_ids,
                             requirements=requirements, rule=RULE_20_WORKING_DAYS)
    assert list(caught.value.details["errors"]) == [message_field]
    assert db.session.scalar(sa.select(sa.func.count(RectificationOrder.id))) == 0


def test_raise_order_refuses_unfinalised_and_foreign_findings(world, db, users, today):
    case = world.make_case(db, state="rectification")
    draft = add_findings(db, case, users["inspector"], final=False)
    other_case = world.make_case(db, institution=world.clinic, campaign=case.campaign)
    foreign = add_findings(db, other_case, users["inspector"])
    for findings in (draft, foreign, [*add_findings(db, case, users["inspector"]), *foreign]):
        with pytest.raises(Invalid) as caught:
            raise_order(case, users["inspector"], findings)
        assert "findings" in caught.value.details["errors"]
    assert services.order_candidates(case).draft_findings == draft
    assert db.session.scalar(sa.select(sa.func.count(RectificationOrder.id))) == 0


def test_a_finding_goes_into_one_live_order_only(world, db, users, today):
    order = issue_order(world, db, users)
    with pytest.raises(Invalid):
        raise_order(order.case, users["inspector"], order.findings)


@pytest.mark.parametrize("kind, value", [
    ("weeks", 3), ("working_days", 0), ("working_days", "20"), ("months", 13),
    ("calendar_days", None), ("date", "2025-04-01"),
])
def test_bad_deadline_rules_are_invalid(kind, value, today):
    with pytest.raises(Invalid) as caught:
        services.deadline_rule(kind, value)
    assert list(caught.value.details["errors"]) == ["deadline"]


@pytest.mark.parametrize("deadline", [date(2025, 3, 3), date(2025, 3, 2)])
def test_deadline_today_or_past_is_invalid(world, db, users, today, deadline):
    case = world.make_case(db, state="rectification")
    findings = add_findings(db, case, users["inspector"])
    with pytest.raises(Invalid) as caught:
        raise_order(case, users["inspector"], findings,
              rule=services.deadline_rule("date", deadline), requirements="")
    # Every problem at once: the requirements as well as the deadline.
    assert set(caught.value.details["errors"]) == {"deadline", "requirements"}


def test_deadline_by_date_months_and_calendar_days(world, db, users, today):
    case = world.make_case(db, state="rectification")
    by_date = raise_order(case, users["inspector"], add_findings(db, case, users["inspector"]),
                    rule=services.deadline_rule("date", date(2025, 4, 5)))
    # A chosen date is the issuer's: kept even on a Saturday.
    assert by_date.deadline == date(2025, 4, 5)
    months = raise_order(case, users["inspector"], add_findings(db, case, users["inspector"]),
                   rule=services.deadline_rule("months", 1))
    assert months.deadline == date(2025, 4, 3)
    days = raise_order(case, users["inspector"], add_findings(db, case, users["inspector"]),
                 rule=services.deadline_rule("calendar_days", 5))
    # 8 March is a Saturday: the period ends on the next working day.
    assert days.deadline == date(2025, 3, 10)


def test_raise_order_is_idempotent_on_request_key(world, db, users, today):
    case = world.make_case(db, state="rectification")
    findings = add_findings(db, case, users["inspector"])
    first = raise_order(case, users["inspector"], findings, request_key="k-1")
    again = raise_order(case, users["inspector"], findings, request_key="k-1")
    assert again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count(RectificationOrder.id))) == 1


@pytest.mark.parametrize("role", ["institution", "viewer"])
def test_only_officers_raise_orders(world, db, users, today, role):
    case = world.make_case(db, state="rectification")
    findings = add_findings(db, case, users["inspector"])
    with unchanged(db, case, "rectification_order"), pytest.raises(NotPermitted):
        raise_order(case, users[role], findings)


# --- the lifecycle ---------------------------------------------------------------------

def test_whole_lifecycle_one_event_per_transition(app, world, db, users, today):
    inspector, hospital = users["inspector"], users["institution"]
    order = issue_order(world, db, users)
    services.fire_order(order.id, "acknowledge", actor=hospital, version=order.version)
    first = services.submit_rectification(
        order.id, actor=hospital, version=fresh(db, order).version, report="已建立台账。",
        files=[photo(), pdf()], request_key="s-1")
    assert first.late is False
    assert [a.content_type for a in first.attachments] == ["image/png", "application/pdf"]
    with pytest.raises(GuardFailed):
        services.fire_order(order.id, "return", actor=inspector,
                            version=fresh(db, order).version, comment="  ")
    services.fire_order(order.id, "return", actor=inspector, version=fresh(db, order).version,
                        comment="台账缺少科室签字。")
    assert fresh(db, order).state == "returned"
    services.submit_rectification(
        order.id, actor=hospital, version=fresh(db, order).version, report="已补签字。",
        files=[photo("签字页.png")], request_key="s-2")
    services.fire_order(order.id, "verify", actor=inspector, version=fresh(db, order).version)
    order = fresh(db, order)
    assert (order.state, order.version) == ("closed", 6)
    assert [(e.trigger, e.from_state, e.to_state, e.actor_role) for e in history(db, order)] == [
        ("acknowledge", "issued", "acknowledged", "institution"),
        ("submit", "acknowledged", "submitted", "institution"),
        ("return", "submitted", "returned", "inspector"),
        ("submit", "returned", "submitted", "institution"),
        ("verify", "submitted", "closed", "inspector"),
    ]
    assert history(db, order)[2].comment == "台账缺少科室签字。"
    assert len(order.submissions) == 2
    from casework.storage import get_storage

    assert all(get_storage().exists(a.storage_key)
               for s in order.submissions for a in s.attachments)


def test_submit_is_idempotent_on_request_key(world, db, users, today):
    hospital = users["institution"]
    order = issue_order(world, db, users)
    services.fire_order(order.id, "acknowledge", actor=hospital, version=1)
    version = fresh(db, order).version
    first = services.submit_rectification(order.id, actor=hospital, version=version,
                                          report="报告", files=[photo()], request_key="dup")
    # The retried POST still carries the version read before the first one.
    again = services.submit_rectification(order.id, actor=hospital, version=version,
                                          report="报告", files=[photo()], request_key="dup")
    assert again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 1
    assert [e.trigger for e in history(db, order)] == ["acknowledge", "submit"]


def test_concurrent_retries_of_one_submit_create_one_submission(app, world, db, users, today):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serialises whole-database)")
    import threading

    from casework.extensions import db as ext_db
    from casework.users.models import User

    order = issue_order(world, db, users)
    services.fire_order(order.id, "acknowledge", actor=users["institution"], version=1)
    order_id, user_id, workers = order.id, users["institution"].id, 4
    before = stored_files(app)
    barrier = threading.Barrier(workers)
    results = [None] * workers

    def worker(index):
        with app.app_context():
            try:
                actor = ext_db.session.get(User, user_id)
                ext_db.session.commit()
                barrier.wait(timeout=10)
                results[index] = services.submit_rectification(
                    order_id, actor=actor, version=2, report="报告", files=[photo()],
                    request_key="double-tap").id
            except Exception as error:  # noqa: BLE001  (reported by the assertion below)
                results[index] = repr(error)
            finally:
                ext_db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 1
    assert [e.trigger for e in history(db, fresh(db, order))] == ["acknowledge", "submit"]
    assert len(stored_files(app)) == len(before) + 1  # the losers' files are removed


@pytest.mark.parametrize("files, report, fields", [
    ([], "报告", {"files"}),
    ([("照片.jpg", io.BytesIO(b"<html><script>alert(1)</script></html>"))], "报告", {"files"}),
    ([("notes.txt", io.BytesIO(b"just text"))], "", {"files", "report"}),
    ([photo(), ("空.png", io.BytesIO(b""))], "报告", {"files"}),
])
def test_bad_submission_stores_nothing(app, world, db, users, today, files, report, fields):
    hospital = users["institution"]
    order = issue_order(world, db, users)
    services.fire_order(order.id, "acknowledge", actor=hospital, version=1)
    before = stored_files(app)
    with pytest.raises(Invalid) as caught:
        services.submit_rectification(order.id, actor=hospital, version=2, report=report,
                                      files=files)
    assert set(caught.value.details["errors"]) == fields
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert stored_files(app) == before
    assert fresh(db, order).state == "acknowledged"


def test_oversized_file_is_refused_and_nothing_stored(app, world, db, users, today,
                                                      monkeypatch):
    hospital = users["institution"]
    order = issue_order(world, db, users)
    services.fire_order(order.id, "acknowledge", actor=hospital, version=1)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    big = png_bytes() + b"\0" * (1024 * 1024)
    before = stored_files(app)
    with pytest.raises(Invalid) as caught:
        services.submit_rectification(order.id, actor=hospital, version=2, report="报告",
                                      files=[photo(), ("大图.png", io.BytesIO(big))])
    assert "大图.png" in caught.value.details["errors"]["files"][0]
    assert stored_files(app) == before
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0


def test_a_failed_transition_leaves_no_file_behind(app, world, db, users, today):
    """Submitting with a stale version: the files already stored are removed again."""
    hospital = users["institution"]
    order = issue_order(world, db, users)
    services.fire_order(order.id, "acknowledge", actor=hospital, version=1)
    before = stored_files(app)
    with unchanged(db, order, "submission"), pytest.raises(StaleObject):
        services.submit_rectification(order.id, actor=hospital, version=1, report="报告",
                                      files=[photo()])
    assert stored_files(app) == before
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0


def test_late_submission_is_marked_late(world, db, users, clock, today):
    hospital = users["institution"]
    order = issue_order(world, db, users, rule={"kind": "calendar_days", "value": 5})
    assert order.deadline == date(2025, 3, 10)
    services.fire_order(order.id, "acknowledge", actor=hospital, version=1)
    clock("2025-03-12T09:00:00+08:00")
    submission = services.submit_rectification(order.id, actor=hospital, version=2,
                                               report="迟交的报告", files=[pdf()])
    assert submission.late is True


@pytest.mark.parametrize("trigger, role", [
    ("verify", "institution"), ("return", "institution"), ("cancel", "institution"),
    ("acknowledge", "inspector"), ("cancel", "inspector"), ("escalate", "inspector"),
    ("acknowledge", "other_institution"),
])
def test_who_may_fire_what(world, db, users, today, trigger, role):
    order = issue_order(world, db, users)
    with unchanged(db, order), pytest.raises((NotPermitted, NotFound)):
        services.fire_order(order.id, trigger, actor=users[role], version=1, comment="理由")
    assert fresh(db, order).state == "issued"


def test_cancel_requires_a_reason(world, db, users, today):
    coordinator = users["coordinator"]
    order = issue_order(world, db, users)
    with pytest.raises(GuardFailed):
        services.fire_order(order.id, "cancel", actor=coordinator, version=1, comment=" ")
    assert fresh(db, order).state == "issued"
    services.fire_order(order.id, "cancel", actor=coordinator, version=1, comment="重复下发")
    assert fresh(db, order).state == "cancelled"
    assert [(e.trigger, e.comment) for e in history(db, order)] == [("cancel", "重复下发")]
    # Its findings are free again for a new order.
    assert [f.id for f in services.order_candidates(order.case).open_findings] == \
        [f.id for f in order.findings]


# --- extensions --------------------------------------------------------------------------

def test_extension_approved_moves_overdue_order_back_to_acknowledged(world, db, users, clock,
                                                                     today):
    hospital, coordinator = users["institution"], users["coordinator"]
    order = issue_order(world, db, users, rule={"kind": "calendar_days", "value": 5})
    clock("2025-03-12T09:00:00+08:00")
    # What the scheduler's deadline sweep does.
    binding.apply(fresh(db, order), "mark_overdue", actor=policy.SYSTEM, version=None,
                  today=app_clock.today())
    assert fresh(db, order).state == "overdue"
    request = services.request_extension(order.id, actor=hospital, reason="设备采购周期长",
                                         proposed_deadline=date(2025, 4, 30))
    assert request.status == "pending"
    with pytest.raises(GuardFailed):  # one pending request at a time
        services.request_extension(order.id, actor=hospital, reason="再次申请",
                                   proposed_deadline=date(2025, 5, 30))
    with unchanged(db, order, request), pytest.raises(NotPermitted):
        services.decide_extension(request.id, actor=users["inspector"], approve=True,
                                  version=fresh(db, order).version)
    services.decide_extension(request.id, actor=coordinator, approve=True,
                              version=fresh(db, order).version, new_deadline=date(2025, 4, 25))
    order = fresh(db, order)
    assert (order.state, order.deadline, order.deadline_provisional) == \
        ("acknowledged", date(2025, 4, 25), False)
    request = db.session.get(ExtensionRequest, request.id)
    assert (request.status, request.granted_deadline, request.version) == \
        ("approved", date(2025, 4, 25), 2)
    assert [(e.trigger, e.from_state, e.to_state) for e in history(db, order)] == [
        ("mark_overdue", "issued", "overdue"),
        ("extend", "overdue", "acknowledged"),
    ]
    # The request is a machine of its own; the order's history shows its events too.
    assert [(e.object_type, e.trigger, e.from_state, e.to_state)
            for e in services.order_history(order)] == [
        ("order", "mark_overdue", "issued", "overdue"),
        ("extension", "request", "pending", "pending"),
        ("extension", "approve", "pending", "approved"),
        ("order", "extend", "overdue", "acknowledged"),
    ]


def test_extension_request_validation(world, db, users, today):
    hospital = users["institution"]
    order = issue_order(world, db, users)
    with pytest.raises(Invalid) as caught:
        services.request_extension(order.id, actor=hospital, reason=" ",
                                   proposed_deadline=order.deadline)
    assert set(caught.value.details["errors"]) == {"reason", "proposed_deadline"}
    with unchanged(db, order, "extension_request"), pytest.raises(NotPermitted):
        services.request_extension(order.id, actor=users["inspector"], reason="理由",
                                   proposed_deadline=order.deadline + timedelta(days=9))
    assert db.session.scalar(sa.select(sa.func.count(ExtensionRequest.id))) == 0


def test_extension_decline_requires_reason(world, db, users, today):
    hospital, coordinator = users["institution"], users["coordinator"]
    order = issue_order(world, db, users)
    request = services.request_extension(order.id, actor=hospital, reason="人手不足",
                                         proposed_deadline=order.deadline + timedelta(days=14))
    with pytest.raises(Invalid) as caught:
        services.decide_extension(request.id, actor=coordinator, approve=False, version=1,
                                  comment="")
    assert list(caught.value.details["errors"]) == ["comment"]
    services.decide_extension(request.id, actor=coordinator, approve=False, version=1,
                              comment="理由不充分")
    order = fresh(db, order)
    assert (order.state, order.deadline) == ("issued", date(2025, 3, 31))
    assert db.session.get(ExtensionRequest, request.id).status == "declined"
    assert history(db, order) == []
    assert [(e.object_type, e.trigger, e.comment) for e in services.order_history(order)] == [
        ("extension", "request", "人手不足"), ("extension", "decline", "理由不充分")]


def _extension_events(db, request_id):
    return [(e.trigger, e.from_state, e.to_state) for e in db.session.scalars(
        sa.select(HistoryEvent).where(HistoryEvent.object_type == "extension",
                                      HistoryEvent.object_id == request_id)
        .order_by(HistoryEvent.id))]


def test_a_decision_goes_through_the_extension_machine(world, db, users, today):
    hospital, coordinator = users["institution"], users["coordinator"]
    order = issue_order(world, db, users)
    request = services.request_extension(order.id, actor=hospital, reason="人手不足",
                                         proposed_deadline=order.deadline + timedelta(days=14))
    assert (request.state, request.version) == ("pending", 1)
    assert _extension_events(db, request.id) == [("request", "pending", "pending")]
    # The order changed since it was read: the approval and the extension are refused
    # together, nothing is written on either.
    with pytest.raises(StaleObject):
        services.decide_extension(request.id, actor=coordinator, approve=True, version=5)
    db.session.expire_all()
    request = db.session.get(ExtensionRequest, request.id)
    assert (request.status, request.version, request.decided_at) == ("pending", 1, None)
    assert _extension_events(db, request.id) == [("request", "pending", "pending")]
    assert (fresh(db, order).deadline, history(db, order)) == (order.deadline, [])
    services.decide_extension(request.id, actor=coordinator, approve=True, version=1)
    db.session.expire_all()
    request = db.session.get(ExtensionRequest, request.id)
    assert (request.status, request.version, request.decided_by_id) == \
        ("approved", 2, coordinator.id)
    assert _extension_events(db, request.id) == [("request", "pending", "pending"),
                                                 ("approve", "pending", "approved")]
    # Decided is final: a second decision is refused and writes nothing.
    with pytest.raises(GuardFailed):
        services.decide_extension(request.id, actor=coordinator, approve=False, version=2,
                                  comment="改主意")
    db.session.expire_all()
    request = db.session.get(ExtensionRequest, request.id)
    assert (request.status, request.version, request.decision_comment) == ("approved", 2, None)
    assert len(_extension_events(db, request.id)) == 2


def test_approving_an_earlier_date_is_invalid_and_changes_nothing(world, db, users, today):
    hospital, coordinator = users["institution"], users["coordinator"]
    order = issue_order(world, db, users)
    request = services.request_extension(order.id, actor=hospital, reason="人手不足",
                                         proposed_deadline=order.deadline + timedelta(days=14))
    with pytest.raises(Invalid) as caught:
        services.decide_extension(request.id, actor=coordinator, approve=True, version=1,
                                  new_deadline=order.deadline - timedelta(days=1))
    assert list(caught.value.details["errors"]) == ["new_deadline"]
    # Nothing was written on the request, not even in the session.
    assert (request.status, request.decided_by_id, request.decided_at) == ("pending", None, None)
    db.session.expire_all()
    assert db.session.get(ExtensionRequest, request.id).status == "pending"


def test_concurrent_approve_and_decline_have_one_winner(app, world, db, users, today):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serialises whole-database)")
    import threading

    from casework.extensions import db as ext_db
    from casework.users.models import User

    order = issue_order(world, db, users)
    request = services.request_extension(order.id, actor=users["institution"], reason="理由",
                                         proposed_deadline=date(2025, 4, 30))
    request_id, coordinator_id = request.id, users["coordinator"].id
    barrier = threading.Barrier(2)
    results = {}

    def worker(approve):
        with app.app_context():
            try:
                actor = ext_db.session.get(User, coordinator_id)
                ext_db.session.commit()
                barrier.wait(timeout=10)
                services.decide_extension(request_id, actor=actor, approve=approve, version=1,
                                          comment="决定")
                results[approve] = "ok"
            except Exception as error:  # noqa: BLE001  (reported by the assertion below)
                results[approve] = type(error).__name__
            finally:
                ext_db.session.remove()

    threads = [threading.Thread(target=worker, args=(a,)) for a in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == ["GuardFailed", "ok"], results
    db.session.expire_all()
    status = db.session.get(ExtensionRequest, request_id).status
    winner = "approved" if results[True] == "ok" else "declined"
    assert status == winner
    assert [e.trigger for e in services.order_history(order)] == \
        (["request", "approve", "extend"] if winner == "approved" else ["request", "decline"])


# --- provisional deadlines ------------------------------------------------------------------

def test_provisional_deadline_recomputed_when_the_year_is_entered(world, db, users, clock):
    from casework.workdays.services import enter_year

    clock("2026-12-21T09:00:00+08:00")
    confirm_year(db, 2026)
    order = issue_order(world, db, users)
    # 20 working days from Monday 21 December 2026 reach into 2027, not entered yet.
    assert (order.deadline, order.deadline_provisional) == (date(2027, 1, 18), True)
    closed = issue_order(world, db, users, case=order.case)
    services.fire_order(closed.id, "cancel", actor=users["coordinator"], version=1,
                        comment="重复")
    enter_year(2027, [(date(2027, 1, 1), "元旦")], [], users["admin"], no_workdays=True)
    order = fresh(db, order)
    # New Year's Day is a holiday: one working day later.
    assert (order.deadline, order.deadline_provisional) == (date(2027, 1, 19), False)
    events = history(db, order)
    assert [(e.trigger, e.actor_role, e.from_state, e.to_state) for e in events] == [
        ("recompute_deadline", "system", "issued", "issued")]
    assert events[0].data["old_deadline"] == "2027-01-18"
    assert events[0].data["new_deadline"] == "2027-01-19"
    # A cancelled order is left as it was; running the sweep again changes nothing.
    assert fresh(db, closed).deadline_provisional is True
    assert services.recompute_provisional_deadlines(2027) == 0
    assert len(history(db, order)) == 1


# --- lists ---------------------------------------------------------------------------------

def test_institution_sees_its_own_orders_what_needs_it_first(world, db, users, today):
    hospital = users["institution"]
    case = world.make_case(db, state="rectification")
    findings = add_findings(db, case, users["inspector"], 3)
    issued, returned, closed = (raise_order(case, users["inspector"], [f]) for f in findings)
    services.fire_order(returned.id, "acknowledge", actor=hospital, version=1)
    services.submit_rectification(returned.id, actor=hospital, version=2, report="报告",
                                  files=[photo()])
    services.fire_order(returned.id, "return", actor=users["inspector"], version=3,
                        comment="不完整")
    services.fire_order(closed.id, "cancel", actor=users["coordinator"], version=1,
                        comment="撤销")
    far_case = world.make_case(db, institution=world.far_hospital, campaign=case.campaign)
    issue_order(world, db, users, case=far_case)
    page = services.list_orders(hospital, services.OrderFilters())
    assert [o.id for o in page.items] == [returned.id, issued.id, closed.id]
    page = services.list_orders(hospital, services.OrderFilters(open_only=True))
    assert [o.id for o in page.items] == [returned.id, issued.id]
    assert services.list_orders(users["other_institution"], services.OrderFilters()).total == 1
    assert services.list_orders(users["admin"], services.OrderFilters()).total == 0
    with pytest.raises(Invalid):
        services.list_orders(hospital, services.OrderFilters(state="lost"))
