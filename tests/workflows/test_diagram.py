"""Diagram rendering: inline SVG with every state and the current one highlighted."""

import shutil
import xml.etree.ElementTree as ET

import pytest

from workflows import diagram, registry

SVG = "{http://www.w3.org/2000/svg}"

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def nodes(svg):
    """Map node name (its <title>) -> the node's <g> element."""
    root = ET.fromstring(svg)
    found = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            found[g.find(f"{SVG}title").text] = g
    return found


def edge_texts(svg):
    root = ET.fromstring(svg)
    return [
        text.text
        for g in root.iter(f"{SVG}g") if g.get("class") == "edge"
        for text in g.iter(f"{SVG}text")
    ]


def is_highlighted(node):
    return any(shape.get("fill") == "darksalmon" for shape in node)


@needs_dot
@pytest.mark.parametrize("name", registry.all_names())
def test_every_state_drawn_and_only_current_highlighted(name):
    states = registry.definition(name).STATES
    for current in states:
        svg = diagram.render_svg(name, current)
        assert svg.startswith("<svg")
        assert "<?xml" not in svg and "<!DOCTYPE" not in svg
        drawn = nodes(svg)
        assert set(drawn) == set(states)
        assert [s for s in states if is_highlighted(drawn[s])] == [current]


@needs_dot
def test_every_trigger_labels_an_edge():
    labels = " | ".join(edge_texts(diagram.render_svg("order", "issued")))
    for trigger in registry.definition("order").TRIGGERS:
        assert trigger in labels
    # The internal extend is drawn as a plain self-loop, without GraphMachine's English tag.
    assert "[internal]" not in labels


@needs_dot
def test_labels_replace_display_text_but_not_node_names():
    svg = diagram.render_svg(
        "order",
        "overdue",
        state_labels={"overdue": "逾期", "issued": "已下发"},
        trigger_labels={"extend": "延期"},
    )
    drawn = nodes(svg)
    assert set(drawn) == set(registry.definition("order").STATES)
    assert [t.text for t in drawn["overdue"].iter(f"{SVG}text")] == ["逾期"]
    assert [t.text for t in drawn["issued"].iter(f"{SVG}text")] == ["已下发"]
    assert [t.text for t in drawn["closed"].iter(f"{SVG}text")] == ["closed"]
    assert is_highlighted(drawn["overdue"])
    texts = edge_texts(svg)
    assert "延期" in texts
    assert "extend" not in " ".join(texts)


@needs_dot
def test_render_is_cached_per_arguments():
    first = diagram.render_svg("complaint", "assigned", {"assigned": "已分派"})
    assert diagram.render_svg("complaint", "assigned", {"assigned": "已分派"}) is first
    assert diagram.render_svg("complaint", "assigned") != first


def test_unknown_state_or_machine_rejected():
    with pytest.raises(ValueError):
        diagram.render_svg("order", "archived")
    with pytest.raises(KeyError):
        diagram.render_svg("invoice", "draft")


def test_none_without_dot(monkeypatch):
    monkeypatch.setattr(diagram.shutil, "which", lambda program: None)
    assert diagram.render_svg("bulletin", "draft") is None


def test_shared_machines_stay_unattached():
    if shutil.which("dot") is not None:
        diagram.render_svg("case", "tackling")
    assert registry.machine("case").models == []
