"""Factories and helpers for the objects the tests build, shared by every test folder.

Plain functions with sensible defaults: each takes the `db` fixture first, adds the row
(commits unless told `commit=False`) and returns it. Rows go straight into the tables
unless the name says otherwise (`raise_order`, `issue_order`, `submit_report` go through
the services). tests/conftest.py's World is built with them; test modules import them
as `from factories import ...` (tests/ is on sys.path: the root conftest lives there)
and never import one another.

Also here: reading rows back (`fresh`, `history`, `count`, `state_of`, `sent`),
`snapshot`/`unchanged` for "a refusal changed nothing", the CSRF token of a page, the
statement counters of the set-based tests, and the files an upload test sends.
"""

import io
import re
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from itertools import count as _counter
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sample_files import PDF_BYTES, png_bytes
from werkzeug.security import generate_password_hash

PASSWORD = "Correct-horse-42"
# scrypt is slow by design; hash once per run and share it between test users.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt")
SHANGHAI = ZoneInfo("Asia/Shanghai")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

_serial = _counter(1)


def local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """`day` at `hour`:`minute` in Shanghai (aware)."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def csrf_token(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _save(db, row, commit):
    db.session.add(row)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return row


# --- places and people -----------------------------------------------------------------

def make_region(db, code, name, level, *, parent=None, name_en=None):
    """A region with its materialised path (flushed, not committed)."""
    from casework.institutions.models import Region

    region = Region(code=code, name=name, name_en=name_en, level=level, parent=parent)
    db.session.add(region)
    db.session.flush()
    region.path = f"{parent.path if parent else '/'}{region.id}/"
    return region


def make_institution(db, code, name, *, region, type="clinic", level="ungraded",
                     ownership="private", commit=False, **kw):
    from casework.institutions.models import Institution

    return _save(db, Institution(code=code, name=name, type=type, level=level,
                                 ownership=ownership, region=region, **kw), commit)


def make_user(db, username, role, *, region=None, institution=None, display_name=None,
              commit=False, **kw):
    """An active user who logs in with PASSWORD."""
    from casework.users.models import User

    values = dict(display_name=display_name or username, active=True, locale="zh_CN",
                  failed_logins=0, password_hash=PASSWORD_HASH)
    values.update(kw)
    return _save(db, User(username=username, role=role, region=region,
                          institution=institution, **values), commit)


def make_staff(db, institution, name="张医生", *, commit=True, **kw):
    from casework.institutions.models import StaffMember

    return _save(db, StaffMember(institution_id=institution.id, name=name, **kw), commit)


# --- campaigns and cases ---------------------------------------------------------------

def make_campaign(db, region, code="test-campaign", **overrides):
    """A campaign of four phases (2021-04-01 to 2022-12-31), one key task and two
    coverage rules."""
    from casework.campaigns.models import Campaign, CampaignPhase, CoverageRule, KeyTask

    values = dict(code=code, title="测试专项行动", title_en="Test campaign",
                  issuing_body="中卫市卫生健康委员会", region=region,
                  starts_on=date(2021, 4, 1), ends_on=date(2022, 12, 31))
    values.update(overrides)
    campaign = Campaign(**values)
    campaign.phases = [
        CampaignPhase(position=0, kind="mobilisation", name="宣传动员阶段",
                      starts_on=date(2021, 4, 1), ends_on=date(2021, 5, 31)),
        CampaignPhase(position=1, kind="rectification", name="集中治理阶段",
                      starts_on=date(2021, 6, 1), ends_on=date(2022, 10, 31)),
        CampaignPhase(position=2, kind="tackling", name="集中攻坚",
                      starts_on=date(2022, 1, 1), ends_on=date(2022, 10, 31)),
        CampaignPhase(position=3, kind="consolidation", name="巩固提升阶段",
                      starts_on=date(2022, 12, 1), ends_on=date(2022, 12, 31)),
    ]
    campaign.key_tasks = [KeyTask(position=0, code="KT1", title="整治红包回扣")]
    campaign.coverage_rules = [
        CoverageRule(position=0, code="hospitals", label="医院",
                     institution_types=["general_hospital"], target_percent=100),
        CoverageRule(position=1, code="others", label="其他机构",
                     institution_types=["clinic"], target_percent=50),
    ]
    return _save(db, campaign, True)


def add_cadence(db, campaign, kind, frequency, due_day=None, levels=None):
    from casework.campaigns.models import ReportingCadence

    campaign.cadences.append(ReportingCadence(position=len(campaign.cadences), kind=kind,
                                              frequency=frequency, due_day=due_day,
                                              levels=levels))
    db.session.commit()
    return campaign


def make_case(db, campaign, institution, state="mobilisation", **kw):
    from casework.cases.models import InspectionCase

    return _save(db, InspectionCase(campaign=campaign, institution=institution, state=state,
                                    **kw), True)


# --- inspections and findings ----------------------------------------------------------

def add_findings(db, case, author, n=1, *, inspected_on=date(2025, 2, 20), final=True,
                 finalised_at=None, photos=False):
    """An inspection of `case` with `n` findings requiring rectification (finalised now,
    or at `finalised_at`, unless `final=False`; with a photo each if `photos`)."""
    from casework import clock as app_clock
    from casework.evidence import services as evidence
    from casework.inspections.models import Finding, Inspection

    inspection = Inspection(case=case, inspected_on=inspected_on, place="门诊楼",
                            created_by_id=author.id, inspectors=[author])
    if final:
        inspection.finalised_at = finalised_at or app_clock.now()
        inspection.finalised_by_id = author.id
    findings = [
        Finding(inspection=inspection, case_id=case.id, key_task=case.campaign.key_tasks[0],
                severity="moderate", description=f"收受医药代表回扣线索未核查（{i + 1}）",
                legal_basis="《医疗机构工作人员廉洁从业九项准则》第三条",
                rectification_required=True, created_by_id=author.id)
        for i in range(n)
    ]
    db.session.add(inspection)
    db.session.flush()
    if photos:
        for finding in findings:
            evidence.attach(evidence.store_files([photo("现场照片.png")], field="files"),
                            actor=author, finding=finding)
    db.session.commit()
    return findings


# --- orders ----------------------------------------------------------------------------

RULE_20_WORKING_DAYS = {"kind": "working_days", "value": 20}


def make_order(db, case, issuer, *, state="issued", deadline=date(2022, 11, 1),
               issued_on=date(2022, 10, 1), number=None, deadline_rule=None, returns=0,
               escalated_at=None, commit=True):
    """An order row straight into the table (what the sweeps and lists read), with
    `returns` past returns and an escalation at `escalated_at` in its history."""
    from casework.history.models import HistoryEvent
    from casework.orders.models import RectificationOrder

    order = RectificationOrder(
        number=number or f"整改〔{issued_on.year}〕{next(_serial):04d}号", case=case,
        state=state, requirements="整改", issuing_body="中卫市卫生健康委员会",
        issued_on=issued_on, issued_by_id=issuer.id, deadline=deadline,
        deadline_rule=deadline_rule or {"kind": "calendar_days",
                                        "value": (deadline - issued_on).days})
    db.session.add(order)
    db.session.flush()
    for n in range(returns):
        db.session.add(HistoryEvent(
            object_type="order", object_id=order.id, trigger="return", from_state="submitted",
            to_state="returned", actor_id=issuer.id, actor_role="inspector",
            at=datetime(issued_on.year, issued_on.month, 10 + n, tzinfo=UTC)))
    if escalated_at:
        db.session.add(HistoryEvent(
            object_type="order", object_id=order.id, trigger="escalate", from_state="overdue",
            to_state="escalated", actor_role="system", at=escalated_at))
    if commit:
        db.session.commit()
    return order


def raise_order(case, actor, findings, rule=None, **kw):
    """An order raised through the services for `findings` of `case`."""
    from casework.orders import services

    return services.raise_order(
        case.id, actor=actor, finding_ids=[f.id for f in findings],
        requirements=kw.pop("requirements", "立即开展自查，建立红包回扣台账，30日内完成整改。"),
        rule=rule or RULE_20_WORKING_DAYS, **kw)


def issue_order(world, db, users, *, case=None, n_findings=1, photos=False, **kw):
    """A case in rectification (or `case`), `n_findings` findings, and an order raised
    through the services by the inspector."""
    case = case or world.make_case(db, state="rectification")
    findings = add_findings(db, case, users["inspector"], n_findings, photos=photos)
    return raise_order(case, users["inspector"], findings, **kw)


def confirm_year(db, year, holidays=()):
    """Enter `year` as confirmed (weekends plus `holidays`) straight into the tables,
    replacing whatever the seed put there: the dates in these tests stay exact."""
    from casework.workdays.models import CalendarDay, CalendarYear

    db.session.execute(sa.delete(CalendarDay).where(CalendarDay.year == year))
    db.session.execute(sa.delete(CalendarYear).where(CalendarYear.year == year))
    row = CalendarYear(year=year, confirmed=True, source="admin")
    row.days = [CalendarDay(date=d, year=year, kind="holiday", name=name)
                for d, name in holidays]
    db.session.add(row)
    db.session.commit()


# --- progress reports ------------------------------------------------------------------

Q1 = (date(2025, 1, 1), date(2025, 3, 31))
FIGURES = {"self_inspections": "3", "problems_found": "5", "problems_rectified": "4",
           "next_steps": "继续开展自查自纠"}


def make_report(db, case, *, period=Q1, due_on=None, state="pending", **kw):
    from casework.reports.models import ProgressReport

    return _save(db, ProgressReport(case=case, period_start=period[0], period_end=period[1],
                                    due_on=due_on or period[1], state=state, **kw), True)


def submit_report(report, actor, *, body="本季度开展自查3次，发现问题5个，已整改4个。",
                  fields=None, **kw):
    """Submit `report` through the services (FIGURES unless `fields`)."""
    from casework.reports import services

    return services.submit_report(report.id, actor=actor, version=report.version, body=body,
                                  fields=FIGURES if fields is None else fields, **kw)


# --- complaints, disputes, bulletins, points, interviews, notifications ----------------

def make_complaint(db, institution, *, received_on=date(2022, 5, 1), category="red_envelope",
                   state="received", deadline=None, outcome=None, handler=None,
                   department=None, channel="hotline", description="投诉", commit=True, **kw):
    from casework.complaints.models import Complaint

    return _save(db, Complaint(
        tracking_code=f"T{next(_serial):011d}", channel=channel, category=category,
        institution_id=institution.id if institution else None, description=description,
        received_on=received_on, deadline=deadline or received_on, state=state,
        outcome=outcome, handler_id=handler.id if handler else None,
        transfer_department=department, findings="查明" if outcome else None, **kw), commit)


def make_dispute(db, institution, *, occurred_on=date(2024, 5, 1), route="negotiation",
                 status="open", type="surgery", amount=None, resolved_on=None,
                 summary="术后纠纷", commit=True, **kw):
    from casework.disputes.models import MedicalDispute

    return _save(db, MedicalDispute(institution=institution, occurred_on=occurred_on,
                                    route=route, status=status, type=type, amount=amount,
                                    resolved_on=resolved_on, summary=summary, **kw), commit)


def make_bulletin(db, campaign, *, period=(date(2021, 1, 1), date(2021, 6, 30)),
                  state="draft", figures=None, commit=True, **kw):
    from casework.bulletins.models import Bulletin

    return _save(db, Bulletin(campaign=campaign, period_start=period[0],
                              period_end=period[1], state=state, figures=figures, **kw),
                 commit)


def make_points_entry(db, institution, *, points=5, year=2022, awarded_on=None,
                      reason="收费", staff=None, commit=True, **kw):
    from casework.points.models import PointsEntry

    return _save(db, PointsEntry(
        institution_id=institution.id, staff_id=staff.id if staff else None, year=year,
        awarded_on=awarded_on or date(year, 8, 1), points=points, reason=reason, **kw),
        commit)


def make_points_rule(db, code="test-rule", *, institution_points=2, staff_points=1,
                     source="manual", description="测试规则", commit=True, **kw):
    from casework.points.models import PointsRule

    return _save(db, PointsRule(code=code, source=source, institution_points=institution_points,
                                staff_points=staff_points, description=description, **kw),
                 commit)


def make_interview(db, institution, *, reason="约谈", state="scheduled",
                   scheduled_for=datetime(2022, 9, 1, 2, tzinfo=UTC), commit=True, **kw):
    from casework.oversight.models import Interview

    return _save(db, Interview(institution_id=institution.id, reason=reason, state=state,
                               scheduled_for=scheduled_for, **kw), commit)


def make_notification(db, user, *, kind="order_overdue", key=None, params=None, link=None,
                      commit=True, **kw):
    from casework.notifications.models import Notification

    return _save(db, Notification(user_id=user.id, kind=kind,
                                  key=key or f"test:{next(_serial)}", params=params or {},
                                  link=link, **kw), commit)


# --- files -----------------------------------------------------------------------------

def photo(name="整改后照片.png"):
    return (name, io.BytesIO(png_bytes()))


def pdf(name="整改报告.pdf"):
    return (name, io.BytesIO(PDF_BYTES))


def stored_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file())


# --- reading back ----------------------------------------------------------------------

def fresh(db, row):
    """`row` read again from the database."""
    db.session.expire_all()
    return db.session.get(type(row), row.id)


def history(db, row, object_id=None) -> list:
    """The history events of `row` (or of `row` = object type and `object_id`), oldest
    first."""
    from casework.history.models import HistoryEvent

    object_type, object_id = (row, object_id) if isinstance(row, str) else (row.workflow,
                                                                            row.id)
    return list(db.session.scalars(
        sa.select(HistoryEvent).where(HistoryEvent.object_type == object_type,
                                      HistoryEvent.object_id == object_id)
        .order_by(HistoryEvent.id)))


def trail(db, row, object_id=None) -> list[tuple[str, str, str]]:
    """(trigger, to_state, actor_role) of each history event of `row`, oldest first."""
    return [(e.trigger, e.to_state, e.actor_role) for e in history(db, row, object_id)]


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def state_of(db, model, row_id):
    return db.session.scalar(sa.select(model.state).where(model.id == row_id))


def sent(db, kind: str | None = None) -> set[tuple[str, str]]:
    """{(username, key)} of the notifications, of one kind or all."""
    from casework.notifications.models import Notification
    from casework.users.models import User

    query = sa.select(User.username, Notification.key).join(User, User.id == Notification.user_id)
    if kind:
        query = query.where(Notification.kind == kind)
    return set(db.session.execute(query).all())


# --- a refusal changes nothing ---------------------------------------------------------

def snapshot(db, *things) -> list:
    """What `things` hold as committed, read on a connection of its own: for a row every
    column and the number of its history events, for a model class or a table name its
    number of rows."""
    from casework.history.models import HistoryEvent

    taken = []
    with db.engine.connect() as conn:
        for thing in things:
            if isinstance(thing, type | str):
                table = db.metadata.tables[thing] if isinstance(thing, str) else thing
                taken.append((str(thing), conn.scalar(
                    sa.select(sa.func.count()).select_from(table))))
                continue
            model, row_id = type(thing), sa.inspect(thing).identity[0]
            stored = conn.execute(sa.select(model.__table__)
                                  .where(model.__table__.c.id == row_id)).mappings().one()
            events = conn.scalar(sa.select(sa.func.count()).select_from(HistoryEvent).where(
                HistoryEvent.object_type == getattr(thing, "workflow", model.__tablename__),
                HistoryEvent.object_id == row_id))
            taken.append((model.__name__, dict(stored), events))
    return taken


@contextmanager
def unchanged(db, *things):
    """Assert that the block leaves `things` as they were: a row's state, version, every
    field and history count; a model's or table's number of rows (nothing created).

        with unchanged(db, order), pytest.raises(NotPermitted):
            services.close(...)
    """
    before = snapshot(db, *things)
    yield
    assert snapshot(db, *things) == before


# --- statements ------------------------------------------------------------------------

def reads(statements) -> int:
    """The SELECTs among `statements`."""
    return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))


def updates(statements, table) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith(f"UPDATE {table.upper()}"))


def single_row_updates(statements, table) -> list[str]:
    """UPDATEs of `table` for one row by id (what the ORM's flush of a versioned row issues)."""
    return [s for s in statements if s.lstrip().upper().startswith(f"UPDATE {table.upper()}")
            and f"WHERE {table}.id = ".upper() in " ".join(s.upper().split())]


def statements_per_chunk(db, count_queries, grow, run, sizes=(2, 4, 8)) -> int:
    """For a sweep that works in chunks of 2: for each of `sizes`, `grow(n)` makes the rows
    up to n, the notifications are emptied and `run(n)` runs the sweep (and checks its
    summary) while its statements and commits are counted. One commit per chunk, and the
    statements grow by the same number per chunk: that number is returned."""
    from casework.notifications.models import Notification

    session = db.session()
    commits, counts = [], []

    def committed(_session):
        commits.append(1)

    sa.event.listen(session, "after_commit", committed)
    try:
        for n in sizes:
            grow(n)
            db.session.execute(sa.delete(Notification))
            db.session.commit()
            commits.clear()
            with count_queries() as statements:
                run(n)
            assert len(commits) == n // 2
            counts.append(len(statements))
    finally:
        sa.event.remove(session, "after_commit", committed)
    per_chunk = counts[1] - counts[0]
    for i in range(1, len(sizes)):
        assert counts[i] - counts[i - 1] == (sizes[i] - sizes[i - 1]) // 2 * per_chunk
    return per_chunk


# The working-day calendar tables: seeded once per session, never emptied between tests.
CALENDAR_TABLES = ("calendar_day", "calendar_year")


class World:
    """A small jurisdiction: a city with two districts and institutions in each, and a
    user per role (built with tests/py)."""

    def __init__(self, db):
        self.city = make_region(db, "640500", "中卫市", "city", name_en="Zhongwei")
        self.district = make_region(db, "640502", "沙坡头区", "district",
                                              parent=self.city)
        self.other_district = make_region(db, "640521", "中宁县", "county",
                                                    parent=self.city)
        institution = make_institution
        self.hospital = institution(db, "H1", "中卫市人民医院", type="general_hospital",
                                    level="tertiary", ownership="public", region=self.district)
        self.clinic = institution(db, "C1", "滨河诊所", region=self.district)
        self.far_hospital = institution(db, "H2", "中宁县人民医院", type="general_hospital",
                                        level="secondary", ownership="public",
                                        region=self.other_district)
        user = make_user
        self.users = {
            "coordinator": user(db, "coord", "coordinator", region=self.city),
            "inspector": user(db, "insp", "inspector", region=self.city),
            "institution": user(db, "hosp", "institution", institution=self.hospital),
            "admin": user(db, "admin", "admin"),
            "viewer": user(db, "viewer", "viewer", region=self.city),
            # Outside the others' reach: another hospital, another district's staff.
            "other_institution": user(db, "far-hosp", "institution",
                                      institution=self.far_hospital),
            "district_coordinator": user(db, "far-coord", "coordinator",
                                         region=self.other_district),
        }
        db.session.commit()

    def make_campaign(self, db, code="test-campaign", region=None, **overrides):
        return make_campaign(db, region or self.city, code, **overrides)

    def make_case(self, db, institution=None, campaign=None, state="mobilisation", **kw):
        return make_case(db, campaign or self.make_campaign(db),
                                   institution or self.hospital, state, **kw)
