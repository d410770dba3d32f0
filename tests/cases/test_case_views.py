"""Case pages and transitions through HTTP: 409s change nothing, one event per success."""

import re

import sqlalchemy as sa
from factories import unchanged

from casework.cases.models import InspectionCase
from casework.history.models import HistoryEvent


def _events(db, case):
    return db.session.scalars(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == "case", HistoryEvent.object_id == case.id)
        .order_by(HistoryEvent.id)).all()


def _token(client, case):
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _fire(client, case, trigger, version, **data):
    return client.post(f"/cases/{case.id}/fire/{trigger}",
                       data={"csrf_token": _token(client, case), "version": version, **data})


def test_coordinator_moves_case_and_history_records_it(client, login, world, db):
    case = world.make_case(db)
    login.as_("coordinator")
    response = _fire(client, case, "start_rectification", 1)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(InspectionCase, case.id).state == "rectification"
    events = _events(db, case)
    assert [(e.trigger, e.from_state, e.to_state, e.actor_role) for e in events] == [
        ("start_rectification", "mobilisation", "rectification", "coordinator")]
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-state="rectification"' in page


def test_illegal_trigger_is_409_naming_allowed_and_writes_nothing(client, login, world, db):
    case = world.make_case(db)
    login.as_("coordinator")
    with unchanged(db, case):
        response = _fire(client, case, "start_consolidation", 1)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "进入集中治理阶段" in body
    db.session.expire_all()
    assert db.session.get(InspectionCase, case.id).state == "mobilisation"
    assert db.session.get(InspectionCase, case.id).version == 1
    assert _events(db, case) == []


def test_unknown_trigger_is_409(client, login, world, db):
    case = world.make_case(db)
    login.as_("coordinator")
    with unchanged(db, case):
        assert _fire(client, case, "explode", 1).status_code == 409
    assert _events(db, case) == []


def test_stale_version_is_409_and_writes_nothing(client, login, world, db):
    case = world.make_case(db)
    login.as_("coordinator")
    assert _fire(client, case, "start_rectification", 1).status_code == 302
    # A second tab still holding version 1 tries to designate tackling.
    with unchanged(db, case):
        response = _fire(client, case, "designate_tackling", 1, comment="落后单位")
    assert response.status_code == 409
    assert "changed by someone else" in response.get_data(as_text=True) or \
        "已被他人修改" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(InspectionCase, case.id).state == "rectification"
    assert len(_events(db, case)) == 1


def test_guard_failure_is_409_with_reason(client, login, world, db):
    case = world.make_case(db, state="rectification")
    login.as_("coordinator")
    with unchanged(db, case):
        response = _fire(client, case, "designate_tackling", 1, comment="   ")
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(InspectionCase, case.id).state == "rectification"
    assert _events(db, case) == []


def test_close_needs_summary_and_keeps_it_with_the_transition(client, login, world, db):
    case = world.make_case(db, state="consolidation")
    login.as_("coordinator")
    with unchanged(db, case):
        assert _fire(client, case, "close", 1, final_summary="").status_code == 409
    db.session.expire_all()
    assert db.session.get(InspectionCase, case.id).final_summary is None
    assert _fire(client, case, "close", 1, final_summary="整改全部完成").status_code == 302
    db.session.expire_all()
    closed = db.session.get(InspectionCase, case.id)
    assert (closed.state, closed.final_summary, closed.version) == ("closed", "整改全部完成", 2)


def test_missing_version_is_422(client, login, world, db):
    case = world.make_case(db)
    login.as_("coordinator")
    response = client.post(f"/cases/{case.id}/fire/start_rectification",
                           data={"csrf_token": _token(client, case)})
    assert response.status_code == 422
    assert _events(db, case) == []


def test_post_without_csrf_is_rejected(client, login, world, db):
    case = world.make_case(db)
    login.as_("coordinator")
    response = client.post(f"/cases/{case.id}/fire/start_rectification", data={"version": 1})
    assert response.status_code == 400
    assert _events(db, case) == []


def test_inspector_and_institution_cannot_fire_case_triggers(client, login, world, db):
    case = world.make_case(db)
    for role in ("inspector", "institution", "viewer"):
        login.as_(role)
        with unchanged(db, case):
            assert _fire(client, case, "start_rectification", 1).status_code == 403, role
        login.logout()
    assert _events(db, case) == []


def test_other_institution_and_other_district_get_404(client, login, world, db):
    case = world.make_case(db)
    for role in ("other_institution", "district_coordinator", "admin"):
        login.as_(role)
        assert client.get(f"/cases/{case.id}").status_code == 404, role
        login.logout()


def test_case_list_filters_and_scopes(client, login, world, db):
    campaign = world.make_campaign(db)
    world.make_case(db, institution=world.hospital, campaign=campaign)
    world.make_case(db, institution=world.clinic, campaign=campaign, state="rectification")
    world.make_case(db, institution=world.far_hospital, campaign=campaign)
    login.as_("coordinator")
    page = client.get("/cases/").get_data(as_text=True)
    assert all(name in page for name in ("中卫市人民医院", "滨河诊所", "中宁县人民医院"))
    page = client.get("/cases/?state=rectification").get_data(as_text=True)
    assert "滨河诊所" in page and "中卫市人民医院" not in page
    page = client.get(f"/cases/?region={world.other_district.id}").get_data(as_text=True)
    assert "中宁县人民医院" in page and "滨河诊所" not in page
    page = client.get("/cases/?type=clinic").get_data(as_text=True)
    assert "滨河诊所" in page and "中宁县人民医院" not in page
    login.logout()
    login.as_("institution")
    page = client.get("/cases/").get_data(as_text=True)
    assert "中卫市人民医院" in page and "滨河诊所" not in page and "中宁县人民医院" not in page


def test_case_list_query_count_is_constant(client, login, world, db, count_queries):
    campaign = world.make_campaign(db)
    world.make_case(db, institution=world.hospital, campaign=campaign)
    login.as_("coordinator")
    with count_queries() as few:
        client.get("/cases/")
    from casework.institutions.models import Institution

    for i in range(30):
        inst = Institution(code=f"X{i}", name=f"诊所{i}", type="clinic", level="ungraded",
                           ownership="private", region=world.district)
        db.session.add(inst)
        world.make_case(db, institution=inst, campaign=campaign)
    with count_queries() as many:
        assert client.get("/cases/").status_code == 200
    assert len(many) == len(few)


def test_which_triggers_need_a_reason_comes_from_the_machines(app):
    needs_reason = app.jinja_env.globals["needs_reason"]
    assert needs_reason("reopen") and needs_reason("designate_tackling", "case")
    assert not needs_reason("close", "case")
    assert needs_reason("cancel", "order") and not needs_reason("verify", "order")
    assert needs_reason("return", "report") and needs_reason("cancel", "interview")
