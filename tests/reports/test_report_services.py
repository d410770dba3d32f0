"""Progress reports through their services: validation of the text and figures, the
lifecycle with one history event per transition, late submissions, attachments,
idempotent submits, and who may do what.

The reports are created directly here (the scheduler's sweep creates them in real
life). The helpers at the top are imported by the view tests of this folder.
"""

import io
from datetime import date

import pytest
import sqlalchemy as sa
from factories import (
    FIGURES,
    Q1,
    fresh,
    history,
    make_report,
    pdf,
    photo,
    stored_files,
    submit_report,
    unchanged,
)
from flask_babel import gettext

from casework import periods, policy
from casework.errors import (
    GuardFailed,
    IllegalTrigger,
    Invalid,
    NotFound,
    NotPermitted,
    StaleObject,
)
from casework.evidence.models import Attachment
from casework.reports import services

# A Monday in the first quarter of 2025; the quarter's report is due on 31 March.
MONDAY = "2025-03-03T09:00:00+08:00"


@pytest.fixture
def today(clock):
    clock(MONDAY)
    return date(2025, 3, 3)


@pytest.fixture
def case(world, db):
    return world.make_case(db, state="rectification")


@pytest.fixture
def report(db, case, today):
    return make_report(db, case)


# --- validation ----------------------------------------------------------------------

def test_submit_requires_text_and_figures_and_says_which(db, users, report):
    with pytest.raises(Invalid) as caught:
        services.submit_report(report.id, actor=users["institution"], version=1, body="  ",
                               fields={})
    errors = caught.value.details["errors"]
    assert set(errors) == {"body", "self_inspections", "problems_found", "problems_rectified"}
    report = fresh(db, report)
    assert report.state == "pending" and report.version == 1 and report.body is None
    assert history(db, report) == []


@pytest.mark.parametrize("fields, field, fragment", [
    ({"self_inspections": "abc"}, "self_inspections", "Enter a whole number."),
    ({"self_inspections": "1.5"}, "self_inspections", "Enter a whole number."),
    ({"problems_found": "-1"}, "problems_found", "Cannot be negative."),
    ({"problems_found": -1}, "problems_found", "Cannot be negative."),
    ({"problems_found": True}, "problems_found", "Enter a whole number."),
    ({"problems_found": "100000"}, "problems_found", "99999"),
    ({"problems_found": "2", "problems_rectified": "3"}, "problems_rectified",
     "Cannot be more than the problems found."),
    ({"next_steps": "很" * 5001}, "next_steps", "5000"),
])
def test_figures_are_checked_with_clear_messages(db, users, report, fields, field, fragment):
    with pytest.raises(Invalid) as caught:
        services.save_report_draft(report.id, actor=users["institution"], version=1,
                                   body="草稿", fields=fields)
    messages = caught.value.details["errors"]
    assert list(messages) == [field]
    # A msgid is compared in the user's language (zh_CN by default); a number as is.
    expected = fragment if fragment.isdigit() else gettext(fragment)
    assert expected in messages[field][0]
    assert fresh(db, report).body is None


def test_figures_accept_numbers_from_the_api_and_text_from_forms(db, users, report):
    body, clean, errors = services.validate_report(
        " 正文 ", {"self_inspections": 0, "problems_found": " 7 ", "problems_rectified": "7",
                  "next_steps": ""}, final=True)
    assert errors == {}
    assert body == "正文"
    assert clean == {"self_inspections": 0, "problems_found": 7, "problems_rectified": 7,
                     "next_steps": None}


def test_a_draft_may_be_incomplete_and_changes_no_state(db, users, report):
    saved = services.save_report_draft(report.id, actor=users["institution"], version=1,
                                       body="写了一半", fields={"problems_found": "2"})
    report = fresh(db, report)
    assert saved.id == report.id
    assert report.state == "pending" and report.body == "写了一半"
    assert report.fields["problems_found"] == 2 and report.fields["self_inspections"] is None
    assert report.version == 2
    assert history(db, report) == []


def test_a_repeated_draft_save_is_not_a_conflict_but_a_different_stale_one_is(db, users,
                                                                                report):
    args = dict(actor=users["institution"], body="草稿", fields={"problems_found": "1"})
    services.save_report_draft(report.id, version=1, **args)
    # The same save again (a double tap) with the version it was sent with: fine.
    services.save_report_draft(report.id, version=1, **args)
    assert fresh(db, report).version == 2
    with unchanged(db, report), pytest.raises(StaleObject):
        services.save_report_draft(report.id, version=1, actor=users["institution"],
                                   body="另一个版本", fields={})
    assert fresh(db, report).body == "草稿"


