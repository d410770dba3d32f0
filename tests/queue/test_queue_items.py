"""The escalation queue holds exactly what needs a coordinator, in the actor's region."""

import pytest
from queue_scenario import NOW, TODAY, build, more_rows

from casework.errors import NotPermitted, StaleObject
from casework.queue import services
from casework.queue.services import QueueFilters


@pytest.fixture
def scenario(db, world, clock):
    clock(NOW)
    return build(db, world)


def keys(actor, **filters):
    return {i.key for i in services.compute_items(actor, QueueFilters(**filters))}


def test_the_queue_holds_exactly_the_expected_items(scenario, users):
    _objects, expected = scenario
    assert keys(users["coordinator"]) == expected
    # Viewers read the same queue.
    assert keys(users["viewer"]) == expected


def test_ages_count_from_the_cause(scenario, users, world):
    objects, _expected = scenario
    items = {i.key: i for i in services.compute_items(users["coordinator"])}
    assert items[f"order_escalated:{objects['escalated'].id}"].age == (TODAY - __import__(
        "datetime").date(2022, 11, 20)).days
    assert items[f"order_overdue:{objects['overdue'].id}"].age == 8      # due 1 Dec
    assert items[f"case_blocked:{objects['case_h'].id}"].age == 9        # consolidation 1 Dec
    assert items[f"institution_points:{world.clinic.id}:2022"].since.isoformat() == "2022-08-01"
    # Sorted oldest first by default.
    ages = [i.age for i in services.compute_items(users["coordinator"])]
    assert ages == sorted(ages, reverse=True)


