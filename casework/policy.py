"""Who may see or do what, where: the one door for every permission check.

One function per action, named noun_verb and returning bool. `check()` raises
NotPermitted; `visible_*()` limit list queries to the actor's jurisdiction. Policy
answers *who* and *where*; the workflow guards answer *when*. `admin` has no casework
powers. The scheduler acts as SYSTEM.
"""

import inspect
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from casework.errors import NotPermitted

REGION_ROLES = ("coordinator", "inspector", "viewer")


@dataclass(frozen=True)
class SystemActor:
    """The scheduler and CLI jobs: no user row, role "system"."""

    id: None = None
    role: str = "system"
    username: str = "system"
    is_authenticated: bool = True


SYSTEM = SystemActor()


def _role(user) -> str | None:
    return getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None


# --- jurisdiction ---------------------------------------------------------------

def in_jurisdiction(user, institution) -> bool:
    """True when `institution` lies in the user's region subtree or is the user's own."""
    role = _role(user)
    if role == "institution":
        return institution.id == user.institution_id
    if role in REGION_ROLES and user.region is not None:
        return institution.region.path.startswith(user.region.path)
    return False


def _regions_overlap(user, region) -> bool:
    # A district officer works city-wide campaigns too, and a city officer sees the
    # district campaigns below the city.
    mine = user.region.path
    return region.path.startswith(mine) or mine.startswith(region.path)


# --- campaigns ------------------------------------------------------------------

def campaign_view(user, campaign) -> bool:
    role = _role(user)
    if role == "admin":
        return True
    if role in REGION_ROLES:
        return _regions_overlap(user, campaign.region)
    if role == "institution":
        from casework.cases.models import InspectionCase
        from casework.extensions import db

        return db.session.scalar(sa.select(sa.exists().where(
            InspectionCase.campaign_id == campaign.id,
            InspectionCase.institution_id == user.institution_id,
        )))
    return False


# --- cases ----------------------------------------------------------------------

def case_list(user, _obj=None) -> bool:
    """Open the case list (scoped by visible_institutions): officers, viewers and
    institutions."""
    return _role(user) in (*REGION_ROLES, "institution")


def case_view(user, case) -> bool:
    return _role(user) in (*REGION_ROLES, "institution") and in_jurisdiction(user, case.institution)


def _coordinator_here(user, case) -> bool:
    return _role(user) == "coordinator" and in_jurisdiction(user, case.institution)


def case_start_rectification(user, case) -> bool:
    return user is SYSTEM or _coordinator_here(user, case)


def case_designate_tackling(user, case) -> bool:
    return _coordinator_here(user, case)


def case_release_tackling(user, case) -> bool:
    return _coordinator_here(user, case)


def case_start_consolidation(user, case) -> bool:
    return user is SYSTEM or _coordinator_here(user, case)


def case_close(user, case) -> bool:
    return _coordinator_here(user, case)


def case_reopen(user, case) -> bool:
    return _coordinator_here(user, case)


# --- inspections and findings ---------------------------------------------------

def _officer_here(user, case) -> bool:
    """An inspector or coordinator whose jurisdiction holds the case's institution."""
    return _role(user) in ("inspector", "coordinator") and in_jurisdiction(user, case.institution)


def inspection_view(user, inspection) -> bool:
    return case_view(user, inspection.case)


def inspection_start(user, case) -> bool:
    return _officer_here(user, case)


def inspection_edit(user, inspection) -> bool:
    """Record and edit findings, finalise: the officers of the case."""
    return _officer_here(user, inspection.case)


def finding_amend(user, finding) -> bool:
    return _officer_here(user, finding.inspection.case)


# --- rectification orders -------------------------------------------------------

def order_list(user, _obj=None) -> bool:
    """Open the order list (an institution's to-do list), scoped by visible_institutions."""
    return _role(user) in (*REGION_ROLES, "institution")


def order_view(user, order) -> bool:
    return case_view(user, order.case)


def order_raise(user, case) -> bool:
    return _officer_here(user, case)


def _own_institution(user, order) -> bool:
    return _role(user) == "institution" and order.case.institution_id == user.institution_id


def order_acknowledge(user, order) -> bool:
    return _own_institution(user, order)


def order_submit(user, order) -> bool:
    return _own_institution(user, order)


def order_request_extension(user, order) -> bool:
    return _own_institution(user, order)


def order_verify(user, order) -> bool:
    return _officer_here(user, order.case)


