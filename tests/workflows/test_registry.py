"""Registry: shared machines, firing on unattached rows, guard explanations; guard helpers."""

import ast
import datetime as dt
import pathlib
import types
from types import SimpleNamespace

import pytest
from transitions import Machine, MachineError

from workflows import (
    bulletin,
    case,
    complaint,
    extension,
    guards,
    interview,
    order,
    registry,
    report,
)

WORKFLOWS_DIR = pathlib.Path(registry.__file__).parent
ALL = ("case", "order", "complaint", "report", "bulletin", "interview", "extension")


class SlottedReport:
    """A row that cannot grow attributes: any method or flag set on it would raise."""

    __slots__ = ("state", "body", "due_on")

    def __init__(self, state):
        self.state = state
        self.body = "Progress."
        self.due_on = dt.date(2025, 1, 31)


# Registry --------------------------------------------------------------------------------


def test_all_names_and_definitions():
    assert registry.all_names() == ALL
    modules = (case, order, complaint, report, bulletin, interview, extension)
    for name, module in zip(ALL, modules, strict=True):
        assert registry.definition(name) is module
        assert module.NAME == name


@pytest.mark.parametrize("call", [registry.definition, registry.machine])
def test_unknown_machine_name(call):
    with pytest.raises(KeyError):
        call("invoice")


@pytest.mark.parametrize("name", ALL)
def test_machine_built_once_with_contract_settings(name):
    m = registry.machine(name)
    assert registry.machine(name) is m
    assert isinstance(m, Machine)
    assert m.models == []
    assert m.send_event is True
    assert m.auto_transitions is False
    assert m.model_attribute == "state"
    assert m.ignore_invalid_triggers is False
    assert m.has_queue is False
    assert m.initial == registry.definition(name).INITIAL
    assert tuple(m.states) == registry.definition(name).STATES
    # Exactly the defined triggers: no auto `to_<state>` events that would skip guards.
    assert tuple(m.events) == registry.definition(name).TRIGGERS


@pytest.mark.parametrize("name", ALL)
def test_definitions_are_consistent(name):
    module = registry.definition(name)
    assert len(set(module.STATES)) == len(module.STATES)
    assert module.INITIAL in module.STATES
    assert module.TRIGGERS == tuple(dict.fromkeys(t["trigger"] for t in module.TRANSITIONS))
    for spec in module.TRANSITIONS:
        assert set(spec) == {"trigger", "source", "dest", "conditions"}
        sources = spec["source"] if isinstance(spec["source"], list) else [spec["source"]]
        assert set(sources) <= set(module.STATES), spec
        assert spec["dest"] is None or spec["dest"] in module.STATES, spec
        assert all(guards.is_guard(g) for g in spec["conditions"]), spec


@pytest.mark.parametrize("name", ALL)
def test_every_state_reachable_from_initial(name):
    module = registry.definition(name)
    reached, frontier = {module.INITIAL}, [module.INITIAL]
    while frontier:
        state = frontier.pop()
        for spec in module.TRANSITIONS:
            sources = spec["source"] if isinstance(spec["source"], list) else [spec["source"]]
            if state in sources and spec["dest"] and spec["dest"] not in reached:
                reached.add(spec["dest"])
                frontier.append(spec["dest"])
    assert reached == set(module.STATES)


def test_misspelt_state_in_definition_is_refused(monkeypatch):
    broken = types.ModuleType("broken")
    broken.NAME = "broken"
    broken.STATES = ("draft", "published")
    broken.INITIAL = "draft"
    broken.TRANSITIONS = [
        {"trigger": "publish", "source": "drafts", "dest": "published", "conditions": []}
    ]
    broken.TRIGGERS = ("publish",)
    monkeypatch.setitem(registry._DEFINITIONS, "broken", broken)
    with pytest.raises(ValueError, match="drafts"):
        registry.machine("broken")


def test_unmarked_condition_is_refused(monkeypatch):
    broken = types.ModuleType("broken2")
    broken.NAME = "broken2"
    broken.STATES = ("draft", "published")
    broken.INITIAL = "draft"
    broken.TRANSITIONS = [
        {"trigger": "publish", "source": "draft", "dest": "published",
         "conditions": [lambda event: True]}
    ]
    broken.TRIGGERS = ("publish",)
    monkeypatch.setitem(registry._DEFINITIONS, "broken2", broken)
    with pytest.raises(ValueError, match="@guard"):
        registry.machine("broken2")


