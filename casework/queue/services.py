"""The escalation queue (督办队列): everything that needs a coordinator, in one list.

Items are computed from their sources on every call, never stored, so an item leaves
the queue the moment its cause is gone (the order verified, the report accepted, the
case released...). Only who works an item is stored (QueueClaim, by item key).

The database computes the queue: one SELECT per kind (its source joined with the
institution and its region, filtered by the actor's region subtree and the filters),
all with the same columns, in a UNION ALL; left-joined to the claims for the owner;
filtered by owner, sorted and paged in SQL; counted by a COUNT over the same union.
A page is two statements (count and rows) whatever the number of items; the badge one;
an item by key one, restricted to the key's source rows.
"""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from casework import clock, policy
from casework.bulletins.models import Bulletin
from casework.campaigns.models import Campaign, CampaignPhase
from casework.cases.models import InspectionCase, MobilisationRecord
from casework.dbtypes import add_days, local_date
from casework.errors import Invalid, NotFound, NotPermitted, StaleObject
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.institutions.models import Institution, Region
from casework.orders.models import ExtensionRequest, RectificationOrder
from casework.oversight.models import AccountabilityRecord, Interview
from casework.pagination import Page, capped_count
from casework.points.thresholds import over_threshold_subquery
from casework.queue.models import QUEUE_KINDS, QueueClaim
from casework.reports.models import ProgressReport
from casework.users.models import User
from workflows import binding, registry
from workflows import case as case_workflow
from workflows import extension as extension_workflow
from workflows import order as order_workflow

ORDER_KINDS = ("order_escalated", "order_overdue", "order_returned_twice")
CASE_KINDS = ("case_tackling", "case_blocked", "case_no_mobilisation_record")
INSTITUTION_KINDS = ("institution_points", "institution_complaints")
SORTS = ("age", "kind", "institution")
OWNERS = ("mine", "unassigned", "anyone")
# The phases whose start ends concentrated rectification (see campaigns/phases.py).
CONSOLIDATION_KINDS = ("consolidation", "evaluation")
# An interview in this state answers the institution item it is linked to.
INTERVIEW_HELD = registry.destination("interview", "hold")


@dataclass
class QueueItem:
    key: str
    kind: str
    since: date
    institution_id: int
    institution_name: str
    institution_name_en: str | None
    region_id: int
    region_path: str
    region_name: str
    campaign_id: int | None = None
    campaign_title: str | None = None
    reason: str = ""
    # Where the item's object is: (endpoint, url arguments).
    link: tuple[str, dict] = ("dashboard.index", {})
    label: str = ""                 # the object's name: order number, case, report period
    order_id: int | None = None
    order_state: str | None = None
    order_version: int | None = None
    extension_id: int | None = None     # a pending extension request of the order
    case_id: int | None = None
    case_state: str | None = None
    case_version: int | None = None
    owner: User | None = None
    today: date = field(default_factory=clock.today)

    @property
    def age(self) -> int:
        return max(0, (self.today - self.since).days)

    @property
    def name(self) -> str:
        return self.institution_name

    @property
    def institution_item(self) -> bool:
        return self.kind in INSTITUTION_KINDS


@dataclass(frozen=True)
class QueueFilters:
    kind: str | None = None
    region_id: int | None = None
    institution_id: int | None = None
    owner: str = "anyone"
    campaign_id: int | None = None
    sort: str = "age"


# --- the source states, from the machines' definitions ------------------------------------

ORDER_ESCALATED = registry.destination("order", "escalate")
ORDER_OVERDUE = registry.destination("order", "mark_overdue")
ORDER_RETURNED = registry.destination("order", "return")
REPORT_OVERDUE = registry.destination("report", "mark_overdue")
CASE_TACKLING = registry.destination("case", "designate_tackling")
# A case still here once consolidation began: the scheduler's start_consolidation refused.
CASE_BLOCKED_STATES = registry.sources("case", "start_consolidation")


