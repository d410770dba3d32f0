"""`flask demo load`: regions, institutions, users and both reference campaigns.

Idempotent: running it again updates what the files describe, adds what is missing,
and never resets a password a user has changed.
"""

import sqlalchemy as sa

from casework import clock
from casework.campaigns.definition import load_definitions
from casework.campaigns.importer import import_campaign
from casework.cases.mobilisation import load_demo_records
from casework.cases.sweeps import advance_campaign
from casework.demo.data_files import load_demo_data
from casework.demo.story import load_live_campaign
from casework.disputes.services import load_demo_disputes
from casework.extensions import db
from casework.institutions.models import Institution, Region
from casework.users.models import User
from workflows import binding


def _upsert(model, code, **values):
    row = db.session.scalar(sa.select(model).where(model.code == code)) or model(code=code)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.add(row)
    return row


def load_reference_data() -> dict[str, int]:
    """Regions, institutions and users from casework/demo/data; returns counts."""
    data = load_demo_data()
    with binding.unit_of_work():
        regions = {}
        for entry in data.regions:  # the file lists parents before children
            parent = regions.get(entry.parent)
            region = _upsert(Region, entry.code, name=entry.name, name_en=entry.name_en,
                             level=entry.level, parent=parent)
            db.session.flush()
            region.path = f"{parent.path if parent else '/'}{region.id}/"
            regions[entry.code] = region
        institutions = {}
        for entry in data.institutions:
            institutions[entry.code] = _upsert(
                Institution, entry.code, name=entry.name, name_en=entry.name_en,
                type=entry.type, level=entry.level, ownership=entry.ownership,
                region=regions[entry.region], annual_visits=entry.annual_visits,
                specialties=entry.specialties)
        db.session.flush()
        created_users = 0
        for entry in data.users:
            if db.session.scalar(sa.select(User.id).where(User.username == entry.username)):
                continue
            user = User(username=entry.username, display_name=entry.display_name,
                        role=entry.role, region=regions.get(entry.region),
                        institution=institutions.get(entry.institution), email=entry.email,
                        locale=entry.locale, active=True, failed_logins=0)
            user.set_password(entry.password)
            db.session.add(user)
            created_users += 1
    return {"regions": len(regions), "institutions": len(institutions),
            "new_users": created_users}


def advance_to_phase(campaign, today) -> int:
    """Move the campaign's cases to where its phase dates put them on `today`: the
    scheduler's phase sweep for this one campaign (casework/cases/sweeps.py).

    Goes through the workflow binding (one history event each); a blocked case stays
    where it is and its coordinators are told. Returns the number of transitions made.
    """
    return sum(advance_campaign(campaign, today)["moved"].values())


def load_demo() -> list[str]:
    """Load everything; returns one summary line per step for the CLI."""
    counts = load_reference_data()
    lines = [f"Regions: {counts['regions']}, institutions: {counts['institutions']}, "
             f"new users: {counts['new_users']}"]
    today = clock.today()
    for definition in load_definitions():
        campaign, opened = import_campaign(definition)
        moved = advance_to_phase(campaign, today)
        lines.append(f"Campaign {campaign.code}: {opened} new case(s), "
                     f"{moved} moved to the current phase")
    lines.append(f"Medical disputes: {load_demo_disputes()} new")
    lines.append(__import__("casework.points.demo").points.demo.load_points_demo())
    lines.append(load_live_campaign(today))
    lines.append(f"Mobilisation records: {load_demo_records()} added")
    return lines