def order_return(user, order) -> bool:
    return _officer_here(user, order.case)


def order_mark_overdue(user, order) -> bool:
    return user is SYSTEM


def order_escalate(user, order) -> bool:
    return user is SYSTEM or _coordinator_here(user, order.case)


def order_extend(user, order) -> bool:
    return _coordinator_here(user, order.case)


def order_cancel(user, order) -> bool:
    return _coordinator_here(user, order.case)


# Extension requests (the extension machine): decided by whoever may extend the order.

def extension_approve(user, extension) -> bool:
    return order_extend(user, extension.order)


def extension_decline(user, extension) -> bool:
    return order_extend(user, extension.order)


def attachment_view(user, attachment) -> bool:
    """Evidence and photos: whoever may see the finding, order or report they belong to."""
    if attachment.finding_id is not None:
        from casework.extensions import db
        from casework.inspections.models import Finding

        finding = db.session.get(Finding, attachment.finding_id)
        return inspection_view(user, finding.inspection)
    if attachment.report_id is not None:
        from casework.extensions import db
        from casework.reports.models import ProgressReport

        return report_view(user, db.session.get(ProgressReport, attachment.report_id))
    from casework.extensions import db
    from casework.orders.models import Submission

    submission = db.session.get(Submission, attachment.submission_id)
    return order_view(user, submission.order)


# --- progress reports and bulletins --------------------------------------------

def report_list(user, _obj=None) -> bool:
    """Open the progress-report list (scoped by visible_institutions): officers (the
    inspectors read the reports of their cases), viewers and institutions."""
    return _role(user) in (*REGION_ROLES, "institution")


def report_view(user, report) -> bool:
    return case_view(user, report.case)


def report_submit(user, report) -> bool:
    return _role(user) == "institution" and report.case.institution_id == user.institution_id


def report_accept(user, report) -> bool:
    return _coordinator_here(user, report.case)


def report_return(user, report) -> bool:
    return _coordinator_here(user, report.case)


def report_mark_overdue(user, report) -> bool:
    return user is SYSTEM


def bulletin_view(user, bulletin) -> bool:
    """Drafts: the coordinators and viewers of the campaign; published: its institutions too."""
    role = _role(user)
    if role in ("coordinator", "viewer"):
        return _regions_overlap(user, bulletin.campaign.region)
    if role == "institution" and bulletin.state == "published":
        return campaign_view(user, bulletin.campaign)
    return False


def bulletin_list(user, _obj=None) -> bool:
    """Open the bulletin list (scoped by visible_bulletins): coordinators, viewers and
    institutions (the published bulletins of their campaigns)."""
    return _role(user) in ("coordinator", "viewer", "institution")


def bulletin_publish(user, bulletin) -> bool:
    return _role(user) == "coordinator" and _regions_overlap(user, bulletin.campaign.region)


# --- complaints -------------------------------------------------------------------

# A complaint about no institution (a public one naming it only in words) is for the
# city (or province) level until someone takes it on.
TOP_LEVELS = ("province", "city")


def _complaint_in_reach(user, complaint) -> bool:
    if complaint.institution_id is not None:
        return in_jurisdiction(user, complaint.institution)
    return user.region is not None and user.region.level in TOP_LEVELS


def _complaint_coordinator(user, complaint) -> bool:
    return _role(user) == "coordinator" and _complaint_in_reach(user, complaint)


def _complaint_handler(user, complaint) -> bool:
    return (_role(user) in ("inspector", "coordinator") and complaint.handler_id is not None
            and complaint.handler_id == user.id)


def complaint_view(user, complaint) -> bool:
    """Officers and viewers whose jurisdiction holds the complaint, and its handler.
    Institutions never see complaints, not even those about themselves."""
    if _role(user) not in REGION_ROLES:
        return False
    return _complaint_in_reach(user, complaint) or _complaint_handler(user, complaint)


def complaint_list(user, _obj=None) -> bool:
    """Open the complaint list (scoped by visible_complaints): officers and viewers; an
    institution learns of complaints through the orders they lead to."""
    return _role(user) in REGION_ROLES and user.region is not None


def complaint_register(user, institution=None) -> bool:
    """Register a complaint received by hotline, SMS, letter or visit (`institution` the
    one complained about, or None)."""
    if _role(user) not in ("coordinator", "inspector") or user.region is None:
        return False
    if institution is None:
        return user.region.level in TOP_LEVELS
    return in_jurisdiction(user, institution)