def _last_event(object_type: str, triggers, object_ids):
    """When each object of the SELECT `object_ids` last had one of `triggers`: a grouped
    subquery (object_id, at), read from ix_history_event_trigger_at alone."""
    return (sa.select(HistoryEvent.object_id, sa.func.max(HistoryEvent.at).label("at"))
            .where(HistoryEvent.object_type == object_type,
                   HistoryEvent.trigger.in_(triggers), HistoryEvent.object_id.in_(object_ids))
            .group_by(HistoryEvent.object_id).subquery())


def _pending_extensions(order_ids):
    """The pending extension request of each order of the SELECT `order_ids`."""
    return (sa.select(ExtensionRequest.order_id, sa.func.min(ExtensionRequest.id).label("id"))
            .where(ExtensionRequest.status.in_(extension_workflow.OPEN_STATES),
                   ExtensionRequest.order_id.in_(order_ids))
            .group_by(ExtensionRequest.order_id).subquery())


# --- one SELECT per kind, all with these columns -------------------------------------------

COLUMNS = {
    "key": sa.String, "kind": sa.String, "kind_order": sa.Integer, "since": sa.Date,
    "institution_id": sa.Integer, "institution_name": sa.String,
    "institution_name_en": sa.String, "region_id": sa.Integer, "region_path": sa.String,
    "region_name": sa.String, "campaign_id": sa.Integer, "campaign_title": sa.String,
    "label": sa.String, "order_id": sa.Integer, "case_id": sa.Integer,
    "report_id": sa.Integer, "bulletin_id": sa.Integer, "order_state": sa.String,
    "order_version": sa.Integer, "case_state": sa.String, "case_version": sa.Integer,
    "extension_id": sa.Integer,
    # The reason's parameters: a date (deadline, due date, phase start or end), a period,
    # two counts and two thresholds.
    "day": sa.Date, "period_start": sa.Date, "period_end": sa.Date,
    "count_a": sa.Integer, "count_b": sa.Integer, "limit_a": sa.Integer,
    "limit_b": sa.Integer,
}
_KIND_ORDER = {k: n for n, k in enumerate(QUEUE_KINDS)}


def _key(kind: str, *parts):
    """The item key in SQL: "kind:part[:part]"."""
    key = sa.cast(sa.literal(f"{kind}:"), sa.String)
    for n, part in enumerate(parts):
        key = (key + ":" if n else key) + sa.cast(part, sa.String)
    return key


def _select(kind: str, key, since, **values):
    """A kind's SELECT with every queue column in order (typed NULL where it has none)."""
    values = {"key": key, "since": since, **values,
              "kind": sa.cast(sa.literal(kind), sa.String),
              "kind_order": sa.cast(sa.literal(_KIND_ORDER[kind]), sa.Integer)}
    place = {"institution_id": Institution.id, "institution_name": Institution.name,
             "institution_name_en": Institution.name_en, "region_id": Region.id,
             "region_path": Region.path, "region_name": Region.name}
    columns = []
    for name, type_ in COLUMNS.items():
        value = values.get(name, place.get(name))
        value = sa.cast(sa.null(), type_) if value is None else sa.type_coerce(value, type_)
        columns.append(value.label(name))
    return sa.select(*columns)


class _Scope:
    """The region subtree, filters and keys every kind's SELECT is limited to."""

    def __init__(self, actor, filters: QueueFilters, keys=None):
        if not policy.allows("queue_view", actor):
            raise NotPermitted()
        self.path = actor.region.path
        if filters.region_id:
            region = db.session.get(Region, filters.region_id)
            # A region outside the actor's subtree narrows to nothing.
            self.path = (region.path if region is not None
                         and region.path.startswith(actor.region.path) else "/none/")
        self.filters = filters
        self.today = clock.today()
        self.zone = clock.zone().key
        # {kind: [source ids]} when only some items are wanted (by key), else None.
        self.ids = None
        if keys is not None:
            self.ids = {}
            for key in keys:
                kind, source_id = _parse_key(key)
                self.ids.setdefault(kind, []).append(source_id)

    def kinds(self) -> tuple[str, ...]:
        kinds = (self.filters.kind,) if self.filters.kind else QUEUE_KINDS
        if self.ids is not None:
            kinds = tuple(k for k in kinds if k in self.ids)
        if self.filters.campaign_id:        # points items belong to no campaign
            kinds = tuple(k for k in kinds if k != "institution_points")
        return kinds

    def apply(self, query, kind, source_id, campaign_id=None):
        query = (query.join(Region, Region.id == Institution.region_id)
                 .where(Region.path.startswith(self.path, autoescape=True)))
        if self.filters.institution_id:
            query = query.where(Institution.id == self.filters.institution_id)
        if self.filters.campaign_id and campaign_id is not None:
            query = query.where(campaign_id == self.filters.campaign_id)
        if self.ids is not None:
            query = query.where(source_id.in_(self.ids[kind]))
        return query

    def local(self, at):
        """The local date of a UTC timestamp column."""
        return local_date(at, self.zone)


