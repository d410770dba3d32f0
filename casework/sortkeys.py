"""Stored sort keys: an integer `state_rank` column kept equal to RANK[state].

A list sorted "by state, in the order people work through them" would need a CASE
expression no index can serve. Models that list that way store the rank instead, in an
indexed column, and keep it in step with `state` here:

- every ORM flush (insert or update of the object) sets it from the object's state
  (mapper events `before_insert` / `before_update`);
- every INSERT that leaves it out, ORM or Core, bulk or not, gets it from the row's state
  (the column's default, `rank_default`);
- every UPDATE statement run through the session that sets `state` (Core or ORM
  `update(Model).values(state=...)`, or a bulk UPDATE by primary key with a list of
  parameter dicts) gets `state_rank` added: a SQL CASE over the new state's expression,
  or the rank per parameter dict.

A raw UPDATE outside the session (connection.execute on a plain SQL string) must set
`state_rank` itself: `rank_expression(Model, new_state_expr)` builds the value.
"""

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

# table name -> (model, {state: rank})
_RANKED: dict[str, tuple[type, dict[str, int]]] = {}


def rank_expression(model, state_expr):
    """SQL for the rank of `state_expr` (a column or a value) under `model`'s ranking."""
    ranks = _RANKED[model.__tablename__][1]
    return sa.case(ranks, value=state_expr)


def rank_default(ranks: dict[str, int], initial: str):
    """The `default=` of a state_rank column: the rank of the inserted row's state."""

    def default(context):
        return ranks[context.get_current_parameters().get("state") or initial]

    return default


def ranked(model, ranks: dict[str, int], states) -> None:
    """Keep `model.state_rank` equal to `ranks[model.state]`; every state needs a rank."""
    missing = set(states) - set(ranks)
    if missing:
        raise ValueError(f"{model.__name__}: no rank for {sorted(missing)}")
    _RANKED[model.__tablename__] = (model, dict(ranks))

    def set_rank(mapper, connection, target):
        state = target.state
        if state is None:  # not set yet: the column's default applies at INSERT
            state = mapper.columns["state"].default.arg
        target.state_rank = ranks[state]

    event.listen(model, "before_insert", set_rank)
    event.listen(model, "before_update", set_rank)


def _key(column) -> str:
    return column if isinstance(column, str) else getattr(column, "key", str(column))


@event.listens_for(Session, "do_orm_execute")
def _bulk_updates_keep_the_rank(state):
    if not state.is_update:
        return None
    statement = state.statement
    table = getattr(statement, "table", None)
    entry = _RANKED.get(getattr(table, "name", None))
    if entry is None:
        return None
    model, ranks = entry
    values = {_key(k): v for k, v in (statement._values or {}).items()}
    if "state" in values and "state_rank" not in values:
        new_state = values["state"]
        if isinstance(new_state, sa.BindParameter) and new_state.callable is None:
            new_state = new_state.value
        if isinstance(new_state, sa.ColumnElement):  # an expression: rank it in SQL
            rank = sa.case(ranks, value=new_state)
        else:
            rank = ranks[new_state]
        statement = statement.values({model.state_rank: rank})
        return state.invoke_statement(statement=statement)
    params = state.parameters
    if isinstance(params, list) and any("state" in p and "state_rank" not in p for p in params):
        params = [dict(p, state_rank=ranks[p["state"]]) if "state" in p and "state_rank" not in p
                  else p for p in params]
        return state.invoke_statement(params=params)
    if isinstance(params, dict) and "state" in params and "state_rank" not in params:
        return state.invoke_statement(params=dict(params, state_rank=ranks[params["state"]]))
    return None
