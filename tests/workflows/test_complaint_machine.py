"""Complaint machine: every transition, guard and illegal trigger."""

from types import SimpleNamespace

import pytest
from transitions import MachineError

from workflows import complaint, registry

EXPECTED = {
    ("assign", "received"): "assigned",
    ("investigate", "assigned"): "investigating",
    ("conclude", "investigating"): "concluded",
    ("reply", "concluded"): "replied",
    ("close", "replied"): "closed",
    ("close", "transferred"): "closed",
    ("transfer", "received"): "transferred",
}

VALID_KWARGS = {
    "assign": {"handler_id": 7},
    "investigate": {},
    "conclude": {"outcome": "substantiated"},
    "reply": {"comment": "We inspected the clinic on 3 March."},
    "close": {},
    "transfer": {"department": "medical_insurance"},
}


def make_row(state):
    return SimpleNamespace(state=state)


def test_contract_names():
    assert complaint.NAME == "complaint"
    assert complaint.STATES == (
        "received", "assigned", "investigating", "concluded", "replied", "transferred", "closed",
    )
    assert complaint.INITIAL == "received"
    assert complaint.TRIGGERS == ("assign", "investigate", "conclude", "reply", "close", "transfer")
    assert complaint.TRANSFER_DEPARTMENTS == (
        "market_supervision", "medical_insurance", "public_security", "discipline_inspection",
    )


@pytest.mark.parametrize("state", complaint.STATES)
def test_allowed_triggers_match_contract(state):
    expected = [t for t in complaint.TRIGGERS if (t, state) in EXPECTED]
    assert registry.allowed_triggers("complaint", state) == expected


@pytest.mark.parametrize(("trigger", "source"), sorted(EXPECTED))
def test_transition(trigger, source):
    row = make_row(source)
    assert registry.fire("complaint", row, trigger, **VALID_KWARGS[trigger]) is True
    assert row.state == EXPECTED[(trigger, source)]


ILLEGAL = [
    (t, s) for s in complaint.STATES for t in complaint.TRIGGERS if (t, s) not in EXPECTED
]


@pytest.mark.parametrize(("trigger", "source"), ILLEGAL)
def test_illegal_trigger_rejected(trigger, source):
    row = make_row(source)
    with pytest.raises(MachineError):
        registry.fire("complaint", row, trigger, **VALID_KWARGS[trigger])
    assert row.state == source


@pytest.mark.parametrize("kwargs", [{}, {"handler_id": None}, {"handler_id": 0}, {"handler_id": ""}])
def test_assign_needs_handler(kwargs):
    row = make_row("received")
    assert registry.fire("complaint", row, "assign", **kwargs) is False
    assert row.state == "received"
    assert registry.failed_guards("complaint", row, "assign", **kwargs) == ["A handler is required."]


@pytest.mark.parametrize("outcome", ["substantiated", "unsubstantiated"])
def test_conclude_with_either_outcome(outcome):
    row = make_row("investigating")
    assert registry.fire("complaint", row, "conclude", outcome=outcome) is True
    assert row.state == "concluded"


@pytest.mark.parametrize("kwargs", [{}, {"outcome": "maybe"}, {"outcome": "Substantiated"}])
def test_conclude_needs_known_outcome(kwargs):
    row = make_row("investigating")
    assert registry.fire("complaint", row, "conclude", **kwargs) is False
    assert row.state == "investigating"
    assert registry.failed_guards("complaint", row, "conclude", **kwargs) == [
        "The outcome must be substantiated or unsubstantiated."
    ]


@pytest.mark.parametrize("kwargs", [{}, {"comment": ""}, {"comment": "  "}, {"comment": None}])
def test_reply_needs_text(kwargs):
    row = make_row("concluded")
    assert registry.fire("complaint", row, "reply", **kwargs) is False
    assert row.state == "concluded"
    assert registry.failed_guards("complaint", row, "reply", **kwargs) == ["A reply is required."]


@pytest.mark.parametrize("department", complaint.TRANSFER_DEPARTMENTS)
def test_transfer_to_each_department(department):
    row = make_row("received")
    assert registry.fire("complaint", row, "transfer", department=department) is True
    assert row.state == "transferred"


@pytest.mark.parametrize("kwargs", [{}, {"department": "police"}, {"department": ""}])
def test_transfer_needs_known_department(kwargs):
    row = make_row("received")
    assert registry.fire("complaint", row, "transfer", **kwargs) is False
    assert row.state == "received"
    assert registry.failed_guards("complaint", row, "transfer", **kwargs) == [
        "The department must be one of: market_supervision, medical_insurance, "
        "public_security, discipline_inspection."
    ]
