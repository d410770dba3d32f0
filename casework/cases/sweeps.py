"""The phase sweep: cases move with their campaign's phase dates.

For every phase that has started by the local day (rectification → start_rectification,
consolidation or evaluation → start_consolidation; casework/campaigns/phases.py), the
trigger is fired, through the workflow binding, on the campaign's cases still in the
states it leaves from. A case whose guard refuses (start_consolidation with an order
overdue or escalated) stays where it is, is listed in the summary and its coordinators
are told; it is tried again on every run, and moves once it is unblocked.

Notification (link /cases/<id>): case_phase_blocked,
"case:<id>:blocked:<trigger>:<phase start>", {campaign, institution, trigger, phase_start,
reasons: [English guard messages]}: to the coordinators over the case's institution.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from casework import clock, policy
from casework.campaigns.models import Campaign
from casework.campaigns.phases import PHASE_TRIGGERS, due_triggers
from casework.cases.models import InspectionCase
from casework.extensions import db
from casework.institutions.models import Institution
from casework.jobs.sweeping import coordinator_ids, keyset_chunks, name
from casework.notifications.services import Notice, notify
from workflows import binding

# The summary lists this many blocked cases at most (the count is always complete).
LISTED = 100


def phase_steps(campaign: Campaign, today: date) -> list[tuple[str, tuple[str, ...], date]]:
    """(trigger, from-states, phase start) for phases.due_triggers(campaign, today), in
    date order; a trigger two phases call for (consolidation, evaluation) is fired once,
    dated by the earlier phase."""
    steps: dict[str, tuple[str, tuple[str, ...], date]] = {}
    for trigger, sources in due_triggers(campaign, today):
        start = min(p.starts_on for p in campaign.phases
                    if p.starts_on <= today and PHASE_TRIGGERS.get(p.kind, ("",))[0] == trigger)
        steps.setdefault(trigger, (trigger, sources, start))
    return list(steps.values())


def advance_campaign(campaign: Campaign, today: date) -> dict:
    """Fire the phase triggers due by `today` on `campaign`'s cases, in chunks, each
    committed; blocked cases are notified (committed too).

    Returns {"moved": {trigger: n}, "blocked": [{case_id, institution, trigger, reasons}]}.
    """
    return _advance(campaign.id, name(campaign.title, campaign.title_en),
                    phase_steps(campaign, today))


def _advance(campaign_id: int, title, steps) -> dict:
    # Plain values only: every chunk commits (its own unit of work), which expires the
    # ORM objects.
    moved: dict[str, int] = {}
    blocked: list[dict] = []
    for trigger, sources, phase_start in steps:
        select = (sa.select(InspectionCase.id, InspectionCase.institution_id,
                            Institution.name, Institution.name_en)
                  .join(Institution, Institution.id == InspectionCase.institution_id)
                  .where(InspectionCase.campaign_id == campaign_id,
                         InspectionCase.state.in_(sources)))
        for rows in keyset_chunks(select, InspectionCase.id):
            with binding.unit_of_work():
                done, refused = binding.apply_batch(InspectionCase, [r.id for r in rows],
                                                    trigger, actor=policy.SYSTEM)
                moved[trigger] = moved.get(trigger, 0) + len(done)
                if not refused:
                    continue
                # The cases stay where they are; their notices commit with the chunk. A
                # crash before is repaired by the next run, which finds them blocked again.
                stuck = [r for r in rows if r.id in refused]
                coordinators = coordinator_ids({r.institution_id for r in stuck})
                notices = []
                for row in stuck:
                    reasons = [str(m) for m in refused[row.id]]
                    blocked.append({"case_id": row.id, "institution": row.name,
                                    "trigger": trigger, "reasons": reasons})
                    # Kept as msgid and values, so each reader gets them in their language.
                    explained = [{"template": getattr(m, "template", str(m)),
                                  "params": getattr(m, "params", {})} for m in refused[row.id]]
                    key = f"case:{row.id}:blocked:{trigger}:{phase_start.isoformat()}"
                    params = {"campaign": title, "institution": name(row.name, row.name_en),
                              "trigger": trigger, "phase_start": phase_start.isoformat(),
                              "reasons": explained}
                    notices += [Notice(u, key, "case_phase_blocked", params, f"/cases/{row.id}")
                                for u in coordinators.get(row.institution_id, ())]
                notify(notices)
    return {"moved": moved, "blocked": blocked}


def phase_changes(at: datetime) -> dict:
    """Move every campaign's cases to where its phase dates put them on the local day.

    Returns {"today", "moved": {trigger: n}, "blocked": n, "blocked_cases": [first
    LISTED of {campaign, case_id, institution, trigger, reasons}]}.
    """
    today = clock.local_date(at)
    campaigns = db.session.scalars(
        sa.select(Campaign).options(selectinload(Campaign.phases))
        .where(Campaign.starts_on <= today).order_by(Campaign.id)).all()
    # Read before the first chunk commits (and expires them).
    plans = [(c.code, c.id, name(c.title, c.title_en), phase_steps(c, today))
             for c in campaigns]
    moved: dict[str, int] = {}
    blocked: list[dict] = []
    for code, campaign_id, title, steps in plans:
        result = _advance(campaign_id, title, steps)
        for trigger, n in result["moved"].items():
            moved[trigger] = moved.get(trigger, 0) + n
        blocked += [{"campaign": code, **b} for b in result["blocked"]]
    return {"today": today.isoformat(), "moved": moved, "blocked": len(blocked),
            "blocked_cases": blocked[:LISTED]}
