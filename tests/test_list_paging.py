"""The complaint and order lists at scale: a stored, indexed sort key (state_rank) kept in
step with the state, keyset pages that neither lose nor repeat a row, a capped count and
a constant number of SQL statements per page."""

import re
import secrets
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from casework import pagination
from casework.complaints import services as complaints
from casework.complaints.models import LIST_RANK, Complaint
from casework.errors import Invalid
from casework.orders import services as orders
from casework.orders.models import TODO_ORDER, RectificationOrder

COMPLAINT_STATES = ("received", "closed", "transferred")


def add_complaints(db, world, n, *, start=0, institution=None, states=COMPLAINT_STATES):
    """`n` complaints, many sharing a deadline (ties broken by id)."""
    for i in range(start, start + n):
        db.session.add(Complaint(
            tracking_code=secrets.token_hex(6).upper(), channel="hotline", category="other",
            institution_id=(institution or world.hospital).id, description="x",
            received_on=date(2026, 1, 1), deadline=date(2026, 2, 1) + timedelta(days=i % 5),
            state=states[i % len(states)], transfer_department=(
                "market_supervision" if states[i % len(states)] == "transferred" else None)))
    db.session.commit()


def add_orders(db, world, users, n, *, start=0, case=None):
    case = case or world.make_case(db, state="rectification")
    for i in range(start, start + n):
        db.session.add(RectificationOrder(
            number=f"整改〔2026〕{10000 + i}号", case=case, state=TODO_ORDER[i % 6],
            requirements="整改", issuing_body="卫健委", issued_on=date(2026, 3, 1),
            issued_by_id=users["inspector"].id, deadline=date(2026, 3, 20) + timedelta(days=i % 4),
            deadline_rule={"kind": "x"}))
    db.session.commit()
    return case


def expected_complaint_order(db):
    rows = db.session.execute(sa.select(Complaint.id, Complaint.state, Complaint.deadline)).all()
    return [r.id for r in sorted(rows, key=lambda r: (r.state == "closed", r.deadline, -r.id))]


def walk(fetch, *, insert=None):
    """Follow the next cursors from the first page; `insert(n)` runs between pages."""
    seen, page, n = [], fetch(), 0
    while True:
        seen.extend(x.id for x in page.items)
        if not page.has_next:
            return seen, page
        n += 1
        if insert:
            insert(n)
        page = fetch(after=page.next_cursor, page=n + 1)


# --- the stored sort key ---------------------------------------------------------------

def test_state_rank_follows_every_kind_of_state_change(db, world, users):
    add_complaints(db, world, 3)
    ranks = lambda: {c.state: c.state_rank for c in db.session.scalars(  # noqa: E731
        sa.select(Complaint).execution_options(populate_existing=True))}
    assert ranks() == {"received": 0, "closed": 1, "transferred": 0}
    # A bulk UPDATE with a value, with an expression, and by primary key (executemany).
    db.session.execute(sa.update(Complaint).where(Complaint.state == "received")
                       .values(state="closed"))
    assert set(ranks().values()) == {1, 0}
    db.session.execute(sa.update(Complaint).values(
        state=sa.case((Complaint.state == "closed", "received"), else_=Complaint.state)))
    assert ranks() == {"received": 0, "transferred": 0}
    first, version = db.session.execute(
        sa.select(Complaint.id, Complaint.version).order_by(Complaint.id)).first()
    db.session.execute(sa.update(Complaint),
                       [{"id": first, "version": version, "state": "closed"}])
    db.session.commit()
    stored = db.session.execute(sa.select(Complaint.state, Complaint.state_rank)).all()
    assert stored and all(rank == LIST_RANK[state] for state, rank in stored)
    # An ORM change of the object.
    complaint = db.session.get(Complaint, first)
    complaint.state = "received"
    db.session.commit()
    assert db.session.scalar(sa.select(Complaint.state_rank).where(Complaint.id == first)) == 0


