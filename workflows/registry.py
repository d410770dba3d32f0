"""One shared `transitions.Machine` per definition, fired on rows that are never attached.

Following the transitions maintainers' advice (pytransitions/transitions#146), each machine
is built once per process with `model=None` and an event is fired on a row for one call:
`machine.events[trigger].trigger(row, **kwargs)`. This needs nothing else in transitions
0.9.3: `Event.trigger(model, ...)` wraps the row in a fresh `EventData`, reads the state
with `getattr(row, "state")`, and `Machine.set_state(dest, model=row)` writes only to that
row. `Machine.models` stays empty and no trigger/`is_<state>`/`may_<trigger>` methods are
ever added to the row. Such a machine holds no per-call state (`queued` is off), so sharing
it between threads is safe; the database, not this module, serialises writers.

Callers must check `allowed_triggers` first, but `fire` still refuses rather than ignores:
an unknown trigger raises KeyError, an illegal one `transitions.MachineError`.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

from transitions import EventData, Machine, MachineError

from workflows import bulletin, case, complaint, extension, guards, interview, order, report

_DEFINITIONS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (case, order, complaint, report, bulletin, interview, extension)
}


def all_names() -> tuple[str, ...]:
    """The names of every machine: case, order, complaint, report, bulletin, interview,
    extension."""
    return tuple(_DEFINITIONS)


def definition(name: str) -> ModuleType:
    """The definition module of machine `name`; KeyError for an unknown name."""
    return _DEFINITIONS[name]


def _check(module: ModuleType) -> None:
    # transitions only checks state names when a transition runs (a misspelt source simply
    # never matches), so a typo in a definition is caught here, once, at build time.
    states = set(module.STATES)
    if module.INITIAL not in states:
        raise ValueError(f"{module.NAME}: initial state {module.INITIAL!r} is not in STATES")
    for spec in module.TRANSITIONS:
        sources = spec["source"] if isinstance(spec["source"], list) else [spec["source"]]
        unknown = [s for s in [*sources, spec["dest"]] if s is not None and s not in states]
        if unknown:
            raise ValueError(f"{module.NAME}.{spec['trigger']}: unknown states {unknown}")
        unmarked = [g for g in spec.get("conditions", ()) if not guards.is_guard(g)]
        if unmarked:
            raise ValueError(f"{module.NAME}.{spec['trigger']}: conditions not marked @guard")
    triggers = {spec["trigger"] for spec in module.TRANSITIONS}
    unknown_effects = sorted(set(getattr(module, "EFFECTS", {})) - triggers)
    if unknown_effects:
        raise ValueError(f"{module.NAME}: effects declared for unknown triggers {unknown_effects}")


@functools.cache
def machine(name: str) -> Machine:
    """The shared machine for `name`, built on first use; KeyError for an unknown name."""
    module = definition(name)
    _check(module)
    return Machine(
        model=None,
        states=list(module.STATES),
        transitions=module.TRANSITIONS,
        initial=module.INITIAL,
        auto_transitions=False,  # `to_<state>` triggers would bypass every guard
        send_event=True,
        model_attribute="state",
        ignore_invalid_triggers=False,
    )


def allowed_triggers(name: str, state: str) -> list[str]:
    """Triggers having a transition from `state`, in TRIGGERS order; ValueError for an unknown state.

    Guards are not evaluated: an allowed trigger may still be blocked when fired.
    """
    m = machine(name)
    m.get_state(state)
    return [t for t in definition(name).TRIGGERS if state in m.events[t].transitions]


def needs_reason(name: str) -> frozenset[str]:
    """The triggers of machine `name` that require a reason (the `comment`): those with a
    transition guarded by `guards.reason_given`. Pages mark the field required from this
    (the `needs_reason(trigger, machine)` template global), so no template keeps its own
    list. KeyError for an unknown name."""
    return _needs_reason(name)


@functools.cache
def _needs_reason(name: str) -> frozenset[str]:
    return frozenset(spec["trigger"] for spec in definition(name).TRANSITIONS
                     if guards.reason_given in spec.get("conditions", ()))


def destination(name: str, trigger: str) -> str:
    """The state `trigger` of machine `name` leads to (its one destination); KeyError for
    an unknown trigger, ValueError when its transitions lead to several states."""
    module = definition(name)
    if trigger not in module.TRIGGERS:
        raise KeyError(trigger)
    dests = {spec["dest"] for spec in module.TRANSITIONS
             if spec["trigger"] == trigger and spec["dest"] is not None}
    if len(dests) != 1:
        raise ValueError(f"{name}.{trigger} leads to {sorted(dests)}")
    return dests.pop()


def sources(name: str, trigger: str) -> tuple[str, ...]:
    """The states `trigger` of machine `name` leaves from, in definition order."""
    states: list[str] = []
    for spec in definition(name).TRANSITIONS:
        if spec["trigger"] == trigger:
            states += spec["source"] if isinstance(spec["source"], list) else [spec["source"]]
    return tuple(dict.fromkeys(states))


def triggers_into(name: str, state: str) -> tuple[str, ...]:
    """The triggers of machine `name` that lead into `state`, in definition order."""
    return tuple(dict.fromkeys(spec["trigger"] for spec in definition(name).TRANSITIONS
                               if spec["dest"] == state))


def effects(name: str) -> dict[str, tuple[str, ...]]:
    """What each trigger of machine `name` causes besides its state change: effect names
    by trigger (`EFFECTS` in the definition; the application installs a handler for each
    name, run in the transition's commit). Empty for a machine that declares none."""
    return dict(getattr(definition(name), "EFFECTS", {}))


def guard_reads(name: str, trigger: str) -> tuple[str, ...]:
    """The row attributes the guards of `trigger` (any of its transitions) read, besides
    `state`, in first-declared order; KeyError for an unknown trigger."""
    module = definition(name)
    if trigger not in module.TRIGGERS:
        raise KeyError(trigger)
    reads: dict[str, None] = {}
    for spec in module.TRANSITIONS:
        if spec["trigger"] == trigger:
            for condition in spec.get("conditions", ()):
                reads.update(dict.fromkeys(guards.guard_reads(condition)))
    return tuple(reads)


def fire(name: str, row: Any, trigger: str, **kwargs: Any) -> bool:
    """Fire `trigger` on `row` (its state in `row.state`) without attaching it to the machine.

    Returns True when a transition ran (for an internal transition the state is unchanged),
    False when a guard blocked it (the row is untouched). Raises KeyError for an unknown
    trigger and `transitions.MachineError` for a trigger with no transition from `row.state`.
    """
    return machine(name).events[trigger].trigger(row, **kwargs)


def failed_guards(name: str, row: Any, trigger: str, **kwargs: Any) -> list[str]:
    """Messages of every failing guard of `trigger`'s transition(s) from `row.state`.

    Unlike firing, which stops at the first failing guard, every guard is evaluated so the
    user sees all problems at once. Nothing on the row changes. Raises like `fire` for an
    unknown or illegal trigger. An empty list means the trigger would pass.
    """
    m = machine(name)
    event = m.events[trigger]
    state = m.get_model_state(row)
    candidates = event.transitions.get(state.name, [])
    if not candidates:
        raise MachineError(f"Can't trigger event {trigger} from state {state.name}!")
    messages: list[str] = []
    for transition in candidates:
        event_data = EventData(state, event, m, row, args=(), kwargs=kwargs)
        event_data.transition = transition
        for condition in transition.conditions:
            if not condition.check(event_data):
                message = guards.guard_message(condition.func, event_data)
                if message not in messages:
                    messages.append(message)
    return messages