def _parse_key(key: str) -> tuple[str, int]:
    """A key's kind and the id of its source row (order, report, case, institution,
    bulletin); NotFound when it is no queue key."""
    kind, _sep, rest = (key or "").partition(":")
    head = rest.split(":", 1)[0]
    if kind not in QUEUE_KINDS or not head.isdigit() or len(head) > 18:
        raise NotFound()
    return kind, int(head)


def _order_selects(scope: _Scope, kinds) -> list:
    selects = []
    open_ids = sa.select(RectificationOrder.id).where(
        RectificationOrder.state.in_(order_workflow.OPEN_STATES))
    pending = _pending_extensions(open_ids)

    def order_select(kind, key, since, states, *joins, **values):
        query = _select(
            kind, key, since, campaign_id=Campaign.id, campaign_title=Campaign.title,
            label=RectificationOrder.number, order_id=RectificationOrder.id,
            order_state=RectificationOrder.state, order_version=RectificationOrder.version,
            # The order's case too: a coordinator may designate it for tackling from here.
            case_id=InspectionCase.id, case_state=InspectionCase.state,
            case_version=InspectionCase.version, extension_id=pending.c.id,
            day=RectificationOrder.deadline, **values,
        ).select_from(RectificationOrder)
        for target, on, outer in joins:
            query = query.join(target, on, isouter=outer)
        query = (query.join(InspectionCase, InspectionCase.id == RectificationOrder.case_id)
                 .join(Campaign, Campaign.id == InspectionCase.campaign_id)
                 .join(Institution, Institution.id == InspectionCase.institution_id)
                 .outerjoin(pending, pending.c.order_id == RectificationOrder.id)
                 .where(RectificationOrder.state.in_(states)))
        return scope.apply(query, kind, RectificationOrder.id, InspectionCase.campaign_id)

    if "order_escalated" in kinds:
        escalated = _last_event("order", registry.triggers_into("order", ORDER_ESCALATED),
                                sa.select(RectificationOrder.id)
                                .where(RectificationOrder.state == ORDER_ESCALATED))
        selects.append(order_select(
            "order_escalated", _key("order_escalated", RectificationOrder.id),
            sa.func.coalesce(scope.local(escalated.c.at), RectificationOrder.deadline),
            (ORDER_ESCALATED,),
            (escalated, escalated.c.object_id == RectificationOrder.id, True)))
    if "order_overdue" in kinds:
        selects.append(order_select(
            "order_overdue", _key("order_overdue", RectificationOrder.id),
            add_days(RectificationOrder.deadline, 1), (ORDER_OVERDUE,)))
    if "order_returned_twice" in kinds:
        returns = (sa.select(HistoryEvent.object_id, sa.func.count().label("n"),
                             sa.func.max(HistoryEvent.at).label("at"))
                   .where(HistoryEvent.object_type == "order",
                          HistoryEvent.trigger.in_(
                              registry.triggers_into("order", ORDER_RETURNED)),
                          HistoryEvent.object_id.in_(open_ids))
                   .group_by(HistoryEvent.object_id).having(sa.func.count() >= 2).subquery())
        selects.append(order_select(
            "order_returned_twice", _key("order_returned_twice", RectificationOrder.id),
            scope.local(returns.c.at), order_workflow.OPEN_STATES,
            (returns, returns.c.object_id == RectificationOrder.id, False),
            count_a=returns.c.n))
    return selects


