"""workflows.binding.apply on real rows: one event per transition, all or nothing, no lost
updates (optimistic version check plus the row lock)."""

import threading

import pytest
import sqlalchemy as sa
from flask_babel import gettext

from casework import policy
from casework.cases.models import InspectionCase
from casework.errors import GuardFailed, IllegalTrigger, NotPermitted, StaleObject
from casework.history.models import HistoryEvent
from workflows import binding, registry


def _events(db, case_id):
    return list(db.session.scalars(
        sa.select(HistoryEvent)
        .where(HistoryEvent.object_type == "case", HistoryEvent.object_id == case_id)
        .order_by(HistoryEvent.id)))


def _stored(db, case_id):
    """State, version and summary as committed, read on a connection of its own."""
    with db.engine.connect() as conn:
        return conn.execute(
            sa.select(InspectionCase.state, InspectionCase.version, InspectionCase.final_summary)
            .where(InspectionCase.id == case_id)).one()


def _assert_untouched(db, case_id, state, version, events=0, summary=None):
    assert tuple(_stored(db, case_id)) == (state, version, summary)
    db.session.expire_all()
    assert len(_events(db, case_id)) == events
    row = db.session.get(InspectionCase, case_id)
    assert (row.state, row.version, row.final_summary) == (state, version, summary)


def test_each_transition_writes_one_event_and_bumps_the_version(world, db, users):
    coordinator = users["coordinator"]
    case = world.make_case(db)
    steps = [
        ("start_rectification", {}, "rectification", None),
        ("designate_tackling", {}, "tackling", "进度滞后，列入集中攻坚"),
        ("release_tackling", {}, "rectification", "已追上进度"),
        ("start_consolidation", {}, "consolidation", None),
        ("close", {"final_summary": "整改全部完成"}, "closed", "结案"),
        ("reopen", {}, "consolidation", "复查发现问题反弹"),
    ]
    for number, (trigger, changes, to_state, comment) in enumerate(steps, start=1):
        before = (case.state, case.version)
        event = binding.apply(case, trigger, actor=coordinator, version=case.version,
                              comment=comment, changes=changes)
        assert isinstance(event, HistoryEvent) and event.id is not None
        stored = _stored(db, case.id)
        assert (stored.state, stored.version) == (to_state, before[1] + 1)
        events = _events(db, case.id)
        assert len(events) == number
        last = events[-1]
        assert (last.object_type, last.object_id, last.trigger, last.from_state,
                last.to_state, last.actor_id, last.actor_role, last.comment) == (
            "case", case.id, trigger, before[0], to_state, coordinator.id, "coordinator",
            comment)
        assert last.at is not None
        db.session.expire_all()
        case = db.session.get(InspectionCase, case.id)
    assert case.final_summary == "整改全部完成"


def test_blank_comment_is_stored_as_none(world, db, users):
    case = world.make_case(db)
    binding.apply(case, "start_rectification", actor=users["coordinator"], version=1,
                  comment="   ")
    assert _events(db, case.id)[0].comment is None


@pytest.mark.parametrize("state,trigger,allowed", [
    ("mobilisation", "start_consolidation", ["start_rectification"]),
    ("mobilisation", "close", ["start_rectification"]),
    ("rectification", "start_rectification", ["designate_tackling", "start_consolidation"]),
    ("tackling", "start_consolidation", ["release_tackling"]),
    ("consolidation", "reopen", ["close"]),
    ("mobilisation", "no_such_trigger", ["start_rectification"]),
])
def test_illegal_trigger_names_the_allowed_ones_and_writes_nothing(world, db, users, state,
                                                                   trigger, allowed):
    case = world.make_case(db, state=state)
    with pytest.raises(IllegalTrigger) as raised:
        binding.apply(case, trigger, actor=users["coordinator"], version=1, comment="理由")
    assert raised.value.details["allowed"] == allowed
    assert raised.value.details["state"] == state
    assert raised.value.status == 409
    _assert_untouched(db, case.id, state, 1)


