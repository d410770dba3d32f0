"""Bulletin pages: drafts only for the campaign's coordinators and viewers, published
ones for its institutions too; the figures table survives odd data; the commentary and
`publish` with one history event; a stale form is a 409.

Bulletins are created directly here (the scheduler's job drafts them in real life).
"""

from datetime import date

import pytest
from factories import csrf_token, fresh, history, make_bulletin, unchanged

from casework.bulletins import services
from casework.errors import GuardFailed, IllegalTrigger, NotFound, NotPermitted, StaleObject

H1 = (date(2021, 1, 1), date(2021, 6, 30))


@pytest.fixture(autouse=True)
def today(clock):
    clock("2021-07-05T09:00:00+08:00")


@pytest.fixture
def campaign(world, db):
    campaign = world.make_campaign(db)
    # The hospital's institution user belongs to the campaign through its case.
    world.make_case(db, campaign=campaign)
    return campaign


def _html(response):
    return response.get_data(as_text=True)


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/dashboard"), **data})


FIGURES = {
    "institutions": [
        {"institution_id": None, "institution_name": "滨河诊所", "complaints": 1,
         "substantiated": None, "rank": 2, "interview": False},
        {"institution_name": "中卫市人民医院", "complaints": 6, "substantiated": 3,
         "disputes": 2, "visits": 120000, "rate_per_10k": 0.5, "rank": 1, "interview": True,
         "complaints_by_category": {"红包回扣": 2, "服务态度": 4}, "hotline_share": 0.25},
    ],
    "totals": {"complaints": 7, "disputes": 2},
    "threshold": {"rate": 5, "count": 3},
    "remark": "示例",
}


# --- who sees what -----------------------------------------------------------------------

def test_a_draft_is_invisible_to_institutions_and_published_is_visible(client, login, db,
                                                                       campaign):
    draft = make_bulletin(db, campaign)
    published = make_bulletin(db, campaign, period=(date(2020, 7, 1), date(2020, 12, 31)),
                              state="published", commentary="通报内容")
    login.as_("institution")
    listing = _html(client.get("/bulletins/"))
    assert f'href="/bulletins/{published.id}"' in listing
    assert f'href="/bulletins/{draft.id}"' not in listing
    assert client.get(f"/bulletins/{draft.id}").status_code == 404
    page = client.get(f"/bulletins/{published.id}")
    assert page.status_code == 200 and "通报内容" in _html(page)
    assert 'data-testid="commentary-form"' not in _html(page)


def test_an_institution_outside_the_campaign_sees_no_bulletin(client, login, db, campaign):
    published = make_bulletin(db, campaign, state="published")
    login.as_("other_institution")
    assert client.get(f"/bulletins/{published.id}").status_code == 404
    assert 'data-testid="bulletin-row"' not in _html(client.get("/bulletins/"))


@pytest.mark.parametrize("role, status, form", [
    ("coordinator", 200, True), ("viewer", 200, False),
    ("inspector", 404, False), ("admin", 404, False),
])
def test_a_draft_for_the_campaigns_coordinators_and_viewers(client, login, db, campaign, role,
                                                            status, form):
    draft = make_bulletin(db, campaign, figures=FIGURES)
    login.as_(role)
    response = client.get(f"/bulletins/{draft.id}")
    assert response.status_code == status
    assert ('data-testid="commentary-form"' in _html(response)) is form
    assert (f'href="/bulletins/{draft.id}"' in _html(client.get("/bulletins/"))) is (
        status == 200)


def test_a_district_coordinator_sees_the_city_campaigns_bulletin(db, users, campaign):
    # Regions overlap both ways (policy._regions_overlap): the same rule for list and page.
    draft = make_bulletin(db, campaign)
    actor = users["district_coordinator"]
    assert services.get_bulletin(draft.id, actor).id == draft.id
    assert [b.id for b in services.list_bulletins(actor).items] == [draft.id]


# --- the figures -------------------------------------------------------------------------