def test_bulk_inserts_get_the_rank_of_their_state(db, world, users):
    case = world.make_case(db, state="rectification")
    common = dict(requirements="整改", issuing_body="卫健委", issued_on=date(2026, 3, 1),
                  issued_by_id=users["inspector"].id, deadline=date(2026, 3, 20),
                  deadline_rule={"kind": "x"}, case_id=case.id)
    db.session.execute(sa.insert(RectificationOrder), [
        dict(common, number="A1", state="closed"), dict(common, number="A2")])
    db.session.execute(sa.insert(RectificationOrder.__table__).values(
        dict(common, number="A3", state="overdue")))
    db.session.commit()
    stored = dict(db.session.execute(
        sa.select(RectificationOrder.number, RectificationOrder.state_rank)).all())
    assert stored == {"A1": TODO_ORDER.index("closed"), "A2": TODO_ORDER.index("issued"),
                      "A3": TODO_ORDER.index("overdue")}


def test_order_rank_is_the_todo_order(db, world, users):
    add_orders(db, world, users, 6)
    stored = dict(db.session.execute(
        sa.select(RectificationOrder.state, RectificationOrder.state_rank)).all())
    assert stored == {s: i for i, s in enumerate(TODO_ORDER[:6])}


def test_list_indexes_exist(db):
    inspector = sa.inspect(db.engine)
    complaint = {i["name"]: i["column_names"] for i in inspector.get_indexes("complaint")}
    order = {i["name"]: i["column_names"] for i in inspector.get_indexes("rectification_order")}
    assert complaint["ix_complaint_list_order"] == ["state_rank", "deadline"]
    assert order["ix_rectification_order_list_order"] == ["state_rank", "deadline", "id"]


# --- keyset pages ----------------------------------------------------------------------

def test_complaint_pages_lose_and_repeat_nothing_while_rows_arrive(db, world, users):
    add_complaints(db, world, 120)
    before = expected_complaint_order(db)
    coordinator = users["coordinator"]

    def fetch(**kw):
        return complaints.list_complaints(coordinator, complaints.ComplaintFilters(),
                                          per_page=50, **kw)

    # New complaints land on both sides of the cursor between pages.
    seen, last = walk(fetch, insert=lambda n: add_complaints(db, world, 7, start=500 + 10 * n))
    assert len(seen) == len(set(seen))  # nothing twice
    assert set(before) <= set(seen)  # nothing lost
    # Without insertions the pages are the list, in its order, split in 50, 50, 20.
    seen, last = walk(fetch)
    assert seen == expected_complaint_order(db)
    assert last.page == 3 and not last.capped


def test_previous_pages_come_back_identical(db, world, users):
    add_complaints(db, world, 120)
    coordinator = users["coordinator"]

    def fetch(**kw):
        return complaints.list_complaints(coordinator, complaints.ComplaintFilters(),
                                          per_page=50, **kw)

    first = fetch()
    second = fetch(after=first.next_cursor, page=2)
    third = fetch(after=second.next_cursor, page=3)
    assert len(third.items) == 20 and not third.has_next
    back = fetch(before=third.prev_cursor, page=2)
    assert [c.id for c in back.items] == [c.id for c in second.items]
    start = fetch(before=back.prev_cursor, page=1)
    assert [c.id for c in start.items] == [c.id for c in first.items]
    assert start.page == 1 and not start.has_prev


def test_order_pages_follow_the_todo_order(db, world, users):
    case = add_orders(db, world, users, 120)
    hospital = users["institution"]

    def fetch(**kw):
        return orders.list_orders(hospital, orders.OrderFilters(), per_page=50, **kw)

    original = set(db.session.scalars(sa.select(RectificationOrder.id)))
    seen, _ = walk(fetch, insert=lambda n: add_orders(db, world, users, 5,
                                                      start=1000 + 10 * n, case=case))
    assert len(seen) == len(set(seen)) and original <= set(seen)
    seen, _ = walk(fetch)
    rows = db.session.execute(sa.select(RectificationOrder.id, RectificationOrder.state,
                                        RectificationOrder.deadline)).all()
    assert seen == [r.id for r in sorted(
        rows, key=lambda r: (TODO_ORDER.index(r.state), r.deadline, r.id))]
    only = walk(lambda **kw: orders.list_orders(
        hospital, orders.OrderFilters(state="overdue"), per_page=7, **kw))[0]
    overdue = db.session.scalars(sa.select(RectificationOrder.id).where(
        RectificationOrder.state == "overdue")).all()
    assert sorted(only) == sorted(overdue) and len(only) == len(set(only)) > 14