def test_allowed_triggers_are_limited_to_what_the_actor_may_do(world, db, users):
    case = world.make_case(db, state="rectification")
    with pytest.raises(IllegalTrigger) as raised:
        binding.apply(case, "start_rectification", actor=users["coordinator"], version=1)
    assert raised.value.details["allowed"] == ["designate_tackling", "start_consolidation"]
    assert binding.available_triggers(case, users["inspector"]) == []
    assert binding.available_triggers(case, policy.SYSTEM) == ["start_consolidation"]


@pytest.mark.parametrize("version", [0, 2, 7])
def test_stale_version_is_refused_and_writes_nothing(world, db, users, version):
    case = world.make_case(db)
    with pytest.raises(StaleObject) as raised:
        binding.apply(case, "start_rectification", actor=users["coordinator"], version=version)
    assert raised.value.details == {"state": "mobilisation", "version": 1}
    _assert_untouched(db, case.id, "mobilisation", 1)


def test_a_user_must_say_which_version_they_read(world, db, users):
    case = world.make_case(db)
    with pytest.raises(StaleObject):
        binding.apply(case, "start_rectification", actor=users["coordinator"], version=None)
    _assert_untouched(db, case.id, "mobilisation", 1)


def test_guard_failure_gives_reasons_and_writes_nothing(world, db, users):
    case = world.make_case(db, state="rectification")
    with pytest.raises(GuardFailed) as raised:
        binding.apply(case, "designate_tackling", actor=users["coordinator"], version=1,
                      comment="  ")
    # Explained in the user's language (zh_CN by default), from the guard's English msgid.
    assert raised.value.details["reasons"] == [gettext("A reason is required.")]
    assert raised.value.details["reasons"] == ["请填写理由。"]
    _assert_untouched(db, case.id, "rectification", 1)


def test_guard_failure_rolls_back_the_changes_too(world, db, users, monkeypatch):
    case = world.make_case(db, state="consolidation")
    # An order still open blocks closing; the summary given with the attempt must not stay.
    monkeypatch.setattr(InspectionCase, "unfinished_orders",
                        property(lambda self: ["整改通知 2024-001"]))
    with pytest.raises(GuardFailed) as raised:
        binding.apply(case, "close", actor=users["coordinator"], version=1, comment="结案",
                      changes={"final_summary": "整改全部完成"})
    reasons = raised.value.details["reasons"]
    assert len(reasons) == 1 and "整改通知 2024-001" in reasons[0]
    _assert_untouched(db, case.id, "consolidation", 1, summary=None)


def test_every_failing_guard_is_reported(world, db, users, monkeypatch):
    case = world.make_case(db, state="consolidation")
    monkeypatch.setattr(InspectionCase, "unfinished_orders", property(lambda self: ["O-1"]))
    with pytest.raises(GuardFailed) as raised:
        binding.apply(case, "close", actor=users["coordinator"], version=1,
                      changes={"final_summary": "  "})
    assert len(raised.value.details["reasons"]) == 2
    _assert_untouched(db, case.id, "consolidation", 1)


def test_changed_summary_is_rolled_back_when_reopen_lacks_a_reason(world, db, users):
    case = world.make_case(db, state="closed", final_summary="原总结")
    with pytest.raises(GuardFailed):
        binding.apply(case, "reopen", actor=users["coordinator"], version=1,
                      changes={"final_summary": "被改掉的总结"})
    _assert_untouched(db, case.id, "closed", 1, summary="原总结")


def test_failure_after_the_guards_rolls_the_state_back(world, db, users, monkeypatch):
    # transitions has no rollback: the binding must undo the state it already moved.
    case = world.make_case(db)

    def broken_event(**kwargs):
        raise RuntimeError("history store unavailable")

    monkeypatch.setattr(binding, "HistoryEvent", broken_event)
    with pytest.raises(RuntimeError):
        binding.apply(case, "start_rectification", actor=users["coordinator"], version=1)
    _assert_untouched(db, case.id, "mobilisation", 1)


@pytest.mark.parametrize("role", ["inspector", "viewer", "institution", "admin",
                                  "other_institution", "district_coordinator"])
