"""A live demo campaign and its story so far, so that a fresh demo shows work in progress.

Both reference campaigns lie in the past; a user trying the demo would see no open
order, no overdue report, an empty escalation queue. So the demo adds one more campaign:
the Zhongwei plan run again from June 2026 (its dates moved by MONTHS_LATER, everything
else as the plan says, marked 演示 in its title), and tells its first months through
the same services users call, each step on the day it happened (clock.replaying), with
the scheduler's sweeps run for each of those days. What the story leaves open is what
the sweeps then make overdue or escalate on the real today.

Deterministic; told once (skipped when the campaign already has an inspection); steps
dated after today are not told (a demo loaded with the clock set earlier stays
consistent).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from io import BytesIO

import sqlalchemy as sa

from casework import clock
from casework.campaigns.definition import DEFINITIONS_DIR, load_definition
from casework.campaigns.importer import import_campaign
from casework.campaigns.models import Campaign, KeyTask
from casework.cases.models import InspectionCase
from casework.complaints import services as complaints
from casework.extensions import db
from casework.inspections import services as inspections
from casework.inspections.models import Inspection
from casework.institutions.models import Institution, StaffMember
from casework.jobs.registry import JOBS, SWEEP_ORDER
from casework.orders import services as orders
from casework.oversight import services as oversight
from casework.reports import services as reports
from casework.reports.models import ProgressReport
from casework.users.models import User

SOURCE = DEFINITIONS_DIR / "zhongwei-2021-conduct.yaml"
CODE = "zhongwei-2026-demo"
MONTHS_LATER = 62  # April 2021 + 62 months = June 2026
SWEEP_HOUR = time(0, 45)
WORK_HOUR = time(10, 0)
# A one-page PDF standing in for the evidence an institution uploads.
EVIDENCE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _months_later(day: date, months: int, *, month_end: bool) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    if month_end:
        following = date(year + month // 12, month % 12 + 1, 1)
        return following - timedelta(days=1)
    return date(year, month, day.day)


def _moved(day: date) -> date:
    # Phases start on the 1st and end on a month's last day in the plan: keep it so.
    nxt = day + timedelta(days=1)
    return _months_later(day, MONTHS_LATER, month_end=nxt.day == 1)


def live_definition():
    """The Zhongwei plan with its dates moved to 2026–2028, titled as a demo."""
    plan = load_definition(SOURCE)
    years = f"{_moved(plan.starts_on).year}—{_moved(plan.ends_on).year}"
    return plan.model_copy(update={
        "code": CODE,
        "title": plan.title.replace("（2021—2022年）", "") + f"（演示：{years}年）",
        "title_en": (plan.title_en or "").replace(" (2021–2022)", "")
        + f" (demo: {years.replace('—', '–')})",
        "starts_on": _moved(plan.starts_on),
        "ends_on": _moved(plan.ends_on),
        "phases": [p.model_copy(update={"starts_on": _moved(p.starts_on),
                                         "ends_on": _moved(p.ends_on)})
                   for p in plan.phases],
        # Quarterly bulletins, as the Yubei reply 342 has them, rather than the plan's
        # half-yearly ones: so that by the demo's today a bulletin with figures exists.
        "cadences": [c.model_copy(update={"frequency": "quarterly"}) if c.kind == "bulletin"
                     else c for c in plan.cadences],
    })


@dataclass
class Cast:
    coordinator: User
    inspector: User
    hospital: User      # 中卫市人民医院 ZW-001
    tcm: User           # 中卫市中医医院 ZW-002


def _cast() -> Cast | None:
    users = {u.username: u for u in db.session.scalars(sa.select(User).where(
        User.username.in_(("coordinator", "inspector", "institution", "institution2"))))}
    if len(users) < 4:
        return None
    return Cast(users["coordinator"], users["inspector"], users["institution"],
                users["institution2"])


class Story:
    def __init__(self, campaign: Campaign, cast: Cast, today: date):
        self.campaign, self.cast, self.today = campaign, cast, today
        self.swept_until: date | None = None
        self.tasks = {t.code: t.id for t in db.session.scalars(
            sa.select(KeyTask).where(KeyTask.campaign_id == campaign.id))}
        self.cases = dict(db.session.execute(
            sa.select(Institution.code, InspectionCase.id)
            .join(InspectionCase, InspectionCase.institution_id == Institution.id)
            .where(InspectionCase.campaign_id == campaign.id)).all())
        self.told = 0

    def sweep(self, day: date) -> None:
        """The scheduler's daily sweeps for `day` (what it would have done that night)."""
        at = clock.local_time(day, SWEEP_HOUR)
        with clock.replaying(at):
            for name in SWEEP_ORDER:
                JOBS[name].function()(at)
        self.swept_until = day

    def on(self, day: date, step, *args, **kwargs) -> object | None:
        """Tell one step on `day` (after that day's sweeps); None if `day` is to come."""
        if day > self.today:
            return None
        if self.swept_until is None or self.swept_until < day:
            self.sweep(day)
        with clock.replaying(clock.local_time(day, WORK_HOUR)):
            result = step(*args, **kwargs)
        self.told += 1
        return result

    # --- steps ------------------------------------------------------------------

    def inspect(self, code: str, day: date, findings: list[tuple[str, str, str]]):
        """An inspection of institution `code` with findings (task, severity, text),
        finalised the same day. Returns the finding ids."""
        inspection = inspections.start_inspection(
            self.cases[code], actor=self.cast.inspector, inspected_on=day,
            place="现场督查", notes="专项治理现场督查（演示数据）")
        ids = [inspections.record_finding(
            inspection.id, inspections.FindingInput(
                key_task_id=self.tasks[task], severity=severity, description=text),
            actor=self.cast.inspector).id for task, severity, text in findings]
        inspections.finalise_inspection(inspection.id, actor=self.cast.inspector)
        return ids

    def order(self, code: str, finding_ids: list[int], requirements: str, kind: str,
              value: int):
        return orders.raise_order(self.cases[code], actor=self.cast.inspector,
                                  finding_ids=finding_ids, requirements=requirements,
                                  rule=orders.deadline_rule(kind, value)).id

    def fire(self, order_id: int, trigger: str, actor, comment: str | None = None):
        order = orders.get_order(order_id, actor)
        orders.fire_order(order_id, trigger, actor=actor, version=order.version,
                          comment=comment)

    def submit(self, order_id: int, actor, report: str):
        order = orders.get_order(order_id, actor)
        orders.submit_rectification(order_id, actor=actor, version=order.version,
                                    report=report,
                                    files=[("整改佐证材料.pdf", BytesIO(EVIDENCE_PDF))])

    def complaint(self, received: date, channel: str, category: str, code: str | None,
                  text: str, *, name: str | None = None, phone: str | None = None,
                  staff: str | None = None):
        institution_id = db.session.scalar(
            sa.select(Institution.id).where(Institution.code == code)) if code else None
        return complaints.register_complaint(
            actor=self.cast.coordinator, channel=channel, category=category,
            description=text, institution_id=institution_id, staff_named=staff,
            received_on=received, anonymous=name is None, name=name, phone=phone).id

    def handle(self, complaint_id: int, trigger: str, **kwargs):
        actor = kwargs.pop("actor", self.cast.coordinator)
        complaint = complaints.get_complaint(complaint_id, actor)
        complaints.fire_complaint(complaint_id, trigger, actor=actor,
                                  version=complaint.version, **kwargs)

    def link(self, complaint_id: int, code: str, finding_id: int, staff: str, department: str):
        """The handler ties the complaint to the case, the finding and the staff member."""
        actor = self.cast.inspector
        institution_id = db.session.scalar(
            sa.select(Institution.id).where(Institution.code == code))
        staff_id = db.session.scalar(sa.select(StaffMember.id).where(
            StaffMember.institution_id == institution_id, StaffMember.name == staff))
        complaints.link_complaint(
            complaint_id, complaints.LinkInput(
                institution_id=institution_id, case_id=self.cases[code],
                finding_id=finding_id, staff_id=staff_id,
                new_staff_name=None if staff_id else staff,
                new_staff_department=None if staff_id else department),
            actor=actor, version=complaints.get_complaint(complaint_id, actor).version)

    def report(self, code: str, quarter_end: date, actor):
        report_id = db.session.scalar(sa.select(ProgressReport.id).where(
            ProgressReport.case_id == self.cases[code],
            ProgressReport.period_end == quarter_end))
        if report_id is None:
            return None
        current = reports.get_report(report_id, actor)
        reports.submit_report(
            report_id, actor=actor, version=current.version,
            body="本季度召开专项治理推进会，完成科室自查，对发现的问题逐项整改。",
            fields={"self_inspections": 4, "problems_found": 6, "problems_rectified": 5,
                    "next_steps": "继续落实首问负责制，开展收费专项自查。"})
        return report_id


