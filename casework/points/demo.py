"""Demo data for staff members and bad-conduct points (called by `flask demo load`).

Idempotent: rules by their code, staff by (institution, name), points by a demo
source_key; running it again adds nothing.
"""

import sqlalchemy as sa

from casework import clock
from casework.extensions import db
from casework.institutions.models import Institution, StaffMember
from casework.points.models import PointsEntry, PointsRule
from workflows import binding

RULES = (
    ("demo-red-envelope", "complaint", "red_envelope", 3, 6,
     "查实收受红包、回扣", "Substantiated red envelope or kickback"),
    ("demo-attitude", "complaint", "service_attitude", 1, 2,
     "查实服务态度生冷硬顶推", "Substantiated poor service attitude"),
    ("demo-fees", "complaint", "irregular_fees", 2, 0,
     "查实不合理收费", "Substantiated irregular fees"),
    ("demo-finding", "finding", None, 1, 0,
     "现场督查发现问题", "Finding of an on-site inspection"),
)
STAFF = (("李明", "外科", "主治医师"), ("王芳", "内科", "副主任医师"), ("张伟", "收费处", None))


def load_points_demo() -> str:
    """Rules, three staff members at the first two institutions, a few manual points."""
    with binding.unit_of_work():
        for code, source, category, inst, staff, description, english in RULES:
            if db.session.scalar(sa.select(PointsRule.id).where(PointsRule.code == code)):
                continue
            db.session.add(PointsRule(code=code, source=source, category=category,
                                      institution_points=inst, staff_points=staff,
                                      description=description, description_en=english))
        institutions = db.session.scalars(
            sa.select(Institution).order_by(Institution.id).limit(2)).all()
        today = clock.today()
        added = 0
        for institution in institutions:
            members = []
            for name, department, title in STAFF:
                member = db.session.scalar(sa.select(StaffMember).where(
                    StaffMember.institution_id == institution.id, StaffMember.name == name))
                if member is None:
                    member = StaffMember(institution_id=institution.id, name=name,
                                         department=department, title=title)
                    db.session.add(member)
                    db.session.flush()
                members.append(member)
            for index, (points, staff, reason) in enumerate(
                    ((2, None, "未按要求公示收费项目"), (3, members[0], "收受患者红包（已查实）"))):
                key = f"demo:{institution.id}:{index}"
                if db.session.scalar(sa.select(PointsEntry.id)
                                     .where(PointsEntry.source_key == key)):
                    continue
                db.session.add(PointsEntry(
                    institution_id=institution.id, staff_id=staff.id if staff else None,
                    year=today.year, awarded_on=today, points=points, reason=reason,
                    source_key=key))
                added += 1
    return f"Points: {len(RULES)} rules, {added} new demo entries"
