"""Day tallies by region: complaints, medical disputes and findings counted per region
and day (casework/dashboard/models.py), so that a city's or a province's charts and
report sum a few thousand tally rows instead of counting a million complaints.

Each tally is defined once, by `Tally.derive(where)`: a grouped SELECT over the rows it
counts. `refresh` replaces the tally rows of some keys with the derivation restricted to
the same keys (a DELETE and an INSERT … SELECT), `rebuild` all of them, `check` compares
the stored rows with a fresh derivation.

As with the order facts (casework/dashboard/facts.py), every ORM flush notes the keys
its changes touch — the old values as well as the new (a complaint linked to another
institution leaves one region's tally and joins another's) — and the session refreshes
them just before it commits. An institution moved to another region refreshes both
regions whole.

The tallies serve scopes that are whole regions: coordinators, inspectors and viewers see
the institutions of their region's subtree (casework/policy.py, visible_institutions).
An institution user's own figures are counted from its rows directly.
"""

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from casework import clock
from casework.cases.models import InspectionCase
from casework.complaints.models import Complaint
from casework.dashboard.models import ComplaintDayTally, DisputeDayTally, FindingDayTally
from casework.dbtypes import local_date
from casework.disputes.models import MedicalDispute
from casework.extensions import db
from casework.inspections.models import Finding, Inspection
from casework.institutions.models import Institution, Region
from casework.orders.models import RectificationOrder, order_finding

CHUNK = 500  # keys per statement


def count_if(condition):
    return sa.func.count(sa.case((condition, 1)))


@dataclass(frozen=True)
class Tally:
    table: sa.Table
    key: tuple[str, ...]              # the columns a refresh is keyed by
    derive: Callable[[list], sa.Select]  # where-clauses -> SELECT of the table's columns
    source: Callable[[], dict]        # the key's columns in the derivation's FROM


def _complaints(where) -> sa.Select:
    return (sa.select(Institution.region_id.label("region_id"),
                      Complaint.received_on.label("day"),
                      sa.func.count().label("received"),
                      count_if(Complaint.outcome.is_not(None)).label("handled"),
                      count_if(Complaint.outcome == "substantiated").label("substantiated"),
                      count_if(Complaint.transfer_department.is_not(None)).label("transferred"))
            .join(Institution, Institution.id == Complaint.institution_id)
            .where(*where)
            .group_by(Institution.region_id, Complaint.received_on))


def _complaint_columns():
    return {"region_id": Institution.region_id, "day": Complaint.received_on}


def _disputes(where) -> sa.Select:
    return (sa.select(Institution.region_id.label("region_id"),
                      MedicalDispute.occurred_on.label("day"),
                      MedicalDispute.route.label("route"),
                      sa.func.count().label("occurred"),
                      count_if(MedicalDispute.status == "resolved").label("resolved"))
            .join(Institution, Institution.id == MedicalDispute.institution_id)
            .where(*where)
            .group_by(Institution.region_id, MedicalDispute.occurred_on, MedicalDispute.route))


def _dispute_columns():
    return {"region_id": Institution.region_id, "day": MedicalDispute.occurred_on}


def finalised_day():
    return local_date(Inspection.finalised_at, sa.literal(clock.zone().key))


def rectified(finding_id):
    """Whether the finding is in an order verified and closed."""
    return sa.exists(
        sa.select(1).select_from(order_finding)
        .join(RectificationOrder, RectificationOrder.id == order_finding.c.order_id)
        .where(order_finding.c.finding_id == finding_id, RectificationOrder.state == "closed"))


def finding_counts():
    """found, to_rectify, rectified over the findings of a query joining Finding."""
    return (sa.func.count().label("found"),
            count_if(Finding.rectification_required.is_(True)).label("to_rectify"),
            count_if(rectified(Finding.id)).label("rectified"))


def _findings(where) -> sa.Select:
    day = finalised_day()
    return (sa.select(InspectionCase.campaign_id.label("campaign_id"),
                      Institution.region_id.label("region_id"),
                      Finding.key_task_id.label("key_task_id"), day.label("day"),
                      *finding_counts())
            .join(Inspection, Inspection.id == Finding.inspection_id)
            .join(InspectionCase, InspectionCase.id == Finding.case_id)
            .join(Institution, Institution.id == InspectionCase.institution_id)
            .where(Inspection.finalised_at.is_not(None), *where)
            .group_by(InspectionCase.campaign_id, Institution.region_id, Finding.key_task_id,
                      day))


def _finding_columns():
    return {"campaign_id": InspectionCase.campaign_id, "region_id": Institution.region_id}


COMPLAINTS = Tally(ComplaintDayTally.__table__, ("region_id", "day"), _complaints,
                   _complaint_columns)
DISPUTES = Tally(DisputeDayTally.__table__, ("region_id", "day"), _disputes, _dispute_columns)
FINDINGS = Tally(FindingDayTally.__table__, ("campaign_id", "region_id"), _findings,
                 _finding_columns)
TALLIES = (COMPLAINTS, DISPUTES, FINDINGS)


def _names(tally: Tally) -> list[str]:
    return [c.name for c in tally.table.columns]


def _replace(session, tally: Tally, where_table, where_derived) -> None:
    session.execute(sa.delete(tally.table).where(*where_table))
    session.execute(sa.insert(tally.table).from_select(_names(tally),
                                                       tally.derive(where_derived)))


def refresh(tally: Tally, keys, regions=(), session=None) -> None:
    """Replace the tally's rows of these keys (tuples of `tally.key`) and of these whole
    regions, in the current transaction."""
    session = session or db.session
    source = tally.source()
    keys = sorted(set(keys))
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        _replace(session, tally,
                 [sa.tuple_(*(tally.table.c[k] for k in tally.key)).in_(chunk)],
                 [sa.tuple_(*(source[k] for k in tally.key)).in_(chunk)])
    regions = sorted(set(regions))
    if regions:
        _replace(session, tally, [tally.table.c.region_id.in_(regions)],
                 [source["region_id"].in_(regions)])


