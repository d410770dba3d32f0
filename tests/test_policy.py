"""Who may do what, where: role × action × own/other jurisdiction, and coding standards.

The coding-standards part follows ckan's TestActionAuth: every trigger of a machine with
a model has a policy function, and every policy function has a caller.
"""

import inspect
import re
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin

from casework import policy
from casework.errors import NotPermitted
from workflows import registry

ROOT = Path(__file__).resolve().parent.parent

ROLES = ("coordinator", "inspector", "institution", "admin", "viewer", "other_institution",
         "district_coordinator")
CASE_TRIGGERS = ("case_start_rectification", "case_designate_tackling",
                 "case_release_tackling", "case_start_consolidation", "case_close",
                 "case_reopen")
CASE_ACTIONS = ("case_view", *CASE_TRIGGERS)

# For each role, an institution inside its jurisdiction ("own") and outside ("other").
# The city staff reach both districts, so their "other" is a hospital in another city.
OWN = {"coordinator": "hospital", "inspector": "hospital", "viewer": "hospital",
       "institution": "hospital", "other_institution": "far_hospital",
       "district_coordinator": "far_hospital", "admin": "hospital"}
OTHER = {"coordinator": "outside", "inspector": "outside", "viewer": "outside",
         "institution": "far_hospital", "other_institution": "hospital",
         "district_coordinator": "hospital", "admin": "far_hospital"}

# Who may do each case action on a case in their own jurisdiction.
ALLOWED_OWN = {
    "case_view": {"coordinator", "inspector", "viewer", "institution", "other_institution",
                  "district_coordinator"},
    **{action: {"coordinator", "district_coordinator"} for action in CASE_TRIGGERS},
}

STATE_FOR = {  # a state from which the trigger is legal (policy must not care, but be real)
    "case_view": "mobilisation", "case_start_rectification": "mobilisation",
    "case_designate_tackling": "rectification", "case_release_tackling": "tackling",
    "case_start_consolidation": "rectification", "case_close": "consolidation",
    "case_reopen": "closed",
}


@pytest.fixture
def places(world, db):
    """The world's institutions plus one in another city, out of every world user's reach."""
    from casework.institutions.models import Institution, Region

    yinchuan = Region(code="640100", name="银川市", level="city")
    db.session.add(yinchuan)
    db.session.flush()
    yinchuan.path = f"/{yinchuan.id}/"
    outside = Institution(code="YC1", name="银川市第一人民医院", type="general_hospital",
                          level="tertiary", ownership="public", region=yinchuan)
    db.session.add(outside)
    db.session.commit()
    return {"hospital": world.hospital, "clinic": world.clinic,
            "far_hospital": world.far_hospital, "outside": outside, "yinchuan": yinchuan}


@pytest.fixture
def campaign(world, db):
    return world.make_campaign(db)


def _case(world, db, campaign, institution, state):
    summary = "总结" if state == "closed" else None
    return world.make_case(db, institution=institution, campaign=campaign, state=state,
                           final_summary=summary)


# --- cases ------------------------------------------------------------------------

