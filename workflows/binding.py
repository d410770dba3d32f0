"""The one door for every write, and the one place where workflow state changes.

`unit_of_work()` is the transaction every write runs in: it commits when its block ends
and rolls everything back if the block raises; units nest (an inner one joins the outer,
which alone commits), so a service composing several changes wraps them in one.
`apply()` locks the row, checks policy, the trigger, the version and the guards, fires
the pure machine on the row for this call only, writes exactly one history event, runs
the effects the machine declares for the trigger (`EFFECTS` in its definition, handlers
installed by `install_effects`) and commits them all together; any failure rolls the
session back (and the row's state with it: transitions has no rollback of its own) and
nothing is written. `changing()` is the same door for a change outside a machine.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from casework import policy
from casework.errors import GuardFailed, IllegalTrigger, StaleObject
from casework.extensions import db
from casework.history.models import HistoryEvent
from workflows import registry

_DEPTH = "casework.unit_of_work.depth"
_HANDLERS: dict[str, Callable] = {}


@contextmanager
def unit_of_work() -> Iterator:
    """The transaction of one write: commits when the outermost block ends, rolls back
    (and re-raises) if any block raises. Yields the session.

        with binding.unit_of_work():
            add_order(...)          # flushes, does not commit
            binding.apply(...)      # joins this unit: commits with it, not alone

    Nothing outside this function (and the job runner and CLI loaders, which own their
    sessions) commits or rolls back.
    """
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def in_unit_of_work() -> bool:
    """True inside a unit_of_work() block."""
    return db.session.info.get(_DEPTH, 0) > 0


def install_effects(handlers: Mapping[str, Callable]) -> None:
    """Install the handlers of the effects the machines declare (`EFFECTS` in each
    definition: trigger -> effect names). Each handler is called as
    `handler(row, event, actor)` after the transition and its history event, inside the
    same unit of work; what it writes commits with the transition, and if it raises
    nothing does. Raises ValueError naming declared effects without a handler."""
    declared = {name for machine in registry.all_names()
                for names in registry.effects(machine).values() for name in names}
    missing = sorted(declared - set(handlers))
    if missing:
        raise ValueError(f"effects declared without a handler: {missing}")
    _HANDLERS.clear()
    _HANDLERS.update(handlers)


def installed_effects() -> dict[str, Callable]:
    """The installed effect handlers by name (for tests and documentation)."""
    return dict(_HANDLERS)


def _run_effects(name: str, trigger: str, row, event, actor) -> None:
    for effect in registry.effects(name).get(trigger, ()):
        handler = _HANDLERS.get(effect)
        if handler is None:
            raise RuntimeError(f"effect {effect!r} of {name}.{trigger} has no handler installed")
        handler(row, event, actor)


def _stale(model, row_id: int) -> StaleObject:
    """The StaleObject for a row another transaction changed, read after the rollback."""
    if in_unit_of_work():
        return StaleObject()  # the outer unit rolls back; the row cannot be read yet
    current = db.session.get(model, row_id)
    return StaleObject(current.state, current.version) if current is not None else StaleObject()


def _jsonable(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def available_triggers(row, actor) -> list[str]:
    """Triggers the row's state allows and the actor may fire, in definition order."""
    name = row.workflow
    return [
        t for t in registry.allowed_triggers(name, row.state)
        if policy.allows(f"{name}_{t}", actor, row)
    ]


def ensure_allowed(row, trigger: str, *, actor) -> None:
    """Raise IllegalTrigger, as apply() would, when `row`'s state has no `trigger` (or
    the machine none at all): for a service that checks before the work the trigger
    needs (validating input, storing files), so an illegal trigger is refused first.
    Reads the row as it is (no lock): apply() checks again under the lock."""
    name = row.workflow
    if (trigger not in registry.definition(name).TRIGGERS
            or trigger not in registry.allowed_triggers(name, row.state)):
        raise IllegalTrigger(trigger, row.state, available_triggers(row, actor), name)


