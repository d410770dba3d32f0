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
