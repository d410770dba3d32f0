"""Rectification order machine: every transition, guard and illegal trigger."""

import datetime as dt
from types import SimpleNamespace

import pytest
from transitions import MachineError

from workflows import order, registry

DEADLINE = dt.date(2025, 3, 31)

# (trigger, source) -> dest, the whole DESIGN.md contract; None = internal (state unchanged).
EXPECTED = {
    ("acknowledge", "issued"): "acknowledged",
    ("submit", "acknowledged"): "submitted",
    ("submit", "returned"): "submitted",
    ("submit", "overdue"): "submitted",
    ("submit", "escalated"): "submitted",
    ("verify", "submitted"): "closed",
    ("return", "submitted"): "returned",
    ("mark_overdue", "issued"): "overdue",
    ("mark_overdue", "acknowledged"): "overdue",
    ("mark_overdue", "returned"): "overdue",
    ("escalate", "issued"): "escalated",
    ("escalate", "acknowledged"): "escalated",
    ("escalate", "returned"): "escalated",
    ("escalate", "overdue"): "escalated",
    ("extend", "overdue"): "acknowledged",
    ("extend", "escalated"): "acknowledged",
    ("extend", "issued"): None,
    ("extend", "acknowledged"): None,
    ("extend", "returned"): None,
    ("cancel", "issued"): "cancelled",
    ("cancel", "acknowledged"): "cancelled",
    ("cancel", "submitted"): "cancelled",
    ("cancel", "returned"): "cancelled",
    ("cancel", "overdue"): "cancelled",
    ("cancel", "escalated"): "cancelled",
}

# Keyword arguments that satisfy each trigger's guards.
VALID_KWARGS = {
    "acknowledge": {},
    "submit": {"report": "Fixed the fire exits.", "evidence_count": 2},
    "verify": {},
    "return": {"comment": "Photos missing."},
    "mark_overdue": {"today": DEADLINE + dt.timedelta(days=1)},
    "escalate": {},
    "extend": {"new_deadline": DEADLINE + dt.timedelta(days=14)},
    "cancel": {"comment": "Issued in error."},
}


def make_row(state):
    return SimpleNamespace(state=state, deadline=DEADLINE)


def test_contract_names():
    assert order.NAME == "order"
    assert order.STATES == (
        "issued", "acknowledged", "submitted", "returned", "overdue", "escalated", "closed",
        "cancelled",
    )
    assert order.INITIAL == "issued"
    assert order.TRIGGERS == (
        "acknowledge", "submit", "verify", "return", "mark_overdue", "escalate", "extend", "cancel",
    )
    assert order.OPEN_STATES == {
        "issued", "acknowledged", "submitted", "returned", "overdue", "escalated",
    }
    assert order.FINAL_STATES == {"closed", "cancelled"}
    assert order.OPEN_STATES | order.FINAL_STATES == set(order.STATES)


@pytest.mark.parametrize("state", order.STATES)
def test_allowed_triggers_match_contract(state):
    expected = [t for t in order.TRIGGERS if (t, state) in EXPECTED]
    assert registry.allowed_triggers("order", state) == expected


def test_final_states_allow_nothing():
    for state in order.FINAL_STATES:
        assert registry.allowed_triggers("order", state) == []


@pytest.mark.parametrize(("trigger", "source"), sorted(EXPECTED))
def test_transition(trigger, source):
    row = make_row(source)
    assert registry.fire("order", row, trigger, **VALID_KWARGS[trigger]) is True
    dest = EXPECTED[(trigger, source)]
    assert row.state == (source if dest is None else dest)


ILLEGAL = [(t, s) for s in order.STATES for t in order.TRIGGERS if (t, s) not in EXPECTED]


@pytest.mark.parametrize(("trigger", "source"), ILLEGAL)
def test_illegal_trigger_rejected(trigger, source):
    row = make_row(source)
    with pytest.raises(MachineError):
        registry.fire("order", row, trigger, **VALID_KWARGS[trigger])
    assert row.state == source


# submit ----------------------------------------------------------------------------------

