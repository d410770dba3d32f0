"""The one place where workflow state changes on persisted objects.

`apply()` locks the row, checks policy, the trigger, the version and the guards, fires
the pure machine on the row for this call only, writes exactly one history event and
commits both together; any failure rolls the session back (and the row's state with
it: transitions has no rollback of its own) and nothing is written.
"""

from contextlib import contextmanager
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from casework import policy
from casework.errors import GuardFailed, IllegalTrigger, StaleObject
from casework.extensions import db
from casework.history.models import HistoryEvent
from workflows import registry


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


def apply(row, trigger: str, *, actor, version: int | None, comment: str | None = None,
          changes: dict | None = None, effects: dict | None = None,
          before_commit=None, **kwargs) -> HistoryEvent:
    """Fire `trigger` on `row` as `actor` and commit it with its history event.

    `version` is the version the actor read; None only for the scheduler, which reads
    and fires in one go under the row lock. `changes` are attribute values written on
    the locked row before the guards run (a final summary, a new deadline), so they
    commit with the transition or not at all. `effects` are written after the machine
    accepted the trigger (a new deadline the guard compared with the old one).
    `before_commit(row)` runs last, after the history event is added: what it adds to the
    session (points awarded for a substantiated complaint) commits with the transition,
    and if it raises, nothing does.

    Raises NotPermitted (policy), IllegalTrigger (not allowed from the current state;
    names the allowed ones), StaleObject (version mismatch or concurrent write),
    GuardFailed (a guard refused, with its reasons). Returns the history event.
    """
    name = row.workflow
    model = type(row)
    comment = (comment or "").strip() or None
    try:
        # Between web workers and the scheduler the database is the lock.
        locked = db.session.execute(
            sa.select(model).where(model.id == row.id).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        definition = registry.definition(name)
        if trigger not in definition.TRIGGERS:
            raise IllegalTrigger(trigger, locked.state, available_triggers(locked, actor), name)
        policy.check(f"{name}_{trigger}", actor, locked)
        allowed = registry.allowed_triggers(name, locked.state)
        if trigger not in allowed:
            raise IllegalTrigger(trigger, locked.state, available_triggers(locked, actor), name)
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
        if before_commit is not None:
            before_commit(locked)
        db.session.commit()
        return event
    except StaleDataError:
        db.session.rollback()
        current = db.session.get(model, row.id)
        raise StaleObject(current.state, current.version) from None
    except BaseException:
        db.session.rollback()
        raise


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
    is still at the `version` the user read, committed when the block ends, rolled back
    if it raises.

        with binding.changing(Bulletin, bulletin_id, version=version) as locked:
            locked.commentary = text

    `check(locked)` runs first (it raises GuardFailed for a row in the wrong state).
    Raises StaleObject for a missing or old version, or a concurrent write.
    """
    try:
        locked = db.session.execute(
            sa.select(model).where(model.id == row_id).with_for_update()
            .execution_options(populate_existing=True)).scalar_one()
        if check is not None:
            check(locked)
        if version is None or locked.version != version:
            raise StaleObject(locked.state, locked.version)
        yield locked
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        current = db.session.get(model, row_id)
        raise StaleObject(current.state, current.version) from None
    except BaseException:
        db.session.rollback()
        raise


def record(row, event_name: str, *, actor, comment: str | None = None,
           data: dict | None = None) -> HistoryEvent:
    """Add a history entry that is not a state change (an extension request, a deadline
    recomputed) to the session; the caller commits it with the change it describes."""
    event = HistoryEvent(
        object_type=row.workflow, object_id=row.id, trigger=event_name,
        from_state=row.state, to_state=row.state, actor_id=actor.id, actor_role=actor.role,
        comment=(comment or "").strip() or None,
        data={k: _jsonable(v) for k, v in (data or {}).items()} or None,
    )
    db.session.add(event)
    return event


def apply_batch(model, ids, trigger: str, *, actor, comment: str | None = None,
                kwargs_for=None) -> tuple[list[int], dict[int, list[str]]]:
    """Fire `trigger` on many rows of `model` in one transaction, for the scheduler's sweeps.

    The rows are read in one query and locked (rows another transaction holds are
    skipped: the next sweep takes them); for each, policy, trigger and guards are
    checked exactly as apply() does and one history event is written; all commit
    together. `kwargs_for(row)` gives the trigger's keyword arguments per row.
    Returns (ids moved, {id: reasons} for rows whose guards refused); rows no longer in
    a state the trigger leaves from are skipped silently (someone else moved them).
    """
    name = model.workflow
    comment = (comment or "").strip() or None
    moved: list[int] = []
    refused: dict[int, list[str]] = {}
    if not ids:
        return moved, refused
    try:
        rows = db.session.scalars(
            sa.select(model).where(model.id.in_(list(ids))).order_by(model.id)
            .with_for_update(skip_locked=True).execution_options(populate_existing=True)
        ).all()
        events = []
        with db.session.no_autoflush:
            for row in rows:
                if trigger not in registry.allowed_triggers(name, row.state):
                    continue
                policy.check(f"{name}_{trigger}", actor, row)
                kwargs = kwargs_for(row) if kwargs_for else {}
                from_state = row.state
                if not registry.fire(name, row, trigger, comment=comment, **kwargs):
                    refused[row.id] = registry.failed_guards(name, row, trigger,
                                                             comment=comment, **kwargs)
                    continue
                moved.append(row.id)
                events.append(HistoryEvent(
                    object_type=name, object_id=row.id, trigger=trigger,
                    from_state=from_state, to_state=row.state, actor_id=actor.id,
                    actor_role=actor.role, comment=comment,
                    data={k: _jsonable(v) for k, v in kwargs.items()} or None))
        db.session.add_all(events)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleObject() from None
    except BaseException:
        db.session.rollback()
        raise
    return moved, refused
