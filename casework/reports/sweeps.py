"""The reporting sweeps: progress reports (created, reminded, overdue) and the monthly
supervision-report reminder.

Progress reports follow each campaign's `progress_report` cadence: for every period of
the campaign (casework/periods.py: calendar quarters, half-years or months overlapping
it, clipped to it) that has started by the local day, each case not closed gets its
report, unless the case was opened after the period ended. The report is due on the
period's last day, or on the cadence's due day of the period's last month (clamped to
the month's length); reminders go out REPORT_REMINDER_DAYS before, and a pending or
returned report is marked overdue the day after. Same reliability rules as the order
sweeps (casework/jobs/sweeping.py): chunks, each one unit of work with its notifications.

Notifications (link /reports/<id> for the first three):
* report_created, "report:<id>:created", {campaign, institution, period_start,
  period_end, due_on}: to the institution's users;
* report_due, "report:<id>:reminder:<days>", the same params and days: to the
  institution's users;
* report_overdue, "report:<id>:overdue", the same params as report_created: to the
  institution's users and the coordinators over the institution;
* supervision_report_due, "supervision:<campaign id>:<YYYY-MM>:reminder:<days>",
  {campaign, month, due_on, days}, link /campaigns/<id>: to the active inspectors whose
  region overlaps the campaign's.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from casework import clock, periods, policy
from casework.campaigns.models import Campaign, ReportingCadence
from casework.cases.models import InspectionCase
from casework.extensions import db
from casework.institutions.models import Institution
from casework.jobs.sweeping import (
    coordinator_ids,
    keyset_chunks,
    name,
    region_user_ids,
    setting_days,
)
from casework.notifications.services import Notice, institution_user_ids, notify
from casework.reports.models import ProgressReport as Report
from workflows import binding

AWAITING_SUBMISSION = ("pending", "returned")


def _cadences(kind: str, today):
    return db.session.execute(
        sa.select(ReportingCadence.frequency, ReportingCadence.due_day,
                  Campaign.id.label("campaign_id"), Campaign.title, Campaign.title_en,
                  Campaign.region_id,
                  Campaign.starts_on, Campaign.ends_on)
        .join(Campaign, Campaign.id == ReportingCadence.campaign_id)
        .where(ReportingCadence.kind == kind, Campaign.starts_on <= today)
        .order_by(Campaign.id, ReportingCadence.position)).all()


def _report_rows(*conditions, lock: bool = False) -> sa.Select:
    select = (sa.select(Report.id, Report.period_start, Report.period_end, Report.due_on,
                        InspectionCase.institution_id, Institution.name, Institution.name_en,
                        Campaign.title, Campaign.title_en)
              .join(InspectionCase, InspectionCase.id == Report.case_id)
              .join(Institution, Institution.id == InspectionCase.institution_id)
              .join(Campaign, Campaign.id == InspectionCase.campaign_id)
              .where(*conditions))
    # As for orders: the chunk notified is the chunk fired on, in one transaction.
    return select.with_for_update(skip_locked=True, of=Report) if lock else select


def _params(row) -> dict:
    return {"campaign": name(row.title, row.title_en),
            "institution": name(row.name, row.name_en),
            "period_start": row.period_start.isoformat(),
            "period_end": row.period_end.isoformat(), "due_on": row.due_on.isoformat()}


def _create(cadence, period: periods.Period, zone) -> tuple[int, int]:
    """The period's missing reports of `cadence`'s campaign, chunk by chunk, each
    committed with its report_created notices. Returns (reports, notifications)."""
    due = periods.due_date(period, cadence.due_day)
    opened_by = clock.local_time(period.end + timedelta(days=1), in_zone=zone)
    select = (sa.select(InspectionCase.id, InspectionCase.institution_id, Institution.name,
                        Institution.name_en)
              .join(Institution, Institution.id == InspectionCase.institution_id)
              .where(InspectionCase.campaign_id == cadence.campaign_id,
                     InspectionCase.state != "closed",
                     InspectionCase.opened_at < opened_by,
                     ~sa.exists().where(Report.case_id == InspectionCase.id,
                                        Report.period_start == period.start)))
    created = sent = 0
    for rows in keyset_chunks(select, InspectionCase.id):
        with binding.unit_of_work():
            reports = [Report(case_id=r.id, period_start=period.start, period_end=period.end,
                              due_on=due, state="pending") for r in rows]
            db.session.add_all(reports)
            db.session.flush()
            users = institution_user_ids({r.institution_id for r in rows})
            params = {"campaign": name(cadence.title, cadence.title_en),
                      "period_start": period.start.isoformat(),
                      "period_end": period.end.isoformat(), "due_on": due.isoformat()}
            sent += notify(Notice(u, f"report:{report.id}:created", "report_created",
                                  {**params, "institution": name(row.name, row.name_en)},
                                  f"/reports/{report.id}")
                           for row, report in zip(rows, reports, strict=True)
                           for u in users.get(row.institution_id, ()))
        created += len(reports)
    return created, sent


def progress_reports(at: datetime) -> dict:
    """Create the progress reports due by the local day, remind before they are due,
    mark those past due overdue.

    Returns {"today", "created", "reminders", "overdue", "notifications", "periods":
    [labels of the periods reports were created for]}.
    """
    today = clock.local_date(at)
    zone = clock.zone()
    created = sent = 0
    filled: list[str] = []
    for cadence in _cadences("progress_report", today):
        for period in periods.periods(cadence.starts_on, cadence.ends_on, cadence.frequency):
            if period.start > today:
                break
            n, notices = _create(cadence, period, zone)
            created, sent = created + n, sent + notices
            if n:
                filled.append(period.label)

    days = setting_days("REPORT_REMINDER_DAYS")
    catch_up = current_app.config["CATCH_UP_DAYS"]
    reminders = 0
    if days:
        select = _report_rows(Report.state.in_((*AWAITING_SUBMISSION, "overdue")),
                              Report.due_on >= today - timedelta(days=catch_up),
                              Report.due_on <= today + timedelta(days=max(days)))
        for rows in keyset_chunks(select, Report.id):
            users = institution_user_ids({r.institution_id for r in rows})
            with binding.unit_of_work():
                new = notify(
                    Notice(u, f"report:{r.id}:reminder:{d}", "report_due",
                           {**_params(r), "days": d},
                           f"/reports/{r.id}", mail=periods.worth_mailing(r.due_on, today))
                    for r in rows
                    for d in periods.reminders_due(r.due_on, days, today, catch_up,
                                                   r.period_start)
                    for u in users.get(r.institution_id, ()))
            reminders, sent = reminders + new, sent + new

    overdue = 0
    select = _report_rows(Report.state.in_(AWAITING_SUBMISSION), Report.due_on < today,
                          lock=True)
    for rows in keyset_chunks(select, Report.id):
        institutions = {r.institution_id for r in rows}
        users, over = institution_user_ids(institutions), coordinator_ids(institutions)
        with binding.unit_of_work():
            sent += notify(Notice(u, f"report:{r.id}:overdue", "report_overdue", _params(r),
                                  f"/reports/{r.id}")
                           for r in rows
                           for u in [*users.get(r.institution_id, ()),
                                     *over.get(r.institution_id, ())])
            moved, _ = binding.apply_batch(Report, [r.id for r in rows], "mark_overdue",
                                           actor=policy.SYSTEM,
                                           kwargs_for=lambda row: {"today": today})
        overdue += len(moved)
    return {"today": today.isoformat(), "created": created, "reminders": reminders,
            "overdue": overdue, "notifications": sent, "periods": sorted(set(filled))}


def supervision_report_reminders(at: datetime) -> dict:
    """Remind inspectors of each campaign's monthly supervision report (the
    `supervision_report` cadence: due by its due day, "by the 30th", or the month's last
    day in shorter months), SUPERVISION_REMINDER_DAYS before, with the order reminders'
    catch-up rule.

    Returns {"today", "reminders": [{campaign, month, days}], "notifications"}.
    """
    today = clock.local_date(at)
    days = setting_days("SUPERVISION_REMINDER_DAYS")
    catch_up = current_app.config["CATCH_UP_DAYS"]
    cadences = _cadences("supervision_report", today)
    inspectors = region_user_ids({c.region_id for c in cadences}, "inspector")
    due_now, notices = [], []
    for cadence in cadences:
        for month in periods.months(cadence.starts_on, cadence.ends_on):
            if month.start > today:
                break
            due = periods.due_date(month, cadence.due_day)
            for d in periods.reminders_due(due, days, today, catch_up, cadence.starts_on):
                due_now.append({"campaign": cadence.campaign_id, "month": month.label, "days": d})
                notices += [
                    Notice(u, f"supervision:{cadence.campaign_id}:{month.label}:reminder:{d}",
                           "supervision_report_due",
                           {"campaign": name(cadence.title, cadence.title_en),
                            "month": month.label,
                            "due_on": due.isoformat(), "days": d},
                           f"/campaigns/{cadence.campaign_id}",
                           mail=periods.worth_mailing(due, today))
                    for u in inspectors.get(cadence.region_id, ())]
    with binding.unit_of_work():
        sent = notify(notices)
    return {"today": today.isoformat(), "reminders": due_now, "notifications": sent}