def test_wrong_role_or_place_is_not_permitted(world, db, users, role):
    case = world.make_case(db)  # world.hospital: outside the district coordinator's county
    with pytest.raises(NotPermitted):
        binding.apply(case, "start_rectification", actor=users[role], version=1)
    _assert_untouched(db, case.id, "mobilisation", 1)


def test_system_fires_phase_changes_without_a_version(world, db):
    case = world.make_case(db)
    event = binding.apply(case, "start_rectification", actor=policy.SYSTEM, version=None,
                          comment="阶段日期已到")
    assert (event.actor_role, event.actor_id, event.from_state, event.to_state) == (
        "system", None, "mobilisation", "rectification")
    assert tuple(_stored(db, case.id)) == ("rectification", 2, None)
    [stored] = _events(db, case.id)
    assert (stored.actor_role, stored.actor_id, stored.comment) == ("system", None, "阶段日期已到")


def test_system_may_not_close(world, db):
    case = world.make_case(db, state="consolidation")
    with pytest.raises(NotPermitted):
        binding.apply(case, "close", actor=policy.SYSTEM, version=None,
                      changes={"final_summary": "自动"})
    _assert_untouched(db, case.id, "consolidation", 1)


def test_write_by_someone_else_after_reading_is_caught(world, db, users):
    case = world.make_case(db)
    assert case.version == 1  # read in this session
    with db.engine.begin() as other:  # another worker's connection
        other.execute(sa.update(InspectionCase).where(InspectionCase.id == case.id)
                      .values(version=InspectionCase.version + 1))
    with pytest.raises(StaleObject) as raised:
        binding.apply(case, "start_rectification", actor=users["coordinator"], version=1)
    assert raised.value.details["version"] == 2
    _assert_untouched(db, case.id, "mobilisation", 2)


@pytest.fixture
def interference(db, monkeypatch):
    """`interference(ids)`: from now on registry.fire first bumps the version of the case
    it is given (if its id is in `ids`; any case without) on a connection of its own,
    between apply()'s read and its write. Returns a dict whose "other" says whether that
    writer got through ("written") or waited on the row lock and gave up ("blocked")."""
    dialect = db.engine.dialect.name
    real_fire = registry.fire
    outcome = {}

    def interfere(ids=None):
        def fire_after_interference(name, row, trigger, **kwargs):
            if ids is None or row.id in ids:
                with db.engine.connect() as other:
                    if dialect == "postgresql":
                        other.execute(sa.text("SET lock_timeout = '200ms'"))
                    try:
                        other.execute(sa.update(InspectionCase)
                                      .where(InspectionCase.id == row.id)
                                      .values(version=InspectionCase.version + 1))
                        other.commit()
                        outcome["other"] = "written"
                    except sa.exc.OperationalError:
                        other.rollback()
                        outcome["other"] = "blocked"
            return real_fire(name, row, trigger, **kwargs)

        monkeypatch.setattr(registry, "fire", fire_after_interference)
        return outcome

    return interfere


def test_write_between_lock_and_update_is_caught_or_blocked(world, db, users, interference):
    """Another writer strikes after apply() has read the row, before it writes.

    On PostgreSQL the row lock (SELECT ... FOR UPDATE) makes that writer wait: it times
    out and apply() succeeds. SQLite has no row locks; the version column then turns the
    lost update into StaleObject.
    """
    case = world.make_case(db)
    dialect = db.engine.dialect.name
    outcome = interference()
    if dialect == "postgresql":
        binding.apply(case, "start_rectification", actor=users["coordinator"], version=1)
        assert outcome["other"] == "blocked"
        assert tuple(_stored(db, case.id))[:2] == ("rectification", 2)
        assert len(_events(db, case.id)) == 1
    else:
        with pytest.raises(StaleObject):
            binding.apply(case, "start_rectification", actor=users["coordinator"], version=1)
        assert outcome["other"] == "written"
        _assert_untouched(db, case.id, "mobilisation", 2)


