"""Reading the history log."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from casework.extensions import db
from casework.history.models import HistoryEvent


def history_of(row) -> list[HistoryEvent]:
    """Every history event of a workflow row (case, order, complaint, report, bulletin),
    oldest first, with the actors loaded."""
    return list(db.session.scalars(
        sa.select(HistoryEvent)
        .where(HistoryEvent.object_type == row.workflow, HistoryEvent.object_id == row.id)
        .options(joinedload(HistoryEvent.actor)).order_by(HistoryEvent.id)))
