"""Handlers of the effects the machines declare (`EFFECTS` in each definition of
workflows/): what a transition causes besides its state change. `create_app` installs
them into the binding, which runs them after the transition's history event, in the same
unit of work: what a handler writes commits with the transition, and if it raises,
nothing does. Each handler is `handler(row, event, actor)`.

| machine.trigger      | effect                 | what it writes                              |
|----------------------|------------------------|---------------------------------------------|
| complaint.conclude   | award_complaint_points | points for a substantiated complaint        |
"""

from casework.points import services as points


def award_complaint_points(complaint, _event, actor) -> None:
    """A substantiated complaint earns its institution (and linked staff member) the
    points of the matching complaint rules, once per complaint, rule and subject."""
    points.award_for_complaint(complaint, actor)


HANDLERS = {
    "award_complaint_points": award_complaint_points,
}
