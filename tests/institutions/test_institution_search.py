"""Search-as-you-type for the list filters: only institutions the user may see, at most
20, a clear error for bad input."""

import pytest

from casework.errors import Invalid
from casework.institutions import services
from casework.institutions.models import Institution, Region


@pytest.fixture
def elsewhere(db, world):
    """Another city with a hospital of its own, outside every test user's reach."""
    city = Region(code="640300", name="吴忠市", level="city")
    db.session.add(city)
    db.session.flush()
    city.path = f"/{city.id}/"
    hospital = Institution(code="W1", name="吴忠市人民医院", type="general_hospital",
                           level="tertiary", ownership="public", region=city)
    db.session.add(hospital)
    db.session.commit()
    return hospital


def names(found):
    return [i.name for i in found]


def test_each_user_finds_only_what_they_may_see(db, world, users, elsewhere):
    search = services.search_institutions
    both = {"中卫市人民医院", "中宁县人民医院"}
    assert set(names(search(users["coordinator"], "人民医院"))) == both
    assert set(names(search(users["viewer"], "医院"))) == both
    assert names(search(users["district_coordinator"], "医院")) == ["中宁县人民医院"]
    assert names(search(users["institution"], "医院")) == ["中卫市人民医院"]
    assert search(users["institution"], "中宁") == []
    assert search(users["admin"], "医院") == []
    # Names starting with the text first; % and _ are characters, not wildcards.
    db.session.add(Institution(code="Y1", name="医院路诊所", type="clinic", level="ungraded",
                               ownership="private", region=world.district))
    db.session.commit()
    assert names(search(users["coordinator"], "医院"))[0] == "医院路诊所"
    assert search(users["coordinator"], "%") == [] and search(users["coordinator"], "_") == []


def test_at_most_twenty(db, world, users):
    db.session.add_all(Institution(code=f"X{i}", name=f"测试诊所{i:02d}", type="clinic",
                                   level="ungraded", ownership="private", region=world.district)
                       for i in range(30))
    db.session.commit()
    found = services.search_institutions(users["coordinator"], "测试诊所", limit=500)
    assert len(found) == 20 and found[0].name == "测试诊所00"


@pytest.mark.parametrize("text", [None, "", "   ", "x" * 101])
def test_bad_text_is_refused(db, world, users, text):
    with pytest.raises(Invalid) as error:
        services.search_institutions(users["coordinator"], text)
    assert list(error.value.details["errors"]) == ["q"]


def test_the_endpoint_answers_json(client, login, world, users, elsewhere):
    assert client.get("/api/institutions/search?q=医院").status_code == 302  # to the login
    login.as_("institution")
    response = client.get("/api/institutions/search?q=医院")
    assert response.status_code == 200
    assert response.get_json() == {"institutions": [{"id": world.hospital.id,
                                                      "name": "中卫市人民医院"}]}
    login.logout()
    login.as_("coordinator")
    ids = [i["id"] for i in client.get("/api/institutions/search?q=医院").get_json()[
        "institutions"]]
    assert elsewhere.id not in ids and world.far_hospital.id in ids
    refused = client.get("/api/institutions/search?q=")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "invalid" and error["errors"]["q"] == ["请输入机构名称的一部分。"]
    assert client.get("/api/institutions/search?q=" + "x" * 101).status_code == 422
