"""Importing a campaign definition: all of it in one unit of work, or nothing."""

import pytest
import sqlalchemy as sa

from casework.campaigns import importer
from casework.campaigns.definition import DEFINITIONS_DIR
from casework.campaigns.models import Campaign, KeyTask
from casework.cases.models import InspectionCase

ZHONGWEI = DEFINITIONS_DIR / "zhongwei-2021-conduct.yaml"


def count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_import_opens_the_cases_in_scope_once(world, db):
    campaign, opened = importer.import_campaign_file(ZHONGWEI)
    assert opened == count(db, InspectionCase) > 0
    assert importer.import_campaign_file(ZHONGWEI) == (campaign, 0)


def test_a_failure_while_opening_cases_writes_nothing(world, db, monkeypatch):
    def boom(campaign):
        raise RuntimeError("cases failed")

    monkeypatch.setattr(importer, "open_cases", boom)
    with pytest.raises(RuntimeError, match="cases failed"):
        importer.import_campaign_file(ZHONGWEI)
    db.session.expire_all()
    assert (count(db, Campaign), count(db, KeyTask), count(db, InspectionCase)) == (0, 0, 0)
