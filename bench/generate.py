"""Province-scale data for the benchmark, generated in the database with set-based SQL.

`build(db, scale)` creates the database empty, runs `flask db upgrade` and
`flask demo load` (the reference data, the demo users and the three demo campaigns),
then adds in bulk, under 中卫市 (so the demo's city-level users see all of it):

    regions (districts), institutions, users (3 per institution, inspectors,
    coordinators and viewers per district), a case per institution in the two Zhongwei
    campaigns (states and history copied from a demo case of the same campaign),
    mobilisation records, progress reports, one finalised inspection per case with
    orders, findings, rectification orders with their submissions and evidence
    metadata, complaints (with their empty complainant-details row: anonymous),
    points for substantiated complaints, medical disputes, and the history of all of it.

Every row is one a real run could have produced: each state is reached by a path of
its machine (workflows/*.py), each transition is one history event with matching
from/to states, actor roles and the trigger's data, and version = transitions + 1
(binding.apply bumps it once per transition). Orders still awaiting submission have
deadlines from today on (the nightly sweep would have marked them overdue otherwise),
overdue ones passed their deadline less than ESCALATE_AFTER_DAYS ago, escalated ones
longer. "Random" choices are hashes of the row id, so a scale always gives the same data.

1.0 = 5,000 institutions, 20,000 users, 200,000 orders, 1,000,000 complaints, 50,000
disputes, about 4.8 million history events.
"""

import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Tables that get millions of rows: their secondary indexes are dropped for the load and
# built once afterwards (faster than maintaining them row by row).
BIG_TABLES = ("history_event", "complaint", "complainant_details", "rectification_order",
              "finding", "submission", "attachment", "points_entry", "medical_dispute",
              "order_finding", "progress_report")


def pg_url(db: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{db}"


def sqlalchemy_url(db: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"


def counts(scale: float) -> dict:
    def n(full, least=1):
        return max(least, round(full * scale))

    regions = n(50, 2)
    users = n(20000, 20)
    institutions = n(5000, 4)
    region_users = max(users - 3 * institutions, 3 * regions)
    return {
        "regions": regions,
        "institutions": institutions,
        "inspectors": max(regions, round(region_users * 0.6)),
        "coordinators": max(regions, round(region_users * 0.2)),
        "viewers": max(regions, round(region_users * 0.2)),
        "orders": n(200000, 20),
        "complaints": n(1000000, 50),
        "disputes": n(50000, 5),
    }


def _flask(db: str, *args: str) -> None:
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": sqlalchemy_url(db)}
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"flask {' '.join(args)} failed")


def create_database(db: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')


class Steps:
    """Runs SQL steps on one connection, printing each with its time and row count."""

    def __init__(self, conn, out=print):
        self.conn, self.out, self.timings = conn, out, {}

    def run(self, label: str, sql: str, params=None) -> int:
        start = time.perf_counter()
        cursor = self.conn.execute(sql, params)
        rows = cursor.rowcount
        self.conn.commit()
        elapsed = time.perf_counter() - start
        self.timings[label] = round(elapsed, 2)
        self.out(f"  {label:<34} {rows:>10,} rows {elapsed:8.1f} s")
        return rows


def _one(conn, sql, params=None):
    return conn.execute(sql, params).fetchone()[0]


def build(db: str, scale: float, out=print) -> dict:
    """Create `db` from nothing and fill it at `scale`; returns {step: seconds}."""
    started = time.perf_counter()
    out(f"Creating database {db} (scale {scale})")
    create_database(db)
    t = time.perf_counter()
    _flask(db, "db", "upgrade")
    out(f"  {'flask db upgrade':<34} {'':>15} {time.perf_counter() - t:8.1f} s")
    t = time.perf_counter()
    _flask(db, "demo", "load")
    out(f"  {'flask demo load':<34} {'':>15} {time.perf_counter() - t:8.1f} s")
    with psycopg.connect(pg_url(db)) as conn:
        timings = fill(conn, scale, out)
    t = time.perf_counter()
    from bench.app import refresh_bulletins

    n = refresh_bulletins(db)
    out(f"  {'bulletin figures recomputed':<34} {n:>10,} rows {time.perf_counter() - t:8.1f} s")
    # The bulk SQL above bypassed the application, which keeps the dashboards' order
    # facts and day tallies: derived here once, as after any bulk load.
    t = time.perf_counter()
    _flask(db, "facts", "rebuild")
    with psycopg.connect(pg_url(db), autocommit=True) as conn:
        for table in ("order_day_fact", "complaint_day_tally", "dispute_day_tally",
                      "finding_day_tally"):
            conn.execute(f"VACUUM ANALYZE {table}")
    out(f"  {'flask facts rebuild':<34} {'':>15} {time.perf_counter() - t:8.1f} s")
    timings["facts"] = round(time.perf_counter() - t, 2)
    total = time.perf_counter() - started
    out(f"Generated in {total:.1f} s")
    timings["total"] = round(total, 1)
    return timings


def fill(conn, scale: float, out=print) -> dict:
    c = counts(scale)
    steps = Steps(conn, out)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    city = conn.execute("SELECT id, path FROM region WHERE code = '640500'").fetchone()
    old_campaign = _one(conn, "SELECT id FROM campaign WHERE code = 'zhongwei-2021-conduct'")
    live_campaign = _one(conn, "SELECT id FROM campaign WHERE code = 'zhongwei-2026-demo'")
    big_institution = _one(conn, "SELECT id FROM institution WHERE code = 'ZW-001'")
    demo = dict(conn.execute("SELECT username, id FROM user_account").fetchall())
    # Table names below are constants of this module, never input.
    base = {t: _one(conn, f"SELECT coalesce(max(id), 0) FROM {t}")  # noqa: S608
            for t in (
        "region", "institution", "user_account", "inspection_case", "inspection",
        "finding", "rectification_order", "submission", "attachment", "complaint",
        "points_entry", "medical_dispute", "progress_report", "mobilisation_record")}
    p = {
        **c, "today": today, "city": city[0], "city_path": city[1],
        "old": old_campaign, "live": live_campaign, "big": big_institution,
        "demo_inspector": demo["inspector"], "demo_coordinator": demo["coordinator"],
        "demo_institution": demo["institution"],
        **{f"b_{k}": v for k, v in base.items()},
    }
    p["b_inspector"] = base["user_account"] + 3 * c["institutions"]
    p["b_coordinator"] = p["b_inspector"] + c["inspectors"]
    p["b_viewer"] = p["b_coordinator"] + c["coordinators"]
    p["password_hash"] = _one(conn, "SELECT password_hash FROM user_account "
                                    "WHERE username = 'viewer'")

    conn.execute("SET session_replication_role = replica")  # no FK triggers for the load
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET synchronous_commit = off")
    conn.execute("""
        CREATE FUNCTION pg_temp.r(id bigint, seed int) RETURNS double precision
        LANGUAGE sql IMMUTABLE AS
        $$ SELECT (abs(hashint8extended(id, seed)) % 1000003) / 1000003.0 $$""")
    conn.execute("""
        CREATE FUNCTION pg_temp.utc(d date, hours double precision) RETURNS timestamptz
        LANGUAGE sql IMMUTABLE AS
        $$ SELECT (d::timestamp + make_interval(secs => hours * 3600)) AT TIME ZONE 'UTC' $$""")
    dropped = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        (list(BIG_TABLES),)).fetchall()
    for name, _definition in dropped:
        conn.execute(f'DROP INDEX "{name}"')
    conn.commit()

    numbers = {k: v for k, v in p.items() if isinstance(v, int) and not isinstance(v, bool)}
    values = {k: v for k, v in p.items() if k not in numbers}
    for label, sql in SQL:
        sql = sql.format(**numbers)
        if "%(" in sql:
            steps.run(label, re.sub(r"%(?!\()", "%%", sql), values)
        else:
            steps.run(label, sql)
    start = time.perf_counter()
    for _name, definition in dropped:
        conn.execute(definition)
    conn.commit()
    elapsed = time.perf_counter() - start
    out(f"  {'indexes rebuilt':<34} {len(dropped):>10,} idx  {elapsed:8.1f} s")
    steps.timings["indexes"] = round(elapsed, 2)
    for sequence_table in base:
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{sequence_table}', 'id'), "  # noqa: S608
                     f"(SELECT max(id) FROM {sequence_table}))")
    conn.execute("SET session_replication_role = DEFAULT")
    conn.commit()
    seconds = vacuum_analyze(conn)
    out(f"  {'vacuum analyze':<34} {'':>15} {seconds:8.1f} s")
    return steps.timings