def _report_selects(scope: _Scope) -> list:
    query = _select(
        "report_overdue", _key("report_overdue", ProgressReport.id),
        add_days(ProgressReport.due_on, 1), campaign_id=Campaign.id,
        campaign_title=Campaign.title, case_id=InspectionCase.id, report_id=ProgressReport.id,
        day=ProgressReport.due_on, period_start=ProgressReport.period_start,
        period_end=ProgressReport.period_end,
    ).select_from(ProgressReport).join(
        InspectionCase, InspectionCase.id == ProgressReport.case_id).join(
        Campaign, Campaign.id == InspectionCase.campaign_id).join(
        Institution, Institution.id == InspectionCase.institution_id).where(
        ProgressReport.state == REPORT_OVERDUE)
    return [scope.apply(query, "report_overdue", ProgressReport.id, InspectionCase.campaign_id)]


def _case_selects(scope: _Scope, kinds) -> list:
    selects = []

    def case_select(kind, since, join, *where, **values):
        query = _select(kind, _key(kind, InspectionCase.id), since, campaign_id=Campaign.id,
                        campaign_title=Campaign.title, case_id=InspectionCase.id,
                        case_state=InspectionCase.state, case_version=InspectionCase.version,
                        **values).select_from(InspectionCase)
        if join is not None:
            query = query.join(join[0], join[1], isouter=join[2])
        query = (query.join(Campaign, Campaign.id == InspectionCase.campaign_id)
                 .join(Institution, Institution.id == InspectionCase.institution_id)
                 .where(*where))
        return scope.apply(query, kind, InspectionCase.id, InspectionCase.campaign_id)

    if "case_tackling" in kinds:
        designated = _last_event("case", registry.triggers_into("case", CASE_TACKLING),
                                 sa.select(InspectionCase.id)
                                 .where(InspectionCase.state == CASE_TACKLING))
        selects.append(case_select(
            "case_tackling", sa.func.coalesce(scope.local(designated.c.at),
                                              scope.local(InspectionCase.opened_at)),
            (designated, designated.c.object_id == InspectionCase.id, True),
            InspectionCase.state == CASE_TACKLING))
    if "case_blocked" in kinds:
        starts = (sa.select(CampaignPhase.campaign_id,
                            sa.func.min(CampaignPhase.starts_on).label("starts_on"))
                  .where(CampaignPhase.kind.in_(CONSOLIDATION_KINDS))
                  .group_by(CampaignPhase.campaign_id).subquery())
        selects.append(case_select(
            "case_blocked", starts.c.starts_on,
            (starts, starts.c.campaign_id == InspectionCase.campaign_id, False),
            InspectionCase.state.in_(CASE_BLOCKED_STATES), starts.c.starts_on <= scope.today,
            day=starts.c.starts_on))
    if "case_no_mobilisation_record" in kinds:
        ends = (sa.select(CampaignPhase.campaign_id,
                          sa.func.max(CampaignPhase.ends_on).label("ends_on"))
                .where(CampaignPhase.kind == "mobilisation")
                .group_by(CampaignPhase.campaign_id).subquery())
        selects.append(case_select(
            "case_no_mobilisation_record", add_days(ends.c.ends_on, 1),
            (ends, ends.c.campaign_id == InspectionCase.campaign_id, False),
            ends.c.ends_on < scope.today,
            ~sa.exists().where(MobilisationRecord.case_id == InspectionCase.id),
            InspectionCase.state.in_(case_workflow.ACTIVE_STATES),
            # Once the campaign is over a missing mobilisation record is history, not work.
            Campaign.ends_on >= scope.today, day=ends.c.ends_on))
    return selects


def _unanswered(key):
    """No held interview and no accountability record answers the institution item."""
    return sa.and_(
        ~sa.exists().where(Interview.queue_key == key, Interview.state == INTERVIEW_HELD),
        ~sa.exists().where(AccountabilityRecord.queue_key == key))


def _points_select(scope: _Scope):
    year = scope.today.year
    in_scope = scope.apply(sa.select(Institution.id), "institution_points", Institution.id)
    over = over_threshold_subquery(year, in_scope)
    key = _key("institution_points", Institution.id, year)
    query = _select(
        "institution_points", key,
        sa.func.coalesce(over.c.crossed_on, sa.literal(date(year, 1, 1), sa.Date)),
        label=sa.cast(sa.literal(str(year)), sa.String),
        count_a=over.c.institution_points, count_b=over.c.staff_over,
        limit_a=over.c.institution_threshold, limit_b=over.c.staff_threshold,
    ).select_from(over).join(Institution, Institution.id == over.c.institution_id)
    return scope.apply(query.where(_unanswered(key)), "institution_points", Institution.id)