def test_fire_leaves_machine_unattached_and_row_unchanged_but_for_state():
    row = SimpleNamespace(state="pending", body="Progress.", due_on=dt.date(2025, 1, 31))
    before = dir(row)
    assert registry.fire("report", row, "submit") is True
    assert registry.fire("report", row, "return", comment="Too short.") is True
    assert registry.fire("report", row, "mark_overdue", today=dt.date(2025, 2, 1)) is True
    assert row == SimpleNamespace(state="overdue", body="Progress.", due_on=dt.date(2025, 1, 31))
    assert dir(row) == before
    assert registry.machine("report").models == []


def test_fire_works_on_object_that_cannot_grow_attributes():
    row = SlottedReport("pending")
    assert registry.fire("report", row, "submit") is True
    assert row.state == "submitted"
    assert registry.failed_guards("report", row, "return") == ["A reason is required."]
    assert registry.machine("report").models == []


def test_blocked_fire_returns_false_and_leaves_row_alone():
    row = SimpleNamespace(state="consolidation", blocking_orders=[], unfinished_orders=["X"],
                          final_summary="Done.")
    snapshot = dict(vars(row))
    assert registry.fire("case", row, "close") is False
    assert vars(row) == snapshot
    assert registry.machine("case").models == []


def test_rows_do_not_share_state():
    a = SimpleNamespace(state="draft")
    b = SimpleNamespace(state="draft")
    registry.fire("bulletin", a, "publish")
    assert (a.state, b.state) == ("published", "draft")


def test_fire_unknown_trigger_raises_key_error():
    row = SimpleNamespace(state="draft")
    with pytest.raises(KeyError):
        registry.fire("bulletin", row, "unpublish")
    with pytest.raises(KeyError):
        registry.fire("bulletin", row, "to_published")  # auto transitions are off
    assert row.state == "draft"


def test_fire_illegal_trigger_raises_machine_error():
    row = SimpleNamespace(state="closed", deadline=dt.date(2025, 1, 1))
    with pytest.raises(MachineError, match="closed"):
        registry.fire("order", row, "acknowledge")
    assert row.state == "closed"


def test_fire_on_row_in_unknown_state_raises():
    with pytest.raises(ValueError):
        registry.fire("bulletin", SimpleNamespace(state="archived"), "publish")


def test_allowed_triggers_in_trigger_order_and_unknown_state():
    assert registry.allowed_triggers("order", "returned") == [
        "submit", "mark_overdue", "escalate", "extend", "cancel",
    ]
    with pytest.raises(ValueError):
        registry.allowed_triggers("order", "archived")


def test_failed_guards_raise_like_fire_and_do_not_change_row():
    row = SimpleNamespace(state="draft")
    with pytest.raises(KeyError):
        registry.failed_guards("bulletin", row, "unpublish")
    row.state = "published"
    with pytest.raises(MachineError):
        registry.failed_guards("bulletin", row, "publish")
    order_row = SimpleNamespace(state="submitted", deadline=dt.date(2025, 1, 1))
    assert registry.failed_guards("order", order_row, "return") == ["A reason is required."]
    assert order_row.state == "submitted"
    assert registry.failed_guards("order", order_row, "return", comment="Blurry photos.") == []


def test_workflows_import_no_flask_or_sqlalchemy():
    # binding.py (the lead's) is the one module allowed to know about the database.
    for path in sorted(WORKFLOWS_DIR.glob("*.py")):
        if path.name == "binding.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for imported in names:
                top = imported.split(".")[0].lower()
                assert not top.startswith(("flask", "sqlalchemy", "casework")), (path, imported)


# Guards ----------------------------------------------------------------------------------


def event_with(**kwargs):
    return SimpleNamespace(model=SimpleNamespace(), kwargs=kwargs)


def test_guard_marks_function_with_text_message():
    @guards.guard("Nope.")
    def always_false(event):
        return False

    assert always_false(event_with()) is False  # still the plain function
    assert guards.is_guard(always_false)
    assert guards.guard_message(always_false, event_with()) == "Nope."


def test_guard_with_callable_message_gets_the_event():
    @guards.guard(lambda event: f"Missing: {event.kwargs['what']}.")
    def check(event):
        return False

    assert guards.guard_message(check, event_with(what="photo")) == "Missing: photo."


def test_guard_rejects_bad_message_and_unmarked_functions():
    with pytest.raises(TypeError):
        guards.guard(42)
    with pytest.raises(TypeError):
        guards.guard_message(lambda event: True, event_with())
    assert not guards.is_guard(lambda event: True)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"comment": "Evidence incomplete."}, True),
        ({"comment": " x "}, True),
        ({"comment": ""}, False),
        ({"comment": " \t\n"}, False),
        ({"comment": None}, False),
        ({"comment": 5}, False),
        ({}, False),
    ],
)
def test_reason_given(kwargs, expected):
    assert guards.reason_given(event_with(**kwargs)) is expected
    assert guards.guard_message(guards.reason_given, event_with()) == "A reason is required."


