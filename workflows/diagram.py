"""Render a machine as inline SVG with the current state highlighted.

Uses transitions' `GraphMachine` (graph_engine="graphviz", which runs the `dot` executable)
on a throwaway dummy model placed in the current state; GraphMachine styles the model's
state as "active" (red outline, salmon fill, double border). The shared machines of
`registry` are not involved, so no row or graph is attached to them.

Labels: node names and edge endpoints stay the state identifiers (they are the SVG
`<title>` of each node); display text goes through transitions' own `label` support, which
its markup reads from a state's `label` attribute and a transition's `label` argument.
Label text is trusted (it comes from our translation catalogues, not from users): Graphviz
interprets backslash escapes in it.
"""

from __future__ import annotations

import functools
import shutil

from transitions import State
from transitions.extensions import GraphMachine

from workflows import registry


def render_svg(
    name: str,
    current_state: str,
    state_labels: dict[str, str] | None = None,
    trigger_labels: dict[str, str] | None = None,
) -> str | None:
    """SVG markup (no XML prolog or doctype) of machine `name` with `current_state` highlighted.

    `state_labels` / `trigger_labels` map identifiers to display text; identifiers without an
    entry are shown as they are. Returns None when the `dot` executable is not installed.
    Raises KeyError for an unknown machine and ValueError for a state it does not have.
    """
    if current_state not in registry.definition(name).STATES:
        raise ValueError(f"{current_state!r} is not a state of machine {name!r}")
    if shutil.which("dot") is None:
        return None
    return _render(
        name,
        current_state,
        tuple(sorted((state_labels or {}).items())),
        tuple(sorted((trigger_labels or {}).items())),
    )


class _Dummy:
    """Stands in for a row: GraphMachine attaches itself to it, then it is dropped."""


@functools.lru_cache(maxsize=256)
def _render(
    name: str,
    current_state: str,
    state_labels: tuple[tuple[str, str], ...],
    trigger_labels: tuple[tuple[str, str], ...],
) -> str:
    module = registry.definition(name)
    state_text = dict(state_labels)
    trigger_text = dict(trigger_labels)

    states = []
    for state_name in module.STATES:
        state = State(state_name)
        # core State takes no label argument, but GraphMachine's markup reads this attribute.
        state.label = state_text.get(state_name, state_name)
        states.append(state)
    # Guards are left out: they are not drawn, and the dummy never fires anything.
    # An internal transition (dest None) is drawn as the equivalent self-loop ("=" is
    # transitions' reflexive dest) because GraphMachine would append an untranslatable
    # " [internal]" to its label.
    transitions = [
        {
            "trigger": spec["trigger"],
            "source": spec["source"],
            "dest": "=" if spec["dest"] is None else spec["dest"],
            "label": trigger_text.get(spec["trigger"], spec["trigger"]),
        }
        for spec in module.TRANSITIONS
    ]
    dummy = _Dummy()
    machine = GraphMachine(
        model=dummy,
        states=states,
        transitions=transitions,
        initial=current_state,
        auto_transitions=False,
        graph_engine="graphviz",
        title="",
    )
    # Top to bottom fits the narrow column of a tablet page; left to right would shrink
    # the labels below legibility.
    machine.machine_attributes = {**machine.machine_attributes, "rankdir": "TB",
                                  "fontname": "Noto Sans CJK SC"}
    graph = dummy.get_graph(force_new=True)
    graph.node_attr.update(fontname="Noto Sans CJK SC", fontsize="14")
    graph.edge_attr.update(fontname="Noto Sans CJK SC", fontsize="12")
    svg = graph.pipe(format="svg", encoding="utf-8")
    return svg[svg.index("<svg"):]
