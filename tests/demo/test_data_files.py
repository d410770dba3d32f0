"""Demo data files: they load, reference each other consistently, and cover every kind
of institution; malformed files are refused with located problems."""

import textwrap

import pytest

from casework.campaigns.definition import (
    INSTITUTION_TYPES,
    LEVELS,
    OWNERSHIPS,
    DefinitionError,
    load_definition,
)
from casework.demo.data_files import (
    DATA_DIR,
    ROLES,
    load_demo_data,
    load_institutions,
    load_regions,
    load_users,
)


@pytest.fixture(scope="module")
def demo():
    return load_demo_data()


def test_regions(demo):
    by_code = {r.code: r for r in demo.regions}
    assert {code: (r.name, r.level, r.parent) for code, r in by_code.items()} == {
        "640500": ("中卫市", "city", None),
        "640502": ("沙坡头区", "district", "640500"),
        "640521": ("中宁县", "county", "640500"),
        "640522": ("海原县", "county", "640500"),
        "500000": ("重庆市", "city", None),
        "500112": ("渝北区", "district", "500000"),
    }


def test_every_institution_is_in_a_known_region(demo):
    regions = {r.code for r in demo.regions}
    assert 25 <= len(demo.institutions) <= 40
    for inst in demo.institutions:
        assert inst.region in regions, inst.code


def test_every_type_level_and_ownership_appears(demo):
    assert {i.type for i in demo.institutions} == set(INSTITUTION_TYPES)
    assert {i.level for i in demo.institutions} == set(LEVELS)
    assert {i.ownership for i in demo.institutions} == set(OWNERSHIPS)
    # Both regions have public and private institutions.
    for prefix in ("ZW-", "YB-"):
        assert {i.ownership for i in demo.institutions if i.code.startswith(prefix)} == set(
            OWNERSHIPS
        )


def test_institutions_named_in_the_documents(demo):
    names = {i.name: i for i in demo.institutions}
    assert names["中卫市人民医院"].level == "tertiary"
    assert names["重庆市渝北区人民医院"].level == "tertiary"
    private_specialties = {
        s
        for i in demo.institutions
        if i.ownership == "private" and i.region == "500112"
        for s in i.specialties or []
    }
    assert {"reproductive", "cosmetic"} <= private_specialties


def test_each_campaign_has_institutions_in_scope(demo):
    """Both shipped campaigns find institutions in their region's subtree."""
    parents = {r.code: r.parent for r in demo.regions}

    def within(code, root):
        while code is not None:
            if code == root:
                return True
            code = parents[code]
        return False

    for name in ("zhongwei-2021-conduct", "yubei-2023-quality"):
        definition = load_definition(
            DATA_DIR.parent.parent / "campaigns" / "definitions" / f"{name}.yaml"
        )
        for rule in definition.coverage:
            matching = [
                i
                for i in demo.institutions
                if within(i.region, definition.region)
                and i.type in rule.institution_types
                and (rule.levels is None or i.level in rule.levels)
                and (rule.ownership is None or i.ownership == rule.ownership)
            ]
            assert matching, (name, rule.code)


def test_users_one_per_role_and_references_exist(demo):
    regions = {r.code for r in demo.regions}
    institutions = {i.code: i for i in demo.institutions}
    assert {u.role for u in demo.users} == set(ROLES)
    for user in demo.users:
        assert user.region is None or user.region in regions
        assert user.institution is None or user.institution in institutions
        assert user.locale == "zh_CN"
        assert user.password == f"Demo-{user.username}-2024"
    by_name = {u.username: u for u in demo.users}
    assert (by_name["coordinator"].region, by_name["yubei-coordinator"].region) == (
        "640500",
        "500112",
    )
    assert institutions[by_name["institution"].institution].name == "中卫市人民医院"
    second = institutions[by_name["institution2"].institution]
    assert second.code != by_name["institution"].institution
    assert second.region.startswith("6405") and second.type.endswith("hospital")


def test_passwords_stay_out_of_reprs(demo):
    assert "Demo-" not in repr(demo.users[0])


# --------------------------------------------------------------------- malformed files


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


REGIONS = """\
    regions:
      - {code: "640500", name: 中卫市, name_en: Zhongwei, level: city, parent: null}
      - {code: "640502", name: 沙坡头区, name_en: Shapotou, level: district, parent: "640500"}
    """


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            REGIONS.replace('parent: "640500"', 'parent: "640599"'),
            "regions[1].parent: '640599' is not a region",
        ),
        (
            REGIONS.replace("level: district", "level: town"),
            "regions[1].level: unknown value 'town'",
        ),
        (
            REGIONS.replace('code: "640502"', 'code: "640500"'),
            "regions[1].code: duplicate code '640500'",
        ),
        (
            REGIONS.replace("level: city", "level: county"),
            "regions[1].parent: a district cannot sit under the county",
        ),
        (REGIONS.replace("name_en: Shapotou, ", ""), "regions[1].name_en: missing required field"),
    ],
)
def test_malformed_regions(tmp_path, text, expected):
    path = _write(tmp_path, "regions.yaml", text)
    with pytest.raises(DefinitionError) as info:
        load_regions(path)
    assert str(info.value).startswith(f"{path}: invalid regions file")
    assert any(expected in p for p in info.value.problems), info.value.problems


