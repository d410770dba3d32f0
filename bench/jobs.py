"""The scheduler's jobs against hand-written set-based SQL making the same changes.

Each job runs at an instant with plenty of due work (its `at` argument, days ahead of
the generated data) inside one transaction that is rolled back afterwards (its per-chunk
commits become flushes for the run); the raw SQL (UPDATE … RETURNING feeding INSERT …
SELECT for history and notifications, ON CONFLICT for notifications already there) runs
on the same rows in a transaction of its own, rolled back too. Both report what they
changed, so the two can be compared.
"""

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from unittest import mock
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.app import make_app

ZONE = ZoneInfo("Asia/Shanghai")


def _instant(days_ahead: int) -> tuple[datetime, date]:
    today = datetime.now(ZONE).date() + timedelta(days=days_ahead)
    at = datetime.combine(today, clock_time(9, 0), ZONE).astimezone(UTC)
    return at, today


def _job_rolled_back(app, fn, *args):
    from casework.extensions import db

    with app.app_context():
        db.session.rollback()
        with mock.patch.object(Session, "commit", Session.flush):
            start = time.perf_counter()
            result = fn(*args)
            elapsed = time.perf_counter() - start
        db.session.rollback()
        db.session.remove()
    return elapsed, result


def _sql_rolled_back(app, statements: list[tuple[str, dict]]):
    from casework.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            transaction = conn.begin()
            start = time.perf_counter()
            rows = [list(conn.execute(sa.text(sql), params).fetchone())
                    for sql, params in statements]
            elapsed = time.perf_counter() - start
            transaction.rollback()
    return elapsed, rows


NAME_JSON = ("CASE WHEN i.name_en IS NULL THEN to_json(i.name) "
             "ELSE json_build_object('zh_CN', i.name, 'en', i.name_en) END")
MAIL_STATUS = ("CASE WHEN u.email_notifications AND u.email IS NOT NULL "
               "THEN 'pending' ELSE 'skipped' END")

ORDER_MOVE = """
WITH due AS (
  SELECT o.id, o.state AS from_state, o.number, o.deadline, c.institution_id
  FROM rectification_order o JOIN inspection_case c ON c.id = o.case_id
  WHERE {condition}
  FOR UPDATE OF o SKIP LOCKED),
moved AS (
  UPDATE rectification_order o SET state = :to_state, version = o.version + 1
  FROM due WHERE o.id = due.id
  RETURNING o.id, due.from_state, due.number, due.deadline, due.institution_id),
events AS (
  INSERT INTO history_event (object_type, object_id, trigger, from_state, to_state,
                             actor_id, actor_role, at, data)
  SELECT 'order', id, :trigger, from_state, :to_state, NULL, 'system', now(), {data}
  FROM moved RETURNING 1),
recipients AS (
  SELECT m.id, u.id AS user_id FROM moved m
  JOIN user_account u ON u.institution_id = m.institution_id
   AND u.role = 'institution' AND u.active
  {coordinators}),
notes AS (
  INSERT INTO notification (user_id, key, kind, params, link, created_at, email_status,
                            email_attempts)
  SELECT u.id, 'order:' || m.id || ':' || :key || ':' || m.deadline, :kind,
         json_build_object('number', m.number, 'institution', {name},
                           'deadline', m.deadline::text),
         '/orders/' || m.id, now(), {mail}, 0
  FROM recipients r JOIN moved m ON m.id = r.id
  JOIN institution i ON i.id = m.institution_id JOIN user_account u ON u.id = r.user_id
  ON CONFLICT (user_id, key) DO NOTHING RETURNING 1)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM events),
       (SELECT count(*) FROM notes)"""

COORDINATORS_OVER = """
  UNION ALL
  SELECT m.id, u.id FROM moved m
  JOIN institution i ON i.id = m.institution_id
  JOIN region theirs ON theirs.id = i.region_id
  JOIN region mine ON theirs.path LIKE mine.path || '%%'
  JOIN user_account u ON u.region_id = mine.id AND u.role = 'coordinator' AND u.active"""