def _proposals(dialect: str):
    """The institutions the latest bulletin of each campaign proposes for interview
    (figures["institutions"][i] with "interview": true and an integer "id"): a subquery
    (bulletin_id, institution_id, complaints, disputes), the JSON read by the database."""
    latest = (sa.select(Bulletin.campaign_id, sa.func.max(Bulletin.period_end).label("end"))
              .group_by(Bulletin.campaign_id).subquery())
    figures = Bulletin.figures
    if dialect == "postgresql":
        rows = figures.op("->")(sa.literal_column("'institutions'"))
        rows = sa.case((sa.func.json_typeof(rows) == "array", rows),
                       else_=sa.literal_column("'[]'::json"))
        entry = sa.func.json_array_elements(rows).table_valued("value", name="entry")

        def has(name, json_type):
            return sa.func.json_typeof(
                entry.c.value.op("->")(sa.literal_column(f"'{name}'"))) == json_type

        def whole(name):
            text = entry.c.value.op("->>")(sa.literal_column(f"'{name}'"))
            return sa.case((sa.and_(has(name, "number"), text.op("~")("^-?[0-9]{1,9}$")),
                            sa.cast(text, sa.Integer)))

        interview = sa.and_(has("interview", "boolean"),
                            entry.c.value.op("->>")(sa.literal_column("'interview'"))
                            == "true")
        rows_are_array = sa.true()
    else:
        entry = sa.func.json_each(figures, "$.institutions").table_valued(
            "fullkey", name="entry")

        def at(name):
            return entry.c.fullkey + f".{name}"

        def whole(name):
            return sa.case((sa.func.json_type(figures, at(name)) == "integer",
                            sa.cast(sa.func.json_extract(figures, at(name)), sa.Integer)))

        interview = sa.func.json_type(figures, at("interview")) == "true"
        rows_are_array = sa.func.json_type(figures, "$.institutions") == "array"
    proposed = (sa.select(Bulletin.id.label("bulletin_id"),
                          whole("id").label("institution_id"),
                          sa.func.coalesce(whole("complaints"), 0).label("complaints"),
                          sa.func.coalesce(whole("disputes"), 0).label("disputes"))
                .select_from(Bulletin)
                .join(latest, sa.and_(latest.c.campaign_id == Bulletin.campaign_id,
                                      latest.c.end == Bulletin.period_end))
                .join(entry, sa.true())
                .where(rows_are_array, interview))
    return proposed.subquery("proposed")


def _complaints_select(scope: _Scope):
    proposed = _proposals(db.session.get_bind().dialect.name)
    key = _key("institution_complaints", proposed.c.bulletin_id, proposed.c.institution_id)
    query = _select(
        "institution_complaints", key, scope.local(Bulletin.generated_at),
        campaign_id=Bulletin.campaign_id, campaign_title=Campaign.title,
        bulletin_id=Bulletin.id, period_start=Bulletin.period_start,
        period_end=Bulletin.period_end, count_a=proposed.c.complaints,
        count_b=proposed.c.disputes,
    ).select_from(proposed).join(Bulletin, Bulletin.id == proposed.c.bulletin_id).join(
        Campaign, Campaign.id == Bulletin.campaign_id).join(
        Institution, Institution.id == proposed.c.institution_id)
    return scope.apply(query.where(_unanswered(key)), "institution_complaints",
                       Bulletin.id, Bulletin.campaign_id)


def _union(scope: _Scope):
    """Every item of the scope: the UNION ALL of one SELECT per kind (None: no kind)."""
    kinds = scope.kinds()
    selects = []
    if set(kinds) & set(ORDER_KINDS):
        selects += _order_selects(scope, kinds)
    if "report_overdue" in kinds:
        selects += _report_selects(scope)
    if set(kinds) & set(CASE_KINDS):
        selects += _case_selects(scope, kinds)
    if "institution_points" in kinds:
        selects.append(_points_select(scope))
    if "institution_complaints" in kinds:
        selects.append(_complaints_select(scope))
    if not selects:
        return None
    return (selects[0] if len(selects) == 1 else sa.union_all(*selects)).subquery("queue_item")