def apply(row, trigger: str, *, actor, version: int | None, comment: str | None = None,
          changes: dict | None = None, effects: dict | None = None, **kwargs) -> HistoryEvent:
    """Fire `trigger` on `row` as `actor` and commit it with its history event.

    `version` is the version the actor read; None only for the scheduler, which reads
    and fires in one go under the row lock. `changes` are attribute values written on
    the locked row before the guards run (a final summary, a new deadline), so they
    commit with the transition or not at all. `effects` are attribute values written
    after the machine accepted the trigger (a new deadline the guard compared with the
    old one). Then the effects the machine declares for the trigger run (points awarded
    for a substantiated complaint): what they write commits with the transition, and if
    one raises, nothing does. Inside an enclosing unit_of_work() the transition joins it
    and commits with the rest.

    Raises NotPermitted (policy), IllegalTrigger (not allowed from the current state;
    names the allowed ones), StaleObject (version mismatch or concurrent write),
    GuardFailed (a guard refused, with its reasons). Returns the history event.
    """
    name = row.workflow
    model = type(row)
    comment = (comment or "").strip() or None
    try:
        with unit_of_work():
            # Between web workers and the scheduler the database is the lock.
            locked = db.session.execute(
                sa.select(model).where(model.id == row.id).with_for_update()
                .execution_options(populate_existing=True)
            ).scalar_one()
            definition = registry.definition(name)
            if trigger not in definition.TRIGGERS:
                raise IllegalTrigger(trigger, locked.state,
                                     available_triggers(locked, actor), name)
            policy.check(f"{name}_{trigger}", actor, locked)
            allowed = registry.allowed_triggers(name, locked.state)
            if trigger not in allowed:
                raise IllegalTrigger(trigger, locked.state,
                                     available_triggers(locked, actor), name)
            if version is None and actor is not policy.SYSTEM:
                raise StaleObject(locked.state, locked.version)
            if version is not None and locked.version != version:
                raise StaleObject(locked.state, locked.version)
            for attribute, value in (changes or {}).items():
                setattr(locked, attribute, value)
            from_state = locked.state
            # Guards only read; without autoflush their queries cannot write the row early
            # (which would bump its version twice in one transition).
            with db.session.no_autoflush:
                fired = registry.fire(name, locked, trigger, comment=comment, **kwargs)
                if not fired:
                    raise GuardFailed(
                        registry.failed_guards(name, locked, trigger, comment=comment, **kwargs)
                    )
            for attribute, value in (effects or {}).items():
                setattr(locked, attribute, value)
            event = HistoryEvent(
                object_type=name,
                object_id=locked.id,
                trigger=trigger,
                from_state=from_state,
                to_state=locked.state,
                actor_id=actor.id,
                actor_role=actor.role,
                comment=comment,
                data={k: _jsonable(v) for k, v in kwargs.items()} or None,
            )
            db.session.add(event)
            _run_effects(name, trigger, locked, event, actor)
        return event
    except StaleDataError:
        raise _stale(model, row.id) from None


def apply_listed(row, trigger: str, listed: tuple[str, ...], *, actor, version: int | None,
                 comment: str | None = None, max_comment: int = 5000) -> HistoryEvent:
    """apply() for a trigger a page fires from a plain button with a comment.

    Only the `listed` triggers come this way (the others carry more and have their own
    services); any other is an IllegalTrigger naming the listed ones the actor may fire.
    """
    if trigger not in listed:
        raise IllegalTrigger(trigger, row.state,
                             [t for t in available_triggers(row, actor) if t in listed],
                             row.workflow)
    if comment and len(comment) > max_comment:
        from flask_babel import gettext as _

        from casework.errors import Invalid

        raise Invalid({"comment": [_("At most %(max)d characters.", max=max_comment)]})
    return apply(row, trigger, actor=actor, version=version, comment=comment)


@contextmanager
def changing(model, row_id: int, *, version: int | None, check=None):
    """Change a row outside its machine (a draft's commentary, a complaint's links, a
    dispute's route) the way apply() changes state: under the row lock, only if the row
    is still at the `version` the user read, in a unit of work (committed when the
    outermost block ends, rolled back if it raises).

        with binding.changing(Bulletin, bulletin_id, version=version) as locked:
            locked.commentary = text

    `check(locked)` runs first (it raises GuardFailed for a row in the wrong state).
    Raises StaleObject for a missing or old version, or a concurrent write.
    """
    try:
        with unit_of_work():
            locked = db.session.execute(
                sa.select(model).where(model.id == row_id).with_for_update()
                .execution_options(populate_existing=True)).scalar_one()
            if check is not None:
                check(locked)
            if version is None or locked.version != version:
                raise StaleObject(locked.state, locked.version)
            yield locked
    except StaleDataError:
        raise _stale(model, row_id) from None


def record(row, event_name: str, *, actor, comment: str | None = None,
           data: dict | None = None) -> HistoryEvent:
    """Add a history entry that is not a state change (a row's creation, such as an
    interview scheduled; a deadline recomputed) to the session; the caller's unit of work
    commits it with the change it describes."""
    event = HistoryEvent(
        object_type=row.workflow, object_id=row.id, trigger=event_name,
        from_state=row.state, to_state=row.state, actor_id=actor.id, actor_role=actor.role,
        comment=(comment or "").strip() or None,
        data={k: _jsonable(v) for k, v in (data or {}).items()} or None,
    )
    db.session.add(event)
    return event