def test_concurrent_triggers_have_one_winner(app, world, db, users):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serialises whole-database)")
    from casework.extensions import db as ext_db
    from casework.users.models import User

    workers = 8
    case_id = world.make_case(db).id
    coordinator_id = users["coordinator"].id
    barrier = threading.Barrier(workers)
    results = [None] * workers

    def worker(index):
        with app.app_context():
            try:
                actor = ext_db.session.get(User, coordinator_id)
                row = ext_db.session.get(InspectionCase, case_id)
                assert row.version == 1
                ext_db.session.commit()  # end the read transaction, as a request would
                barrier.wait(timeout=10)
                binding.apply(row, "start_rectification", actor=actor, version=1)
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
    assert results.count("ok") == 1, results
    assert all(r in ("ok", "StaleObject", "IllegalTrigger") for r in results), results
    assert tuple(_stored(db, case_id))[:2] == ("rectification", 2)
    assert len(_events(db, case_id)) == 1


@pytest.fixture
def declared_effect(monkeypatch):
    """The case machine declaring one effect for designate_tackling, with a handler that
    records what it saw and can be told to fail."""
    from workflows import case as case_machine

    seen, behaviour = [], {"fail": False}

    def handler(row, event, actor):
        from casework.points.models import PointsEntry

        seen.append((row.state, event.trigger, actor.role))
        binding.db.session.add(PointsEntry(
            institution_id=row.institution_id, year=2026, awarded_on=sa.func.current_date(),
            points=1, reason="effect"))
        if behaviour["fail"]:
            raise RuntimeError("boom")

    monkeypatch.setattr(case_machine, "EFFECTS",
                        {"designate_tackling": ("test_effect",),
                         "release_tackling": ("test_effect",)}, raising=False)
    monkeypatch.setitem(binding._HANDLERS, "test_effect", handler)
    return seen, behaviour


def _entries(db):
    from casework.points.models import PointsEntry

    with db.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(PointsEntry))


def test_declared_effects_commit_with_the_transition_or_undo_it(world, db, users,
                                                               declared_effect):
    seen, behaviour = declared_effect
    case = world.make_case(db, state="rectification")
    binding.apply(case, "designate_tackling", actor=users["coordinator"], version=1,
                  comment="滞后")
    assert seen == [("tackling", "designate_tackling", "coordinator")]  # after the machine
    assert _stored(db, case.id)[:2] == ("tackling", 2)
    assert _entries(db) == 1

    behaviour["fail"] = True
    with pytest.raises(RuntimeError):
        binding.apply(case, "release_tackling", actor=users["coordinator"], version=2,
                      comment="好转")
    _assert_untouched(db, case.id, "tackling", 2, events=1)
    assert _entries(db) == 1


def test_a_declared_effect_without_a_handler_is_refused_at_install(monkeypatch):
    from workflows import case as case_machine

    monkeypatch.setattr(case_machine, "EFFECTS", {"close": ("nobody_handles_this",)},
                        raising=False)
    before = binding.installed_effects()
    with pytest.raises(ValueError, match="nobody_handles_this"):
        binding.install_effects(before)
    assert binding.installed_effects() == before


def test_effects_name_known_triggers_and_installed_handlers():
    from casework.effects import HANDLERS

    declared = {effect for name in registry.all_names()
                for effects in registry.effects(name).values() for effect in effects}
    assert declared == set(HANDLERS)  # no handler without a declaration, none missing
    assert binding.installed_effects() == HANDLERS
    assert registry.effects("complaint")["conclude"] == ("award_complaint_points",)


def test_a_sweep_cannot_fire_a_trigger_with_effects(world, db, users, declared_effect):
    case = world.make_case(db, state="rectification")
    with pytest.raises(ValueError, match="declares effects"):
        binding.apply_batch(InspectionCase, [case.id], "designate_tackling",
                            actor=policy.SYSTEM)
    _assert_untouched(db, case.id, "rectification", 1)


@pytest.fixture
def two_cases(world, db):
    """Two cases of one campaign in rectification (version 1)."""
    first = world.make_case(db, state="rectification")
    second = world.make_case(db, institution=world.clinic, campaign=first.campaign,
                             state="rectification")
    return first, second


