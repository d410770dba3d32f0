"""Everything the case page shows beside the case itself, in a fixed number of queries."""

from dataclasses import dataclass

from casework.cases.mobilisation import is_late, mobilisation_record, phase_over
from casework.cases.services import available_triggers, case_history, get_case
from casework.inspections.services import case_inspections
from casework.orders.services import Candidates, case_orders, order_candidates
from casework.reports.services import case_reports


@dataclass
class CaseOverview:
    case: object
    history: list
    triggers: list[str]
    inspections: list
    orders: list
    candidates: Candidates
    blocking_orders: list[str]     # what stops start_consolidation
    unfinished_orders: list[str]   # what stops close
    reports: list                  # progress reports, latest period first
    mobilisation: object = None    # the mobilisation record, if filed
    mobilisation_late: bool = False        # filed after the mobilisation phase
    mobilisation_overdue: bool = False     # not filed and the phase is over


def case_overview(case_id: int, actor) -> CaseOverview:
    """The case with its history, inspections, orders, the findings awaiting an order and
    its progress reports."""
    case = get_case(case_id, actor)
    return CaseOverview(case=case, history=case_history(case),
                        triggers=available_triggers(case, actor),
                        inspections=case_inspections(case), orders=case_orders(case),
                        candidates=order_candidates(case),
                        blocking_orders=case.blocking_orders,
                        unfinished_orders=case.unfinished_orders,
                        reports=case_reports(case), **_mobilisation(case))


def _mobilisation(case) -> dict:
    record = mobilisation_record(case)
    return {"mobilisation": record,
            "mobilisation_late": bool(record and is_late(record, case)),
            "mobilisation_overdue": record is None and phase_over(case)}