@pytest.mark.parametrize(
    ("later", "earlier", "expected"),
    [
        (dt.date(2025, 1, 2), dt.date(2025, 1, 1), True),
        (dt.date(2025, 1, 1), dt.date(2025, 1, 1), False),
        (dt.datetime(2025, 1, 1, 23, 59), dt.date(2025, 1, 1), False),
        (dt.datetime(2025, 1, 2, 0, 0), dt.date(2025, 1, 1), True),
        ("2025-01-02", dt.date(2025, 1, 1), False),
        (dt.date(2025, 1, 2), None, False),
    ],
)
def test_date_after(later, earlier, expected):
    assert guards.date_after(later, earlier) is expected



# What guards read ------------------------------------------------------------------------

class OnlyDeclared:
    """A row with `state` and the declared attributes only (all None): reading any other
    attribute raises, as it would cost a query per row in a batch."""

    def __init__(self, state, attributes):
        self.__dict__.update(dict.fromkeys(attributes), state=state)

    def __getattr__(self, attribute):
        raise AttributeError(f"guard read undeclared attribute {attribute!r}")


@pytest.mark.parametrize("name", ALL)
def test_guards_read_only_the_attributes_they_declare(name):
    module = registry.definition(name)
    for trigger in module.TRIGGERS:
        reads = registry.guard_reads(name, trigger)
        for state in module.STATES:
            if trigger in registry.allowed_triggers(name, state):
                # Every guard and its message run (failed_guards evaluates all of them).
                registry.failed_guards(name, OnlyDeclared(state, reads), trigger)


def test_guard_reads_of_the_sweeps_triggers():
    assert registry.guard_reads("order", "mark_overdue") == ("deadline",)
    assert registry.guard_reads("order", "escalate") == ()
    assert registry.guard_reads("report", "mark_overdue") == ("due_on",)
    assert registry.guard_reads("case", "start_consolidation") == ("blocking_orders",)
    assert registry.guard_reads("case", "close") == ("unfinished_orders", "final_summary")
    with pytest.raises(KeyError):
        registry.guard_reads("order", "fly")
    with pytest.raises(TypeError):
        guards.guard("Nope.", reads="deadline")


# State sets the application reads from the definitions ----------------------------------


def test_needs_reason_is_every_trigger_guarded_by_reason_given():
    assert registry.needs_reason("case") == {"designate_tackling", "release_tackling", "reopen"}
    assert registry.needs_reason("order") == {"return", "cancel"}
    assert registry.needs_reason("report") == {"return"}
    assert registry.needs_reason("complaint") == frozenset()
    for name in ALL:
        module = registry.definition(name)
        assert registry.needs_reason(name) == {
            spec["trigger"] for spec in module.TRANSITIONS
            if guards.reason_given in spec["conditions"]}
    with pytest.raises(KeyError):
        registry.needs_reason("invoice")


def test_state_sets_follow_the_transitions():
    # A report is written while it can be submitted; an extension is asked for while the
    # order can be extended.
    assert report.EDITABLE_STATES == set(registry.sources("report", "submit")) == {
        "pending", "returned", "overdue"}
    assert order.EXTENDABLE_STATES == set(registry.sources("order", "extend")) == {
        "issued", "acknowledged", "returned", "overdue", "escalated"}
    assert case.CLOSED_STATES == {"closed"}
    assert case.CLOSED_STATES | case.ACTIVE_STATES == set(case.STATES)
    assert complaint.OPEN_STATES == ("received", "assigned", "investigating")
    assert set(complaint.OPEN_STATES) < set(complaint.STATES)
    for module in (interview, extension):
        assert module.OPEN_STATES == {module.INITIAL}
        assert module.CREATION_EVENT not in module.TRIGGERS


def test_destination_is_the_one_state_a_trigger_leads_to():
    assert registry.destination("interview", "hold") == "held"
    assert registry.destination("extension", "approve") == "approved"
    assert registry.destination("order", "escalate") == "escalated"
    with pytest.raises(KeyError):
        registry.destination("order", "no_such_trigger")

    assert registry.triggers_into("order", "escalated") == ("escalate",)
    assert registry.sources("order", "no_such_trigger") == ()


def test_destination_refuses_a_trigger_with_several(monkeypatch):
    from workflows import case

    transitions = [*case.TRANSITIONS,
                   {"trigger": "close", "source": "tackling", "dest": "rectification",
                    "conditions": []}]
    monkeypatch.setattr(case, "TRANSITIONS", transitions)
    with pytest.raises(ValueError, match="case.close"):
        registry.destination("case", "close")