def test_units_of_work_nest_and_only_the_outermost_commits(db, users, two_cases):
    first, second = two_cases
    coordinator = users["coordinator"]
    with pytest.raises(RuntimeError):
        with binding.unit_of_work():
            binding.apply(first, "designate_tackling", actor=coordinator, version=1,
                          comment="滞后")
            assert binding.in_unit_of_work()
            assert _stored(db, first.id)[:2] == ("rectification", 1)  # not committed yet
            binding.apply(second, "designate_tackling", actor=coordinator, version=1,
                          comment="滞后")
            raise RuntimeError("the second half failed")
    assert not binding.in_unit_of_work()
    _assert_untouched(db, first.id, "rectification", 1)
    _assert_untouched(db, second.id, "rectification", 1)

    with binding.unit_of_work():
        binding.apply(first, "designate_tackling", actor=coordinator, version=1,
                      comment="滞后")
        binding.apply(second, "designate_tackling", actor=coordinator, version=1,
                      comment="滞后")
    assert _stored(db, first.id)[:2] == ("tackling", 2)
    assert _stored(db, second.id)[:2] == ("tackling", 2)


def test_a_refused_transition_inside_a_unit_undoes_the_whole_unit(db, users, two_cases):
    first, second = two_cases
    coordinator = users["coordinator"]
    with pytest.raises(StaleObject):
        with binding.unit_of_work():
            binding.apply(first, "designate_tackling", actor=coordinator, version=1,
                          comment="滞后")
            binding.apply(second, "designate_tackling", actor=coordinator, version=7,
                          comment="滞后")
    _assert_untouched(db, first.id, "rectification", 1)
    _assert_untouched(db, second.id, "rectification", 1)


# --- apply_batch: the sweeps' set-based transitions --------------------------------------

def _writes(statements, table):
    return [s for s in statements if s.lstrip().upper().startswith(f"UPDATE {table.upper()}")]


def test_batch_moves_rows_with_one_update_one_insert_and_bumps_each_version(
        world, db, count_queries):
    campaign = world.make_campaign(db)
    cases = [world.make_case(db, institution=institution, campaign=campaign)
             for institution in (world.hospital, world.clinic, world.far_hospital)]
    moved_already = world.make_case(db, campaign=world.make_campaign(db, code="other"),
                                    state="rectification")
    ids = [c.id for c in cases] + [moved_already.id]
    with count_queries() as statements:
        moved, refused = binding.apply_batch(InspectionCase, ids, "start_rectification",
                                             actor=policy.SYSTEM, comment=" 阶段日期已到 ")
    assert (moved, refused) == ([c.id for c in cases], {})
    assert len(_writes(statements, "inspection_case")) == 1
    assert sum(1 for s in statements if s.lstrip().upper().startswith("INSERT")) == 1
    for case in cases:
        assert tuple(_stored(db, case.id)) == ("rectification", 2, None)
        [event] = _events(db, case.id)
        assert (event.trigger, event.from_state, event.to_state, event.actor_id,
                event.actor_role, event.comment, event.data) == (
            "start_rectification", "mobilisation", "rectification", None, "system",
            "阶段日期已到", None)
    # Not in a state the trigger leaves from: skipped, untouched.
    _assert_untouched(db, moved_already.id, "rectification", 1)
    # The session's copies are current after the batch.
    assert db.session.get(InspectionCase, cases[0].id).version == 2


def test_batch_guards_refuse_some_rows_and_read_what_they_need_in_one_query(
        world, db, users, count_queries):
    from casework.orders.models import RectificationOrder

    campaign = world.make_campaign(db)
    cases = [world.make_case(db, institution=institution, campaign=campaign,
                             state="rectification")
             for institution in (world.hospital, world.clinic, world.far_hospital)]
    for number, state in (("N-2", "overdue"), ("N-1", "escalated"), ("N-3", "issued")):
        db.session.add(RectificationOrder(
            number=number, case=cases[1], state=state, requirements="整改",
            issuing_body="卫健委", issued_on=sa.func.current_date(),
            issued_by_id=users["inspector"].id, deadline=sa.func.current_date(),
            deadline_rule={"kind": "calendar_days", "value": 10}))
    db.session.commit()
    with count_queries() as statements:
        moved, refused = binding.apply_batch(InspectionCase, [c.id for c in cases],
                                             "start_consolidation", actor=policy.SYSTEM)
    assert moved == [cases[0].id, cases[2].id]
    assert refused == {cases[1].id: ["Orders overdue or escalated: N-1, N-2."]}
    assert sum(1 for s in statements if "FROM rectification_order" in s) == 1
    assert tuple(_stored(db, cases[1].id)) == ("rectification", 1, None)
    assert _events(db, cases[1].id) == []
    assert tuple(_stored(db, cases[2].id)) == ("consolidation", 2, None)


