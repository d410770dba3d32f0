"""The helpers of tests/factories.py that other tests lean on: `unchanged` sees a change."""

import pytest
import sqlalchemy as sa
from factories import make_order, unchanged

from casework.cases.models import InspectionCase
from casework.history.models import HistoryEvent


def test_unchanged_sees_a_field_a_history_event_and_a_new_row(world, db, users):
    case = world.make_case(db)
    with unchanged(db, case, "rectification_order"):
        pass
    with pytest.raises(AssertionError), unchanged(db, case):
        db.session.execute(sa.update(InspectionCase).where(InspectionCase.id == case.id)
                           .values(final_summary="改"))
        db.session.commit()
    with pytest.raises(AssertionError), unchanged(db, case):
        db.session.add(HistoryEvent(object_type="case", object_id=case.id, trigger="x",
                                    from_state="mobilisation", to_state="mobilisation",
                                    actor_role="system"))
        db.session.commit()
    with pytest.raises(AssertionError), unchanged(db, "rectification_order"):
        make_order(db, case, users["inspector"])


def test_every_factory_makes_a_valid_row(world, db, users):
    """The defaults satisfy the schema's constraints (each row is committed)."""
    import factories

    case = world.make_case(db, state="rectification")
    [finding] = factories.add_findings(db, case, users["inspector"])
    staff = factories.make_staff(db, world.hospital)
    rows = [
        finding,
        staff,
        factories.make_order(db, case, users["inspector"], returns=1),
        factories.make_report(db, case),
        factories.make_complaint(db, world.hospital, handler=users["inspector"]),
        factories.make_dispute(db, world.hospital),
        factories.make_bulletin(db, case.campaign),
        factories.make_points_entry(db, world.hospital, staff=staff),
        factories.make_points_rule(db),
        factories.make_interview(db, world.hospital),
        factories.make_notification(db, users["institution"]),
        factories.make_user(db, "extra", "inspector", region=world.city, commit=True),
        factories.make_institution(db, "X1", "测试诊所", region=world.district, commit=True),
    ]
    for row in rows:
        assert factories.fresh(db, row) is not None, type(row).__name__
    assert factories.trail(db, rows[2]) == [("return", "returned", "inspector")]