@pytest.mark.parametrize("action", CASE_ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_case_actions_own_and_other_jurisdiction(world, db, users, places, campaign, role,
                                                 action):
    for where, institutions in (("own", OWN), ("other", OTHER)):
        case = _case(world, db, campaign, places[institutions[role]], STATE_FOR[action])
        expected = where == "own" and role in ALLOWED_OWN[action]
        assert policy.allows(action, users[role], case) is expected, where
        if expected:
            policy.check(action, users[role], case)
        else:
            with pytest.raises(NotPermitted):
                policy.check(action, users[role], case)


@pytest.mark.parametrize("action", CASE_ACTIONS)
def test_city_staff_reach_every_district_below(world, db, users, campaign, action):
    for institution in (world.hospital, world.clinic, world.far_hospital):
        case = _case(world, db, campaign, institution, STATE_FOR[action])
        assert policy.allows(action, users["coordinator"], case)
        assert policy.allows("case_view", users["viewer"], case)
        assert policy.allows("case_view", users["inspector"], case)


def test_institution_user_sees_no_other_institution_in_the_same_district(world, db, users,
                                                                        campaign):
    case = _case(world, db, campaign, world.clinic, "mobilisation")
    assert world.clinic.region_id == world.hospital.region_id
    assert not policy.allows("case_view", users["institution"], case)


def test_district_coordinator_does_not_reach_a_sibling_district(world, db, users, campaign):
    case = _case(world, db, campaign, world.clinic, "mobilisation")
    assert not policy.allows("case_view", users["district_coordinator"], case)
    assert not policy.allows("case_start_rectification", users["district_coordinator"], case)


def test_region_prefix_is_not_a_subtree(world, db, users, campaign):
    # Paths /1/2/ and /1/23/ share a textual prefix without "/": only whole segments count.
    from casework.institutions.models import Institution, Region

    region = Region(code="640599", name="测试区", level="district", parent=world.city)
    db.session.add(region)
    db.session.flush()
    region.path = world.other_district.path.rstrip("/") + "9/"
    inst = Institution(code="X9", name="测试医院", type="clinic", level="ungraded",
                       ownership="private", region=region)
    db.session.add(inst)
    db.session.commit()
    case = _case(world, db, campaign, inst, "mobilisation")
    assert not policy.allows("case_view", users["district_coordinator"], case)


@pytest.mark.parametrize("action,allowed", [
    ("case_start_rectification", True),
    ("case_start_consolidation", True),
    ("case_designate_tackling", False),
    ("case_release_tackling", False),
    ("case_close", False),
    ("case_reopen", False),
    ("case_view", False),
    ("users_manage", False),
])
def test_system_actor_only_advances_phases(world, db, campaign, action, allowed):
    case = _case(world, db, campaign, world.hospital, STATE_FOR.get(action, "mobilisation"))
    assert policy.allows(action, policy.SYSTEM, case) is allowed


def test_a_lookalike_of_system_is_not_system(world, db, campaign):
    case = _case(world, db, campaign, world.hospital, "mobilisation")
    impostor = policy.SystemActor()
    assert impostor == policy.SYSTEM  # equal as data ...
    assert not policy.allows("case_start_rectification", impostor, case)  # ... but not SYSTEM


@pytest.mark.parametrize("action", [*CASE_ACTIONS, "campaign_view", "users_manage"])
def test_anonymous_may_do_nothing(world, db, campaign, action):
    case = _case(world, db, campaign, world.hospital, STATE_FOR.get(action, "mobilisation"))
    obj = campaign if action == "campaign_view" else case
    assert not policy.allows(action, AnonymousUserMixin(), obj)
    assert not policy.allows(action, None, obj)


@pytest.mark.parametrize("action", CASE_ACTIONS)
def test_admin_has_no_casework_powers(world, db, users, places, campaign, action):
    for key in ("hospital", "clinic", "far_hospital", "outside"):
        institution = places[key]
        case = _case(world, db, campaign, institution, STATE_FOR[action])
        assert not policy.allows(action, users["admin"], case)


# --- campaigns --------------------------------------------------------------------

@pytest.mark.parametrize("role,campaign_region,expected", [
    # a city-wide campaign: every region user of the city and below
    ("coordinator", "city", True),
    ("inspector", "city", True),
    ("viewer", "city", True),
    ("district_coordinator", "city", True),
    ("admin", "city", True),
    # a district campaign: the city above and that district, not a sibling district
    ("coordinator", "other_district", True),
    ("viewer", "other_district", True),
    ("district_coordinator", "other_district", True),
    ("district_coordinator", "district", False),
    # another city's campaign: nobody of this city
    ("coordinator", "yinchuan", False),
    ("inspector", "yinchuan", False),
    ("viewer", "yinchuan", False),
    ("district_coordinator", "yinchuan", False),
])
def test_campaign_view_for_region_roles(world, db, users, places, role, campaign_region,
                                        expected):
    region = places["yinchuan"] if campaign_region == "yinchuan" else \
        getattr(world, campaign_region)
    campaign = world.make_campaign(db, code=f"c-{campaign_region}", region=region)
    assert policy.allows("campaign_view", users[role], campaign) is expected


def test_campaign_view_for_institutions_needs_a_case_in_it(world, db, users, campaign):
    assert not policy.allows("campaign_view", users["institution"], campaign)
    world.make_case(db, institution=world.hospital, campaign=campaign)
    assert policy.allows("campaign_view", users["institution"], campaign)
    assert not policy.allows("campaign_view", users["other_institution"], campaign)


# --- administration ---------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_only_admin_manages_users(users, role):
    assert policy.allows("users_manage", users[role]) is (role == "admin")


# --- the door ---------------------------------------------------------------------

@pytest.mark.parametrize("action", [
    "case_explode", "order_acknowledge", "", "_role", "_coordinator_here", "allows", "check",
    "in_jurisdiction", "visible_institutions", "visible_campaigns", "SystemActor", "SYSTEM",
    "NotPermitted", "dataclass", "aliased", "sa", "REGION_ROLES", "__builtins__",
])
def test_allows_denies_anything_that_is_not_an_action(users, world, db, campaign, action):
    case = _case(world, db, campaign, world.hospital, "mobilisation")
    for actor in (users["coordinator"], users["admin"], policy.SYSTEM):
        assert policy.allows(action, actor, case) is False
        with pytest.raises(NotPermitted):
            policy.check(action, actor, case)


# --- coding standards (ckan TestActionAuth) ----------------------------------------

NOT_ACTIONS = {"allows", "check", "in_jurisdiction"}


def _public_functions():
    return {name: fn for name, fn in vars(policy).items()
            if inspect.isfunction(fn) and fn.__module__ == policy.__name__
            and not name.startswith("_")}


def _action_functions():
    return {name: fn for name, fn in _public_functions().items()
            if name not in NOT_ACTIONS and not name.startswith("visible_")}


def _machines_with_a_model():
    from casework.extensions import db

    # Records logged in history without a machine (disputes, interviews…) have a
    # `workflow` name too but no triggers.
    return sorted({mapper.class_.workflow for mapper in db.Model.registry.mappers
                   if getattr(mapper.class_, "workflow", None) in registry.all_names()})


def _source_outside_policy() -> str:
    files = [p for folder in ("casework", "workflows") for p in (ROOT / folder).rglob("*.py")
             if p != ROOT / "casework" / "policy.py"]
    assert files
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_every_trigger_of_a_persisted_machine_has_a_policy(app):
    machines = _machines_with_a_model()
    assert "case" in machines
    actions = _action_functions()
    missing = [f"{name}_{trigger}" for name in machines
               for trigger in registry.definition(name).TRIGGERS
               if f"{name}_{trigger}" not in actions]
    assert missing == [], f"triggers without a policy function in casework/policy.py: {missing}"
    for name in machines:
        for trigger in registry.definition(name).TRIGGERS:
            assert list(inspect.signature(actions[f"{name}_{trigger}"]).parameters)[:1] == \
                ["user"]


def test_every_policy_function_has_a_caller(app):
    source = _source_outside_policy()
    # binding.apply and binding.available_triggers check "<machine>_<trigger>" by name.
    binding_checks_by_name = 'f"{name}_{trigger}"' in (ROOT / "workflows" / "binding.py") \
        .read_text(encoding="utf-8")
    dynamic = {f"{name}_{trigger}" for name in _machines_with_a_model()
               for trigger in registry.definition(name).TRIGGERS} \
        if binding_checks_by_name else set()
    public = _public_functions()
    assert set(_action_functions()) >= {"campaign_view", "case_view", "users_manage",
                                        *CASE_TRIGGERS}
    unused = sorted(
        name for name in public
        if name not in dynamic and name != "in_jurisdiction"  # a helper of the rules
        and not re.search(rf"\b{re.escape(name)}\b", source)
    )
    assert unused == [], f"policy functions nobody calls: {unused}"



# --- every action name used anywhere exists ------------------------------------------

# allows("x", …), check("x", …), may("x", …) in code and templates, `require="x"` on the
# detail pages, and the actions of the navigation table.
ACTION_CALL = re.compile(r"""\b(?:allows|check|may)\(\s*["']([A-Za-z0-9_]+)["']""")
ACTION_KEYWORD = re.compile(r"""\brequire=["']([A-Za-z0-9_]+)["']""")


def _action_names_used(text: str) -> set[str]:
    return set(ACTION_CALL.findall(text)) | set(ACTION_KEYWORD.findall(text))


def _files_naming_actions():
    for folder, pattern in (("casework", "*.py"), ("workflows", "*.py"),
                            ("templates", "*.html")):
        for path in (ROOT / folder).rglob(pattern):
            if path != ROOT / "casework" / "policy.py":
                yield path


def test_every_action_name_used_anywhere_exists(app):
    """A misspelt action name would silently deny (allows() answers False): every name
    the code, the templates and the navigation ask about is a policy function."""
    from casework.web import NAVIGATION

    actions = set(_action_functions())
    used = {}
    for path in _files_naming_actions():
        for name in _action_names_used(path.read_text(encoding="utf-8")):
            used.setdefault(name, path.relative_to(ROOT).as_posix())
    for item in NAVIGATION:
        if item.action:
            used.setdefault(item.action, f"NAVIGATION[{item.endpoint}]")
    assert len(used) > 60, "the scan found too few action names to be reading the code"
    unknown = {name: where for name, where in used.items() if name not in actions}
    assert unknown == {}, f"action names with no policy function: {unknown}"


def test_the_action_name_scan_catches_a_misspelling():
    text = ('policy.allows("queue_veiw", user)\n{% if may("staff_manage", x) %}\n'
            'policy.check( "order_verify", actor, order)\n_detail_page(1, require="cas_view")')
    assert _action_names_used(text) == {"queue_veiw", "staff_manage", "order_verify",
                                        "cas_view"}
    assert "queue_veiw" not in _action_functions()


# --- the navigation is what the policy allows ------------------------------------------

NAV_EXPECTED = {
    "coordinator": {"dashboard.index", "campaigns.index", "cases.index", "orders.index",
                    "queue.index", "reports.index", "complaints.index", "disputes.index",
                    "bulletins.index", "points.index", "jobs.index"},
    # Inspectors read the progress reports of their cases: the menu shows them.
    "inspector": {"dashboard.index", "campaigns.index", "cases.index", "orders.index",
                  "reports.index", "complaints.index", "disputes.index", "points.index"},
    "viewer": {"dashboard.index", "campaigns.index", "cases.index", "orders.index",
               "queue.index", "reports.index", "complaints.index", "disputes.index",
               "bulletins.index", "points.index"},
    "institution": {"dashboard.index", "campaigns.index", "cases.index", "orders.index",
                    "reports.index", "disputes.index", "bulletins.index", "points.index"},
    "admin": {"dashboard.index", "campaigns.index", "users.index", "workdays.index",
              "settings.edit", "jobs.index"},
}


@pytest.mark.parametrize("role", sorted(NAV_EXPECTED))
def test_navigation_is_what_the_policy_allows(app, client, login, users, role):
    from casework.web import NAVIGATION, nav_items

    login.as_(role)
    with app.test_request_context():
        from flask_login import login_user

        login_user(users[role])
        items = nav_items()
    endpoints = [endpoint for endpoint, _label, _icon, _primary in items]
    assert set(endpoints) == NAV_EXPECTED[role]
    # In the table's order, each entry exactly when its action is allowed.
    assert endpoints == [i.endpoint for i in NAVIGATION if i.endpoint in endpoints]
    for item in NAVIGATION:
        if item.action:
            assert (item.endpoint in endpoints) == policy.allows(item.action, users[role])
    # Every entry the menu shows opens for the role.
    for endpoint in endpoints:
        with app.test_request_context():
            from flask import url_for

            path = url_for(endpoint)
        assert client.get(path, follow_redirects=True).status_code == 200, path


@pytest.mark.parametrize("path", ["/cases/", "/reports/", "/bulletins/"])
def test_a_list_the_policy_refuses_is_forbidden_not_empty(client, login, path):
    login.as_("admin")
    assert client.get(path).status_code == 403