def test_figures_render_as_a_table_in_rank_order_with_gaps_shown(client, login, db, world,
                                                                 campaign):
    figures = {**FIGURES, "institutions": [
        *FIGURES["institutions"], {"institution_id": world.far_hospital.id, "complaints": 0}]}
    draft = make_bulletin(db, campaign, figures=figures)
    table = services.figures_table(draft)
    keys = [k for k, _label, _numeric in table.columns]
    assert keys[:5] == ["institution", "rank", "complaints", "substantiated", "disputes"]
    # Breakdowns go to a table of their own; unknown keys follow under their names.
    assert "complaints_by_category" not in keys
    assert "hotline_share" in keys and "institution_id" not in keys
    names = [row[0] for row in table.rows]
    assert names == ["中卫市人民医院", "滨河诊所", "中宁县人民医院"]
    clinic = dict(zip(keys, table.rows[1], strict=True))
    assert clinic["substantiated"] == "—" and clinic["disputes"] == "—"
    hospital = dict(zip(keys, table.rows[0], strict=True))
    assert hospital["rate_per_10k"] == "0.50" and hospital["visits"] == "120,000"
    breakdown = services.breakdown_table(draft)
    assert breakdown.names[0] == "中卫市人民医院"
    assert [label for _key, _sub, label in breakdown.columns] == ["红包回扣", "服务态度"]
    assert breakdown.rows[0] == ["2", "4"] and breakdown.rows[1] == ["—", "—"]
    assert table.totals[keys.index("complaints")] == "7"
    assert [value for _label, value in table.notes] == ["示例"]
    assert services.threshold_of(draft) == {"rate": 5, "count": 3}
    assert services.proposed_for_interview(draft) == ["中卫市人民医院"]

    login.as_("coordinator")
    page = _html(client.get(f"/bulletins/{draft.id}"))
    assert page.count('data-testid="figures-row"') == 3
    assert "中宁县人民医院" in page and "—" in page


def test_an_old_drafts_shape_is_shown_with_labels(client, login, db, world, campaign):
    # As the scheduler drafted them before the registers existed: old drafts stay readable.
    figures = {
        "period": {"start": "2021-01-01", "end": "2021-06-30", "label": "2021-H1"},
        "levels": ["tertiary", "secondary"],
        "institutions": [
            {"id": world.hospital.id, "code": "H1", "name": "中卫市人民医院",
             "level": "tertiary", "findings": 4, "orders": 2, "orders_overdue": 1},
            {"id": world.far_hospital.id, "code": "H2", "name": None, "level": "secondary",
             "findings": 0, "orders": 0, "orders_overdue": 0},
        ],
        "totals": {"findings": 4, "orders": 2, "orders_overdue": 1},
        "complaints": None, "disputes": None, "note": "registers arrive later",
    }
    draft = make_bulletin(db, campaign, figures=figures)
    table = services.figures_table(draft)
    assert [(k, numeric) for k, _label, numeric in table.columns] == [
        ("institution", False), ("level", False), ("findings", True), ("orders", True),
        ("orders_overdue", True)]
    # A null name is looked up by id; the level is shown in words.
    assert [row[0] for row in table.rows] == ["中卫市人民医院", "中宁县人民医院"]
    assert table.rows[0][1] != "tertiary"
    assert table.totals[1:] == ["", "4", "2", "1"]
    assert len(table.missing) == 2
    assert [value for _label, value in table.notes] == [table.rows[0][1] + "、" + table.rows[1][1],
                                                        "registers arrive later"]
    login.as_("coordinator")
    page = _html(client.get(f"/bulletins/{draft.id}"))
    assert page.count('data-testid="figures-row"') == 2
    assert 'data-testid="registers-missing"' in page and "registers arrive later" in page
    assert ">H1<" not in page  # codes and ids are not columns


@pytest.mark.parametrize("figures", [
    None, {}, [], {"institutions": None}, {"institutions": []}, {"institutions": [None, 3, "x"]},
    {"institutions": {"中卫市人民医院": {"complaints": 2}, "滨河诊所": None}},
    [{"name": "列表里的机构", "complaints": None}], {"rows": [{}]}, {"totals": "none"},
    {"institutions": [{"institution": {"id": 1, "name": "嵌套名称"}, "rank": "first"},
                      {"rank": True}]},
])
def test_odd_figures_never_break_the_page(client, login, db, campaign, figures):
    draft = make_bulletin(db, campaign, figures=figures)
    login.as_("coordinator")
    response = client.get(f"/bulletins/{draft.id}")
    assert response.status_code == 200
    page = _html(response)
    table = services.figures_table(draft)
    assert ('data-testid="no-figures"' in page) is table.empty


# --- commentary and publish ----------------------------------------------------------------