# Placeholders: {name} integers formatted in, %(name)s values bound by the driver.
# pg_temp.r(id, seed) is the row's "random" number in [0, 1).
SQL = [
    ("regions", """
INSERT INTO region (id, code, name, name_en, level, parent_id, path)
SELECT {b_region} + g, '6405' || lpad((g + 60)::text, 4, '0'), '基准区' || g,
       'Bench district ' || g, CASE WHEN g % 3 = 0 THEN 'county' ELSE 'district' END,
       {city}, %(city_path)s || ({b_region} + g) || '/'
FROM generate_series(1, {regions}) g"""),
    ("institutions", """
INSERT INTO institution (id, code, name, name_en, type, level, ownership, region_id,
                         annual_visits, specialties)
SELECT {b_institution} + g, 'BX-' || lpad(g::text, 5, '0'),
       '基准' || g || (ARRAY['综合医院','中医医院','妇幼保健院','专科医院','社区卫生服务中心',
                             '社区卫生服务站','乡镇卫生院','门诊部','诊所'])[t + 1],
       'Bench institution ' || g,
       (ARRAY['general_hospital','tcm_hospital','maternal_child_hospital',
              'specialist_hospital','community_health_centre','community_health_station',
              'township_health_centre','outpatient_department','clinic'])[t + 1],
       CASE WHEN t < 4 THEN (ARRAY['tertiary','secondary','secondary'])[g % 3 + 1]
            WHEN t < 7 THEN 'primary' ELSE 'ungraded' END,
       CASE WHEN t < 7 OR g % 4 = 0 THEN 'public' ELSE 'private' END,
       {b_region} + 1 + g % {regions},
       CASE WHEN g % 20 = 0 THEN NULL
            WHEN t < 4 THEN 200000 + (g * 7919) % 1500000 ELSE 5000 + (g * 7919) % 80000 END,
       NULL
FROM (SELECT g, CASE WHEN g % 10 < 3 THEN g % 4 ELSE 4 + g % 5 END AS t
      FROM generate_series(1, {institutions}) g) s"""),
    ("users", """
INSERT INTO user_account (id, username, display_name, email, password_hash, role,
                          region_id, institution_id, active, locale, email_notifications,
                          failed_logins, created_at)
SELECT {b_user_account} + g, 'bx-institution-' || g, '机构用户' || g, NULL, %(password_hash)s,
       'institution', NULL, {b_institution} + (g - 1) / 3 + 1, true, 'zh_CN', false, 0, now()
FROM generate_series(1, 3 * {institutions}) g
UNION ALL
SELECT {b_inspector} + g, 'bx-inspector-' || g, '监督员' || g, NULL, %(password_hash)s,
       'inspector', {b_region} + 1 + (g - 1) % {regions}, NULL, true, 'zh_CN', false, 0, now()
FROM generate_series(1, {inspectors}) g
UNION ALL
SELECT {b_coordinator} + g, 'bx-coordinator-' || g, '协调员' || g, NULL, %(password_hash)s,
       'coordinator', {b_region} + 1 + (g - 1) % {regions}, NULL, true, 'zh_CN', false, 0,
       now()
FROM generate_series(1, {coordinators}) g
UNION ALL
SELECT {b_viewer} + g, 'bx-viewer-' || g, '查阅人员' || g, NULL, %(password_hash)s,
       'viewer', {b_region} + 1 + (g - 1) % {regions}, NULL, true, 'zh_CN', false, 0, now()
FROM generate_series(1, {viewers}) g"""),
    # The institutions orders and complaints go to: ZW-001 (the demo institution user's,
    # idx 0) and the bulk ones; with the institution's first user, its region's index
    # and its cases in both Zhongwei campaigns (filled in below).
    ("pool (temp)", """
CREATE TEMP TABLE pool AS
SELECT 0 AS idx, {big} AS institution_id, {demo_institution} AS user_id, -1 AS region_idx
UNION ALL
SELECT g, {b_institution} + g, {b_user_account} + 3 * (g - 1) + 1, g % {regions}
FROM generate_series(1, {institutions}) g"""),
    ("cases", """
INSERT INTO inspection_case (id, campaign_id, institution_id, state, version, opened_at,
                             final_summary)
SELECT {b_inspection_case} + row_number() OVER (ORDER BY t.campaign_id, i.id),
       t.campaign_id, i.id, t.state, t.version, t.opened_at, t.final_summary
FROM institution i
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (campaign_id) campaign_id, state, version, opened_at, final_summary
    FROM inspection_case WHERE campaign_id IN ({old}, {live})
    ORDER BY campaign_id, id) t
WHERE i.id > {b_institution}"""),
    ("case history", """
INSERT INTO history_event (object_type, object_id, trigger, from_state, to_state, actor_id,
                           actor_role, at, comment, data)
SELECT 'case', c.id, h.trigger, h.from_state, h.to_state, h.actor_id, h.actor_role, h.at,
       h.comment, h.data
FROM inspection_case c
JOIN (SELECT DISTINCT ON (campaign_id) campaign_id, id FROM inspection_case
      WHERE id <= {b_inspection_case} ORDER BY campaign_id, id) sample
  ON sample.campaign_id = c.campaign_id
JOIN history_event h ON h.object_type = 'case' AND h.object_id = sample.id
WHERE c.id > {b_inspection_case}
ORDER BY c.id, h.id"""),
    ("mobilisation records", """
INSERT INTO mobilisation_record (id, case_id, leading_group, plan_summary, submitted_by_id,
                                 submitted_at, version)
SELECT {b_mobilisation_record} + row_number() OVER (ORDER BY c.id), c.id, m.leading_group,
       m.plan_summary, p.user_id, m.submitted_at, 1
FROM inspection_case c
JOIN pool p ON p.institution_id = c.institution_id
CROSS JOIN (SELECT leading_group, plan_summary, submitted_at FROM mobilisation_record
            ORDER BY id LIMIT 1) m
WHERE c.id > {b_inspection_case} AND c.campaign_id = {live} AND pg_temp.r(c.id, 1) < 0.9"""),
    ("pool cases (temp)", """
ALTER TABLE pool ADD COLUMN old_case int, ADD COLUMN live_case int;
UPDATE pool SET old_case = (SELECT id FROM inspection_case
                            WHERE campaign_id = {old} AND institution_id = pool.institution_id),
                live_case = (SELECT id FROM inspection_case
                             WHERE campaign_id = {live}
                               AND institution_id = pool.institution_id);
CREATE UNIQUE INDEX ON pool (idx);
ANALYZE pool"""),
    # Progress reports of the live campaign's periods: what the demo's cases have.
    ("progress reports (temp)", """
CREATE TEMP TABLE g_report AS
SELECT {b_progress_report} + row_number() OVER (ORDER BY c.id, per.period_start) AS id,
       c.id AS case_id, p.user_id, per.period_start, per.period_end, per.due_on,
       CASE WHEN per.due_on >= %(today)s THEN 0 ELSE
         (SELECT CASE WHEN x < 0.5 THEN 1 WHEN x < 0.65 THEN 2 WHEN x < 0.9 THEN 3
                      ELSE 4 END FROM (SELECT pg_temp.r(c.id * 16 + extract(month FROM
                      per.period_start)::int, 2) x) q) END AS path
FROM inspection_case c
JOIN pool p ON p.institution_id = c.institution_id
CROSS JOIN (SELECT DISTINCT period_start, period_end, due_on FROM progress_report
            WHERE case_id IN (SELECT id FROM inspection_case WHERE campaign_id = {live})) per
WHERE c.id > {b_inspection_case} AND c.campaign_id = {live}"""),
    ("progress reports", """
INSERT INTO progress_report (id, case_id, period_start, period_end, due_on, state, version,
                             body, fields, created_at, submitted_at, submitted_by_id, late)
SELECT r.id, r.case_id, r.period_start, r.period_end, r.due_on,
       (ARRAY['pending','overdue','submitted','accepted','submitted'])[r.path + 1],
       (ARRAY[1, 2, 3, 3, 2])[r.path + 1],
       CASE WHEN r.path >= 2 THEN '本季度召开专项治理推进会，完成科室自查，对发现的问题逐项整改。' END,
       CASE WHEN r.path >= 2 THEN '{{"self_inspections": 4, "problems_found": 6,
            "problems_rectified": 5, "next_steps": "继续落实首问负责制。"}}'::json END,
       pg_temp.utc(r.period_start, 0),
       CASE WHEN r.path = 2 THEN pg_temp.utc(r.due_on + 5, 2)
            WHEN r.path >= 3 THEN pg_temp.utc(r.due_on - 2, 2) END,
       CASE WHEN r.path >= 2 THEN r.user_id END,
       r.path = 2
FROM g_report r"""),
    ("progress report history", """
INSERT INTO history_event (object_type, object_id, trigger, from_state, to_state, actor_id,
                           actor_role, at, comment, data)
SELECT 'report', r.id, s.trigger, s.from_state, s.to_state,
       CASE s.actor WHEN 'inst' THEN r.user_id WHEN 'coord' THEN {demo_coordinator} END,
       CASE s.actor WHEN 'inst' THEN 'institution' WHEN 'coord' THEN 'coordinator'
                    ELSE 'system' END,
       CASE s.trigger WHEN 'mark_overdue' THEN pg_temp.utc(r.due_on, 16.75)
            WHEN 'accept' THEN pg_temp.utc(r.due_on + 3, 2)
            ELSE CASE WHEN r.path = 2 THEN pg_temp.utc(r.due_on + 5, 2)
                      ELSE pg_temp.utc(r.due_on - 2, 2) END END,
       NULL,
       CASE s.trigger WHEN 'mark_overdue'
            THEN json_build_object('today', (r.due_on + 1)::text)
            WHEN 'submit' THEN '{{"request_key": null, "files": 0}}'::json END
FROM g_report r
JOIN (VALUES (1, 1, 'mark_overdue', 'pending', 'overdue', 'system'),
             (2, 1, 'mark_overdue', 'pending', 'overdue', 'system'),
             (2, 2, 'submit', 'overdue', 'submitted', 'inst'),
             (3, 1, 'submit', 'pending', 'submitted', 'inst'),
             (3, 2, 'accept', 'submitted', 'accepted', 'coord'),
             (4, 1, 'submit', 'pending', 'submitted', 'inst'))
     AS s(path, k, trigger, from_state, to_state, actor) ON s.path = r.path
ORDER BY r.id, s.k"""),
    # --- rectification orders ----------------------------------------------------------
    # path: 0 issued, 1 acknowledged, 2 submitted, 3 returned, 4 returned twice,
    # 5 overdue (from issued), 6 overdue (acknowledged), 7 escalated, 8 closed,
    # 9 closed after a return, 10 cancelled (issued), 11 cancelled (escalated).
    # 40 % belong to the finished 2021 campaign (closed or cancelled, issued 2021–22).
    ("orders (temp)", """
CREATE TEMP TABLE g_order AS
SELECT o.*, p.institution_id, p.user_id,
       CASE WHEN o.live THEN p.live_case ELSE p.old_case END AS case_id,
       CASE WHEN p.region_idx < 0 THEN {demo_inspector}
            ELSE {b_inspector} + 1 + p.region_idx + {regions} * floor(pg_temp.r(o.id, 12)
                 * ({inspectors} / {regions}))::int END AS inspector_id,
       CASE WHEN p.region_idx < 0 THEN {demo_coordinator}
            ELSE {b_coordinator} + 1 + p.region_idx + {regions} * floor(pg_temp.r(o.id, 13)
                 * ({coordinators} / {regions}))::int END AS coordinator_id
FROM (
  SELECT id, live, path, idx, deadline, deadline - 30 AS issued_on FROM (
    SELECT id, live, path, idx,
      CASE WHEN NOT live THEN DATE '2021-06-01' + floor(x * 390)::int + 30
           WHEN path IN (0, 1, 3, 4) THEN %(today)s + floor(x * 29)::int
           WHEN path IN (5, 6) THEN %(today)s - 1 - floor(x * 5)::int
           WHEN path IN (7, 11) THEN DATE '2026-08-01'
                + floor(x * (%(today)s - 8 - DATE '2026-08-01'))::int
           WHEN path = 2 THEN DATE '2026-08-01'
                + floor(x * (%(today)s + 25 - DATE '2026-08-01'))::int
           ELSE DATE '2026-08-01' + floor(x * (%(today)s - 10 - DATE '2026-08-01'))::int
      END AS deadline
    FROM (
      SELECT id, live, pg_temp.r(id, 4) AS x,
        CASE WHEN i < 0.01 THEN 0
             ELSE 1 + floor({institutions} * pg_temp.r(id, 5) ^ 2)::int END AS idx,
        CASE WHEN NOT live THEN CASE WHEN y < 0.8 THEN 8 WHEN y < 0.92 THEN 9 ELSE 10 END
             WHEN y < 0.12 THEN 0 WHEN y < 0.30 THEN 1 WHEN y < 0.40 THEN 2
             WHEN y < 0.46 THEN 3 WHEN y < 0.48 THEN 4 WHEN y < 0.52 THEN 5
             WHEN y < 0.58 THEN 6 WHEN y < 0.64 THEN 7 WHEN y < 0.90 THEN 8
             WHEN y < 0.95 THEN 9 WHEN y < 0.98 THEN 10 ELSE 11 END AS path
      FROM (SELECT {b_rectification_order} + g AS id, pg_temp.r(g, 3) >= 0.4 AS live,
                   pg_temp.r(g, 6) AS y, pg_temp.r(g, 7) AS i
            FROM generate_series(1, {orders}) g) a) b) d) o
JOIN pool p ON p.idx = o.idx"""),
    ("inspections", """
INSERT INTO inspection (id, uuid, case_id, inspected_on, place, notes, created_by_id,
                        created_at, finalised_at, finalised_by_id)
SELECT {b_inspection} + row_number() OVER (ORDER BY case_id), gen_random_uuid()::text,
       case_id, inspected_on, '现场', NULL, inspector_id, pg_temp.utc(inspected_on, 1),
       pg_temp.utc(inspected_on, 8), inspector_id
FROM (SELECT case_id, min(inspector_id) AS inspector_id,
             CASE WHEN bool_or(live) THEN DATE '2026-06-25' ELSE DATE '2021-05-20' END
               AS inspected_on
      FROM g_order GROUP BY case_id) s"""),
    ("inspection inspectors", """
INSERT INTO inspection_inspector (inspection_id, user_id)
SELECT id, created_by_id FROM inspection WHERE id > {b_inspection}"""),
    ("findings", """
INSERT INTO finding (id, uuid, inspection_id, case_id, key_task_id, severity, description,
                     legal_basis, rectification_required, created_by_id, created_at,
                     updated_at, version)
SELECT {b_finding} + row_number() OVER (ORDER BY o.id), gen_random_uuid()::text, i.id,
       o.case_id, k.id, (ARRAY['minor','moderate','serious'])[1 + o.id % 3],
       '现场检查发现问题（基准数据）' || o.id, NULL, true, i.created_by_id,
       pg_temp.utc(i.inspected_on, 3), pg_temp.utc(i.inspected_on, 3), 1
FROM g_order o
JOIN inspection i ON i.case_id = o.case_id AND i.id > {b_inspection}
JOIN inspection_case c ON c.id = o.case_id
JOIN LATERAL (SELECT id FROM key_task WHERE campaign_id = c.campaign_id
              ORDER BY id OFFSET o.id % 4 LIMIT 1) k ON true
ORDER BY o.id"""),
    ("finding points", """
INSERT INTO points_entry (id, institution_id, staff_id, year, awarded_on, points, reason,
                          rule_id, complaint_id, finding_id, reverses_id, reversal_reason,
                          source_key, created_by_id, created_at)
SELECT {b_points_entry} + row_number() OVER (ORDER BY f.id), c.institution_id, NULL,
       extract(year FROM i.inspected_on)::int, i.inspected_on, r.institution_points,
       r.description, r.id, NULL, f.id, NULL, NULL,
       'finding:' || f.id || ':' || r.id || ':institution', i.finalised_by_id,
       i.finalised_at
FROM finding f
JOIN inspection i ON i.id = f.inspection_id
JOIN inspection_case c ON c.id = f.case_id
JOIN key_task k ON k.id = f.key_task_id
JOIN points_rule r ON r.source = 'finding' AND r.active AND r.institution_points > 0
                  AND (r.category IS NULL OR r.category = k.code)
WHERE f.id > {b_finding}"""),
    ("orders", """
INSERT INTO rectification_order (id, number, case_id, state, version, requirements,
                                 issuing_body, issued_on, issued_by_id, deadline,
                                 deadline_rule, deadline_provisional, request_key, created_at)
SELECT o.id,
       '整改〔' || extract(year FROM o.issued_on) || '〕'
         || lpad(o.n::text, greatest(4, length(o.n::text)), '0') || '号',
       o.case_id,
       (ARRAY['issued','acknowledged','submitted','returned','returned','overdue','overdue',
              'escalated','closed','closed','cancelled','cancelled'])[o.path + 1],
       (ARRAY[1, 2, 3, 4, 6, 2, 3, 4, 4, 6, 2, 5])[o.path + 1],
       '对照问题清单逐项整改，按期报送整改报告及佐证材料。', '中卫市卫生健康委员会', o.issued_on,
       o.inspector_id, o.deadline, '{{"kind": "calendar_days", "value": 30}}'::json, false,
       NULL, pg_temp.utc(o.issued_on, 2)
FROM (SELECT g.*, coalesce(s.last, 0) + row_number() OVER (
             PARTITION BY extract(year FROM g.issued_on) ORDER BY g.id) AS n
      FROM g_order g
      LEFT JOIN order_number_sequence s ON s.year = extract(year FROM g.issued_on)) o"""),
    ("order numbers", """
INSERT INTO order_number_sequence (year, last)
SELECT extract(year FROM issued_on)::int, count(*) FROM g_order GROUP BY 1
ON CONFLICT (year) DO UPDATE SET last = order_number_sequence.last + excluded.last"""),
    ("order findings", """
INSERT INTO order_finding (order_id, finding_id)
SELECT o.id, {b_finding} + row_number() OVER (ORDER BY o.id) FROM g_order o"""),
    # The steps of each path; `k` orders them, `n` is the path's length.
    ("order steps (temp)", """
CREATE TEMP TABLE order_step AS
SELECT * FROM (VALUES
  (1, 1, 'acknowledge', 'issued', 'acknowledged', 'inst'),
  (2, 1, 'acknowledge', 'issued', 'acknowledged', 'inst'),
  (2, 2, 'submit', 'acknowledged', 'submitted', 'inst'),
  (3, 1, 'acknowledge', 'issued', 'acknowledged', 'inst'),
  (3, 2, 'submit', 'acknowledged', 'submitted', 'inst'),
  (3, 3, 'return', 'submitted', 'returned', 'insp'),
  (4, 1, 'acknowledge', 'issued', 'acknowledged', 'inst'),
  (4, 2, 'submit', 'acknowledged', 'submitted', 'inst'),
  (4, 3, 'return', 'submitted', 'returned', 'insp'),
  (4, 4, 'submit', 'returned', 'submitted', 'inst'),
  (4, 5, 'return', 'submitted', 'returned', 'insp'),
  (5, 1, 'mark_overdue', 'issued', 'overdue', 'system'),
  (6, 1, 'acknowledge', 'issued', 'acknowledged', 'inst'),
  (6, 2, 'mark_overdue', 'acknowledged', 'overdue', 'system'),
  (7, 1, 'acknowledge', 'issued', 'acknowledged', 'inst'),
  (7, 2, 'mark_overdue', 'acknowledged', 'overdue', 'system'),
  (7, 3, 'escalate', 'overdue', 'escalated', 'system'),
  (8, 1, 'acknowledge', 'issued', 'acknowledged', 'inst'),
  (8, 2, 'submit', 'acknowledged', 'submitted', 'inst'),
  (8, 3, 'verify', 'submitted', 'closed', 'insp'),
  (9, 1, 'acknowledge', 'issued', 'acknowledged', 'inst'),
  (9, 2, 'submit', 'acknowledged', 'submitted', 'inst'),
  (9, 3, 'return', 'submitted', 'returned', 'insp'),
  (9, 4, 'submit', 'returned', 'submitted', 'inst'),
  (9, 5, 'verify', 'submitted', 'closed', 'insp'),
  (10, 1, 'cancel', 'issued', 'cancelled', 'coord'),
  (11, 1, 'acknowledge', 'issued', 'acknowledged', 'inst'),
  (11, 2, 'mark_overdue', 'acknowledged', 'overdue', 'system'),
  (11, 3, 'escalate', 'overdue', 'escalated', 'system'),
  (11, 4, 'cancel', 'escalated', 'cancelled', 'coord')
) AS s(path, k, trigger, from_state, to_state, actor);
ALTER TABLE order_step ADD COLUMN n int;
UPDATE order_step s SET n = (SELECT max(k) FROM order_step t WHERE t.path = s.path)"""),
    # Human steps are spread over the time between issue and the deadline (or today);
    # the sweep's at 00:15 local on the day after the deadline (+5 days to escalate).
    ("order events (temp)", """
CREATE TEMP TABLE g_order_event AS
SELECT o.id AS order_id, s.k, s.trigger, s.from_state, s.to_state, s.actor, o.user_id,
       o.deadline,
       CASE s.trigger
         WHEN 'mark_overdue' THEN pg_temp.utc(o.deadline, 16.25)
         WHEN 'escalate' THEN pg_temp.utc(o.deadline + 5, 16.25)
         WHEN 'cancel' THEN CASE WHEN o.path = 11 THEN pg_temp.utc(o.deadline + 7, 2)
                                 ELSE pg_temp.utc(o.issued_on + 1, 2) END
         ELSE pg_temp.utc(o.issued_on, 2 + 24 * (least(%(today)s - 1, o.deadline)
                          - o.issued_on) * s.k / (s.n + 1.0)) END AS at,
       CASE s.actor WHEN 'inst' THEN o.user_id WHEN 'insp' THEN o.inspector_id
                    WHEN 'coord' THEN o.coordinator_id END AS actor_id
FROM g_order o JOIN order_step s ON s.path = o.path"""),
    ("submissions", """
INSERT INTO submission (id, order_id, report, submitted_by_id, submitted_at, late,
                        request_key)
SELECT {b_submission} + row_number() OVER (ORDER BY order_id, k), order_id,
       '已按要求完成整改，附整改报告及佐证材料。', user_id, at, at::date > deadline, NULL
FROM g_order_event WHERE trigger = 'submit'"""),
    ("evidence attachments", """
INSERT INTO attachment (id, uuid, finding_id, submission_id, report_id, kind,
                        original_name, content_type, size, sha256, storage_key,
                        uploaded_by_id, uploaded_at)
SELECT {b_attachment} + row_number() OVER (ORDER BY id), u, NULL, id, NULL, 'pdf',
       '整改报告.pdf', 'application/pdf', 20000 + id % 300000,
       md5(id::text) || md5((id + 1)::text), 'bench/' || u, submitted_by_id, submitted_at
FROM (SELECT id, submitted_by_id, submitted_at, gen_random_uuid()::text AS u
      FROM submission WHERE id > {b_submission}) s"""),
    ("finding photos", """
INSERT INTO attachment (id, uuid, finding_id, submission_id, report_id, kind,
                        original_name, content_type, size, sha256, storage_key,
                        uploaded_by_id, uploaded_at)
SELECT (SELECT max(id) FROM attachment) + row_number() OVER (ORDER BY id), u, id, NULL, NULL,
       'image', '现场照片.jpg', 'image/jpeg', 150000 + id % 2000000,
       md5(id::text) || md5((id + 2)::text), 'bench/' || u, created_by_id, created_at
FROM (SELECT id, created_by_id, created_at, gen_random_uuid()::text AS u
      FROM finding WHERE id > {b_finding} AND id % 2 = 0) f"""),
    ("order history", """
INSERT INTO history_event (object_type, object_id, trigger, from_state, to_state, actor_id,
                           actor_role, at, comment, data)
SELECT 'order', order_id, trigger, from_state, to_state, actor_id,
       CASE actor WHEN 'inst' THEN 'institution' WHEN 'insp' THEN 'inspector'
                  WHEN 'coord' THEN 'coordinator' ELSE 'system' END,
       at,
       CASE trigger WHEN 'return' THEN '佐证材料不足，请补充。'
                    WHEN 'cancel' THEN '问题已另案处理。' END,
       CASE trigger
         WHEN 'submit' THEN '{{"report": "已按要求完成整改，附整改报告及佐证材料。",
                              "evidence_count": 1}}'::json
         WHEN 'mark_overdue' THEN json_build_object('today', (deadline + 1)::text) END
FROM g_order_event ORDER BY order_id, k"""),
    # --- complaints ----------------------------------------------------------------------
    # path: 0 received, 1 assigned, 2 investigating, 3 concluded, 4 replied,
    # 5 closed (replied), 6 transferred, 7 closed (transferred).
    ("complaints (temp)", """
CREATE TEMP TABLE g_complaint AS
SELECT q.*, q.received_on + 15 AS deadline,
       CASE WHEN q.idx IS NULL OR p.region_idx < 0 OR pg_temp.r(q.id, 24) < 0.02
            THEN {demo_inspector}
            ELSE {b_inspector} + 1 + p.region_idx + {regions} * floor(pg_temp.r(q.id, 25)
                 * ({inspectors} / {regions}))::int END AS handler_id,
       CASE WHEN q.idx IS NULL OR p.region_idx < 0 THEN {demo_coordinator}
            ELSE {b_coordinator} + 1 + p.region_idx + {regions} * floor(pg_temp.r(q.id, 26)
                 * ({coordinators} / {regions}))::int END AS coordinator_id,
       p.institution_id
FROM (
  SELECT id, path,
         CASE WHEN path <= 2 THEN %(today)s - 1 - floor(x * 25)::int
              ELSE %(today)s - 30 - floor(x * 1000)::int END AS received_on,
         CASE WHEN i < 0.03 THEN NULL WHEN i < 0.04 THEN 0
              ELSE 1 + floor({institutions} * pg_temp.r(id, 23) ^ 2)::int END AS idx,
         (ARRAY['service_attitude','red_envelope','irregular_fees','over_treatment',
                'illegal_advertising','other'])[1 + floor(pg_temp.r(id, 27) * 6)::int]
           AS category,
         (ARRAY['hotline','sms','web','letter','visit'])[1 + id % 5] AS channel,
         CASE WHEN pg_temp.r(id, 28) < 0.4 THEN 'substantiated' ELSE 'unsubstantiated' END
           AS outcome,
         (ARRAY['market_supervision','medical_insurance','public_security',
                'discipline_inspection'])[1 + id % 4] AS department
  FROM (SELECT {b_complaint} + g AS id, pg_temp.r(g, 20) AS x, pg_temp.r(g, 22) AS i,
               CASE WHEN y < 0.03 THEN 0 WHEN y < 0.06 THEN 1 WHEN y < 0.10 THEN 2
                    WHEN y < 0.14 THEN 3 WHEN y < 0.18 THEN 4 WHEN y < 0.20 THEN 6
                    WHEN y < 0.28 THEN 7 ELSE 5 END AS path
        FROM (SELECT g, pg_temp.r(g, 21) AS y FROM generate_series(1, {complaints}) g) a) b
) q
LEFT JOIN pool p ON p.idx = q.idx"""),
    ("complaints", """
INSERT INTO complaint (id, tracking_code, channel, category, institution_id,
                       institution_named, staff_named, staff_id, description, received_on,
                       deadline, state, version, handler_id, outcome, findings, reply,
                       transfer_department, case_id, finding_id, anonymous,
                       registered_by_id, request_key, created_at)
SELECT id, 'BX' || lpad(id::text, 10, '0'), channel, category, institution_id,
       CASE WHEN institution_id IS NULL THEN '某医院' END, NULL, NULL,
       '投诉内容（基准数据）' || id, received_on, deadline,
       (ARRAY['received','assigned','investigating','concluded','replied','closed',
              'transferred','closed'])[path + 1],
       (ARRAY[1, 2, 3, 4, 5, 6, 2, 3])[path + 1],
       CASE WHEN path BETWEEN 1 AND 5 THEN handler_id END,
       CASE WHEN path BETWEEN 3 AND 5 THEN outcome END,
       CASE WHEN path BETWEEN 3 AND 5 THEN '经调查核实，已形成调查结论。' END,
       CASE WHEN path IN (4, 5) THEN '您反映的问题已调查处理，感谢监督。' END,
       CASE WHEN path IN (6, 7) THEN department END,
       NULL, NULL, true, coordinator_id, NULL, pg_temp.utc(received_on, 1)
FROM g_complaint"""),
    ("complainant details", """
INSERT INTO complainant_details (complaint_id)
SELECT id FROM g_complaint"""),
    ("complaint history", """
INSERT INTO history_event (object_type, object_id, trigger, from_state, to_state, actor_id,
                           actor_role, at, comment, data)
SELECT 'complaint', c.id, s.trigger, s.from_state, s.to_state,
       CASE WHEN s.actor = 'coord' THEN c.coordinator_id ELSE c.handler_id END,
       CASE WHEN s.actor = 'coord' THEN 'coordinator' ELSE 'inspector' END,
       pg_temp.utc(c.received_on, 2 + 24 * CASE WHEN c.path <= 2 THEN 0.2 * s.k
                                               ELSE 3 * s.k END),
       CASE s.trigger WHEN 'reply' THEN '您反映的问题已调查处理，感谢监督。'
                      WHEN 'transfer' THEN '转相关部门处理。' END,
       CASE s.trigger WHEN 'assign' THEN json_build_object('handler_id', c.handler_id)
                      WHEN 'conclude' THEN json_build_object('outcome', c.outcome)
                      WHEN 'transfer' THEN json_build_object('department', c.department)
       END
FROM g_complaint c
JOIN (VALUES (1, 'assign', 'received', 'assigned', 'coord'),
             (2, 'investigate', 'assigned', 'investigating', 'handler'),
             (3, 'conclude', 'investigating', 'concluded', 'handler'),
             (4, 'reply', 'concluded', 'replied', 'handler'),
             (5, 'close', 'replied', 'closed', 'coord')) AS s(k, trigger, from_state,
                                                               to_state, actor)
  ON c.path BETWEEN 1 AND 5 AND s.k <= c.path
ORDER BY c.id, s.k"""),
    ("complaint history (transfers)", """
INSERT INTO history_event (object_type, object_id, trigger, from_state, to_state, actor_id,
                           actor_role, at, comment, data)
SELECT 'complaint', c.id, s.trigger, s.from_state, s.to_state, c.coordinator_id,
       'coordinator', pg_temp.utc(c.received_on, 2 + 24 * 3 * s.k),
       CASE s.trigger WHEN 'transfer' THEN '转相关部门处理。' END,
       CASE s.trigger WHEN 'transfer' THEN json_build_object('department', c.department) END
FROM g_complaint c
JOIN (VALUES (1, 'transfer', 'received', 'transferred'),
             (2, 'close', 'transferred', 'closed')) AS s(k, trigger, from_state, to_state)
  ON c.path IN (6, 7) AND s.k <= c.path - 5
ORDER BY c.id, s.k"""),
    # A substantiated complaint earns its rule's institution points when concluded (the
    # complaints name no staff member, so no staff points).
    ("complaint points", """
INSERT INTO points_entry (id, institution_id, staff_id, year, awarded_on, points, reason,
                          rule_id, complaint_id, finding_id, reverses_id, reversal_reason,
                          source_key, created_by_id, created_at)
SELECT (SELECT coalesce(max(id), 0) FROM points_entry)
         + row_number() OVER (ORDER BY c.id, r.id), c.institution_id, NULL,
       extract(year FROM c.received_on + 9)::int, c.received_on + 9, r.institution_points,
       r.description, r.id, c.id, NULL, NULL, NULL,
       'complaint:' || c.id || ':' || r.id || ':institution', c.handler_id,
       pg_temp.utc(c.received_on, 2 + 24 * 9)
FROM g_complaint c
JOIN points_rule r ON r.source = 'complaint' AND r.active AND r.institution_points > 0
                  AND (r.category IS NULL OR r.category = c.category)
WHERE c.path BETWEEN 3 AND 5 AND c.outcome = 'substantiated'
  AND c.institution_id IS NOT NULL"""),
    ("points history", """
INSERT INTO history_event (object_type, object_id, trigger, from_state, to_state, actor_id,
                           actor_role, at, comment, data)
SELECT 'points_entry', id, 'award', 'recorded', 'recorded', created_by_id, 'inspector',
       created_at, NULL, json_build_object('points', points, 'source_key', source_key)
FROM points_entry WHERE id > {b_points_entry} ORDER BY id"""),
    # --- medical disputes ----------------------------------------------------------------
    ("disputes", """
INSERT INTO medical_dispute (id, institution_id, occurred_on, department, type, route,
                             amount, status, resolved_on, summary, case_id,
                             registered_by_id, request_key, version, created_at)
SELECT id, p.institution_id, occurred_on, '内科',
       (ARRAY['diagnosis_treatment','surgery','nursing','medication','infection','service',
              'fees','other'])[1 + id % 8],
       (ARRAY['negotiation','mediation','litigation'])[1 + (id / 8) % 3],
       CASE WHEN status = 'resolved' THEN 1000 + (id * 37) % 200000 END,
       status, CASE WHEN status <> 'open' THEN least(occurred_on + 30, %(today)s) END,
       '医疗纠纷（基准数据）' || id, NULL,
       CASE WHEN p.region_idx < 0 THEN {demo_coordinator}
            ELSE {b_coordinator} + 1 + p.region_idx END, NULL, 1,
       pg_temp.utc(occurred_on, 3)
FROM (SELECT {b_medical_dispute} + g AS id,
             %(today)s - 1 - floor(pg_temp.r(g, 30) * 1000)::int AS occurred_on,
             CASE WHEN pg_temp.r(g, 31) < 0.3 THEN 'open'
                  WHEN pg_temp.r(g, 31) < 0.9 THEN 'resolved' ELSE 'withdrawn' END AS status,
             CASE WHEN pg_temp.r(g, 32) < 0.01 THEN 0
                  ELSE 1 + floor({institutions} * pg_temp.r(g, 33) ^ 2)::int END AS idx
      FROM generate_series(1, {disputes}) g) d
JOIN pool p ON p.idx = d.idx"""),
    ("dispute history", """
INSERT INTO history_event (object_type, object_id, trigger, from_state, to_state, actor_id,
                           actor_role, at, comment, data)
SELECT 'dispute', id, 'registered', status, status, registered_by_id, 'coordinator',
       created_at, NULL,
       json_build_object('route', route, 'status', status, 'amount', amount::text)
FROM medical_dispute WHERE id > {b_medical_dispute} ORDER BY id"""),
]


def vacuum_analyze(conn) -> float:
    """VACUUM ANALYZE the whole database on `conn` (dead rows out, statistics fresh);
    seconds taken. VACUUM runs outside a transaction: autocommit for its duration."""
    start = time.perf_counter()
    autocommit, conn.autocommit = conn.autocommit, True
    try:
        conn.execute("VACUUM ANALYZE")
    finally:
        conn.autocommit = autocommit
    return time.perf_counter() - start
