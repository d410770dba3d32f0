"""The bulletin sweep: a draft bulletin for each finished period of a campaign's
`bulletin` cadence (half-yearly, or quarterly as in the Yubei reply 342).

The periods are the calendar half-years or quarters overlapping the campaign, clipped to
it (casework/periods.py); a period's draft is made once the period is over (its last day
is before the local day), one per campaign and period (unique in the table). Its
`figures` are computed from the data that exists when it is drafted, for the
institutions with a case in the campaign at the cadence's levels (all levels when none):

    {"period": {"start", "end", "label"}, "levels": [...] | null,
     "institutions": [{"id", "code", "name", "level",
                       "findings",        # findings of inspections finalised, held in the period
                       "orders",          # orders issued in the period
                       "orders_overdue"}],# of those, overdue or escalated when drafted
     "totals": {"findings", "orders", "orders_overdue"},
     "complaints": null, "disputes": null, "note": "..."}

Complaints and disputes stay null until their registers exist (the complaints module);
the coordinator completes and publishes the draft.

Notification: bulletin_draft, "bulletin:<id>:draft", {campaign, period_start,
period_end, label}, link /bulletins/<id>: to the coordinators whose region overlaps the
campaign's.
"""

from datetime import datetime

import sqlalchemy as sa

from casework import periods
from casework.bulletins.models import Bulletin
from casework.campaigns.models import Campaign, ReportingCadence
from casework.cases.models import InspectionCase
from casework.extensions import db
from casework.inspections.models import Finding, Inspection
from casework.institutions.models import Institution
from casework.notifications.services import Notice, notify
from casework.orders.models import RectificationOrder as Order
from casework.orders.sweeps import local_today, name, region_user_ids

NOTE = "complaints and disputes registers arrive with the complaints module"


def figures(campaign_id: int, levels: list | None, period: periods.Period) -> dict:
    """The bulletin's figures for `period` from the data that exists now (three queries)."""
    institutions = (sa.select(Institution.id, Institution.code, Institution.name,
                              Institution.level)
                    .join(InspectionCase, InspectionCase.institution_id == Institution.id)
                    .where(InspectionCase.campaign_id == campaign_id)
                    .order_by(Institution.code))
    if levels:
        institutions = institutions.where(Institution.level.in_(levels))
    rows = db.session.execute(institutions).all()
    ids = [r.id for r in rows]
    findings = dict(db.session.execute(
        sa.select(InspectionCase.institution_id, sa.func.count(Finding.id))
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .join(InspectionCase, InspectionCase.id == Finding.case_id)
        .where(InspectionCase.campaign_id == campaign_id,
               InspectionCase.institution_id.in_(ids),
               Inspection.finalised_at.is_not(None),
               Inspection.inspected_on.between(period.start, period.end))
        .group_by(InspectionCase.institution_id)).all())
    late = sa.case((Order.state.in_(("overdue", "escalated")), 1), else_=0)
    orders = {r[0]: (r[1], r[2]) for r in db.session.execute(
        sa.select(InspectionCase.institution_id, sa.func.count(Order.id), sa.func.sum(late))
        .join(InspectionCase, InspectionCase.id == Order.case_id)
        .where(InspectionCase.campaign_id == campaign_id,
               InspectionCase.institution_id.in_(ids),
               Order.issued_on.between(period.start, period.end))
        .group_by(InspectionCase.institution_id))}
    listed = [{"id": r.id, "code": r.code, "name": r.name, "level": r.level,
               "findings": findings.get(r.id, 0), "orders": orders.get(r.id, (0, 0))[0],
               "orders_overdue": int(orders.get(r.id, (0, 0))[1] or 0)} for r in rows]
    return {
        "period": period.as_dict(),
        "levels": list(levels) if levels else None,
        "institutions": listed,
        "totals": {name: sum(i[name] for i in listed)
                   for name in ("findings", "orders", "orders_overdue")},
        "complaints": None,
        "disputes": None,
        "note": NOTE,
    }


def bulletins(at: datetime) -> dict:
    """Draft the bulletin of every finished period that has none, each committed with
    its notices. Returns {"today", "drafted": [{campaign, period}], "notifications"}."""
    today = local_today(at)
    cadences = db.session.execute(
        sa.select(ReportingCadence.frequency, ReportingCadence.levels,
                  Campaign.id.label("campaign_id"), Campaign.code, Campaign.title,
                  Campaign.title_en,
                  Campaign.region_id, Campaign.starts_on, Campaign.ends_on)
        .join(Campaign, Campaign.id == ReportingCadence.campaign_id)
        .where(ReportingCadence.kind == "bulletin", Campaign.starts_on < today)
        .order_by(Campaign.id, ReportingCadence.position)).all()
    if not cadences:
        return {"today": today.isoformat(), "drafted": [], "notifications": 0}
    existing = set(db.session.execute(
        sa.select(Bulletin.campaign_id, Bulletin.period_start)
        .where(Bulletin.campaign_id.in_({c.campaign_id for c in cadences}))).all())
    coordinators = region_user_ids({c.region_id for c in cadences}, "coordinator")
    drafted, sent = [], 0
    for cadence in cadences:
        for period in periods.periods(cadence.starts_on, cadence.ends_on, cadence.frequency):
            if period.end >= today:
                break
            if (cadence.campaign_id, period.start) in existing:
                continue
            bulletin = Bulletin(campaign_id=cadence.campaign_id, period_start=period.start,
                                period_end=period.end, state="draft",
                                figures=figures(cadence.campaign_id, cadence.levels, period))
            db.session.add(bulletin)
            db.session.flush()
            sent += notify(
                Notice(u, f"bulletin:{bulletin.id}:draft", "bulletin_draft",
                       {"campaign": name(cadence.title, cadence.title_en),
                        "period_start": period.start.isoformat(),
                        "period_end": period.end.isoformat(), "label": period.label},
                       f"/bulletins/{bulletin.id}")
                for u in coordinators.get(cadence.region_id, ()))
            db.session.commit()
            existing.add((cadence.campaign_id, period.start))
            drafted.append({"campaign": cadence.code, "period": period.label})
    return {"today": today.isoformat(), "drafted": drafted, "notifications": sent}