class _Light:
    """A row's columns as plain attributes, for the machine, policy and guards of a batch.

    Holds what apply_batch selected (id, state, version and what the trigger's guards
    read). Anything else is read from the ORM row, loaded on first use (one query per
    row: declare what a guard reads with @guard(..., reads=) instead). Attributes set on
    it (the state, what callbacks change) are what the batch writes.
    """

    def __init__(self, model, values: dict):
        self.__dict__.update(values)
        self.__dict__["_model"] = model

    @property
    def workflow(self) -> str:
        return self._model.workflow

    def __getattr__(self, attribute):
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        entity = self.__dict__.get("_entity")
        if entity is None:
            entity = self.__dict__["_entity"] = db.session.get(self._model, self.id)
        return getattr(entity, attribute)

    def values(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __repr__(self):
        return f"<{self._model.__name__} {self.id} {self.state} (batch)>"


def _frozen(changes: dict):
    """A hashable key for a row's changes, or None when a value cannot be hashed."""
    key = tuple(sorted(changes.items()))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def apply_batch(model, ids, trigger: str, *, actor, comment: str | None = None,
                kwargs_for=None) -> tuple[list[int], dict[int, list[str]]]:
    """Fire `trigger` on many rows of `model` in one transaction, for the scheduler's sweeps.

    The rows are read in one locked query (rows another transaction holds are skipped:
    the next sweep takes them), as light objects holding only id, state, version and
    the columns the trigger's guards read (`registry.guard_reads`; values a model
    computes, such as a case's blocking orders, come from `model.guard_values` in one
    query each). For each row, policy, trigger and guards are checked exactly as apply()
    does, by the same machine. The writes are set-based: one
    `UPDATE … SET state, version = version + 1[, what callbacks changed]
    WHERE id IN (…) AND version = … RETURNING id` per group of rows with the same changes
    (from and to state) read at the same version, and one INSERT of all the history
    events; all commit together.
    A row a transition leaves unchanged (an internal transition) keeps its version, as
    with the ORM. `kwargs_for(row)` gives the trigger's keyword arguments per row.
    Returns (ids moved, {id: reasons} for rows whose guards refused); rows no longer in
    a state the trigger leaves from are skipped silently (someone else moved them).
    Raises StaleObject (nothing written) if a row changed under the lock.
    """
    name = model.workflow
    if registry.effects(name).get(trigger):
        # Effects need the ORM row and its event; a sweep's trigger declares none.
        raise ValueError(f"{name}.{trigger} declares effects: fire it with apply()")
    comment = (comment or "").strip() or None
    moved: list[int] = []
    refused: dict[int, list[str]] = {}
    if not ids:
        return moved, refused
    mapper = sa.inspect(model)
    table = mapper.local_table
    columns = {attr.key: attr.columns[0] for attr in mapper.column_attrs}
    version = mapper.version_id_col
    version_key = mapper.get_property_by_column(version).key if version is not None else None
    reads = registry.guard_reads(name, trigger)
    wanted = dict.fromkeys(["id", "state", *([version_key] if version_key else []), *reads])
    selected = [k for k in wanted if k in columns]
    computed = [k for k in wanted if k not in columns and hasattr(model, "guard_values")]
    try:
        with unit_of_work():
            found = db.session.execute(
                sa.select(*(columns[k].label(k) for k in selected))
                .where(columns["id"].in_(list(ids))).order_by(columns["id"])
                .with_for_update(skip_locked=True)
            ).mappings().all()
            rows = [_Light(model, dict(r)) for r in found]
            for attribute in computed:
                values = model.guard_values(attribute, [r.id for r in rows]) if rows else {}
                for row in rows:
                    row.__dict__[attribute] = values[row.id]
            events = []
            groups: dict = {}   # changes key -> (changes, [(id, version)])
            with db.session.no_autoflush:
                for row in rows:
                    if trigger not in registry.allowed_triggers(name, row.state):
                        continue
                    policy.check(f"{name}_{trigger}", actor, row)
                    kwargs = kwargs_for(row) if kwargs_for else {}
                    from_state = row.state
                    before = row.values()
                    if not registry.fire(name, row, trigger, comment=comment, **kwargs):
                        refused[row.id] = registry.failed_guards(name, row, trigger,
                                                                 comment=comment, **kwargs)
                        continue
                    moved.append(row.id)
                    changes = {k: v for k, v in row.values().items()
                               if k in columns and k not in (version_key, "id")
                               and (k not in before or before[k] != v)}
                    if changes:
                        # Rows with the same changes read at the same version: one UPDATE.
                        key = _frozen(changes)
                        read_at = getattr(row, version_key) if version_key else None
                        groups.setdefault((key if key is not None else ("row", row.id), read_at),
                                          (changes, read_at, []))[2].append(row.id)
                    events.append({
                        "object_type": name, "object_id": row.id, "trigger": trigger,
                        "from_state": from_state, "to_state": row.state, "actor_id": actor.id,
                        "actor_role": actor.role, "comment": comment,
                        "data": {k: _jsonable(v) for k, v in kwargs.items()} or None})
            for changes, read_at, group_ids in groups.values():
                update = (sa.update(table).values({columns[k]: v for k, v in changes.items()})
                          .where(columns["id"].in_(group_ids)))
                if version is not None:
                    # The ORM's optimistic check, for the whole group at once.
                    update = update.values({version: 1 if read_at is None else version + 1}).where(
                        version.is_(None) if read_at is None else version == read_at)
                written = set(db.session.scalars(update.returning(columns["id"])))
                if written != set(group_ids):
                    raise StaleObject()
            if events:
                db.session.execute(sa.insert(HistoryEvent.__table__), events)
    except StaleDataError:
        raise StaleObject() from None
    return moved, refused
