"""The handling deadline (setting complaint_handling_days), the reminder sweep (before the
deadline and the day after it, once), and the overdue state on the pages."""

from datetime import date

import sqlalchemy as sa
from factories import statements_per_chunk

from casework.complaints import services
from casework.complaints.models import Complaint
from casework.complaints.sweeps import complaint_reminders
from casework.notifications.models import Notification
from casework.settings import services as settings


def register(users, world, **kw):
    values = dict(channel="hotline", category="red_envelope", description="收红包",
                  institution_id=world.hospital.id, anonymous=True)
    values.update(kw)
    return services.register_complaint(actor=users["coordinator"], **values)


def notes(db):
    return [(n.user_id, n.kind, n.key) for n in db.session.scalars(
        sa.select(Notification).order_by(Notification.id))]


def at(day: str):
    from datetime import datetime

    return datetime.fromisoformat(f"{day}T08:10:00+08:00")


def test_deadline_follows_the_setting(users, world, db, clock):
    clock("2026-03-02T10:00:00+08:00")  # a Monday
    assert register(users, world).deadline == date(2026, 3, 17)  # 15 days by default
    settings.update({"complaint_handling_days": 10}, actor=users["admin"])
    assert register(users, world).deadline == date(2026, 3, 12)


def test_reminder_overdue_and_idempotency_by_moving_the_clock(users, world, db, clock,
                                                              runner):
    clock("2026-03-02T10:00:00+08:00")
    settings.update({"complaint_reminder_days": 3}, actor=users["admin"])
    unassigned = register(users, world)                      # deadline 2026-03-17
    assigned = register(users, world)
    services.fire_complaint(assigned.id, "assign", actor=users["coordinator"], version=1,
                            handler_id=users["inspector"].id)
    nowhere = services.submit_public_complaint(category="other", description="x",
                                               institution_named="某诊所", name="王五",
                                               phone="13912345678")
    done = register(users, world)
    services.fire_complaint(done.id, "transfer", actor=users["coordinator"], version=1,
                            department="market_supervision")
    coordinator, inspector = users["coordinator"].id, users["inspector"].id
    # Too early: nothing.
    assert complaint_reminders(at("2026-03-13"))["notifications"] == 0
    # Three days before: the handler, or the coordinators in reach when unassigned (the
    # city coordinator; the district coordinator of another district is not in reach).
    assert complaint_reminders(at("2026-03-14"))["notifications"] == 3
    assert set(notes(db)) == {
        (coordinator, "complaint_deadline_reminder",
         f"complaint:{unassigned.id}:reminder:3:2026-03-17"),
        (inspector, "complaint_deadline_reminder",
         f"complaint:{assigned.id}:reminder:3:2026-03-17"),
        (coordinator, "complaint_deadline_reminder",
         f"complaint:{nowhere.id}:reminder:3:2026-03-17")}
    assert complaint_reminders(at("2026-03-15"))["notifications"] == 0
    # On the deadline nothing new; the day after, the overdue notices, once.
    assert complaint_reminders(at("2026-03-17"))["notifications"] == 0
    result = runner.invoke(args=["jobs", "run", "complaint_reminders",
                                 "--at", "2026-03-18T08:10:00+08:00"])
    assert result.exit_code == 0, result.output
    overdue = [n for n in notes(db) if n[1] == "complaint_overdue"]
    assert len(overdue) == 3
    assert complaint_reminders(at("2026-03-19"))["notifications"] == 0
    assert not any(str(done.id) in key.split(":")[1] for _u, _k, key in notes(db))


def test_no_early_reminder_when_setting_is_zero(users, world, db, clock):
    clock("2026-03-02T10:00:00+08:00")
    settings.update({"complaint_reminder_days": 0}, actor=users["admin"])
    register(users, world)
    assert complaint_reminders(at("2026-03-16"))["notifications"] == 0
    assert complaint_reminders(at("2026-03-18"))["notifications"] == 1


def test_concluded_complaints_are_not_chased(users, world, db, clock):
    clock("2026-03-02T10:00:00+08:00")
    complaint = register(users, world)
    coordinator = users["coordinator"]
    services.fire_complaint(complaint.id, "assign", actor=coordinator, version=1,
                            handler_id=coordinator.id)
    services.fire_complaint(complaint.id, "investigate", actor=coordinator, version=2)
    services.fire_complaint(complaint.id, "conclude", actor=coordinator, version=3,
                            outcome="unsubstantiated", findings="不属实")
    assert complaint_reminders(at("2026-03-20"))["notifications"] == 0


def test_overdue_shown_and_filtered_on_the_pages(client, login, users, world, db, clock,
                                                 count_queries):
    clock("2026-03-02T10:00:00+08:00")
    late = register(users, world)
    clock("2026-03-16T10:00:00+08:00")
    fresh = register(users, world)
    clock("2026-03-20T10:00:00+08:00")
    login.as_("coordinator")
    html = client.get("/complaints/").get_data(as_text=True)
    assert html.count('data-overdue="1"') == 1
    filtered = client.get("/complaints/?overdue=1").get_data(as_text=True)
    assert filtered.count('data-testid="complaint-row"') == 1
    assert f'/complaints/{late.id}"' in filtered and f'/complaints/{fresh.id}"' not in filtered
    detail = client.get(f"/complaints/{late.id}").get_data(as_text=True)
    assert 'data-testid="complaint-overdue"' in detail
    assert 'data-testid="complaint-overdue"' not in client.get(
        f"/complaints/{fresh.id}").get_data(as_text=True)
    for _ in range(5):
        register(users, world)
    with count_queries() as few:
        client.get("/complaints/")
    for _ in range(10):
        register(users, world)
    with count_queries() as many:
        client.get("/complaints/")
    assert len(many) == len(few)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 17


def test_reminders_run_in_chunks_of_a_constant_number_of_statements(
        users, world, db, clock, count_queries, monkeypatch):
    """Chunk by chunk (CHUNK rows each, here 2): the statements grow by the same few per
    chunk (read the chunk, the coordinators, the existing keys, the e-mail choices, one
    INSERT), never per complaint or per notification; each chunk commits."""
    from casework.jobs import sweeping

    monkeypatch.setattr(sweeping, "CHUNK", 2)
    clock("2026-03-02T10:00:00+08:00")

    def grow(n):
        while db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) < n:
            register(users, world)

    def run(n):
        summary = complaint_reminders(at("2026-03-20"))   # all overdue
        assert (summary["complaints"], summary["notifications"]) == (n, n)

    assert statements_per_chunk(db, count_queries, grow, run) <= 5
