"""Pure state-machine definitions for Casework (cases, orders, complaints, reports,
bulletins, interviews, extension requests).

Each definition module (`case`, `order`, `complaint`, `report`, `bulletin`, `interview`,
`extension`) exports `NAME`, `STATES`, `INITIAL`, `TRANSITIONS` and `TRIGGERS` using the
identifiers fixed in DESIGN.md ("State machines"), and the state sets the application
asks about (`OPEN_STATES`, `EDITABLE_STATES`, …), so no service or template keeps a list
of its own. `registry` builds one shared `transitions.Machine` per definition and fires
events on rows without attaching them; `diagram` renders a machine as inline SVG.

Nothing in this package imports Flask or SQLAlchemy: guards read plain attributes of the
row (`event.model`) and the trigger's keyword arguments (`event.kwargs`).
"""
