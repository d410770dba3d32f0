"""The escalation queue (督办队列): everything that needs a coordinator, in one list.

Items are computed from their sources on every call, never stored, so an item leaves
the queue the moment its cause is gone (the order verified, the report accepted, the
case released...). Only who works an item is stored (QueueClaim, by item key).

Each kind is one query (a join of its source with the institution and its region,
filtered by the actor's region subtree in SQL), plus one for claims, one for the held
interviews and accountability records that answer institution items, and the settings:
a constant number of queries however many items there are.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from casework import clock, policy
from casework.bulletins.models import Bulletin
from casework.campaigns.models import Campaign, CampaignPhase
from casework.cases.models import InspectionCase, MobilisationRecord
from casework.errors import Invalid, NotFound, NotPermitted, StaleObject
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.institutions.models import Institution, Region
from casework.orders.models import ExtensionRequest, RectificationOrder
from casework.oversight.models import AccountabilityRecord, Interview
from casework.pagination import Page
from casework.points.models import PointsEntry
from casework.points.thresholds import over_threshold
from casework.queue.models import QueueClaim
from casework.reports.models import ProgressReport
from casework.users.models import User
from casework.vocabulary import QUEUE_KINDS
from workflows import case as case_workflow
from workflows import order as order_workflow

ORDER_KINDS = ("order_escalated", "order_overdue", "order_returned_twice")
CASE_KINDS = ("case_tackling", "case_blocked", "case_no_mobilisation_record")
INSTITUTION_KINDS = ("institution_points", "institution_complaints")
SORTS = ("age", "kind", "institution")
OWNERS = ("mine", "unassigned", "anyone")
# The phases whose start ends concentrated rectification (see campaigns/phases.py).
CONSOLIDATION_KINDS = ("consolidation", "evaluation")


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


def _day(value) -> date:
    if isinstance(value, datetime):
        return value.astimezone(clock.zone()).date() if value.tzinfo else value.date()
    return value


def _transitions(machine, trigger=None, dest=None):
    return [t for t in machine.TRANSITIONS
            if (trigger is None or t["trigger"] == trigger) and (dest is None or t["dest"] == dest)]


def _dest(machine, trigger: str) -> str:
    """The state `trigger` leads to in the machine (its one destination)."""
    (state,) = {t["dest"] for t in _transitions(machine, trigger) if t["dest"]}
    return state


def _sources(machine, trigger: str) -> tuple[str, ...]:
    """The states `trigger` leaves from."""
    states = []
    for t in _transitions(machine, trigger):
        states += [t["source"]] if isinstance(t["source"], str) else t["source"]
    return tuple(dict.fromkeys(states))


def _triggers_into(machine, state: str) -> tuple[str, ...]:
    """The triggers that lead into `state`."""
    return tuple(dict.fromkeys(t["trigger"] for t in _transitions(machine, dest=state)))


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
            .where(ExtensionRequest.status == "pending",
                   ExtensionRequest.order_id.in_(order_ids))
            .group_by(ExtensionRequest.order_id).subquery())


class _Scope:
    """The region subtree and filters every source query is limited to."""

    def __init__(self, actor, filters: QueueFilters):
        if not policy.allows("queue_view", actor):
            raise NotPermitted()
        self.path = actor.region.path
        if filters.region_id:
            region = db.session.get(Region, filters.region_id)
            # A region outside the actor's subtree narrows to nothing.
            self.path = (region.path if region is not None
                         and region.path.startswith(actor.region.path) else "/none/")
        self.filters = filters

    def apply(self, query, case_entity=None):
        query = (query.join(Region, Region.id == Institution.region_id)
                 .where(Region.path.startswith(self.path, autoescape=True)))
        if self.filters.institution_id:
            query = query.where(Institution.id == self.filters.institution_id)
        if self.filters.campaign_id and case_entity is not None:
            query = query.where(case_entity.campaign_id == self.filters.campaign_id)
        return query


_PLACE = (Institution.id, Institution.name, Institution.name_en, Region.id, Region.path,
          Region.name)


def _item(kind, key, since, place, **kw) -> QueueItem:
    inst_id, name, name_en, region_id, path, region_name = place
    return QueueItem(key=key, kind=kind, since=_day(since), institution_id=inst_id,
                     institution_name=name, institution_name_en=name_en, region_id=region_id,
                     region_path=path, region_name=region_name, **kw)


def _orders(scope: _Scope, kinds, today) -> list[QueueItem]:
    items = []
    pending = _pending_extensions(sa.select(RectificationOrder.id).where(
        RectificationOrder.state.in_(order_workflow.OPEN_STATES)))
    columns = (RectificationOrder.id, RectificationOrder.number, RectificationOrder.state,
               RectificationOrder.version, RectificationOrder.deadline, InspectionCase.id,
               Campaign.id, Campaign.title, pending.c.id, InspectionCase.state,
               InspectionCase.version)
    base = (sa.select(*columns, *_PLACE)
            .join(InspectionCase, InspectionCase.id == RectificationOrder.case_id)
            .join(Campaign, Campaign.id == InspectionCase.campaign_id)
            .join(Institution, Institution.id == InspectionCase.institution_id)
            .outerjoin(pending, pending.c.order_id == RectificationOrder.id))

    def make(kind, key, since, row, reason):
        (oid, number, state, version, _deadline, case_id, camp_id, camp_title, ext,
         case_state, case_version) = row[:11]
        # The order's case too: a coordinator may designate it for tackling from here.
        return _item(kind, key, since, row[11:17], campaign_id=camp_id,
                     campaign_title=camp_title, reason=reason,
                     link=("orders.detail", {"order_id": oid}), label=number, order_id=oid,
                     order_state=state, order_version=version, extension_id=ext,
                     case_id=case_id, case_state=case_state, case_version=case_version,
                     today=today)

    wanted = [k for k in ("order_escalated", "order_overdue") if k in kinds]
    if wanted:
        escalated = _dest(order_workflow, "escalate")
        escalated_at = _last_event("order", _triggers_into(order_workflow, escalated),
                                   sa.select(RectificationOrder.id)
                                   .where(RectificationOrder.state == escalated))
        query = scope.apply(base.add_columns(escalated_at.c.at)
                            .outerjoin(escalated_at,
                                       escalated_at.c.object_id == RectificationOrder.id)
                            .where(RectificationOrder.state.in_(
                                [k.removeprefix("order_") for k in wanted])), InspectionCase)
        for row in db.session.execute(query):
            state, deadline = row[2], row[4]
            if state == "escalated":
                since = row[-1] or deadline
                reason = _("Order %(number)s escalated (deadline %(deadline)s).",
                           number=row[1], deadline=deadline.isoformat())
            else:
                since = deadline + timedelta(days=1)
                reason = _("Order %(number)s overdue since %(deadline)s.",
                           number=row[1], deadline=deadline.isoformat())
            items.append(make(f"order_{state}", f"order_{state}:{row[0]}", since, row, reason))
    if "order_returned_twice" in kinds:
        returns = (sa.select(HistoryEvent.object_id.label("order_id"),
                             sa.func.count().label("n"), sa.func.max(HistoryEvent.at).label("at"))
                   .where(HistoryEvent.object_type == "order", HistoryEvent.trigger == "return")
                   .group_by(HistoryEvent.object_id).having(sa.func.count() >= 2).subquery())
        query = scope.apply(base.add_columns(returns.c.n, returns.c.at)
                            .join(returns, returns.c.order_id == RectificationOrder.id)
                            .where(RectificationOrder.state.in_(order_workflow.OPEN_STATES)),
                            InspectionCase)
        for row in db.session.execute(query):
            reason = _("Order %(number)s returned %(n)d times.", number=row[1], n=row[-2])
            items.append(make("order_returned_twice", f"order_returned_twice:{row[0]}",
                              row[-1], row, reason))
    return items


def _reports(scope: _Scope, today) -> list[QueueItem]:
    query = scope.apply(
        sa.select(ProgressReport.id, ProgressReport.due_on, ProgressReport.period_start,
                  ProgressReport.period_end, InspectionCase.id, Campaign.id, Campaign.title,
                  *_PLACE)
        .join(InspectionCase, InspectionCase.id == ProgressReport.case_id)
        .join(Campaign, Campaign.id == InspectionCase.campaign_id)
        .join(Institution, Institution.id == InspectionCase.institution_id)
        .where(ProgressReport.state == "overdue"), InspectionCase)
    items = []
    for row in db.session.execute(query):
        rid, due, start, end, case_id, camp_id, camp_title = row[:7]
        label = f"{start.isoformat()} – {end.isoformat()}"
        items.append(_item(
            "report_overdue", f"report_overdue:{rid}", due + timedelta(days=1), row[7:13],
            campaign_id=camp_id, campaign_title=camp_title, case_id=case_id, label=label,
            reason=_("Progress report for %(period)s not submitted; due %(due)s.",
                     period=label, due=due.isoformat()),
            link=("reports.detail", {"report_id": rid}), today=today))
    return items


def _cases(scope: _Scope, kinds, today) -> list[QueueItem]:
    items = []
    base_columns = (InspectionCase.id, InspectionCase.state, InspectionCase.version,
                    Campaign.id, Campaign.title)

    def base(*extra):
        return (sa.select(*base_columns, *_PLACE, *extra)
                .join(Campaign, Campaign.id == InspectionCase.campaign_id)
                .join(Institution, Institution.id == InspectionCase.institution_id))

    def make(kind, since, row, reason):
        case_id, state, version, camp_id, camp_title = row[:5]
        return _item(kind, f"{kind}:{case_id}", since, row[5:11], campaign_id=camp_id,
                     campaign_title=camp_title, case_id=case_id, case_state=state,
                     case_version=version, reason=reason,
                     link=("cases.detail", {"case_id": case_id}), today=today)

    if "case_tackling" in kinds:
        tackling = _dest(case_workflow, "designate_tackling")
        designated = _last_event("case", _triggers_into(case_workflow, tackling),
                                 sa.select(InspectionCase.id)
                                 .where(InspectionCase.state == tackling))
        query = scope.apply(base(designated.c.at, InspectionCase.opened_at)
                            .outerjoin(designated, designated.c.object_id == InspectionCase.id)
                            .where(InspectionCase.state == tackling), InspectionCase)
        for row in db.session.execute(query):
            items.append(make("case_tackling", row[11] or row[12], row,
                              _("Designated for tackling: needs follow-up until released.")))
    if "case_blocked" in kinds:
        starts = (sa.select(CampaignPhase.campaign_id,
                            sa.func.min(CampaignPhase.starts_on).label("starts_on"))
                  .where(CampaignPhase.kind.in_(CONSOLIDATION_KINDS))
                  .group_by(CampaignPhase.campaign_id).subquery())
        query = scope.apply(base(starts.c.starts_on)
                            .join(starts, starts.c.campaign_id == InspectionCase.campaign_id)
                            .where(InspectionCase.state == "rectification",
                                   starts.c.starts_on <= today), InspectionCase)
        for row in db.session.execute(query):
            items.append(make("case_blocked", row[11], row, _(
                "Still in rectification although consolidation began on %(date)s: open "
                "orders overdue or escalated stand in the way.", date=row[11].isoformat())))
    if "case_no_mobilisation_record" in kinds:
        ends = (sa.select(CampaignPhase.campaign_id,
                          sa.func.max(CampaignPhase.ends_on).label("ends_on"))
                .where(CampaignPhase.kind == "mobilisation")
                .group_by(CampaignPhase.campaign_id).subquery())
        query = scope.apply(
            base(ends.c.ends_on)
            .join(ends, ends.c.campaign_id == InspectionCase.campaign_id)
            .outerjoin(MobilisationRecord, MobilisationRecord.case_id == InspectionCase.id)
            # Once the campaign is over a missing mobilisation record is history, not work.
            .where(ends.c.ends_on < today, MobilisationRecord.id.is_(None),
                   InspectionCase.state != "closed", Campaign.ends_on >= today),
            InspectionCase)
        for row in db.session.execute(query):
            items.append(make("case_no_mobilisation_record", row[11] + timedelta(days=1), row,
                              _("No mobilisation record filed; the mobilisation phase ended "
                                "on %(date)s.", date=row[11].isoformat())))
    return items


def _answered_keys() -> set[str]:
    """Keys of institution items answered by a held interview or an accountability record."""
    held = sa.select(Interview.queue_key).where(Interview.state == "held",
                                                Interview.queue_key.like("institution_%"))
    recorded = sa.select(AccountabilityRecord.queue_key).where(
        AccountabilityRecord.queue_key.like("institution_%"))
    return set(db.session.scalars(sa.union(held, recorded)))


def _points(scope: _Scope, today, answered) -> list[QueueItem]:
    year = today.year
    in_scope = scope.apply(sa.select(Institution.id))
    over = over_threshold(year, in_scope)
    ids = list(over)
    # When each institution crossed its threshold: the running totals, one query.
    entries = db.session.execute(
        sa.select(PointsEntry.institution_id, PointsEntry.staff_id, PointsEntry.awarded_on,
                  PointsEntry.points)
        .where(PointsEntry.year == year, PointsEntry.institution_id.in_(ids))
        .order_by(PointsEntry.awarded_on, PointsEntry.id)).all()
    places = {row[0]: row for row in db.session.execute(
        scope.apply(sa.select(*_PLACE).where(Institution.id.in_(ids))))}
    running: dict[tuple, int] = defaultdict(int)
    crossed: dict[int, date] = {}
    for inst, staff, on, points in entries:
        running[(inst, staff)] += points
        limit = over[inst].staff_threshold if staff else over[inst].institution_threshold
        if running[(inst, staff)] >= limit and inst not in crossed:
            crossed[inst] = on
    items = []
    for inst, state in over.items():
        key = f"institution_points:{inst}:{year}"
        if key in answered or inst not in places:
            continue
        if state.institution_over:
            reason = _("%(points)d bad-conduct points this year (threshold %(limit)d).",
                       points=state.institution_points, limit=state.institution_threshold)
        else:
            reason = _("%(n)d staff member(s) at or over %(limit)d bad-conduct points this "
                       "year.", n=len(state.staff), limit=state.staff_threshold)
        items.append(_item("institution_points", key, crossed.get(inst, date(year, 1, 1)),
                           places[inst], reason=reason, label=str(year),
                           link=("oversight.institution", {"institution_id": inst}),
                           today=today))
    return items


def _complaints(scope: _Scope, today, answered) -> list[QueueItem]:
    latest = (sa.select(Bulletin.campaign_id, sa.func.max(Bulletin.period_end).label("end"))
              .group_by(Bulletin.campaign_id).subquery())
    bulletins_query = (sa.select(Bulletin, Campaign.title)
                       .join(latest, sa.and_(latest.c.campaign_id == Bulletin.campaign_id,
                                             latest.c.end == Bulletin.period_end))
                       .join(Campaign, Campaign.id == Bulletin.campaign_id))
    if scope.filters.campaign_id:
        bulletins_query = bulletins_query.where(Bulletin.campaign_id == scope.filters.campaign_id)
    proposed: list[tuple] = []
    for bulletin, title in db.session.execute(bulletins_query):
        rows = (bulletin.figures or {}).get("institutions") if isinstance(
            bulletin.figures, dict) else None
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and row.get("interview") is True and isinstance(
                    row.get("id"), int):
                proposed.append((bulletin, title, row))
    ids = {row["id"] for _b, _t, row in proposed}
    places = {row[0]: row for row in db.session.execute(
        scope.apply(sa.select(*_PLACE).where(Institution.id.in_(ids))))}
    items = []
    for bulletin, title, row in proposed:
        key = f"institution_complaints:{bulletin.id}:{row['id']}"
        if key in answered or row["id"] not in places:
            continue
        count = row.get("complaints", 0) if isinstance(row.get("complaints"), int) else 0
        disputes = row.get("disputes", 0) if isinstance(row.get("disputes"), int) else 0
        items.append(_item(
            "institution_complaints", key, bulletin.generated_at, places[row["id"]],
            campaign_id=bulletin.campaign_id, campaign_title=title,
            label=f"{bulletin.period_start.isoformat()} – {bulletin.period_end.isoformat()}",
            reason=_("Proposed for interview by the bulletin for %(start)s – %(end)s "
                     "(%(complaints)d complaints, %(disputes)d disputes).",
                     start=bulletin.period_start.isoformat(),
                     end=bulletin.period_end.isoformat(), complaints=count, disputes=disputes),
            link=("bulletins.detail", {"bulletin_id": bulletin.id}), today=today))
    return items


def compute_items(actor, filters: QueueFilters = QueueFilters()) -> list[QueueItem]:
    """Every queue item the actor may see that matches `filters`, with owners, sorted.

    Raises NotPermitted (not a coordinator or viewer with a region), Invalid (bad filter).
    """
    errors = {}
    if filters.kind and filters.kind not in QUEUE_KINDS:
        errors["kind"] = [_("Unknown kind.")]
    if filters.owner not in OWNERS:
        errors["owner"] = [_("Unknown choice.")]
    if filters.sort not in SORTS:
        errors["sort"] = [_("Unknown choice.")]
    if errors:
        raise Invalid(errors)
    scope = _Scope(actor, filters)
    today = clock.today()
    kinds = (filters.kind,) if filters.kind else QUEUE_KINDS
    items: list[QueueItem] = []
    if set(kinds) & set(ORDER_KINDS):
        items += _orders(scope, kinds, today)
    if "report_overdue" in kinds:
        items += _reports(scope, today)
    if set(kinds) & set(CASE_KINDS):
        items += _cases(scope, kinds, today)
    if set(kinds) & set(INSTITUTION_KINDS):
        answered = _answered_keys()
        if "institution_points" in kinds and not filters.campaign_id:
            items += _points(scope, today, answered)
        if "institution_complaints" in kinds:
            items += _complaints(scope, today, answered)
    claims = {c.item_key: c for c in db.session.scalars(
        sa.select(QueueClaim).where(QueueClaim.item_key.in_([i.key for i in items]))
        .options(joinedload(QueueClaim.assignee)))}
    for item in items:
        claim = claims.get(item.key)
        item.owner = claim.assignee if claim else None
    if filters.owner == "mine":
        items = [i for i in items if i.owner is not None and i.owner.id == actor.id]
    elif filters.owner == "unassigned":
        items = [i for i in items if i.owner is None]
    order = {k: n for n, k in enumerate(QUEUE_KINDS)}
    if filters.sort == "kind":
        items.sort(key=lambda i: (order[i.kind], -i.age, i.key))
    elif filters.sort == "institution":
        items.sort(key=lambda i: (i.institution_name, -i.age, i.key))
    else:
        items.sort(key=lambda i: (-i.age, order[i.kind], i.key))
    return items


def list_queue(actor, filters: QueueFilters = QueueFilters(), *, page: int = 1,
               per_page: int = 50) -> Page:
    """One page of the queue (see compute_items)."""
    items = compute_items(actor, filters)
    page = max(1, page)
    return Page(items=items[(page - 1) * per_page:page * per_page], total=len(items),
                page=page, per_page=per_page)


def queue_count(actor) -> int:
    """How many items await the actor's region (the dashboard's badge)."""
    return len(compute_items(actor))


def _kind_of(key: str) -> str:
    kind = (key or "").split(":", 1)[0]
    if kind not in QUEUE_KINDS:
        raise NotFound()
    return kind


def get_item(key: str, actor) -> QueueItem:
    """The item with this key, if it is on the actor's queue now; NotFound otherwise."""
    kind = _kind_of(key)
    for item in compute_items(actor, QueueFilters(kind=kind)):
        if item.key == key:
            return item
    raise NotFound()


@dataclass(frozen=True)
class FilterChoices:
    regions: list
    institutions: list
    campaigns: list
    coordinators: list


def filter_choices(actor) -> FilterChoices:
    """The regions, institutions, campaigns and coordinators of the actor's subtree."""
    if not policy.allows("queue_view", actor):
        raise NotPermitted()
    path = actor.region.path
    regions = list(db.session.scalars(
        sa.select(Region).where(Region.path.startswith(path, autoescape=True))
        .order_by(Region.path)))
    institutions = list(db.session.scalars(policy.visible_institutions(
        sa.select(Institution), actor, Institution).order_by(Institution.name)))
    campaigns = list(db.session.scalars(policy.visible_campaigns(
        sa.select(Campaign), actor, Campaign).order_by(Campaign.starts_on.desc())))
    coordinators = list(db.session.scalars(
        sa.select(User).join(Region, Region.id == User.region_id)
        .where(User.role == "coordinator", User.active.is_(True),
               Region.path.startswith(path, autoescape=True)).order_by(User.display_name)))
    return FilterChoices(regions, institutions, campaigns, coordinators)


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
    available = {i.key: i for i in compute_items(actor)}
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
    try:
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
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
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