SUBMIT_MESSAGE = "A report and at least one evidence file are required."


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"report": "Done.", "evidence_count": 0},
        {"report": "Done."},
        {"report": "   ", "evidence_count": 1},
        {"report": None, "evidence_count": 3},
        {"evidence_count": 1},
        {"report": "Done.", "evidence_count": "1"},
        {"report": "Done.", "evidence_count": True},
    ],
)
def test_submit_blocked_without_report_and_evidence(kwargs):
    row = make_row("acknowledged")
    assert registry.fire("order", row, "submit", **kwargs) is False
    assert row.state == "acknowledged"
    assert registry.failed_guards("order", row, "submit", **kwargs) == [SUBMIT_MESSAGE]


def test_submit_with_one_evidence_file_passes():
    row = make_row("returned")
    kwargs = {"report": "Done.", "evidence_count": 1}
    assert registry.failed_guards("order", row, "submit", **kwargs) == []
    assert registry.fire("order", row, "submit", **kwargs) is True
    assert row.state == "submitted"


# return / cancel -------------------------------------------------------------------------


@pytest.mark.parametrize(("trigger", "source"), [("return", "submitted"), ("cancel", "overdue")])
@pytest.mark.parametrize("comment", [None, "", "  \n", 42])
def test_reason_required(trigger, source, comment):
    row = make_row(source)
    kwargs = {} if comment is None else {"comment": comment}
    assert registry.fire("order", row, trigger, **kwargs) is False
    assert row.state == source
    assert registry.failed_guards("order", row, trigger, **kwargs) == ["A reason is required."]


# mark_overdue ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today",
    [DEADLINE, DEADLINE - dt.timedelta(days=1), None, "2099-01-01"],
)
def test_mark_overdue_blocked_until_deadline_passed(today):
    row = make_row("acknowledged")
    kwargs = {} if today is None else {"today": today}
    assert registry.fire("order", row, "mark_overdue", **kwargs) is False
    assert row.state == "acknowledged"
    assert registry.failed_guards("order", row, "mark_overdue", **kwargs) == [
        "The deadline (2025-03-31) has not passed."
    ]


def test_mark_overdue_day_after_deadline_and_datetime_today():
    row = make_row("issued")
    assert registry.fire("order", row, "mark_overdue", today=dt.datetime(2025, 4, 1, 0, 5))
    assert row.state == "overdue"


def test_mark_overdue_never_without_deadline():
    row = SimpleNamespace(state="issued", deadline=None)
    assert registry.fire("order", row, "mark_overdue", today=dt.date(2099, 1, 1)) is False
    assert registry.failed_guards("order", row, "mark_overdue", today=dt.date(2099, 1, 1)) == [
        "The order has no deadline."
    ]


# extend ----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["issued", "acknowledged", "returned", "overdue", "escalated"])
@pytest.mark.parametrize("new_deadline", [DEADLINE, DEADLINE - dt.timedelta(days=3), None, "soon"])
def test_extend_needs_later_deadline(source, new_deadline):
    row = make_row(source)
    kwargs = {} if new_deadline is None else {"new_deadline": new_deadline}
    assert registry.fire("order", row, "extend", **kwargs) is False
    assert row.state == source
    assert registry.failed_guards("order", row, "extend", **kwargs) == [
        "The new deadline must be later than the current one (2025-03-31)."
    ]


def test_extend_is_internal_and_leaves_deadline_to_caller():
    row = make_row("returned")
    assert registry.fire("order", row, "extend", new_deadline=dt.date(2025, 4, 30)) is True
    assert row.state == "returned"
    assert row.deadline == DEADLINE


def test_extend_without_current_deadline_accepts_any_date():
    row = SimpleNamespace(state="escalated", deadline=None)
    assert registry.failed_guards("order", row, "extend") == ["A new deadline is required."]
    assert registry.fire("order", row, "extend", new_deadline=dt.date(2025, 1, 1)) is True
    assert row.state == "acknowledged"


def test_full_happy_path():
    row = make_row(order.INITIAL)
    for trigger in ("acknowledge", "submit", "return", "submit", "verify"):
        assert registry.fire("order", row, trigger, **VALID_KWARGS[trigger])
    assert row.state == "closed"
