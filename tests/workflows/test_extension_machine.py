"""Extension request machine: every transition, guard and illegal trigger (no database)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from transitions import MachineError

from workflows import extension, registry

EXPECTED = {
    ("approve", "pending"): "approved",
    ("decline", "pending"): "declined",
}
VALID_KWARGS = {"approve": {"new_deadline": dt.date(2025, 4, 30)},
                "decline": {"comment": "Not enough grounds."}}


def test_contract_names():
    assert extension.NAME == "extension"
    # The values stored in extension_request.status, unchanged.
    assert extension.STATES == ("pending", "approved", "declined")
    assert extension.INITIAL == "pending"
    assert extension.TRIGGERS == ("approve", "decline")
    assert extension.CREATION_EVENT == "request"
    assert extension.OPEN_STATES == {"pending"}


@pytest.mark.parametrize("state", extension.STATES)
def test_allowed_triggers(state):
    expected = [t for t in extension.TRIGGERS if (t, state) in EXPECTED]
    assert registry.allowed_triggers("extension", state) == expected


@pytest.mark.parametrize(("trigger", "source"), sorted(EXPECTED))
def test_transition(trigger, source):
    row = SimpleNamespace(state=source)
    assert registry.fire("extension", row, trigger, **VALID_KWARGS[trigger]) is True
    assert row.state == EXPECTED[(trigger, source)]


@pytest.mark.parametrize(("trigger", "source"),
                         [(t, s) for s in extension.STATES for t in extension.TRIGGERS
                          if (t, s) not in EXPECTED])
def test_a_decided_request_is_final(trigger, source):
    row = SimpleNamespace(state=source)
    with pytest.raises(MachineError):
        registry.fire("extension", row, trigger, **VALID_KWARGS[trigger])
    assert row.state == source


@pytest.mark.parametrize("new_deadline", [None, "2025-04-30", 20250430])
def test_approve_needs_a_date(new_deadline):
    row = SimpleNamespace(state="pending")
    assert registry.fire("extension", row, "approve", new_deadline=new_deadline) is False
    assert registry.failed_guards("extension", row, "approve", new_deadline=new_deadline) == [
        "A new deadline is required."]
    assert row.state == "pending"


def test_decline_needs_a_reason():
    row = SimpleNamespace(state="pending")
    assert registry.fire("extension", row, "decline", comment=" ") is False
    assert registry.failed_guards("extension", row, "decline", comment=" ") == [
        "A reason is required."]
    assert registry.needs_reason("extension") == {"decline"}