def _claimed(items, scope: _Scope, actor):
    """The items joined to their claims, filtered by owner: (from clause, where clauses)."""
    joined = items.outerjoin(QueueClaim, QueueClaim.item_key == items.c.key)
    where = []
    if scope.filters.owner == "mine":
        where.append(QueueClaim.assignee_id == actor.id)
    elif scope.filters.owner == "unassigned":
        where.append(QueueClaim.id.is_(None))
    return joined, where


def _order_by(items, scope: _Scope):
    # Age in days, never negative: a `since` after today counts as today.
    age = sa.case((items.c.since > scope.today, sa.literal(scope.today, sa.Date)),
                  else_=items.c.since)
    if scope.filters.sort == "kind":
        return (items.c.kind_order, age, items.c.key)
    if scope.filters.sort == "institution":
        return (items.c.institution_name, age, items.c.key)
    return (age, items.c.kind_order, items.c.key)


def _period(start, end) -> str:
    return f"{start.isoformat()} – {end.isoformat()}"


def _item(row, owner, today) -> QueueItem:
    """A row of the union as a QueueItem: its reason in words and its link."""
    kind = row.kind
    day = row.day.isoformat() if row.day else None
    label = row.label or ""
    link = ("cases.detail", {"case_id": row.case_id})
    if kind == "order_escalated":
        reason = _("Order %(number)s escalated (deadline %(deadline)s).",
                   number=label, deadline=day)
    elif kind == "order_overdue":
        reason = _("Order %(number)s overdue since %(deadline)s.", number=label, deadline=day)
    elif kind == "order_returned_twice":
        reason = _("Order %(number)s returned %(n)d times.", number=label, n=row.count_a)
    elif kind == "report_overdue":
        label = _period(row.period_start, row.period_end)
        reason = _("Progress report for %(period)s not submitted; due %(due)s.",
                   period=label, due=day)
        link = ("reports.detail", {"report_id": row.report_id})
    elif kind == "case_tackling":
        reason = _("Designated for tackling: needs follow-up until released.")
    elif kind == "case_blocked":
        reason = _("Still in rectification although consolidation began on %(date)s: open "
                   "orders overdue or escalated stand in the way.", date=day)
    elif kind == "case_no_mobilisation_record":
        reason = _("No mobilisation record filed; the mobilisation phase ended on %(date)s.",
                   date=day)
    elif kind == "institution_points":
        if row.count_a >= row.limit_a:
            reason = _("%(points)d bad-conduct points this year (threshold %(limit)d).",
                       points=row.count_a, limit=row.limit_a)
        else:
            reason = _("%(n)d staff member(s) at or over %(limit)d bad-conduct points this "
                       "year.", n=row.count_b, limit=row.limit_b)
        link = ("oversight.institution", {"institution_id": row.institution_id})
    else:   # institution_complaints
        label = _period(row.period_start, row.period_end)
        reason = _("Proposed for interview by the bulletin for %(start)s – %(end)s "
                   "(%(complaints)d complaints, %(disputes)d disputes).",
                   start=row.period_start.isoformat(), end=row.period_end.isoformat(),
                   complaints=row.count_a, disputes=row.count_b)
        link = ("bulletins.detail", {"bulletin_id": row.bulletin_id})
    if kind in ORDER_KINDS:
        link = ("orders.detail", {"order_id": row.order_id})
    return QueueItem(
        key=row.key, kind=kind, since=row.since, institution_id=row.institution_id,
        institution_name=row.institution_name, institution_name_en=row.institution_name_en,
        region_id=row.region_id, region_path=row.region_path, region_name=row.region_name,
        campaign_id=row.campaign_id, campaign_title=row.campaign_title, reason=reason,
        link=link, label=label, order_id=row.order_id, order_state=row.order_state,
        order_version=row.order_version, extension_id=row.extension_id, case_id=row.case_id,
        case_state=row.case_state, case_version=row.case_version, owner=owner, today=today)


