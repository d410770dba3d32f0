"""Mobilisation records: the institution files its leading group and plan from the case
page; officers see it; edits check the version; late filings are marked."""

import pytest
import sqlalchemy as sa
from factories import csrf_token, unchanged

from casework.cases.models import MobilisationRecord
from casework.history.models import HistoryEvent


@pytest.fixture
def case(world, db):
    return world.make_case(db)


def form_url(case):
    return f"/cases/{case.id}/mobilisation"


def post(client, case, version=0, leading_group="组长：院长", plan_summary="一、自查自纠"):
    return client.post(form_url(case), data={
        "csrf_token": csrf_token(client, f"/cases/{case.id}"), "version": version,
        "leading_group": leading_group, "plan_summary": plan_summary})


def records():
    return MobilisationRecord.query.all()


def events(case):
    return HistoryEvent.query.filter(HistoryEvent.object_type == "case",
                                     HistoryEvent.object_id == case.id).all()


def test_institution_files_in_the_phase_and_officers_see_it(case, login, client, clock):
    clock("2021-05-10T10:00+08:00")
    login.as_("institution")
    page = client.get(form_url(case))
    assert page.status_code == 200 and "领导小组" in page.get_data(as_text=True)
    response = post(client, case)
    assert response.status_code == 302
    [record] = records()
    assert (record.leading_group, record.plan_summary, record.version) == (
        "组长：院长", "一、自查自纠", 1)
    [event] = events(case)
    assert (event.trigger, event.actor_role, event.data) == (
        "mobilisation_record_filed", "institution", {"late": False})
    for role in ("coordinator", "inspector", "viewer"):
        login.logout()
        login.as_(role)
        html = client.get(f"/cases/{case.id}").get_data(as_text=True)
        assert "组长：院长" in html and "一、自查自纠" in html
        assert "逾期报送" not in html
        assert 'data-testid="mobilisation-file"' not in html
        assert "报送动员部署情况" in html  # the history entry's label


def test_filed_after_the_phase_is_marked_late(case, login, client, clock):
    clock("2021-06-03T10:00+08:00")
    login.as_("institution")
    assert "本次报送将标记为逾期报送" in client.get(form_url(case)).get_data(as_text=True)
    assert post(client, case).status_code == 302
    assert events(case)[0].data == {"late": True}
    login.logout()
    login.as_("coordinator")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-testid="mobilisation-late"' in html


def test_missing_after_the_phase_shows_on_case_and_campaign(case, login, client, clock):
    clock("2021-06-03T10:00+08:00")
    login.as_("coordinator")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "宣传动员阶段已结束，该机构尚未报送动员部署情况" in html
    html = client.get(f"/campaigns/{case.campaign_id}").get_data(as_text=True)
    assert "1 个案件中已报送 0 个，未报送 1 个" in html


@pytest.mark.parametrize("role, status", [
    ("coordinator", 403), ("inspector", 403), ("viewer", 403), ("admin", 404),
    ("other_institution", 404),
])
def test_only_the_institution_files(case, login, client, role, status):
    login.as_(role)
    assert client.get(form_url(case)).status_code == status
    response = client.post(form_url(case), data={
        "csrf_token": csrf_token(client, "/dashboard"), "version": 0,
        "leading_group": "x", "plan_summary": "y"})
    assert response.status_code == status
    assert records() == []


def test_csrf_is_required(case, login, client):
    login.as_("institution")
    response = client.post(form_url(case), data={"version": 0, "leading_group": "x",
                                                 "plan_summary": "y"})
    assert response.status_code in (400, 422)
    assert records() == []


@pytest.mark.parametrize("leading_group, plan_summary, field, message", [
    ("", "方案", "leading_group", "此项为必填项。"),
    ("   ", "方案", "leading_group", "此项为必填项。"),
    ("组长", "", "plan_summary", "此项为必填项。"),
    ("组长", "字" * 10001, "plan_summary", "最多 10000 个字符。"),
])
def test_bad_input_is_422_in_chinese_and_keeps_the_text(case, login, client, leading_group,
                                                        plan_summary, field, message):
    login.as_("institution")
    response = post(client, case, leading_group=leading_group, plan_summary=plan_summary)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'data-testid="error-{field}"' in html
    assert f'data-testid="error-{field}">{message}<' in html
    if leading_group.strip():
        assert leading_group in html
    assert records() == [] and events(case) == []


def test_edit_checks_the_version(db, case, login, client):
    login.as_("institution")
    assert post(client, case).status_code == 302
    # A second "new" filing (version 0 read) after someone filed: stale.
    with unchanged(db, case, "mobilisation_record"):
        response = post(client, case, version=0, leading_group="另一个")
    assert response.status_code == 409
    assert "该记录在您打开后已被他人修改" in response.get_data(as_text=True)
    assert post(client, case, version=1, leading_group="组长：书记").status_code == 302
    # The form read at version 1 is stale now (version 2).
    with unchanged(db, case, "mobilisation_record"):
        assert post(client, case, version=1, leading_group="旧的").status_code == 409
    [record] = records()
    assert (record.leading_group, record.version) == ("组长：书记", 2)
    assert [e.trigger for e in events(case)] == ["mobilisation_record_filed",
                                                 "mobilisation_record_updated"]


def test_closed_case_refuses(world, db, login, client):
    case = world.make_case(db, state="closed", final_summary="总结")
    login.as_("institution")
    with unchanged(db, case, "mobilisation_record"):
        assert post(client, case).status_code == 409
    assert records() == []


def test_campaign_page_counts_queries_constantly(world, db, login, client, count_queries):
    campaign = world.make_campaign(db)
    world.make_case(db, world.hospital, campaign)
    login.as_("coordinator")
    with count_queries() as small:
        client.get(f"/campaigns/{campaign.id}")
    world.make_case(db, world.clinic, campaign)
    case = world.make_case(db, world.far_hospital, campaign)
    db.session.add(MobilisationRecord(case_id=case.id, leading_group="a", plan_summary="b"))
    db.session.commit()
    with count_queries() as large:
        html = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert len(large) == len(small)
    assert "3 个案件中已报送 1 个，未报送 2 个" in html
    assert db.session.scalar(sa.select(sa.func.count(MobilisationRecord.id))) == 1