def complaint_assign(user, complaint) -> bool:
    return _complaint_coordinator(user, complaint)


def complaint_investigate(user, complaint) -> bool:
    return _complaint_handler(user, complaint) or _complaint_coordinator(user, complaint)


def complaint_conclude(user, complaint) -> bool:
    return _complaint_handler(user, complaint) or _complaint_coordinator(user, complaint)


def complaint_reply(user, complaint) -> bool:
    return _complaint_handler(user, complaint) or _complaint_coordinator(user, complaint)


def complaint_close(user, complaint) -> bool:
    return _complaint_coordinator(user, complaint)


def complaint_transfer(user, complaint) -> bool:
    return _complaint_coordinator(user, complaint)


def complaint_personal_data_view(user, complaint) -> bool:
    """The complainant's name, phone and ID number: the coordinators in reach and the
    assigned handler; everyone else sees them masked."""
    return _complaint_coordinator(user, complaint) or _complaint_handler(user, complaint)


def complaint_link(user, complaint) -> bool:
    """Link the complaint to an institution, case, finding and staff member: the
    coordinators in reach and the handler."""
    return _complaint_coordinator(user, complaint) or _complaint_handler(user, complaint)


def complaint_export(user, _obj=None) -> bool:
    """Download the complaint list (complainant details masked): whoever sees the list."""
    return _role(user) in REGION_ROLES and user.region is not None


def complaint_export_personal_data(user, _obj=None) -> bool:
    """Tick "include complainant details" on the export: coordinators (each complaint is
    then decrypted only where complaint_personal_data_view allows it)."""
    return _role(user) == "coordinator" and user.region is not None


def complaint_handler_eligible(user, complaint) -> bool:
    """Whether `user` can be made the complaint's handler."""
    return (getattr(user, "active", False) and getattr(user, "role", None)
            in ("inspector", "coordinator") and _complaint_in_reach(user, complaint))


# --- the scheduler --------------------------------------------------------------

def jobs_view(user, _obj=None) -> bool:
    return _role(user) in ("admin", "coordinator")


# --- administration -------------------------------------------------------------

def users_manage(user, _obj=None) -> bool:
    return _role(user) == "admin"


def workdays_manage(user, obj=None) -> bool:
    """Enter or replace a year's holiday arrangement: admins."""
    return _role(user) == "admin"


def workdays_view(user, obj=None) -> bool:
    """The working-day calendar pages: admins (kept apart from manage so that reading
    can be widened without giving the entry form away)."""
    return _role(user) == "admin"


def settings_update(user, _obj=None) -> bool:
    return _role(user) == "admin"


# --- medical disputes (issue 5) -------------------------------------------------

# A hospital reports its own disputes (医疗纠纷预防和处理条例: the institution registers
# and reports them) and keeps their route and outcome up to date; the commission's
# officers do the same for the institutions of their jurisdiction; viewers read.

def dispute_view(user, dispute) -> bool:
    return (_role(user) in (*REGION_ROLES, "institution")
            and in_jurisdiction(user, dispute.institution))


def dispute_register(user, institution=None) -> bool:
    """Register a dispute of `institution` (None: of some institution at all)."""
    role = _role(user)
    if role == "institution":
        return institution is None or institution.id == user.institution_id
    if role in ("coordinator", "inspector") and user.region is not None:
        return institution is None or in_jurisdiction(user, institution)
    return False


def dispute_update(user, dispute) -> bool:
    """Change the route, status, amount or case link of a dispute."""
    return (_role(user) in ("coordinator", "inspector", "institution")
            and in_jurisdiction(user, dispute.institution))


def dispute_list(user, _obj=None) -> bool:
    """Open the register (scoped by visible_disputes)."""
    return _role(user) in (*REGION_ROLES, "institution")


def dispute_export(user, _obj=None) -> bool:
    """Download the dispute list (of what the user may see) as a spreadsheet."""
    return _role(user) in (*REGION_ROLES, "institution")


def bulletin_recompute(user, bulletin) -> bool:
    """Recompute a draft bulletin's figures (complaints registered late change them)."""
    return bulletin_publish(user, bulletin)


def visible_disputes(query, user, dispute_entity):
    """Limit a dispute query to those of the user's institution or jurisdiction."""
    from casework.institutions.models import Institution, Region

    role = _role(user)
    if role == "institution":
        return query.where(dispute_entity.institution_id == user.institution_id)
    if role in REGION_ROLES and user.region is not None:
        institution, region = aliased(Institution), aliased(Region)
        return query.where(dispute_entity.institution_id.in_(
            sa.select(institution.id).join(region, region.id == institution.region_id)
            .where(region.path.startswith(user.region.path, autoescape=True))))
    return query.where(sa.false())