def test_batch_writes_what_a_callback_changes_on_the_row(world, db, monkeypatch):
    """A machine callback's writes on the row go into the batch's UPDATE, with the state;
    a callback may read attributes the batch did not select (loaded from the row)."""
    campaign = world.make_campaign(db)
    cases = [world.make_case(db, institution=i, campaign=campaign)
             for i in (world.hospital, world.clinic)]
    entered = registry.machine("case").get_state("rectification")

    def summarise(event):
        event.model.final_summary = f"started {event.model.campaign_id}"

    monkeypatch.setattr(entered, "on_enter", [summarise])
    moved, _ = binding.apply_batch(InspectionCase, [c.id for c in cases],
                                   "start_rectification", actor=policy.SYSTEM)
    assert len(moved) == 2
    for case in cases:
        assert tuple(_stored(db, case.id)) == (
            "rectification", 2, f"started {case.campaign_id}")


def test_batch_internal_transition_keeps_the_version_as_the_orm_did(world, db, users):
    """extend from issued changes no column (storing the deadline is the caller's job):
    the event is written, the row and its version are not."""
    from datetime import date

    from casework.orders.models import RectificationOrder

    order = RectificationOrder(
        number="N-1", case=world.make_case(db, state="rectification"), requirements="整改",
        issuing_body="卫健委", issued_on=date(2022, 1, 1), issued_by_id=users["inspector"].id,
        deadline=date(2022, 2, 1), deadline_rule={"kind": "calendar_days", "value": 31})
    db.session.add(order)
    db.session.commit()
    coordinator = users["coordinator"]
    moved, _ = binding.apply_batch(RectificationOrder, [order.id], "extend", actor=coordinator,
                                   kwargs_for=lambda row: {"new_deadline": date(2022, 3, 1)})
    assert moved == [order.id]
    db.session.expire_all()
    assert (order.state, order.version, order.deadline) == ("issued", 1, date(2022, 2, 1))
    [event] = db.session.scalars(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == "order")).all()
    assert (event.trigger, event.from_state, event.to_state, event.actor_id, event.data) == (
        "extend", "issued", "issued", coordinator.id, {"new_deadline": "2022-03-01"})


def test_batch_policy_refusal_writes_nothing(world, db):
    cases = [world.make_case(db, state="consolidation")]
    with pytest.raises(NotPermitted):
        binding.apply_batch(InspectionCase, [c.id for c in cases], "close",
                            actor=policy.SYSTEM)
    _assert_untouched(db, cases[0].id, "consolidation", 1)


def test_batch_write_between_read_and_update_is_caught_or_blocked(world, db, interference):
    """As for apply(): PostgreSQL's row lock blocks the other writer; on SQLite the
    version check of the batch UPDATE turns the lost update into StaleObject and
    nothing of the batch is written."""
    campaign = world.make_campaign(db)
    cases = [world.make_case(db, institution=i, campaign=campaign)
             for i in (world.hospital, world.clinic)]
    dialect = db.engine.dialect.name
    outcome = interference({cases[1].id})
    ids = [c.id for c in cases]
    if dialect == "postgresql":
        assert binding.apply_batch(InspectionCase, ids, "start_rectification",
                                   actor=policy.SYSTEM)[0] == ids
        assert outcome["other"] == "blocked"
        assert [tuple(_stored(db, i))[:2] for i in ids] == [("rectification", 2)] * 2
    else:
        with pytest.raises(StaleObject):
            binding.apply_batch(InspectionCase, ids, "start_rectification",
                                actor=policy.SYSTEM)
        assert outcome["other"] == "written"
        _assert_untouched(db, cases[0].id, "mobilisation", 1)
        _assert_untouched(db, cases[1].id, "mobilisation", 2)