INSTITUTIONS = """\
    institutions:
      - code: ZW-001
        name: 中卫市人民医院
        name_en: Zhongwei People's Hospital
        type: general_hospital
        level: tertiary
        ownership: public
        region: "640502"
        annual_visits: 900000
    """


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            INSTITUTIONS.replace("general_hospital", "hospital"),
            "institutions[0].type: unknown value 'hospital'",
        ),
        (
            INSTITUTIONS.replace("tertiary", "level3"),
            "institutions[0].level: unknown value 'level3'",
        ),
        (
            INSTITUTIONS.replace("ownership: public", "ownership: state"),
            "institutions[0].ownership: unknown value",
        ),
        (
            INSTITUTIONS.replace('"640502"', '"999999"'),
            "institutions[0].region: '999999' is not a known region",
        ),
        (
            INSTITUTIONS.replace("900000", "-1"),
            "institutions[0].annual_visits: must be greater than or equal to 0",
        ),
        (INSTITUTIONS.replace("ZW-001", "zw1"), "institutions[0].code: 'zw1' is not valid here"),
        (
            INSTITUTIONS.rstrip() + "\n" + INSTITUTIONS.split("\n", 1)[1],
            "institutions[1].code: duplicate code 'ZW-001'",
        ),
    ],
)
def test_malformed_institutions(tmp_path, text, expected):
    regions = load_regions(_write(tmp_path, "regions.yaml", REGIONS))
    path = _write(tmp_path, "institutions.yaml", text)
    with pytest.raises(DefinitionError) as info:
        load_institutions(path, regions)
    assert str(info.value).startswith(f"{path}: invalid institutions file")
    assert any(expected in p for p in info.value.problems), info.value.problems


USERS = """\
    users:
      - {username: coordinator, display_name: 张, role: coordinator, region: "640500",
         institution: null, password: Demo-coordinator-2024, locale: zh_CN}
      - {username: institution, display_name: 刘, role: institution, region: null,
         institution: ZW-001, password: Demo-institution-2024, locale: zh_CN}
    """


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            USERS.replace('region: "640500"', 'region: "500112"'),
            "users[0].region: '500112' is not a known region",
        ),
        (
            USERS.replace("ZW-001", "ZW-999"),
            "users[1].institution: 'ZW-999' is not a known institution",
        ),
        (USERS.replace("role: coordinator", "role: boss"), "users[0].role: unknown value 'boss'"),
        (
            USERS.replace('region: "640500"', "region: null"),
            "users[0].region: required for a coordinator",
        ),
        (
            USERS.replace("region: null", 'region: "640500"'),
            "users[1].region: must be null for an institution user",
        ),
        (
            USERS.replace("institution: ZW-001", "institution: null"),
            "users[1].institution: required for an institution user",
        ),
        (
            USERS.replace("username: institution,", "username: Coordinator,"),
            "users[1].username: 'Coordinator' is not valid here",
        ),
        (
            USERS.replace("username: institution,", "username: coordinator,"),
            "users[1].username: duplicate username",
        ),
        (USERS.replace("locale: zh_CN}", "locale: fr}", 1), "users[0].locale: unknown value 'fr'"),
        (USERS.replace("Demo-coordinator-2024", "short"), "users[0].password"),
    ],
)
def test_malformed_users(tmp_path, text, expected):
    regions = load_regions(_write(tmp_path, "regions.yaml", REGIONS))
    institutions = load_institutions(_write(tmp_path, "institutions.yaml", INSTITUTIONS), regions)
    path = _write(tmp_path, "users.yaml", text)
    with pytest.raises(DefinitionError) as info:
        load_users(path, regions, institutions)
    assert str(info.value).startswith(f"{path}: invalid users file")
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_demo_directory_is_checked_as_a_whole(tmp_path):
    _write(tmp_path, "regions.yaml", REGIONS)
    _write(tmp_path, "institutions.yaml", INSTITUTIONS)
    _write(tmp_path, "users.yaml", USERS.replace("ZW-001", "ZW-002"))
    with pytest.raises(DefinitionError, match="'ZW-002' is not a known institution"):
        load_demo_data(tmp_path)


def test_identifiers_agree_with_the_models():
    from casework.demo import data_files

    institutions = pytest.importorskip("casework.institutions.models")
    users = pytest.importorskip("casework.users.models")
    assert data_files.REGION_LEVELS == institutions.REGION_LEVELS
    assert data_files.ROLES == users.ROLES
    assert data_files.REGION_ROLES == users.REGION_ROLES
    assert data_files.LOCALES == users.LOCALES
