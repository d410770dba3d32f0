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
         "orders_overdue",  # of those, overdue or escalated when computed
         "complaints",      # complaints received in the period about the institution
         "complaints_by_category": {<complaints.models.CATEGORIES>: n},
         "complaints_by_outcome": {"substantiated", "unsubstantiated", "transferred",
                                   "pending": n},   # pending: not concluded (yet)
         "disputes",        # medical disputes that occurred in the period
         "disputes_by_route": {"negotiation", "mediation", "litigation": n},
         "visits",          # the period's share of annual_visits; null if not recorded
         "rate_per_10k",    # (complaints + disputes) per 10,000 visits; null without
         "rank", "interview"}],   # interview: at or above the threshold
     "totals": {the same sums; "visits" and "rate_per_10k" over the institutions with
                visits; "interview": how many are proposed},
     "threshold": {"rate": settings bulletin_interview_rate,
                   "count": settings bulletin_interview_count}}

CONTRACT (the escalation queue reads it): every row of "institutions" has "id" (the
institution's id) and "interview" (bool); "threshold" is {"rate", "count"}.

The rules (period_visits, rate_per_10k, rank_rows, proposed_for_interview below):
visits = annual × days in the period / days in the year, rounded half up; rate =
(complaints + disputes) × 10,000 / visits, two decimals; rank by rate descending, then
the institutions without visits by count descending, ties sharing a rank (1, 2, 2, 4);
proposed for interview at or above the rate threshold, or the count threshold for
institutions without visits. A coordinator may recompute a draft's figures
(services.recompute_figures): complaints registered late change them.

Notification: bulletin_draft, "bulletin:<id>:draft", {campaign, period_start,
period_end, label}, link /bulletins/<id>: to the coordinators whose region overlaps the
campaign's.
"""

import calendar
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from casework import clock, periods
from casework.bulletins.models import Bulletin
from casework.campaigns.models import Campaign, ReportingCadence
from casework.cases.models import InspectionCase
from casework.complaints.models import CATEGORIES, Complaint
from casework.disputes.models import DISPUTE_ROUTES, MedicalDispute
from casework.extensions import db
from casework.inspections.models import Finding, Inspection
from casework.institutions.models import Institution
from casework.jobs.sweeping import name, region_user_ids
from casework.notifications.services import Notice, notify
from casework.orders.models import RectificationOrder as Order
from casework.settings import services as settings
from workflows import binding

OUTCOMES = ("substantiated", "unsubstantiated", "transferred", "pending")
PER = 10000     # rates are per 10,000 visits
CENT = Decimal("0.01")


# --- the rules, as pure functions ---------------------------------------------------

def period_visits(annual_visits: int | None, period: periods.Period) -> int | None:
    """The institution's visits in `period`: annual × days in the period / days in the
    year (365, or 366 in a leap year), rounded half up to a whole visit. None when the
    annual volume is not recorded, or is zero (no rate can be computed then)."""
    if not annual_visits:
        return None
    days = (period.end - period.start).days + 1
    in_year = 366 if calendar.isleap(period.start.year) else 365
    visits = (Decimal(annual_visits) * days / in_year).quantize(Decimal(1), ROUND_HALF_UP)
    return int(visits) or None


def rate_per_10k(count: int, visits: int | None) -> float | None:
    """count × 10,000 / visits, rounded half up to two decimals; None without visits."""
    if not visits:
        return None
    return float((Decimal(count) * PER / visits).quantize(CENT, ROUND_HALF_UP))


def rank_rows(rows: list[dict]) -> None:
    """Set each row's "rank": institutions with visits first, by rate (as published, two
    decimals) descending; then those without visits, by count (complaints + disputes)
    descending. Equal values share a rank and the next rank skips (1, 2, 2, 4)."""
    with_visits = sorted((r for r in rows if r["rate_per_10k"] is not None),
                         key=lambda r: -r["rate_per_10k"])
    without = sorted((r for r in rows if r["rate_per_10k"] is None),
                     key=lambda r: -(r["complaints"] + r["disputes"]))
    offset = 0
    for group, value in ((with_visits, lambda r: r["rate_per_10k"]),
                         (without, lambda r: r["complaints"] + r["disputes"])):
        previous, rank = object(), 0
        for index, row in enumerate(group):
            if value(row) != previous:
                rank, previous = offset + index + 1, value(row)
            row["rank"] = rank
        offset += len(group)


def proposed_for_interview(row: dict, threshold: dict) -> bool:
    """At or above the threshold: the rate for institutions with visits, the count
    (complaints + disputes) for those without."""
    if row["rate_per_10k"] is not None:
        return row["rate_per_10k"] >= threshold["rate"]
    return row["complaints"] + row["disputes"] >= threshold["count"]


def _outcome(outcome: str | None, transferred: bool) -> str:
    if outcome in ("substantiated", "unsubstantiated"):
        return outcome
    return "transferred" if transferred else "pending"


# --- the figures ----------------------------------------------------------------------

def figures(campaign_id: int, levels: list | None, period: periods.Period) -> dict:
    """The bulletin's figures for `period` from the data that exists now: six queries
    whatever the number of institutions (institutions, findings, orders, complaints,
    disputes, settings)."""
    institutions = (sa.select(Institution.id, Institution.code, Institution.name,
                              Institution.level, Institution.annual_visits)
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
    # Complaints received in the period about each institution, whatever their state.
    by_category = {i: dict.fromkeys(CATEGORIES, 0) for i in ids}
    by_outcome = {i: dict.fromkeys(OUTCOMES, 0) for i in ids}
    for institution_id, category, outcome, department, state, n in db.session.execute(
            sa.select(Complaint.institution_id, Complaint.category, Complaint.outcome,
                      Complaint.transfer_department, Complaint.state, sa.func.count())
            .where(Complaint.institution_id.in_(ids),
                   Complaint.received_on.between(period.start, period.end))
            .group_by(Complaint.institution_id, Complaint.category, Complaint.outcome,
                      Complaint.transfer_department, Complaint.state)):
        by_category[institution_id][category] = by_category[institution_id].get(category, 0) + n
        key = _outcome(outcome, department is not None or state == "transferred")
        by_outcome[institution_id][key] += n
    # Disputes that occurred in the period, whatever their status now.
    by_route = {i: dict.fromkeys(DISPUTE_ROUTES, 0) for i in ids}
    for institution_id, route, n in db.session.execute(
            sa.select(MedicalDispute.institution_id, MedicalDispute.route, sa.func.count())
            .where(MedicalDispute.institution_id.in_(ids),
                   MedicalDispute.occurred_on.between(period.start, period.end))
            .group_by(MedicalDispute.institution_id, MedicalDispute.route)):
        by_route[institution_id][route] = n
    current = settings.current()
    threshold = {"rate": current["bulletin_interview_rate"],
                 "count": current["bulletin_interview_count"]}
    listed = []
    for r in rows:
        complaints = sum(by_category[r.id].values())
        disputes = sum(by_route[r.id].values())
        visits = period_visits(r.annual_visits, period)
        row = {"id": r.id, "code": r.code, "name": r.name, "level": r.level,
               "findings": findings.get(r.id, 0), "orders": orders.get(r.id, (0, 0))[0],
               "orders_overdue": int(orders.get(r.id, (0, 0))[1] or 0),
               "complaints": complaints, "complaints_by_category": by_category[r.id],
               "complaints_by_outcome": by_outcome[r.id],
               "disputes": disputes, "disputes_by_route": by_route[r.id],
               "visits": visits, "rate_per_10k": rate_per_10k(complaints + disputes, visits)}
        row["interview"] = proposed_for_interview(row, threshold)
        listed.append(row)
    rank_rows(listed)
    return {
        "period": period.as_dict(),
        "levels": list(levels) if levels else None,
        "institutions": listed,
        "totals": _totals(listed),
        "threshold": threshold,
    }


def _totals(rows: list[dict]) -> dict:
    """Sums over the institutions; the total rate is over those with visits only."""
    totals = {column: sum(r[column] for r in rows) for column in
              ("findings", "orders", "orders_overdue", "complaints", "disputes")}
    for column in ("complaints_by_category", "complaints_by_outcome", "disputes_by_route"):
        totals[column] = {}
        for row in rows:
            for key, n in row[column].items():
                totals[column][key] = totals[column].get(key, 0) + n
    counted = [r for r in rows if r["visits"]]
    visits = sum(r["visits"] for r in counted) if counted else None
    totals["visits"] = visits
    totals["rate_per_10k"] = rate_per_10k(
        sum(r["complaints"] + r["disputes"] for r in counted), visits)
    totals["interview"] = sum(1 for r in rows if r["interview"])
    return totals


def bulletins(at: datetime) -> dict:
    """Draft the bulletin of every finished period that has none, each committed with
    its notices. Returns {"today", "drafted": [{campaign, period}], "notifications"}."""
    today = clock.local_date(at)
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
            with binding.unit_of_work():
                bulletin = Bulletin(campaign_id=cadence.campaign_id,
                                    period_start=period.start, period_end=period.end,
                                    state="draft",
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
            existing.add((cadence.campaign_id, period.start))
            drafted.append({"campaign": cadence.code, "period": period.label})
    return {"today": today.isoformat(), "drafted": drafted, "notifications": sent}


def refigure(bulletin) -> dict:
    """The figures of an existing bulletin computed again from the data as it is now,
    for the same period and the levels of the campaign's bulletin cadence (one more
    query than figures())."""
    cadences = db.session.execute(
        sa.select(ReportingCadence.frequency, ReportingCadence.levels)
        .where(ReportingCadence.campaign_id == bulletin.campaign_id,
               ReportingCadence.kind == "bulletin")
        .order_by(ReportingCadence.position)).all()
    campaign = bulletin.campaign
    stored = bulletin.figures if isinstance(bulletin.figures, dict) else {}
    for frequency, levels in cadences:
        for period in periods.periods(campaign.starts_on, campaign.ends_on, frequency):
            if (period.start, period.end) == (bulletin.period_start, bulletin.period_end):
                return figures(bulletin.campaign_id, levels, period)
    label = (stored.get("period") or {}).get("label") if isinstance(
        stored.get("period"), dict) else None
    levels = stored.get("levels") if isinstance(stored.get("levels"), list) else None
    period = periods.Period(bulletin.period_start, bulletin.period_end,
                            label or f"{bulletin.period_start}/{bulletin.period_end}")
    return figures(bulletin.campaign_id, levels, period)