def _check(filters: QueueFilters) -> None:
    errors = {}
    if filters.kind and filters.kind not in QUEUE_KINDS:
        errors["kind"] = [_("Unknown kind.")]
    if filters.owner not in OWNERS:
        errors["owner"] = [_("Unknown choice.")]
    if filters.sort not in SORTS:
        errors["sort"] = [_("Unknown choice.")]
    if errors:
        raise Invalid(errors)


def _rows(scope: _Scope, actor, *, limit=None, offset=0) -> list[QueueItem]:
    """The scope's items with their owners, sorted (one statement)."""
    items = _union(scope)
    if items is None:
        return []
    joined, where = _claimed(items, scope, actor)
    query = (sa.select(items, User).select_from(joined)
             .outerjoin(User, User.id == QueueClaim.assignee_id)
             .where(*where).order_by(*_order_by(items, scope)))
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [_item(row, row.User, scope.today) for row in db.session.execute(query)]


def _count(scope: _Scope, actor) -> tuple[int, bool]:
    """(items, capped): how many items the scope holds, counted up to
    pagination.COUNT_CAP (one statement; a province's queue runs to tens of thousands,
    and counting them all costs what building them all does)."""
    items = _union(scope)
    if items is None:
        return 0, False
    joined, where = _claimed(items, scope, actor)
    if not where:
        joined = items
    return capped_count(sa.select(items.c.key).select_from(joined).where(*where), items.c.key)


def compute_items(actor, filters: QueueFilters = QueueFilters()) -> list[QueueItem]:
    """Every queue item the actor may see that matches `filters`, with owners, sorted.

    Raises NotPermitted (not a coordinator or viewer with a region), Invalid (bad filter).
    """
    _check(filters)
    return _rows(_Scope(actor, filters), actor)


def list_queue(actor, filters: QueueFilters = QueueFilters(), *, page: int = 1,
               per_page: int = 50) -> Page:
    """One page of the queue (see compute_items): a COUNT and one page of rows."""
    _check(filters)
    scope = _Scope(actor, filters)
    page = max(1, page)
    total, capped = _count(scope, actor)
    items = _rows(scope, actor, limit=per_page, offset=(page - 1) * per_page) if total else []
    return Page(items=items, total=total, page=page, per_page=per_page, capped=capped)


def queue_count(actor) -> tuple[int, bool]:
    """(items, capped): how many items await the actor's region (the dashboard's badge),
    counted up to pagination.COUNT_CAP: one COUNT."""
    return _count(_Scope(actor, QueueFilters()), actor)


def _items_by_key(keys: list[str], actor) -> dict[str, QueueItem]:
    """The items with these keys that are on the actor's queue now, by key (one statement
    restricted to the keys' source rows); NotFound for a string that is no queue key."""
    scope = _Scope(actor, QueueFilters(), keys=keys)
    items = _union(scope)
    if items is None:
        return {}
    query = (sa.select(items, User).select_from(items)
             .outerjoin(QueueClaim, QueueClaim.item_key == items.c.key)
             .outerjoin(User, User.id == QueueClaim.assignee_id)
             .where(items.c.key.in_(keys)))
    return {row.key: _item(row, row.User, scope.today) for row in db.session.execute(query)}


def get_item(key: str, actor) -> QueueItem:
    """The item with this key, if it is on the actor's queue now; NotFound otherwise."""
    item = _items_by_key([key], actor).get(key)
    if item is None:
        raise NotFound()
    return item


@dataclass(frozen=True)
class FilterChoices:
    regions: list
    campaigns: list
    coordinators: list


def filter_choices(actor) -> FilterChoices:
    """The regions, campaigns and coordinators of the actor's subtree (institutions are
    too many to list: the filter searches them, institutions.services.pick_institution)."""
    if not policy.allows("queue_view", actor):
        raise NotPermitted()
    path = actor.region.path
    regions = list(db.session.scalars(
        sa.select(Region).where(Region.path.startswith(path, autoescape=True))
        .order_by(Region.path)))
    campaigns = list(db.session.scalars(policy.visible_campaigns(
        sa.select(Campaign), actor, Campaign).order_by(Campaign.starts_on.desc())))
    coordinators = list(db.session.scalars(
        sa.select(User).join(Region, Region.id == User.region_id)
        .where(User.role == "coordinator", User.active.is_(True),
               Region.path.startswith(path, autoescape=True)).order_by(User.display_name)))
    return FilterChoices(regions, campaigns, coordinators)