# --- the lifecycle -------------------------------------------------------------------

def test_submit_return_submit_accept_one_history_event_each(db, users, report):
    institution, coordinator = users["institution"], users["coordinator"]
    submit_report(report, institution)
    report = fresh(db, report)
    assert report.state == "submitted" and report.version == 2
    assert report.body.startswith("本季度") and report.submitted_by_id == institution.id
    assert report.fields == {"self_inspections": 3, "problems_found": 5,
                             "problems_rectified": 4, "next_steps": "继续开展自查自纠"}
    assert report.submitted_at is not None and report.late is False

    with pytest.raises(GuardFailed):
        services.fire_report(report.id, "return", actor=coordinator, version=2, comment="  ")
    services.fire_report(report.id, "return", actor=coordinator, version=2,
                         comment="整改数字与台账不符，请核实。")
    report = fresh(db, report)
    assert report.state == "returned"

    # Corrected: a draft first (no event), then the submit.
    services.save_report_draft(report.id, actor=institution, version=report.version,
                               body="已核实台账。", fields={**FIGURES, "problems_rectified": "5"})
    report = fresh(db, report)
    submit_report(report, institution, body="已核实台账。", fields={**FIGURES, "problems_rectified": "5"})
    report = fresh(db, report)
    assert report.state == "submitted" and report.fields["problems_rectified"] == 5

    services.fire_report(report.id, "accept", actor=coordinator, version=report.version,
                         comment="同意")
    report = fresh(db, report)
    assert report.state == "accepted"

    events = history(db, report)
    assert [(e.trigger, e.from_state, e.to_state) for e in events] == [
        ("submit", "pending", "submitted"), ("return", "submitted", "returned"),
        ("submit", "returned", "submitted"), ("accept", "submitted", "accepted")]
    assert events[1].comment == "整改数字与台账不符，请核实。"
    assert [e.actor_role for e in events] == ["institution", "coordinator", "institution",
                                              "coordinator"]

    # Accepted is final: no more drafts, no more submits.
    with pytest.raises(GuardFailed):
        services.save_report_draft(report.id, actor=institution, version=report.version,
                                   body="再改", fields={})
    with pytest.raises(IllegalTrigger):
        submit_report(report, institution)


def test_an_overdue_report_can_still_be_submitted_and_is_late(db, users, case, clock):
    clock("2025-04-03T09:00:00+08:00")
    report = make_report(db, case, state="overdue")
    submit_report(report, users["institution"])
    report = fresh(db, report)
    assert report.state == "submitted" and report.late is True


def test_late_flag_follows_the_due_date_in_local_time(db, users, case, clock):
    # 31 March 23:30 in Shanghai is still on time (15:30 UTC).
    clock("2025-03-31T23:30:00+08:00")
    on_time = make_report(db, case)
    submit_report(on_time, users["institution"])
    assert fresh(db, on_time).late is False
    # 1 April 00:10 in Shanghai (still 31 March in UTC) is late.
    clock("2025-04-01T00:10:00+08:00")
    late = make_report(db, case, period=(date(2024, 10, 1), date(2024, 12, 31)),
                       due_on=date(2025, 3, 31))
    submit_report(late, users["institution"])
    assert fresh(db, late).late is True


def test_a_report_returned_after_the_due_date_is_not_late_when_corrected(db, users, report,
                                                                         clock):
    submit_report(report, users["institution"])
    clock("2025-04-10T09:00:00+08:00")
    services.fire_report(report.id, "return", actor=users["coordinator"], version=2,
                         comment="补充附件")
    report = fresh(db, report)
    submit_report(report, users["institution"])
    report = fresh(db, report)
    assert report.state == "submitted" and report.late is False


# --- attachments ---------------------------------------------------------------------

def test_submit_with_photos_and_pdf_attaches_them_to_the_report(app, db, users, report):
    submit_report(report, users["institution"], files=[photo(), pdf()])
    rows = db.session.scalars(sa.select(Attachment).order_by(Attachment.id)).all()
    assert [(a.report_id, a.kind, a.content_type) for a in rows] == [
        (report.id, "image", "image/png"), (report.id, "pdf", "application/pdf")]
    assert len(stored_files(app)) == 2
    event = history(db, report)[0]
    assert event.data["files"] == 2
    # Who may see the report may see its files; nobody else.
    for role, allowed in (("coordinator", True), ("viewer", True), ("institution", True),
                          ("other_institution", False), ("district_coordinator", False),
                          ("admin", False)):
        assert policy.allows("attachment_view", users[role], rows[0]) is allowed, role