def test_bad_cursors_and_deep_page_numbers_are_refused(db, world, users):
    add_complaints(db, world, 3)
    coordinator = users["coordinator"]
    for cursor in ("garbage!", "WzEsMl0", pagination._encode(["x", "2026-01-01", 1]),
                   pagination._encode([0, "not a date", 1])):
        with pytest.raises(Invalid) as error:
            complaints.list_complaints(coordinator, complaints.ComplaintFilters(), after=cursor)
        assert "cursor" in error.value.details["errors"]
    with pytest.raises(Invalid) as error:
        complaints.list_complaints(coordinator, complaints.ComplaintFilters(),
                                   page=pagination.MAX_OFFSET_PAGE + 1)
    assert "page" in error.value.details["errors"]


def test_count_is_exact_when_small_and_capped_when_large(db, world, users, monkeypatch):
    add_complaints(db, world, 30)
    coordinator = users["coordinator"]
    page = complaints.list_complaints(coordinator, complaints.ComplaintFilters(), per_page=10)
    assert (page.total, page.capped, page.pages) == (30, False, 3)
    monkeypatch.setattr(pagination, "COUNT_CAP", 25)
    page = complaints.list_complaints(coordinator, complaints.ComplaintFilters(), per_page=10)
    assert (page.total, page.capped) == (25, True)
    assert pagination.capped_count(sa.select(Complaint), Complaint.id, 30) == (30, False)
    assert pagination.capped_count(sa.select(Complaint), Complaint.id, 29) == (29, True)


# --- the pages -------------------------------------------------------------------------

def test_complaint_page_links_go_by_cursor(client, login, db, world, users, monkeypatch):
    add_complaints(db, world, 120)
    monkeypatch.setattr(pagination, "COUNT_CAP", 100)
    login.as_("coordinator")
    body = client.get("/complaints/?channel=hotline").get_data(as_text=True)
    assert "超过 100 条结果" in body and "第 1 页，共 2 页以上" in body
    next_link = re.search(r'href="([^"]+)" data-testid="page-next"', body).group(1)
    assert "after=" in next_link and "page=2" in next_link and "channel=hotline" in next_link
    second = client.get(next_link.replace("&amp;", "&"))
    assert second.status_code == 200
    body = second.get_data(as_text=True)
    prev_link = re.search(r'href="([^"]+)" data-testid="page-prev"', body).group(1)
    assert "before=" not in prev_link  # page 2's previous is plain page 1
    assert client.get("/complaints/?after=nonsense").status_code == 422


def test_order_list_filters_by_institution(client, login, db, world, users):
    case = add_orders(db, world, users, 6)
    add_orders(db, world, users, 6, start=100, case=world.make_case(
        db, institution=world.clinic, state="rectification", campaign=case.campaign))
    login.as_("coordinator")
    rows = lambda url: len(re.findall(  # noqa: E731
        r'data-testid="order-row"', client.get(url).get_data(as_text=True)))
    assert rows("/orders/?state=all") == 12
    assert rows(f"/orders/?state=all&institution_id={world.clinic.id}") == 6
    assert rows("/orders/?state=all&institution=滨河") == 6  # typed, no script
    assert rows("/orders/?state=all&institution=%25") == 0  # a wildcard is a character


def test_complaint_list_filters_by_institution(db, world, users):
    add_complaints(db, world, 4)
    add_complaints(db, world, 3, institution=world.clinic)
    coordinator = users["coordinator"]
    by = lambda **kw: complaints.list_complaints(  # noqa: E731
        coordinator, complaints.ComplaintFilters(**kw)).total
    assert by() == 7 and by(institution_id=world.clinic.id) == 3 and by(institution="人民") == 4


@pytest.mark.parametrize("path, role", [("/complaints/", "coordinator"),
                                        ("/orders/?state=all", "institution")])
def test_list_pages_run_as_many_statements_for_10_rows_as_for_200(
        path, role, client, login, db, world, users, count_queries):
    login.as_(role)
    if path.startswith("/complaints"):
        grow = lambda n, start: add_complaints(db, world, n, start=start)  # noqa: E731
    else:
        case = world.make_case(db, state="rectification")
        grow = lambda n, start: add_orders(db, world, users, n, start=start,  # noqa: E731
                                           case=case)
    grow(10, 0)
    client.get(path)  # warm caches (settings, translations)
    with count_queries() as small:
        assert client.get(path).status_code == 200
    grow(190, 10)
    with count_queries() as large:
        assert client.get(path).status_code == 200
    assert len(small) == len(large), (small, large)
