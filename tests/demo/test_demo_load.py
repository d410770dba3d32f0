"""`flask demo load`: the reference campaigns, idempotent, every demo login works."""

import sqlalchemy as sa
import yaml
from factories import csrf_token

from casework.campaigns.models import Campaign
from casework.cases.models import InspectionCase
from casework.demo.data_files import DATA_DIR
from casework.history.models import HistoryEvent
from casework.institutions.models import Institution, Region
from casework.users.models import User


def _counts(db):
    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Region, Institution, User, Campaign, InspectionCase, HistoryEvent)}


def test_demo_load_is_idempotent_and_loads_the_campaigns(runner, db, clock):
    clock("2026-11-25T09:00:00+08:00")
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    first = _counts(db)
    # The two reference campaigns and the live demo one (tests/demo/test_demo_story.py).
    assert first["Campaign"] == 3 and first["User"] == 7 and first["Institution"] >= 30
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert _counts(db) == first

    zhongwei = db.session.scalar(sa.select(Campaign).where(
        Campaign.code == "zhongwei-2021-conduct"))
    # Every hospital of Zhongwei city has a case (100 % target), in the state the
    # campaign's phase dates put it after December 2022: consolidation.
    hospitals = db.session.scalars(
        sa.select(Institution).join(Region).where(
            Region.path.startswith(zhongwei.region.path),
            Institution.type.in_(["general_hospital", "tcm_hospital",
                                  "maternal_child_hospital", "specialist_hospital"]))).all()
    cases = {c.institution_id: c for c in db.session.scalars(
        sa.select(InspectionCase).where(InspectionCase.campaign_id == zhongwei.id))}
    assert hospitals and all(h.id in cases for h in hospitals)
    assert {c.state for c in cases.values()} == {"consolidation"}
    # ...and got there through the workflow: two history events per case.
    events = db.session.scalars(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == "case",
        HistoryEvent.object_id.in_([c.id for c in cases.values()]))).all()
    assert len(events) == 2 * len(cases)
    assert {e.actor_role for e in events} == {"system"}


def test_demo_load_keeps_changed_passwords(runner, db):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    user = db.session.scalar(sa.select(User).where(User.username == "coordinator"))
    user.set_password("A-new-password-123")
    db.session.commit()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(sa.select(User).where(
        User.username == "coordinator")).check_password("A-new-password-123")


def test_every_demo_login_reaches_its_dashboard(runner, client, db):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    users = yaml.safe_load((DATA_DIR / "users.yaml").read_text(encoding="utf-8"))["users"]
    for entry in users:
        response = client.post("/login", data={
            "username": entry["username"], "password": entry["password"],
            "csrf_token": csrf_token(client)})
        assert response.status_code == 302, entry["username"]
        page = client.get("/dashboard")
        assert page.status_code == 200
        assert entry["display_name"] in page.get_data(as_text=True)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})


def test_campaign_load_rejects_a_malformed_file_and_writes_nothing(runner, db, tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("code: broken\ntitle: [unclosed\n", encoding="utf-8")
    result = runner.invoke(args=["campaigns", "load", str(bad)])
    assert result.exit_code != 0
    assert "broken.yaml" in result.output and "YAML" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Campaign.id))) == 0


def test_campaign_load_with_unknown_region_writes_nothing(runner, db, tmp_path):
    source = (DATA_DIR.parent.parent / "campaigns" / "definitions" / "zhongwei-2021-conduct.yaml")
    text = source.read_text(encoding="utf-8")
    target = tmp_path / "zhongwei-2021-conduct.yaml"
    target.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["campaigns", "load", str(target)])  # no regions loaded
    assert result.exit_code != 0
    assert "640500" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Campaign.id))) == 0