def rebuild() -> dict[str, int]:
    """Every tally derived afresh (the current transaction). Rows per table."""
    result = {}
    for tally in TALLIES:
        _replace(db.session, tally, [], [])
        result[tally.table.name] = db.session.scalar(
            sa.select(sa.func.count()).select_from(tally.table))
    return result


def check() -> list[tuple]:
    """(table, "missing" | "extra", row) for every row that differs from a fresh
    derivation: empty when the tallies are right."""
    found = []
    for tally in TALLIES:
        names = _names(tally)
        fresh = tally.derive([]).subquery("fresh")
        stored = sa.select(*(tally.table.c[n] for n in names))
        derived = sa.select(*(fresh.c[n] for n in names))
        for kind, query in (("missing", derived.except_(stored)),
                            ("extra", stored.except_(derived))):
            found += [(tally.table.name, kind, tuple(r)) for r in db.session.execute(query)]
    return found


def scope_regions(actor, campaign) -> sa.Select:
    """The regions whose institutions are both in the campaign's region and in the
    actor's (a coordinator, inspector or viewer: region roles see region subtrees)."""
    region = aliased(Region)
    paths = [campaign.region.path]
    if actor.region is not None:
        paths.append(actor.region.path)
    return sa.select(region.id).where(*(region.path.startswith(p, autoescape=True)
                                        for p in paths))


# --- keeping them up to date ------------------------------------------------------------

PENDING = "tallies_pending"


def _values(obj, attr: str) -> set:
    """The attribute's current value and, if it changed in this flush, its old ones; for
    a foreign key, also those of the relationship beside it (`dispute.institution = x`
    changes the column during the flush, where its old value is not kept)."""
    state = sa.inspect(obj)
    history = state.attrs[attr].history
    found = {v for v in (*history.added, *history.unchanged, *history.deleted) if v is not None}
    relation = attr.removesuffix("_id")
    if attr.endswith("_id") and relation in state.mapper.relationships:
        rel = state.attrs[relation].history
        found |= {o.id for o in (*rel.added, *rel.unchanged, *rel.deleted) if o is not None}
    found.discard(None)
    return found


def _note(session) -> dict:
    pending = session.info.setdefault(PENDING, {
        "complaints": set(), "disputes": set(), "cases": set(), "regions": set()})
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Complaint):
            pending["complaints"].update(
                (i, d) for i in _values(obj, "institution_id")
                for d in _values(obj, "received_on"))
        elif isinstance(obj, MedicalDispute):
            pending["disputes"].update(
                (i, d) for i in _values(obj, "institution_id")
                for d in _values(obj, "occurred_on"))
        elif isinstance(obj, Finding | Inspection):
            pending["cases"].update(_values(obj, "case_id"))
        elif isinstance(obj, RectificationOrder):
            history = sa.inspect(obj).attrs
            if ("closed" in _values(obj, "state") and history.state.history.has_changes()
                    or history.findings.history.has_changes() or obj in session.new
                    or obj in session.deleted):
                pending["cases"].add(obj.case_id)
        elif isinstance(obj, InspectionCase):
            attrs = sa.inspect(obj).attrs
            if attrs.institution_id.history.has_changes() or attrs.campaign_id.history.has_changes():
                pending["regions"].update(
                    session.scalars(sa.select(Institution.region_id).where(
                        Institution.id.in_(_values(obj, "institution_id")))))
        elif isinstance(obj, Institution) and sa.inspect(obj).attrs.region_id.history.has_changes():
            pending["regions"].update(_values(obj, "region_id"))
    return pending


def _after_flush(session, _context):
    _note(session)


def _before_commit(session):
    session.flush()
    pending = session.info.pop(PENDING, None)
    if not pending or not any(pending.values()):
        return
    regions = pending["regions"]
    institutions = {i for i, _d in pending["complaints"] | pending["disputes"]}
    region_of = dict(session.execute(
        sa.select(Institution.id, Institution.region_id)
        .where(Institution.id.in_(institutions))).all()) if institutions else {}
    for tally, name in ((COMPLAINTS, "complaints"), (DISPUTES, "disputes")):
        keys = {(region_of[i], d) for i, d in pending[name] if i in region_of}
        if keys or regions:
            refresh(tally, keys, regions, session)
    cases = pending["cases"]
    keys = set(session.execute(
        sa.select(InspectionCase.campaign_id, Institution.region_id)
        .join(Institution, Institution.id == InspectionCase.institution_id)
        .where(InspectionCase.id.in_(cases))).tuples()) if cases else set()
    if keys or regions:
        refresh(FINDINGS, keys, regions, session)


def _after_soft_rollback(session, _transaction):
    session.info.pop(PENDING, None)


def _keep_old_value(_target, value, _old, _initiator):
    return value


# A key that changes must be known before and after (an expired row set without loading
# would forget the old region): these attributes load their old value when set.
for _attribute in (Complaint.institution_id, Complaint.received_on,
                   MedicalDispute.institution_id, MedicalDispute.occurred_on,
                   Finding.case_id, Inspection.case_id, RectificationOrder.state,
                   RectificationOrder.case_id, InspectionCase.institution_id,
                   InspectionCase.campaign_id, Institution.region_id):
    sa.event.listen(_attribute, "set", _keep_old_value, active_history=True, retval=True)

sa.event.listen(Session, "after_flush", _after_flush)
sa.event.listen(Session, "before_commit", _before_commit)
sa.event.listen(Session, "after_soft_rollback", _after_soft_rollback)
