"""What a campaign's phase dates mean: which case triggers they call for on a given day,
and when mobilisation ends."""

from datetime import date

from casework.campaigns.models import Campaign

# Phase kind -> the trigger that brings a case into it, and the states it moves from.
# Evaluation follows consolidation in the Yubei plan: both mean the rectification
# period is over.
PHASE_TRIGGERS = {
    "rectification": ("start_rectification", ("mobilisation",)),
    "consolidation": ("start_consolidation", ("rectification",)),
    "evaluation": ("start_consolidation", ("rectification",)),
}


def due_triggers(campaign: Campaign, today: date) -> list[tuple[str, tuple[str, ...]]]:
    """(trigger, from-states) for every phase that has started by `today`, in date order."""
    started = sorted((p for p in campaign.phases if p.starts_on <= today),
                     key=lambda p: p.starts_on)
    return [PHASE_TRIGGERS[p.kind] for p in started if p.kind in PHASE_TRIGGERS]


def mobilisation_end(campaign: Campaign) -> date | None:
    """The last day of the campaign's mobilisation phase; None when it has none."""
    return max((p.ends_on for p in campaign.phases if p.kind == "mobilisation"), default=None)
