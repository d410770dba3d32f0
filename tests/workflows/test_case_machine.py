"""Inspection case machine: every transition, guard and illegal trigger."""

from types import SimpleNamespace

import pytest
from transitions import MachineError

from workflows import case, registry

EXPECTED = {
    ("start_rectification", "mobilisation"): "rectification",
    ("designate_tackling", "rectification"): "tackling",
    ("release_tackling", "tackling"): "rectification",
    ("start_consolidation", "rectification"): "consolidation",
    ("close", "consolidation"): "closed",
    ("reopen", "closed"): "consolidation",
}

VALID_KWARGS = {
    "start_rectification": {},
    "designate_tackling": {"comment": "Three units lagging."},
    "release_tackling": {"comment": "Units caught up."},
    "start_consolidation": {},
    "close": {},
    "reopen": {"comment": "New evidence."},
}


def make_row(state, blocking=(), unfinished=(), summary="All orders verified."):
    return SimpleNamespace(
        state=state,
        blocking_orders=list(blocking),
        unfinished_orders=list(unfinished),
        final_summary=summary,
    )


def test_contract_names():
    assert case.NAME == "case"
    assert case.STATES == ("mobilisation", "rectification", "tackling", "consolidation", "closed")
    assert case.INITIAL == "mobilisation"
    assert case.TRIGGERS == (
        "start_rectification", "designate_tackling", "release_tackling", "start_consolidation",
        "close", "reopen",
    )
    assert case.ACTIVE_STATES == {"mobilisation", "rectification", "tackling", "consolidation"}


@pytest.mark.parametrize("state", case.STATES)
def test_allowed_triggers_match_contract(state):
    expected = [t for t in case.TRIGGERS if (t, state) in EXPECTED]
    assert registry.allowed_triggers("case", state) == expected


@pytest.mark.parametrize(("trigger", "source"), sorted(EXPECTED))
def test_transition(trigger, source):
    row = make_row(source)
    assert registry.fire("case", row, trigger, **VALID_KWARGS[trigger]) is True
    assert row.state == EXPECTED[(trigger, source)]


ILLEGAL = [(t, s) for s in case.STATES for t in case.TRIGGERS if (t, s) not in EXPECTED]


@pytest.mark.parametrize(("trigger", "source"), ILLEGAL)
def test_illegal_trigger_rejected(trigger, source):
    row = make_row(source)
    with pytest.raises(MachineError):
        registry.fire("case", row, trigger, **VALID_KWARGS[trigger])
    assert row.state == source


def test_tackling_cannot_go_to_consolidation():
    # DESIGN.md: start_consolidation requires the case not to be in tackling.
    row = make_row("tackling")
    with pytest.raises(MachineError):
        registry.fire("case", row, "start_consolidation")
    assert row.state == "tackling"


@pytest.mark.parametrize(
    ("trigger", "source"),
    [("designate_tackling", "rectification"), ("release_tackling", "tackling"), ("reopen", "closed")],
)
@pytest.mark.parametrize("comment", [None, "", "   "])
def test_reason_required(trigger, source, comment):
    row = make_row(source)
    kwargs = {} if comment is None else {"comment": comment}
    assert registry.fire("case", row, trigger, **kwargs) is False
    assert row.state == source
    assert registry.failed_guards("case", row, trigger, **kwargs) == ["A reason is required."]


def test_start_consolidation_blocked_by_overdue_or_escalated_orders():
    row = make_row("rectification", blocking=["ZG-2025-004", "ZG-2025-011"])
    assert registry.fire("case", row, "start_consolidation") is False
    assert row.state == "rectification"
    assert registry.failed_guards("case", row, "start_consolidation") == [
        "Orders overdue or escalated: ZG-2025-004, ZG-2025-011."
    ]
    row.blocking_orders = []
    assert registry.failed_guards("case", row, "start_consolidation") == []
    assert registry.fire("case", row, "start_consolidation") is True
    assert row.state == "consolidation"


def test_close_blocked_by_unfinished_orders():
    row = make_row("consolidation", unfinished=["ZG-2025-002"])
    assert registry.fire("case", row, "close") is False
    assert row.state == "consolidation"
    assert registry.failed_guards("case", row, "close") == [
        "Orders not closed or cancelled: ZG-2025-002."
    ]


@pytest.mark.parametrize("summary", [None, "", " \t"])
def test_close_blocked_without_final_summary(summary):
    row = make_row("consolidation", summary=summary)
    assert registry.fire("case", row, "close") is False
    assert row.state == "consolidation"
    assert registry.failed_guards("case", row, "close") == [
        "The final summary has not been filed."
    ]


def test_close_reports_every_failing_guard():
    row = make_row("consolidation", unfinished=["A", "B"], summary="")
    assert registry.failed_guards("case", row, "close") == [
        "Orders not closed or cancelled: A, B.",
        "The final summary has not been filed.",
    ]


def test_full_path_with_tackling_and_reopen():
    row = make_row(case.INITIAL)
    for trigger in (
        "start_rectification", "designate_tackling", "release_tackling", "start_consolidation",
        "close", "reopen", "close",
    ):
        assert registry.fire("case", row, trigger, **VALID_KWARGS[trigger]), trigger
    assert row.state == "closed"