def test_coordinator_saves_the_commentary_then_publishes(client, login, db, campaign):
    draft = make_bulletin(db, campaign, figures=FIGURES)
    login.as_("coordinator")
    saved = _post(client, f"/bulletins/{draft.id}/commentary",
                  {"version": "1", "commentary": "草稿评述"})
    assert saved.status_code == 302
    draft = fresh(db, draft)
    assert draft.state == "draft" and draft.commentary == "草稿评述" and draft.version == 2
    assert history(db, draft) == []
    assert "草稿评述" in _html(client.get(f"/bulletins/{draft.id}"))

    published = _post(client, f"/bulletins/{draft.id}/publish",
                      {"version": "2", "commentary": "上半年投诉情况通报如下。"})
    assert published.status_code == 302
    bulletin = fresh(db, draft)
    assert bulletin.state == "published" and bulletin.commentary == "上半年投诉情况通报如下。"
    events = history(db, bulletin)
    assert [(e.trigger, e.from_state, e.to_state, e.actor_role) for e in events] == [
        ("publish", "draft", "published", "coordinator")]
    page = _html(client.get(f"/bulletins/{bulletin.id}"))
    assert 'data-testid="commentary-form"' not in page and "上半年投诉情况通报如下。" in page

    # Published is final: neither publishing again nor editing the commentary.
    with unchanged(db, bulletin):
        again = _post(client, f"/bulletins/{bulletin.id}/publish",
                      {"version": str(bulletin.version), "commentary": "改"})
    assert again.status_code == 409
    with unchanged(db, bulletin):
        edit = _post(client, f"/bulletins/{bulletin.id}/commentary",
                     {"version": str(bulletin.version), "commentary": "改"})
    assert edit.status_code == 409
    assert fresh(db, bulletin).commentary == "上半年投诉情况通报如下。"


def test_a_stale_publish_is_a_conflict_and_changes_nothing(client, login, db, users, campaign):
    draft = make_bulletin(db, campaign)
    # Someone else saved the commentary after this page was opened (version 1).
    services.save_commentary(draft.id, actor=users["coordinator"], version=1,
                             commentary="别人的修改")
    login.as_("coordinator")
    with unchanged(db, draft):
        response = _post(client, f"/bulletins/{draft.id}/publish",
                         {"version": "1", "commentary": "我的评述"})
    assert response.status_code == 409
    bulletin = fresh(db, draft)
    assert bulletin.state == "draft" and bulletin.commentary == "别人的修改"
    assert history(db, bulletin) == []
    with unchanged(db, draft):
        stale_save = _post(client, f"/bulletins/{draft.id}/commentary",
                           {"version": "1", "commentary": "我的评述"})
    assert stale_save.status_code == 409
    with unchanged(db, draft), pytest.raises(StaleObject):
        services.publish_bulletin(draft.id, actor=users["coordinator"], version=None,
                                  commentary="")


def test_too_long_commentary_comes_back_with_the_text(client, login, db, campaign):
    draft = make_bulletin(db, campaign)
    login.as_("coordinator")
    text = "长" * 20001
    with unchanged(db, draft):
        response = _post(client, f"/bulletins/{draft.id}/publish", {"version": "1",
                                                                    "commentary": text})
    assert response.status_code == 422
    page = _html(response)
    assert 'data-error="commentary"' in page and text in page
    assert fresh(db, draft).state == "draft"


@pytest.mark.parametrize("role, status", [
    ("viewer", 403), ("institution", 404), ("inspector", 404), ("other_institution", 404),
])
def test_only_coordinators_publish(client, login, db, campaign, role, status):
    draft = make_bulletin(db, campaign)
    login.as_(role)
    for path in ("publish", "commentary"):
        # Even with bad input: 403/404, not a form to correct.
        for commentary in ("评述", "长" * 20001):
            with unchanged(db, draft):
                response = _post(client, f"/bulletins/{draft.id}/{path}",
                                 {"version": "1", "commentary": commentary})
            assert response.status_code == status, (path, response.status_code)
    bulletin = fresh(db, draft)
    assert bulletin.state == "draft" and bulletin.commentary is None


def test_service_errors(db, users, campaign):
    draft = make_bulletin(db, campaign)
    with unchanged(db, draft), pytest.raises(NotPermitted):
        services.publish_bulletin(draft.id, actor=users["viewer"], version=1, commentary="")
    with pytest.raises(NotFound):
        services.publish_bulletin(draft.id, actor=users["institution"], version=1,
                                  commentary="")
    services.publish_bulletin(draft.id, actor=users["coordinator"], version=1, commentary="")
    bulletin = fresh(db, draft)
    assert bulletin.commentary is None
    with pytest.raises(IllegalTrigger):
        services.publish_bulletin(draft.id, actor=users["coordinator"],
                                  version=bulletin.version, commentary="")
    with pytest.raises(GuardFailed):
        services.save_commentary(draft.id, actor=users["coordinator"],
                                 version=bulletin.version, commentary="x")


def test_bulletins_in_navigation_for_coordinators_viewers_and_institutions(client, login):
    for role, shown in (("coordinator", True), ("viewer", True), ("institution", True),
                        ("inspector", False), ("admin", False)):
        login.as_(role)
        assert ('href="/bulletins/"' in _html(client.get("/dashboard"))) is shown, role
        login.logout()