def deadline_sweep(app, days_ahead: int = 20) -> dict:
    from casework.orders.sweeps import deadline_sweep as job

    at, today = _instant(days_ahead)
    with app.app_context():
        after = app.config["ESCALATE_AFTER_DAYS"]
    job_s, summary = _job_rolled_back(app, job, at)
    overdue = ORDER_MOVE.format(
        condition="o.state IN ('issued', 'acknowledged', 'returned') AND o.deadline < :today",
        data="json_build_object('today', CAST(:today AS text))", coordinators="",
        name=NAME_JSON, mail=MAIL_STATUS).replace("%%", "%")
    escalate = ORDER_MOVE.format(
        condition="o.state = 'overdue' AND o.deadline < :limit", data="NULL",
        coordinators=COORDINATORS_OVER, name=NAME_JSON, mail=MAIL_STATUS).replace("%%", "%")
    sql_s, rows = _sql_rolled_back(app, [
        (overdue, {"today": today, "to_state": "overdue", "trigger": "mark_overdue",
                   "key": "overdue", "kind": "order_overdue"}),
        (escalate, {"limit": today - timedelta(days=after), "to_state": "escalated",
                    "trigger": "escalate", "key": "escalated", "kind": "order_escalated"}),
    ])
    return {"job": "deadline_sweep", "at": at.isoformat(), "job_s": job_s, "sql_s": sql_s,
            "job_result": {k: summary[k] for k in ("overdue", "escalated", "notifications")},
            "sql_result": {"overdue": rows[0][0], "escalated": rows[1][0],
                           "notifications": rows[0][2] + rows[1][2]}}


COMPLAINT_REMINDERS = """
WITH due AS (
  SELECT c.id, c.category, c.deadline, c.handler_id, c.institution_id,
         c.deadline < :today AS overdue
  FROM complaint c
  WHERE c.state IN ('received', 'assigned', 'investigating')
    AND c.deadline <= :today + :lead
    AND (c.deadline < :today OR (:lead > 0 AND c.deadline - :lead <= :today))),
recipients AS (
  SELECT d.id, d.handler_id AS user_id FROM due d WHERE d.handler_id IS NOT NULL
  UNION ALL
  SELECT d.id, u.id FROM due d
  JOIN institution i ON i.id = d.institution_id
  JOIN region theirs ON theirs.id = i.region_id
  JOIN region mine ON theirs.path LIKE mine.path || '%'
  JOIN user_account u ON u.region_id = mine.id AND u.role = 'coordinator' AND u.active
  WHERE d.handler_id IS NULL
  UNION ALL
  SELECT d.id, u.id FROM due d
  CROSS JOIN user_account u JOIN region r ON r.id = u.region_id
  WHERE d.handler_id IS NULL AND d.institution_id IS NULL AND u.role = 'coordinator'
    AND u.active AND r.level IN ('province', 'city')),
notes AS (
  INSERT INTO notification (user_id, key, kind, params, link, created_at, email_status,
                            email_attempts)
  SELECT u.id,
         'complaint:' || d.id || CASE WHEN d.overdue THEN ':overdue:'
                                      ELSE ':reminder:' || :lead || ':' END || d.deadline,
         CASE WHEN d.overdue THEN 'complaint_overdue' ELSE 'complaint_deadline_reminder' END,
         CASE WHEN d.overdue
              THEN json_build_object('number', '#' || d.id, 'category', d.category,
                                     'deadline', d.deadline::text)
              ELSE json_build_object('number', '#' || d.id, 'category', d.category,
                                     'deadline', d.deadline::text,
                                     'days', d.deadline - CAST(:today AS date)) END,
         '/complaints/' || d.id, now(), {mail}, 0
  FROM recipients r JOIN due d ON d.id = r.id JOIN user_account u ON u.id = r.user_id
  ON CONFLICT (user_id, key) DO NOTHING RETURNING 1)
SELECT (SELECT count(*) FROM due), (SELECT count(*) FROM notes)"""


def complaint_reminders(app, days_ahead: int = 10) -> dict:
    from casework.complaints.sweeps import complaint_reminders as job
    from casework.settings import services as settings

    at, today = _instant(days_ahead)
    job_s, summary = _job_rolled_back(app, job, at)
    with app.app_context():
        lead = settings.get("complaint_reminder_days")
    sql_s, rows = _sql_rolled_back(app, [(COMPLAINT_REMINDERS.format(mail=MAIL_STATUS),
                                          {"today": today, "lead": lead})])
    return {"job": "complaint_reminders", "at": at.isoformat(), "job_s": job_s,
            "sql_s": sql_s, "job_result": {"notifications": summary["notifications"]},
            "sql_result": {"notifications": rows[0][1]}}