def test_a_bad_file_stores_nothing_and_is_reported_with_the_other_problems(app, db, users,
                                                                         report):
    with pytest.raises(Invalid) as caught:
        submit_report(report, users["institution"], body="",
               files=[photo(), ("脚本.exe", io.BytesIO(b"MZ\x90\x00 not a picture"))])
    assert {"body", "files"} <= set(caught.value.details["errors"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
    assert stored_files(app) == []
    assert fresh(db, report).state == "pending"


def test_files_saved_with_a_draft_stay_with_the_report(app, db, users, report):
    services.save_report_draft(report.id, actor=users["institution"], version=1, body="草稿",
                               fields={}, files=[photo()])
    assert [a.report_id for a in services.report_attachments(report)] == [report.id]
    assert len(stored_files(app)) == 1


# --- idempotency and concurrency -----------------------------------------------------

def test_a_retried_submit_with_the_same_key_is_one_submit(db, users, report):
    first = submit_report(report, users["institution"], request_key="key-1", files=[photo()])
    # The retry carries the version the form was rendered with: stale by now.
    again = submit_report(report, users["institution"], request_key="key-1", files=[photo()])
    assert first.id == again.id == report.id
    assert [e.trigger for e in history(db, report)] == ["submit"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 1


def test_a_stale_submit_without_a_key_is_refused(db, users, report):
    services.save_report_draft(report.id, actor=users["institution"], version=1, body="草稿",
                               fields={})
    with unchanged(db, report), pytest.raises(StaleObject):
        services.submit_report(report.id, actor=users["institution"], version=1,
                               body="正文", fields=FIGURES)
    assert fresh(db, report).state == "pending"
    assert history(db, report) == []


# --- permissions ---------------------------------------------------------------------

def test_another_institution_sees_nothing(db, users, report):
    other = users["other_institution"]
    with pytest.raises(NotFound):
        services.get_report(report.id, other)
    with pytest.raises(NotFound):
        submit_report(report, other)
    with pytest.raises(NotFound):
        services.save_report_draft(report.id, actor=other, version=1, body="x", fields={})
    with pytest.raises(NotFound):
        services.get_report(report.id, users["district_coordinator"])
    assert services.list_reports(other).items == []


def test_institution_cannot_review_its_own_report(db, users, report):
    submit_report(report, users["institution"])
    for trigger in ("accept", "return"):
        with unchanged(db, report), pytest.raises(NotPermitted):
            services.fire_report(report.id, trigger, actor=users["institution"], version=2,
                                 comment="自己通过")
    assert fresh(db, report).state == "submitted"


def test_viewer_reads_but_changes_nothing(db, users, report):
    viewer = users["viewer"]
    assert services.get_report(report.id, viewer).id == report.id
    assert [r.id for r in services.list_reports(viewer).items] == [report.id]
    with unchanged(db, report), pytest.raises(NotPermitted):
        submit_report(report, viewer)
    with unchanged(db, report), pytest.raises(NotPermitted):
        services.save_report_draft(report.id, actor=viewer, version=1, body="x", fields={})
    submit_report(report, users["institution"])
    with unchanged(db, report), pytest.raises(NotPermitted):
        services.fire_report(report.id, "accept", actor=viewer, version=2)
    assert services.available_triggers(fresh(db, report), viewer) == []
    assert services.may_edit(fresh(db, report), viewer) is False


def test_coordinator_does_not_write_the_institutions_report(db, users, report):
    with unchanged(db, report), pytest.raises(NotPermitted):
        submit_report(report, users["coordinator"])
    with unchanged(db, report), pytest.raises(NotPermitted):
        services.save_report_draft(report.id, actor=users["coordinator"], version=1,
                                   body="代写", fields={})


def test_only_review_triggers_can_be_fired_by_hand(db, users, report):
    with pytest.raises(IllegalTrigger):
        services.fire_report(report.id, "mark_overdue", actor=users["coordinator"], version=1)
    with pytest.raises(IllegalTrigger):
        services.fire_report(report.id, "submit", actor=users["institution"], version=1)
    with pytest.raises(IllegalTrigger):
        services.fire_report(report.id, "accept", actor=users["coordinator"], version=1)


# --- lists ---------------------------------------------------------------------------

def test_institution_list_puts_what_needs_doing_first(world, db, users, case, today):
    made = {}
    for i, (state, due) in enumerate([("accepted", date(2024, 4, 1)),
                                      ("pending", date(2025, 6, 30)),
                                      ("submitted", date(2025, 3, 31)),
                                      ("pending", date(2025, 3, 31)),
                                      ("overdue", date(2024, 12, 31)),
                                      ("returned", date(2025, 3, 31))]):
        start = date(2023 + i // 4, 3 * (i % 4) + 1, 1)
        made[i] = make_report(db, case, period=(start, start.replace(day=28)), due_on=due,
                              state=state)
    # Someone else's report is not listed.
    far_case = world.make_case(db, institution=world.far_hospital, campaign=case.campaign)
    make_report(db, far_case, state="returned")
    listed = services.list_reports(users["institution"]).items
    assert [(r.state, r.due_on) for r in listed] == [
        ("returned", date(2025, 3, 31)), ("overdue", date(2024, 12, 31)),
        ("pending", date(2025, 3, 31)), ("pending", date(2025, 6, 30)),
        ("submitted", date(2025, 3, 31)), ("accepted", date(2024, 4, 1))]


def test_coordinator_list_filters_by_campaign_state_and_period(world, db, users, case, today):
    other_campaign = world.make_campaign(db, code="other-campaign")
    clinic_case = world.make_case(db, institution=world.clinic, campaign=other_campaign)
    far_case = world.make_case(db, institution=world.far_hospital, campaign=case.campaign)
    q4 = (date(2024, 10, 1), date(2024, 12, 31))
    a = make_report(db, case)
    b = make_report(db, case, period=q4, state="submitted")
    c = make_report(db, clinic_case, state="submitted")
    d = make_report(db, far_case, state="submitted")
    coordinator = users["coordinator"]

    def ids(**kw):
        return {r.id for r in services.list_reports(coordinator,
                                                    services.ReportFilters(**kw)).items}

    assert ids() == {a.id, b.id, c.id, d.id}
    assert ids(campaign_id=other_campaign.id) == {c.id}
    assert ids(state="submitted") == {b.id, c.id, d.id}
    assert ids(period_start=q4[0]) == {b.id}
    assert ids(state="submitted", period_start=Q1[0], campaign_id=case.campaign_id) == {d.id}
    # Review first: the submitted ones lead a coordinator's list.
    assert services.list_reports(coordinator).items[0].state == "submitted"
    # A district coordinator sees only the district's institutions.
    assert {r.id for r in services.list_reports(users["district_coordinator"]).items} == {d.id}
    with pytest.raises(Invalid):
        services.list_reports(coordinator, services.ReportFilters(state="lost"))
    choices = services.filter_choices(coordinator)
    assert choices.periods == [Q1, q4]
    assert {c.id for c in choices.campaigns} == {case.campaign_id, other_campaign.id}
    assert services.filter_choices(users["other_institution"]).periods == [Q1]


@pytest.mark.parametrize("start, end, expected", [
    (date(2025, 1, 1), date(2025, 3, 31), ("quarter", 2025, 1)),
    (date(2024, 10, 1), date(2024, 12, 31), ("quarter", 2024, 4)),
    (date(2021, 7, 1), date(2021, 12, 31), ("half", 2021, 2)),
    (date(2022, 1, 1), date(2022, 6, 30), ("half", 2022, 1)),
    (date(2022, 1, 1), date(2022, 12, 31), ("year", 2022, 1)),
    (date(2021, 4, 1), date(2021, 6, 29), None),
    (date(2021, 4, 2), date(2021, 6, 30), None),
    (date(2021, 2, 1), date(2021, 4, 30), None),
])
def test_period_kind(start, end, expected):
    assert periods.period_kind(start, end) == expected


@pytest.mark.parametrize("same_key", [True, False])
def test_concurrent_submits_have_one_winner(app, db, users, report, same_key):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serialises whole-database)")
    import threading

    from casework.extensions import db as ext_db
    from casework.users.models import User

    workers = 6
    institution_id = users["institution"].id
    barrier = threading.Barrier(workers)
    results = [None] * workers

    def worker(index):
        with app.app_context():
            try:
                actor = ext_db.session.get(User, institution_id)
                ext_db.session.commit()
                barrier.wait(timeout=10)
                services.submit_report(report.id, actor=actor, version=1, body=f"第{index}份",
                                       fields=FIGURES,
                                       request_key="one" if same_key else f"key-{index}")
                results[index] = "ok"
            except (StaleObject, IllegalTrigger) as error:
                results[index] = type(error).__name__
            except Exception as error:  # noqa: BLE001  (reported by the assertion below)
                results[index] = repr(error)
            finally:
                ext_db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # The same key: every retry is answered with the first submit. Different keys: one
    # submit wins, the others are told the report changed.
    if same_key:
        assert results == ["ok"] * workers, results
    else:
        assert results.count("ok") == 1, results
        assert all(r in ("ok", "StaleObject", "IllegalTrigger") for r in results), results
    assert [e.trigger for e in history(db, report)] == ["submit"]
    assert fresh(db, report).version == 2