# --- staff members and bad-conduct points (issue 5) -----------------------------

def staff_view(user, institution) -> bool:
    """An institution's staff register: the officers and viewers whose jurisdiction holds
    it, and the institution's own users (read-only)."""
    return (_role(user) in (*REGION_ROLES, "institution")
            and in_jurisdiction(user, institution))


def staff_manage(user, institution) -> bool:
    """Add and edit an institution's staff members: coordinators and inspectors in
    jurisdiction."""
    return (_role(user) in ("coordinator", "inspector")
            and in_jurisdiction(user, institution))


def points_view(user, institution) -> bool:
    """An institution's points ledger: officers and viewers in jurisdiction, and the
    institution's own users (read-only)."""
    return (_role(user) in (*REGION_ROLES, "institution")
            and in_jurisdiction(user, institution))


def points_overview(user, _obj=None) -> bool:
    """The list of institutions with their points: officers and viewers."""
    return _role(user) in REGION_ROLES and user.region is not None


def points_list(user, _obj=None) -> bool:
    """The points menu entry: the overview for officers and viewers, an institution's
    own ledger for its users."""
    return points_overview(user) or _role(user) == "institution"


def points_award(user, institution) -> bool:
    """Award points by hand (to the institution or one of its staff): coordinators in
    jurisdiction."""
    return _role(user) == "coordinator" and in_jurisdiction(user, institution)


def points_reverse(user, entry) -> bool:
    """Reverse a ledger entry: coordinators in jurisdiction of its institution."""
    return _role(user) == "coordinator" and in_jurisdiction(user, entry.institution)


def points_rules_view(user, _obj=None) -> bool:
    return _role(user) in REGION_ROLES and user.region is not None


def points_rules_manage(user, _obj=None) -> bool:
    """The points rules hold for the whole city: its (top-level) coordinators set them."""
    return (_role(user) == "coordinator" and user.region is not None
            and user.region.level in TOP_LEVELS)




# --- escalation queue, interviews, accountability, veto (issue 6) ---------------

# Coordinators of the region act; viewers of the region read; nobody else sees the queue
# (inspectors work orders, institutions their to-do list). An institution sees its own
# interviews (it is summoned to them), never the queue, accountability or veto records,
# which are the commission's internal decisions.

def _queue_reach(user, item) -> bool:
    return user.region is not None and item.region_path.startswith(user.region.path)


def queue_view(user, _obj=None) -> bool:
    return _role(user) in ("coordinator", "viewer") and user.region is not None


def queue_claim(user, item=None) -> bool:
    """Claim, assign or unassign a queue item: the coordinators whose region holds it.
    Without an item: whether the user claims on their queue at all (the page's controls)."""
    if item is None:
        return _role(user) == "coordinator" and user.region is not None
    return _role(user) == "coordinator" and _queue_reach(user, item)


def queue_assignee_eligible(user, item) -> bool:
    """Whether `user` can own the item: an active coordinator whose region holds it."""
    return (getattr(user, "active", False) and getattr(user, "role", None) == "coordinator"
            and _queue_reach(user, item))


def oversight_view(user, institution) -> bool:
    """An institution's oversight page: accountability, veto flags (and its interviews)."""
    return _role(user) in ("coordinator", "viewer") and in_jurisdiction(user, institution)


def interview_view(user, interview) -> bool:
    return (_role(user) in ("coordinator", "viewer", "institution")
            and in_jurisdiction(user, interview.institution))


def interview_schedule(user, institution) -> bool:
    return _role(user) == "coordinator" and in_jurisdiction(user, institution)


def interview_hold(user, interview) -> bool:
    return _role(user) == "coordinator" and in_jurisdiction(user, interview.institution)


def interview_cancel(user, interview) -> bool:
    return _role(user) == "coordinator" and in_jurisdiction(user, interview.institution)


def accountability_record(user, institution) -> bool:
    return _role(user) == "coordinator" and in_jurisdiction(user, institution)


def veto_set(user, institution) -> bool:
    return _role(user) == "coordinator" and in_jurisdiction(user, institution)


def veto_revoke(user, flag) -> bool:
    return _role(user) == "coordinator" and in_jurisdiction(user, flag.institution)