# --- claims -----------------------------------------------------------------------------

CLAIM_ACTIONS = ("claim", "assign", "unassign")


def assign_items(keys: list[str], *, actor, action: str, assignee_id: int | None = None,
                 expected: dict[str, int | None] | None = None) -> int:
    """Claim (assign to the actor), assign to another coordinator, or unassign items.

    `expected` maps a key to the owner id the actor saw (None: unassigned); an item whose
    owner changed since raises StaleObject and nothing is written. Every key must be on
    the actor's queue (NotFound) and the actor may claim it (NotPermitted); the assignee
    must be an active coordinator whose region holds every item (Invalid). All or
    nothing. Returns the number of items changed.
    """
    if action not in CLAIM_ACTIONS:
        raise Invalid({"action": [_("Unknown choice.")]})
    keys = list(dict.fromkeys(k for k in keys if k))
    if not keys:
        raise Invalid({"items": [_("Choose at least one item.")]})
    if not policy.allows("queue_view", actor):
        raise NotPermitted()
    available = _items_by_key(keys, actor)
    items = []
    for key in keys:
        if key not in available:
            raise NotFound()
        policy.check("queue_claim", actor, available[key])
        items.append(available[key])
    assignee = None
    if action == "claim":
        assignee = actor
    elif action == "assign":
        assignee = db.session.get(User, assignee_id) if assignee_id else None
        if assignee is None or not all(policy.allows("queue_assignee_eligible", assignee, i)
                                       for i in items):
            raise Invalid({"assignee": [_("Choose an active coordinator whose region holds "
                                          "every chosen item.")]})
    # The claim rows are locked; a StaleObject rolls the unit back, releasing them.
    with binding.unit_of_work():
        claims = {c.item_key: c for c in db.session.scalars(
            sa.select(QueueClaim).where(QueueClaim.item_key.in_(keys)).with_for_update())}
        for key in keys:
            claim = claims.get(key)
            if expected is not None and key in expected:
                if (claim.assignee_id if claim else None) != expected[key]:
                    raise StaleObject()
            if assignee is None:
                if claim is not None:
                    db.session.delete(claim)
            elif claim is None:
                db.session.add(QueueClaim(item_key=key, assignee_id=assignee.id,
                                          assigned_by_id=actor.id, assigned_at=clock.now()))
            else:
                claim.assignee_id = assignee.id
                claim.assigned_by_id = actor.id
                claim.assigned_at = clock.now()
    return len(keys)


# --- acting on an item ------------------------------------------------------------------

def escalate_item(key: str, *, actor, version: int | None, comment: str | None = None):
    """Escalate the overdue order of an `order_overdue` item (fires `escalate`)."""
    from casework.orders.services import fire_order

    item = get_item(key, actor)
    if item.order_id is None:
        raise NotFound()
    return fire_order(item.order_id, "escalate", actor=actor, version=version, comment=comment)


def designate_tackling_item(key: str, *, actor, version: int | None, comment: str | None):
    """Designate the item's case for tackling (fires `designate_tackling`, reason required)."""
    from casework.cases.services import fire_case

    item = get_item(key, actor)
    if item.case_id is None:
        raise NotFound()
    if not (comment or "").strip():
        raise Invalid({"comment": [_("Give the reason.")]})
    return fire_case(item.case_id, "designate_tackling", actor=actor, version=version,
                     comment=comment)


def decide_extension_item(key: str, *, actor, approve: bool, version: int | None,
                          comment: str | None = None, new_deadline: date | None = None):
    """Approve or decline the pending extension request of the item's order."""
    from casework.orders.services import decide_extension

    item = get_item(key, actor)
    if item.extension_id is None:
        raise NotFound()
    return decide_extension(item.extension_id, actor=actor, approve=approve, version=version,
                            comment=comment, new_deadline=new_deadline)
