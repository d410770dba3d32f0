"""Bulletin machine (DESIGN.md, "State machines": Bulletin): draft → published."""

from __future__ import annotations

NAME = "bulletin"

STATES = ("draft", "published")
INITIAL = "draft"

TRANSITIONS = [
    {"trigger": "publish", "source": "draft", "dest": "published", "conditions": []},
]

TRIGGERS = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))
