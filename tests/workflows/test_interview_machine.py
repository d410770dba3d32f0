"""Interview machine: every transition, guard and illegal trigger (no database)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from transitions import MachineError

from workflows import interview, registry

EXPECTED = {
    ("hold", "scheduled"): "held",
    ("cancel", "scheduled"): "cancelled",
}
VALID_KWARGS = {"hold": {}, "cancel": {"comment": "The director is abroad."}}


def make_row(state, held_on=dt.date(2025, 5, 6), minutes="Ordered to rectify."):
    return SimpleNamespace(state=state, held_on=held_on, minutes=minutes)


def test_contract_names():
    assert interview.NAME == "interview"
    assert interview.STATES == ("scheduled", "held", "cancelled")
    assert interview.INITIAL == "scheduled"
    assert interview.TRIGGERS == ("hold", "cancel")
    # Creation is the history event "schedule", not a transition.
    assert interview.CREATION_EVENT == "schedule"
    assert interview.OPEN_STATES == {"scheduled"}


@pytest.mark.parametrize("state", interview.STATES)
def test_allowed_triggers(state):
    expected = [t for t in interview.TRIGGERS if (t, state) in EXPECTED]
    assert registry.allowed_triggers("interview", state) == expected


@pytest.mark.parametrize(("trigger", "source"), sorted(EXPECTED))
def test_transition(trigger, source):
    row = make_row(source)
    assert registry.fire("interview", row, trigger, **VALID_KWARGS[trigger]) is True
    assert row.state == EXPECTED[(trigger, source)]


@pytest.mark.parametrize(("trigger", "source"),
                         [(t, s) for s in interview.STATES for t in interview.TRIGGERS
                          if (t, s) not in EXPECTED])
def test_held_and_cancelled_are_final(trigger, source):
    row = make_row(source)
    with pytest.raises(MachineError):
        registry.fire("interview", row, trigger, **VALID_KWARGS[trigger])
    assert row.state == source


@pytest.mark.parametrize("row", [make_row("scheduled", held_on=None),
                                 make_row("scheduled", minutes=" "),
                                 make_row("scheduled", minutes=None)])
def test_hold_needs_the_date_and_minutes(row):
    assert registry.fire("interview", row, "hold") is False
    assert row.state == "scheduled"
    assert registry.failed_guards("interview", row, "hold") == [
        "Enter the date the interview was held and its minutes."]


@pytest.mark.parametrize("comment", [None, "", "  "])
def test_cancel_needs_a_reason(comment):
    row = make_row("scheduled")
    assert registry.fire("interview", row, "cancel", comment=comment) is False
    assert registry.failed_guards("interview", row, "cancel", comment=comment) == [
        "A reason is required."]
    assert row.state == "scheduled"


def test_guard_reads_and_reasons():
    assert registry.guard_reads("interview", "hold") == ("held_on", "minutes")
    assert registry.needs_reason("interview") == {"cancel"}
