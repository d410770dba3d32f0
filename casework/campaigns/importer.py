"""Loading validated campaign definitions into the database, and opening their cases."""

from pathlib import Path

import sqlalchemy as sa

from casework.campaigns import models
from casework.campaigns.definition import CampaignDefinition, DefinitionError, load_definition
from casework.cases.models import InspectionCase
from casework.extensions import db
from casework.institutions.models import Institution, Region
from workflows import binding

_SCALARS = ("title", "title_en", "issuing_body", "issuing_body_en", "document_number",
            "starts_on", "ends_on", "summary")


def _sync(existing: list, entries: list, make, key) -> list:
    """Rows for `entries` in order, reusing the existing row with the same key.

    Reuse keeps the ids that later records (findings by key task) point at.
    """
    by_key = {key(row): row for row in existing}
    rows = []
    for position, entry in enumerate(entries):
        values = entry.model_dump()
        row = by_key.get(values.get("code", position)) or make()
        for name, value in values.items():
            setattr(row, name, value)
        row.position = position
        rows.append(row)
    return rows


def import_campaign(definition: CampaignDefinition, source: str | Path | None = None
                    ) -> tuple[models.Campaign, int]:
    """Create or update the campaign `definition` describes and open its missing cases.

    Returns (campaign, number of cases opened). Raises DefinitionError when the file
    names a region that is not in the database; nothing is written then.
    """
    region = db.session.scalar(sa.select(Region).where(Region.code == definition.region))
    if region is None:
        raise DefinitionError(source or definition.code,
                              [f"region: no region with code {definition.region!r} exists; "
                               "load the regions first"])
    with binding.unit_of_work():
        campaign = db.session.scalar(
            sa.select(models.Campaign).where(models.Campaign.code == definition.code)
        ) or models.Campaign(code=definition.code)
        for name in _SCALARS:
            setattr(campaign, name, getattr(definition, name))
        campaign.region = region
        campaign.phases = _sync(campaign.phases, definition.phases, models.CampaignPhase,
                                key=lambda row: row.position)
        campaign.key_tasks = _sync(campaign.key_tasks, definition.key_tasks, models.KeyTask,
                                   key=lambda row: row.code)
        campaign.coverage_rules = _sync(campaign.coverage_rules, definition.coverage,
                                        models.CoverageRule, key=lambda row: row.code)
        campaign.cadences = _sync(campaign.cadences, definition.cadences,
                                  models.ReportingCadence, key=lambda row: row.position)
        campaign.indicators = _sync(campaign.indicators, definition.indicators,
                                    models.Indicator, key=lambda row: row.code)
        db.session.add(campaign)
        db.session.flush()
        opened = open_cases(campaign)
    return campaign, opened


def institutions_in_scope(campaign: models.Campaign) -> list[Institution]:
    """Institutions in the campaign's region subtree that one of its coverage rules covers."""
    candidates = db.session.scalars(
        sa.select(Institution).join(Region, Region.id == Institution.region_id)
        .where(Region.path.startswith(campaign.region.path, autoescape=True))
        .order_by(Institution.code)
    )
    return [i for i in candidates if any(r.covers(i) for r in campaign.coverage_rules)]


def open_cases(campaign: models.Campaign) -> int:
    """Open a case for each institution in scope that has none; returns how many. No commit."""
    have = set(db.session.scalars(
        sa.select(InspectionCase.institution_id).where(InspectionCase.campaign_id == campaign.id)
    ))
    new = [InspectionCase(campaign=campaign, institution=i)
           for i in institutions_in_scope(campaign) if i.id not in have]
    db.session.add_all(new)
    return len(new)


def import_campaign_file(path: str | Path) -> tuple[models.Campaign, int]:
    """Validate the definition file at `path` and import it; see import_campaign."""
    return import_campaign(load_definition(path), source=path)
