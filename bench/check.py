"""Consistency of generated data with the machines: `problems(conn) -> [str]` (empty: fine).

For each machine's rows: every history triple (trigger, from, to) is a transition of the
machine (or a recorded non-transition with from = to); each event leaves from the state
the previous one reached (the first from the initial state); the row's state is where
its last event arrived; and version = transitions + 1 for rows whose history holds
transitions only (binding.apply bumps the version once per transition).
"""

from workflows import registry

TABLES = {"case": "inspection_case", "order": "rectification_order",
          "complaint": "complaint", "report": "progress_report", "bulletin": "bulletin"}


def _transitions(name: str) -> set[tuple[str, str, str]]:
    module = registry.definition(name)
    triples = set()
    for spec in module.TRANSITIONS:
        sources = spec["source"] if isinstance(spec["source"], list) else [spec["source"]]
        for source in sources:
            triples.add((spec["trigger"], source, spec["dest"] or source))
    return triples


def problems(conn) -> list[str]:
    found = []
    for name, table in TABLES.items():
        initial = registry.definition(name).INITIAL
        valid = _transitions(name)
        for trigger, from_state, to_state, n in conn.execute(
                "SELECT trigger, from_state, to_state, count(*) FROM history_event "
                "WHERE object_type = %s GROUP BY 1, 2, 3", (name,)):
            if (trigger, from_state, to_state) not in valid and from_state != to_state:
                found.append(f"{name}: {n} events {trigger} {from_state}->{to_state}")
        broken = conn.execute("""
            SELECT count(*) FROM (
              SELECT from_state, lag(to_state) OVER (PARTITION BY object_id ORDER BY id) prev,
                     row_number() OVER (PARTITION BY object_id ORDER BY id) n
              FROM history_event WHERE object_type = %s) e
            WHERE from_state <> coalesce(prev, %s)""", (name, initial)).fetchone()[0]
        if broken:
            found.append(f"{name}: {broken} events not leaving the state the previous reached")
        # The table names are the constants above, never input.
        rows = conn.execute(f"""
            SELECT count(*) FILTER (WHERE t.state <> coalesce(h.last_state, %s)),
                   count(*) FILTER (WHERE coalesce(h.records, 0) = 0
                                    AND t.version <> coalesce(h.events, 0) + 1)
            FROM {table} t
            LEFT JOIN (SELECT object_id, count(*) events,
                              count(*) FILTER (WHERE from_state = to_state
                                               AND trigger <> 'extend') records,
                              (array_agg(to_state ORDER BY id DESC))[1] last_state
                       FROM history_event WHERE object_type = %s GROUP BY object_id) h
              ON h.object_id = t.id""", (initial, name)).fetchone()  # noqa: S608
        if rows[0]:
            found.append(f"{name}: {rows[0]} rows whose state is not their last event's")
        if rows[1]:
            found.append(f"{name}: {rows[1]} rows whose version is not transitions + 1")
    orphans = conn.execute("""
        SELECT count(*) FROM history_event h
        LEFT JOIN user_account u ON u.id = h.actor_id
        WHERE (h.actor_id IS NULL) <> (h.actor_role = 'system')
           OR (h.actor_id IS NOT NULL AND (u.id IS NULL OR u.role <> h.actor_role))""")
    if (n := orphans.fetchone()[0]):
        found.append(f"history: {n} events whose actor is missing or of another role")
    return found