def tell(story: Story) -> int:
    """The campaign's first months (June–November 2026), told in date order whatever the
    order of the lines below (so each sweep sees exactly what existed on its day).
    Returns the steps told."""
    s, c, d = story, story.cast, date
    r: dict = {}  # what earlier steps returned, by name
    plan: list = []

    def step(day: date, fn, name: str | None = None):
        plan.append((day, len(plan), name, fn))

    def accept(name):
        def run():
            if r.get(name):
                reports.fire_report(r[name], "accept", actor=c.coordinator,
                                    version=reports.get_report(r[name], c.coordinator).version)
        return run

    # Quarterly progress reports: the two hospitals with demo logins report.
    step(d(2026, 6, 29), lambda: s.report("ZW-001", d(2026, 6, 30), c.hospital), "r0")
    step(d(2026, 6, 30), lambda: s.report("ZW-002", d(2026, 6, 30), c.tcm))
    step(d(2026, 7, 3), accept("r0"))
    step(d(2026, 9, 28), lambda: s.report("ZW-001", d(2026, 9, 30), c.hospital))
    step(d(2026, 10, 10), lambda: s.report("ZW-002", d(2026, 9, 30), c.tcm), "r2")
    step(d(2026, 10, 12), accept("r2"))

    # July: the first visit, to the city's big public hospital; two orders.
    step(d(2026, 7, 15), lambda: s.inspect("ZW-001", d(2026, 7, 15), [
        ("service-attitude", "moderate", "门诊导诊台未落实首问负责制，患者咨询被推诿至其他窗口。"),
        ("improper-benefits", "serious", "骨科一名医师收受患者家属“红包”，已退还但未按规定登记上报。"),
        ("irregular-practice", "minor", "部分收费项目未在门诊大厅公示。"),
    ]), "f1")
    step(d(2026, 7, 15), lambda: s.order(
        "ZW-001", r["f1"][:2],
        "落实首问负责制，开展医德医风专题教育；对收受“红包”问题依规处理并报送处理结果。",
        "working_days", 20), "a")
    step(d(2026, 7, 15), lambda: s.order(
        "ZW-001", r["f1"][2:], "在门诊大厅及自助机公示全部收费项目及标准。", "months", 2), "b")
    step(d(2026, 7, 16), lambda: s.fire(r["a"], "acknowledge", c.hospital))
    step(d(2026, 7, 16), lambda: s.fire(r["b"], "acknowledge", c.hospital))
    step(d(2026, 8, 5), lambda: s.submit(
        r["a"], c.hospital, "已开展全院医德医风专题教育3场，涉事医师已作出书面检查并扣发当月绩效。"))
    step(d(2026, 8, 7), lambda: s.fire(r["a"], "verify", c.inspector, "整改材料齐全，现场复核属实。"))
    step(d(2026, 8, 10), lambda: s.submit(r["b"], c.hospital, "已在门诊大厅张贴收费公示。"))
    step(d(2026, 8, 12), lambda: s.fire(r["b"], "return", c.inspector,
                                        "自助机未公示收费标准，请补充。"))
    step(d(2026, 8, 20), lambda: s.submit(r["b"], c.hospital, "已补充自助机公示截图。"))
    step(d(2026, 8, 22), lambda: s.fire(r["b"], "return", c.inspector,
                                        "截图为测试环境，请提供正式环境照片。"))

    # August: the TCM hospital, which asks for more time.
    step(d(2026, 8, 20), lambda: s.inspect("ZW-002", d(2026, 8, 20), [
        ("irregular-practice", "moderate", "中药饮片处方存在超剂量开具情况。"),
        ("disputes-complaints", "minor", "院内投诉台账登记不全，未按月分析。"),
    ]), "f2")
    step(d(2026, 8, 20), lambda: s.order(
        "ZW-002", r["f2"], "开展处方点评，规范中药饮片用量；完善投诉台账并按月分析。",
        "working_days", 20), "c2")
    step(d(2026, 8, 21), lambda: s.fire(r["c2"], "acknowledge", c.tcm))
    step(d(2026, 9, 10), lambda: orders.request_extension(
        r["c2"], actor=c.tcm, reason="处方点评需覆盖近半年处方，工作量大，申请延期一个月。",
        proposed_deadline=d(2026, 10, 20)))

    # September–November: county and private hospitals, a community centre.
    step(d(2026, 9, 10), lambda: s.inspect("ZW-004", d(2026, 9, 10), [
        ("service-attitude", "moderate", "住院部护士站对患者询问态度生硬。"),
        ("irregular-practice", "serious", "存在分解收费、重复收费问题。"),
    ]), "f4")
    step(d(2026, 9, 10), lambda: s.order(
        "ZW-004", r["f4"], "退还重复收取费用，开展收费行为专项自查。", "months", 1), "o4")
    step(d(2026, 9, 25), lambda: s.inspect("ZW-003", d(2026, 9, 25), []))
    step(d(2026, 10, 12), lambda: s.inspect("ZW-008", d(2026, 10, 12), [
        ("improper-benefits", "serious", "违规发布医疗广告，夸大治疗效果。"),
    ]), "f8")
    step(d(2026, 10, 12), lambda: s.order(
        "ZW-008", r["f8"], "立即撤下违规广告，按规定重新报审。", "calendar_days", 30))
    step(d(2026, 11, 10), lambda: s.inspect("ZW-011", d(2026, 11, 10), [
        ("service-attitude", "minor", "预检分诊处无专人值守。"),
    ]), "f11")
    step(d(2026, 11, 10), lambda: s.order(
        "ZW-011", r["f11"], "落实预检分诊专人值守制度。", "working_days", 20))

    # The county hospital ignored its order: summoned to an interview (约谈) from the
    # escalation queue, which supersedes the order with a follow-up one.
    step(d(2026, 11, 18), lambda: oversight.schedule_interview(
        actor=c.coordinator, institution_id=None, reason="整改通知逾期未落实，经升级督办仍未整改。",
        scheduled_for=datetime(2026, 11, 24, 9, 30, tzinfo=clock.zone()),
        location="市卫生健康委三楼会议室", queue_key=f"order_escalated:{r['o4']}"), "interview")
    step(d(2026, 11, 24), lambda: oversight.hold_interview(
        r["interview"].id, actor=c.coordinator, version=r["interview"].version,
        held_on=d(2026, 11, 24), attendees="中宁县人民医院院长、分管副院长、医务科科长",
        minutes="医院主要负责人说明整改滞后原因，承诺十个工作日内完成收费自查并退还多收费用。",
        follow_up=True, requirements="十个工作日内完成收费行为全面自查并退还重复收取的费用，报送整改报告。",
        working_days=10))

    # Complaints and tip-offs through the months.
    step(d(2026, 7, 5), lambda: s.complaint(
        d(2026, 7, 5), "hotline", "service_attitude", "ZW-001",
        "患者反映门诊挂号窗口工作人员态度生硬，拒绝解答问题。", name="演示投诉人甲",
        phone="13800000001"), "k1")
    step(d(2026, 7, 6), lambda: s.handle(r["k1"], "assign", handler_id=c.inspector.id))
    step(d(2026, 7, 8), lambda: s.handle(r["k1"], "investigate", actor=c.inspector))
    step(d(2026, 7, 14), lambda: s.handle(r["k1"], "conclude", actor=c.inspector,
                                          outcome="substantiated",
                                          findings="调取监控属实，已对当事人批评教育。"))
    step(d(2026, 7, 15), lambda: s.handle(r["k1"], "reply", actor=c.inspector,
                                          comment="您反映的问题属实，医院已对当事人进行批评教育并整改。"))
    step(d(2026, 7, 16), lambda: s.handle(r["k1"], "close"))
    step(d(2026, 7, 20), lambda: s.complaint(
        d(2026, 7, 20), "web", "red_envelope", "ZW-001", "家属反映骨科医师术前暗示收取“红包”。",
        name="演示投诉人乙", phone="13800000002", staff="骨科某医师"), "k2")
    step(d(2026, 7, 21), lambda: s.handle(r["k2"], "assign", handler_id=c.inspector.id))
    step(d(2026, 7, 22), lambda: s.handle(r["k2"], "investigate", actor=c.inspector))
    step(d(2026, 7, 29), lambda: s.link(r["k2"], "ZW-001", r["f1"][1], "李明", "骨科"))
    step(d(2026, 7, 30), lambda: s.handle(
        r["k2"], "conclude", actor=c.inspector, outcome="substantiated",
        findings="经核实，该医师收受“红包”2000元，已退还，医院已作出处理。"))
    step(d(2026, 8, 3), lambda: s.complaint(
        d(2026, 8, 3), "sms", "irregular_fees", "ZW-002", "反映住院费用清单中有未做检查的收费项目。"),
        "k3")
    step(d(2026, 8, 4), lambda: s.handle(r["k3"], "transfer", department="medical_insurance",
                                         comment="涉及医保基金使用，转医保局处理。"))
    step(d(2026, 8, 20), lambda: s.handle(r["k3"], "close"))
    step(d(2026, 8, 15), lambda: s.complaint(
        d(2026, 8, 15), "letter", "over_treatment", "ZW-004", "反映医生开具不必要的检查。",
        name="演示投诉人丙", phone="13800000003"), "k4")
    step(d(2026, 8, 17), lambda: s.handle(r["k4"], "assign", handler_id=c.inspector.id))
    step(d(2026, 8, 18), lambda: s.handle(r["k4"], "investigate", actor=c.inspector))
    step(d(2026, 8, 28), lambda: s.handle(r["k4"], "conclude", actor=c.inspector,
                                          outcome="unsubstantiated",
                                          findings="经专家组复核，所开检查符合诊疗规范。"))
    step(d(2026, 8, 29), lambda: s.handle(r["k4"], "reply", actor=c.inspector,
                                          comment="经核查，相关检查符合诊疗规范，感谢您的监督。"))
    step(d(2026, 9, 2), lambda: s.complaint(
        d(2026, 9, 2), "hotline", "service_attitude", "ZW-008", "反映护士对患者呼叫长时间不理睬。",
        name="演示投诉人丁", phone="13800000004"), "k5")
    step(d(2026, 9, 3), lambda: s.handle(r["k5"], "assign", handler_id=c.inspector.id))
    step(d(2026, 9, 4), lambda: s.handle(r["k5"], "investigate", actor=c.inspector))
    step(d(2026, 10, 8), lambda: s.complaint(
        d(2026, 10, 8), "visit", "illegal_advertising", "ZW-009",
        "反映医院在短视频平台发布“包治愈”广告。", name="演示投诉人戊", phone="13800000005"), "k6")
    step(d(2026, 10, 9), lambda: s.handle(r["k6"], "assign", handler_id=c.inspector.id))
    step(d(2026, 11, 2), lambda: s.complaint(
        d(2026, 11, 2), "hotline", "service_attitude", "ZW-001", "反映急诊科医生接诊时态度冷漠。",
        name="演示投诉人己", phone="13800000006"))
    step(d(2026, 11, 18), lambda: s.complaint(
        d(2026, 11, 18), "web", "other", "ZW-020", "反映诊所未悬挂执业许可证。"))
    step(d(2026, 11, 20), lambda: s.complaint(
        d(2026, 11, 20), "hotline", "red_envelope", "ZW-008", "匿名反映该院医师收受医药代表回扣。"))

    for day, _position, name, fn in sorted(plan, key=lambda entry: entry[:2]):
        if day > story.today:
            break
        result = s.on(day, fn)
        if name:
            r[name] = result
    return s.told


def load_live_campaign(today: date | None = None) -> str:
    """Import the live demo campaign (as of its first day) and tell its story up to
    `today`; then the sweeps run for today. Returns a summary line for the CLI."""
    today = today or clock.today()
    definition = live_definition()
    if definition.starts_on > today:
        return f"Campaign {CODE}: starts {definition.starts_on}, nothing to tell yet"
    cast = _cast()
    with clock.replaying(clock.local_time(definition.starts_on, WORK_HOUR)):
        campaign, opened = import_campaign(definition)
    if cast is None:
        return f"Campaign {CODE}: {opened} new case(s); demo users missing, no story"
    told_before = db.session.scalar(sa.select(sa.func.count(Inspection.id))
                                    .join(InspectionCase)
                                    .where(InspectionCase.campaign_id == campaign.id))
    if told_before:
        return f"Campaign {CODE}: story already told"
    story = Story(campaign, cast, today)
    steps = tell(story)
    story.sweep(today)
    return f"Campaign {CODE}: {opened} new case(s), {steps} story step(s) told up to {today}"