# --- dashboards and campaign reports (issue 6) ----------------------------------

def campaign_report_view(user, campaign) -> bool:
    """The campaign report (figures, XLSX, print): coordinators and viewers whose region
    overlaps the campaign's; the figures are limited to their own jurisdiction."""
    return (_role(user) in ("coordinator", "viewer") and user.region is not None
            and _regions_overlap(user, campaign.region))


def dashboard_charts_view(user, campaign) -> bool:
    """The charts on the dashboard for one campaign: officers and viewers (their region)
    and institutions (their own figures); admins have no casework charts."""
    role = _role(user)
    if role in REGION_ROLES:
        return user.region is not None and campaign_view(user, campaign)
    return role == "institution" and campaign_view(user, campaign)


def case_mobilisation_file(user, case) -> bool:
    """File or edit the case's mobilisation record: the institution's own users."""
    return _role(user) == "institution" and case.institution_id == user.institution_id




# --- the door -------------------------------------------------------------------

# Public functions of this module that are not actions: never answer allows().
_NOT_ACTIONS = frozenset({"in_jurisdiction", "allows", "check"})


def allows(action: str, user, obj=None) -> bool:
    """Whether `user` may do `action` on `obj`; an action without a policy is denied."""
    rule = globals().get(action)
    # Only this module's own rule functions: not helpers, imports or classes
    # (`allows("SystemActor", ...)` must not be truthy).
    if (not isinstance(action, str) or action.startswith(("_", "visible_"))
            or action in _NOT_ACTIONS or not inspect.isfunction(rule)
            or rule.__module__ != __name__):
        return False
    return bool(rule(user, obj))


def check(action: str, user, obj=None) -> None:
    """Raise NotPermitted unless `user` may do `action` on `obj`."""
    if not allows(action, user, obj):
        raise NotPermitted()


def visible_institutions(query, user, institution_entity):
    """Limit a query that already includes `institution_entity` to the user's scope."""
    from casework.institutions.models import Region

    role = _role(user)
    if role == "institution":
        return query.where(institution_entity.id == user.institution_id)
    if role in REGION_ROLES and user.region is not None:
        return query.join(Region, Region.id == institution_entity.region_id).where(
            Region.path.startswith(user.region.path, autoescape=True)
        )
    return query.where(sa.false())


def visible_complaints(query, user, complaint_entity):
    """Limit a complaint query to those the user may see (see complaint_view)."""
    from casework.institutions.models import Institution, Region

    role = _role(user)
    if role not in REGION_ROLES or user.region is None:
        return query.where(sa.false())
    institution, region = aliased(Institution), aliased(Region)
    reach = sa.and_(complaint_entity.institution_id.is_not(None),
                    complaint_entity.institution_id.in_(
                        sa.select(institution.id).join(region, region.id == institution.region_id)
                        .where(region.path.startswith(user.region.path, autoescape=True))))
    if user.region.level in TOP_LEVELS:
        reach = sa.or_(reach, complaint_entity.institution_id.is_(None))
    if role in ("inspector", "coordinator"):
        reach = sa.or_(reach, complaint_entity.handler_id == user.id)
    return query.where(reach)


def visible_bulletins(query, user, bulletin_entity, campaign_entity):
    """Limit a bulletin query (joined with its campaign) to those the user may see (see
    bulletin_view): coordinators and viewers those of the campaigns of their region,
    institutions the published ones of their own campaigns."""
    role = _role(user)
    if role in ("coordinator", "viewer"):
        return visible_campaigns(query, user, campaign_entity)
    if role == "institution":
        return visible_campaigns(query, user, campaign_entity).where(
            bulletin_entity.state == "published")
    return query.where(sa.false())


def visible_campaigns(query, user, campaign_entity):
    from casework.cases.models import InspectionCase
    from casework.institutions.models import Region

    role = _role(user)
    if role == "admin":
        return query
    if role in REGION_ROLES and user.region is not None:
        region = aliased(Region)
        mine = user.region.path
        return query.join(region, region.id == campaign_entity.region_id).where(
            sa.or_(region.path.startswith(mine, autoescape=True),
                   sa.literal(mine).startswith(region.path))
        )
    if role == "institution":
        return query.where(
            campaign_entity.id.in_(
                sa.select(InspectionCase.campaign_id).where(
                    InspectionCase.institution_id == user.institution_id
                )
            )
        )
    return query.where(sa.false())