BULLETIN_FIGURES = """
WITH inst AS (
  SELECT i.id, i.code, i.annual_visits,
         CASE WHEN coalesce(i.annual_visits, 0) > 0
              THEN round(i.annual_visits::numeric * :days / :in_year) END AS visits
  FROM institution i JOIN inspection_case c ON c.institution_id = i.id
  WHERE c.campaign_id = :campaign
    AND (CAST(:levels AS text[]) IS NULL OR i.level = ANY(CAST(:levels AS text[])))),
f AS (SELECT c.institution_id, count(*) n FROM finding f
      JOIN inspection ins ON ins.id = f.inspection_id
      JOIN inspection_case c ON c.id = f.case_id
      WHERE c.campaign_id = :campaign AND ins.finalised_at IS NOT NULL
        AND ins.inspected_on BETWEEN :start AND :end GROUP BY 1),
o AS (SELECT c.institution_id, count(*) n,
             count(*) FILTER (WHERE o.state IN ('overdue', 'escalated')) late
      FROM rectification_order o JOIN inspection_case c ON c.id = o.case_id
      WHERE c.campaign_id = :campaign AND o.issued_on BETWEEN :start AND :end GROUP BY 1),
cm AS (SELECT institution_id, count(*) n,
              count(*) FILTER (WHERE category = 'red_envelope') red_envelope,
              count(*) FILTER (WHERE outcome = 'substantiated') substantiated,
              count(*) FILTER (WHERE outcome IS NULL AND (transfer_department IS NOT NULL
                                                          OR state = 'transferred')) moved
       FROM complaint WHERE received_on BETWEEN :start AND :end
         AND institution_id IN (SELECT id FROM inst) GROUP BY 1),
d AS (SELECT institution_id, count(*) n,
             count(*) FILTER (WHERE route = 'mediation') mediation
      FROM medical_dispute WHERE occurred_on BETWEEN :start AND :end
        AND institution_id IN (SELECT id FROM inst) GROUP BY 1),
rows AS (
  SELECT inst.id, coalesce(f.n, 0) findings, coalesce(o.n, 0) orders,
         coalesce(cm.n, 0) complaints, coalesce(d.n, 0) disputes,
         round((coalesce(cm.n, 0) + coalesce(d.n, 0)) * 10000.0 / inst.visits, 2) rate
  FROM inst LEFT JOIN f ON f.institution_id = inst.id LEFT JOIN o ON o.institution_id = inst.id
  LEFT JOIN cm ON cm.institution_id = inst.id LEFT JOIN d ON d.institution_id = inst.id),
ranked AS (
  SELECT *, rank() OVER (ORDER BY rate IS NULL, rate DESC,
                               CASE WHEN rate IS NULL THEN complaints + disputes END DESC)
         AS rank FROM rows)
SELECT count(*), sum(findings), sum(orders), sum(complaints), sum(disputes),
       count(*) FILTER (WHERE rank = 1) FROM ranked"""


def bulletin_figures(app) -> dict:
    import calendar

    from casework import periods
    from casework.bulletins.models import Bulletin
    from casework.bulletins.sweeps import figures
    from casework.campaigns.models import Campaign, ReportingCadence
    from casework.extensions import db

    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign)
                                     .where(Campaign.code == "zhongwei-2026-demo"))
        levels = db.session.scalar(sa.select(ReportingCadence.levels).where(
            ReportingCadence.campaign_id == campaign.id, ReportingCadence.kind == "bulletin"))
        last = db.session.scalar(sa.select(Bulletin).where(Bulletin.campaign_id == campaign.id)
                                 .order_by(Bulletin.period_start.desc()).limit(1))
        period = periods.Period(last.period_start, last.period_end, "bench")
        campaign_id = campaign.id
    job_s, result = _job_rolled_back(app, figures, campaign_id, levels, period)
    sql_s, rows = _sql_rolled_back(app, [(BULLETIN_FIGURES, {
        "campaign": campaign_id, "levels": list(levels) if levels else None, "start": period.start, "end": period.end,
        "days": (period.end - period.start).days + 1,
        "in_year": 366 if calendar.isleap(period.start.year) else 365})])
    totals = result["totals"]
    return {"job": "bulletin figures", "at": f"{period.start}/{period.end}", "job_s": job_s,
            "sql_s": sql_s,
            "job_result": {"institutions": len(result["institutions"]),
                           "findings": totals["findings"], "orders": totals["orders"],
                           "complaints": totals["complaints"], "disputes": totals["disputes"]},
            "sql_result": dict(zip(("institutions", "findings", "orders", "complaints",
                                    "disputes"), (int(v) for v in rows[0][:5]), strict=True))}


def measure(db: str, out=print) -> list[dict]:
    app = make_app(db)
    results = []
    out(f"  {'job':<22} {'job s':>8} {'raw SQL s':>10} {'ratio':>7}  same changes")
    for fn in (deadline_sweep, complaint_reminders, bulletin_figures):
        row = fn(app)
        row["job_s"], row["sql_s"] = round(row["job_s"], 3), round(row["sql_s"], 3)
        row["ratio"] = round(row["job_s"] / max(row["sql_s"], 1e-6), 1)
        row["same"] = row["job_result"] == row["sql_result"]
        results.append(row)
        out(f"  {row['job']:<22} {row['job_s']:>8.2f} {row['sql_s']:>10.3f} {row['ratio']:>7.1f}"
            f"  {'yes' if row['same'] else 'NO'} {row['job_result']}"
            + ("" if row["same"] else f" vs {row['sql_result']}"))
    return results