def test_reasons_are_translated(scenario, users, app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        items = services.compute_items(users["coordinator"], QueueFilters(kind="order_overdue"))
    assert items and all(item.reason for item in items)


def test_a_district_coordinator_sees_only_its_district(scenario, users):
    objects, _ = scenario
    assert keys(users["district_coordinator"]) == {
        f"case_no_mobilisation_record:{objects['case_f'].id}"}


@pytest.mark.parametrize("role", ["inspector", "institution", "admin"])
def test_nobody_else_sees_the_queue(scenario, users, role):
    with pytest.raises(NotPermitted):
        services.compute_items(users[role])


def test_filters(scenario, users, world):
    objects, expected = scenario
    coordinator = users["coordinator"]
    assert keys(coordinator, kind="order_overdue") == {f"order_overdue:{objects['overdue'].id}"}
    assert keys(coordinator, institution_id=world.clinic.id) == {
        f"case_tackling:{objects['case_c'].id}", f"report_overdue:{objects['report'].id}",
        f"institution_points:{world.clinic.id}:2022"}
    assert keys(coordinator, region_id=world.other_district.id) == {
        f"case_no_mobilisation_record:{objects['case_f'].id}"}
    # Points items belong to no campaign.
    assert keys(coordinator, campaign_id=objects["campaign"].id) == {
        k for k in expected if not k.startswith("institution_points")}
    assert keys(coordinator, owner="mine") == set()
    assert keys(coordinator, owner="unassigned") == expected


def test_items_leave_when_their_cause_is_gone(scenario, users, db, world):
    objects, expected = scenario
    objects["overdue"].state = "closed"
    objects["case_c"].state = "rectification"
    db.session.commit()
    left = keys(users["coordinator"])
    assert f"order_overdue:{objects['overdue'].id}" not in left
    assert f"case_tackling:{objects['case_c'].id}" not in left


def test_constant_number_of_queries(scenario, users, db, world, count_queries):
    objects, _ = scenario
    coordinator = users["coordinator"]
    services.compute_items(coordinator)     # warm caches (the user's region)
    with count_queries() as small:
        n_small = len(services.compute_items(coordinator))
    more_rows(db, world, objects, n=15)
    assert coordinator.region.path  # the commit expired the user: reload it outside the count
    with count_queries() as large:
        n_large = len(services.compute_items(coordinator))
    assert n_large > n_small + 40
    assert len(large) == len(small), large


def test_a_missing_mobilisation_record_leaves_the_queue_when_the_campaign_ends(
        scenario, users, db, clock):
    objects, expected = scenario
    missing = {k for k in expected if k.startswith("case_no_mobilisation_record:")}
    assert missing and missing <= keys(users["coordinator"])
    # The campaign ends on 2022-12-31: on the first day after, the record is history.
    clock("2023-01-01T09:00+08:00")
    assert not missing & keys(users["coordinator"])


def test_since_is_the_local_date(scenario, users, db, world):
    from datetime import UTC, date, datetime

    from factories import make_order

    # 16:30 UTC on 19 November is 00:30 on the 20th in Asia/Shanghai.
    late = make_order(db, scenario[0]["case_h"], world.users["inspector"],
                      state="escalated", commit=False,
                      escalated_at=datetime(2022, 11, 19, 16, 30, tzinfo=UTC))
    early = make_order(db, scenario[0]["case_h"], world.users["inspector"],
                       state="escalated", commit=False,
                       escalated_at=datetime(2022, 11, 19, 15, 30, tzinfo=UTC))
    db.session.commit()
    items = {i.key: i for i in services.compute_items(users["coordinator"])}
    assert items[f"order_escalated:{late.id}"].since == date(2022, 11, 20)
    assert items[f"order_escalated:{early.id}"].since == date(2022, 11, 19)


def test_sorts_ties_and_pages(scenario, users, db, world):
    objects, _expected = scenario
    more_rows(db, world, objects, n=5)
    coordinator = users["coordinator"]
    order = {k: n for n, k in enumerate(services.QUEUE_KINDS)}
    everything = services.compute_items(coordinator)
    # Oldest first; equal ages by kind, then key.
    assert [(-i.age, order[i.kind]) for i in everything] == sorted(
        (-i.age, order[i.kind]) for i in everything)
    by_kind = services.compute_items(coordinator, QueueFilters(sort="kind"))
    assert [(order[i.kind], -i.age) for i in by_kind] == sorted(
        (order[i.kind], -i.age) for i in by_kind)
    by_institution = services.compute_items(coordinator, QueueFilters(sort="institution"))
    assert {i.key for i in by_institution} == {i.key for i in everything}
    # Pages are consecutive slices of the same order, with the total of them all.
    pages = [services.list_queue(coordinator, QueueFilters(sort="kind"), page=n, per_page=7)
             for n in (1, 2, 3, 4, 5, 6)]
    assert all(p.total == len(by_kind) for p in pages)
    assert [i.key for p in pages for i in p.items] == [i.key for i in by_kind]


def test_owner_filters_and_items_by_key(scenario, users, db):
    from casework.errors import NotFound
    from casework.queue.models import QueueClaim

    objects, expected = scenario
    coordinator = users["coordinator"]
    key = f"order_overdue:{objects['overdue'].id}"
    db.session.add(QueueClaim(item_key=key, assignee_id=coordinator.id,
                              assigned_by_id=coordinator.id))
    db.session.commit()
    assert keys(coordinator, owner="mine") == {key}
    assert keys(coordinator, owner="unassigned") == expected - {key}
    page = services.list_queue(coordinator, QueueFilters(owner="unassigned"), per_page=2)
    assert page.total == len(expected) - 1 and len(page.items) == 2
    item = services.get_item(key, coordinator)
    assert item.owner.id == coordinator.id and item.order_id == objects["overdue"].id
    assert item.label == objects["overdue"].number
    for missing in (f"order_overdue:{objects['escalated'].id}", "order_overdue:999999",
                    "order_overdue:x", "nothing:1", "", f"report_overdue:{objects['report'].id}9"):
        with pytest.raises(NotFound):
            services.get_item(missing, coordinator)
    points = next(k for k in expected if k.startswith("institution_points:"))
    assert services.get_item(points, coordinator).key == points
    with pytest.raises(NotFound):
        services.get_item(points.rsplit(":", 1)[0] + ":2021", coordinator)
    complaints = next(k for k in expected if k.startswith("institution_complaints:"))
    assert services.get_item(complaints, coordinator).campaign_id == objects["campaign"].id


def test_a_stale_item_in_a_bulk_claim_writes_none_of_them(scenario, users, db):
    import sqlalchemy as sa

    from casework.queue.models import QueueClaim

    _objects, expected = scenario
    first, second = sorted(expected)[:2]
    db.session.add(QueueClaim(item_key=second, assignee_id=users["viewer"].id,
                              assigned_by_id=users["viewer"].id))
    db.session.commit()
    with pytest.raises(StaleObject):
        services.assign_items([first, second], actor=users["coordinator"], action="claim",
                              expected={first: None, second: None})
    # The unit rolled back (releasing the locks): the session holds no half-made claim.
    assert dict(db.session.execute(sa.select(QueueClaim.item_key, QueueClaim.assignee_id))
                .all()) == {second: users["viewer"].id}
