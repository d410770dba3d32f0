"""Progress report machine: every transition, guard and illegal trigger."""

import datetime as dt
from types import SimpleNamespace

import pytest
from transitions import MachineError

from workflows import registry, report

DUE_ON = dt.date(2025, 6, 30)

EXPECTED = {
    ("submit", "pending"): "submitted",
    ("submit", "returned"): "submitted",
    ("submit", "overdue"): "submitted",
    ("accept", "submitted"): "accepted",
    ("return", "submitted"): "returned",
    ("mark_overdue", "pending"): "overdue",
    ("mark_overdue", "returned"): "overdue",
}

VALID_KWARGS = {
    "submit": {},
    "accept": {},
    "return": {"comment": "Figures for May are missing."},
    "mark_overdue": {"today": DUE_ON + dt.timedelta(days=1)},
}


def make_row(state, body="Twelve of fifteen units rectified."):
    return SimpleNamespace(state=state, body=body, due_on=DUE_ON)


def test_contract_names():
    assert report.NAME == "report"
    assert report.STATES == ("pending", "submitted", "returned", "overdue", "accepted")
    assert report.INITIAL == "pending"
    assert report.TRIGGERS == ("submit", "accept", "return", "mark_overdue")


@pytest.mark.parametrize("state", report.STATES)
def test_allowed_triggers_match_contract(state):
    expected = [t for t in report.TRIGGERS if (t, state) in EXPECTED]
    assert registry.allowed_triggers("report", state) == expected


@pytest.mark.parametrize(("trigger", "source"), sorted(EXPECTED))
def test_transition(trigger, source):
    row = make_row(source)
    assert registry.fire("report", row, trigger, **VALID_KWARGS[trigger]) is True
    assert row.state == EXPECTED[(trigger, source)]


ILLEGAL = [(t, s) for s in report.STATES for t in report.TRIGGERS if (t, s) not in EXPECTED]


@pytest.mark.parametrize(("trigger", "source"), ILLEGAL)
def test_illegal_trigger_rejected(trigger, source):
    row = make_row(source)
    with pytest.raises(MachineError):
        registry.fire("report", row, trigger, **VALID_KWARGS[trigger])
    assert row.state == source


@pytest.mark.parametrize("body", [None, "", "  \n "])
def test_submit_needs_body(body):
    row = make_row("pending", body=body)
    assert registry.fire("report", row, "submit") is False
    assert row.state == "pending"
    assert registry.failed_guards("report", row, "submit") == ["The report is empty."]


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_return_needs_reason(comment):
    row = make_row("submitted")
    kwargs = {} if comment is None else {"comment": comment}
    assert registry.fire("report", row, "return", **kwargs) is False
    assert row.state == "submitted"
    assert registry.failed_guards("report", row, "return", **kwargs) == ["A reason is required."]


@pytest.mark.parametrize("today", [DUE_ON, DUE_ON - dt.timedelta(days=10), None])
def test_mark_overdue_only_after_due_date(today):
    row = make_row("pending")
    kwargs = {} if today is None else {"today": today}
    assert registry.fire("report", row, "mark_overdue", **kwargs) is False
    assert row.state == "pending"
    assert registry.failed_guards("report", row, "mark_overdue", **kwargs) == [
        "The due date (2025-06-30) has not passed."
    ]


def test_overdue_report_can_still_be_submitted_and_accepted():
    row = make_row("pending")
    assert registry.fire("report", row, "mark_overdue", today=dt.date(2025, 7, 1))
    assert registry.fire("report", row, "submit")
    assert registry.fire("report", row, "accept")
    assert row.state == "accepted"
