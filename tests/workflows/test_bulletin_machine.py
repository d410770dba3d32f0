"""Bulletin machine: draft → published and nothing else."""

from types import SimpleNamespace

import pytest
from transitions import MachineError

from workflows import bulletin, registry


def test_contract_names():
    assert bulletin.NAME == "bulletin"
    assert bulletin.STATES == ("draft", "published")
    assert bulletin.INITIAL == "draft"
    assert bulletin.TRIGGERS == ("publish",)


def test_allowed_triggers():
    assert registry.allowed_triggers("bulletin", "draft") == ["publish"]
    assert registry.allowed_triggers("bulletin", "published") == []


def test_publish():
    row = SimpleNamespace(state="draft")
    assert registry.fire("bulletin", row, "publish") is True
    assert row.state == "published"
    assert registry.failed_guards("bulletin", SimpleNamespace(state="draft"), "publish") == []


def test_cannot_publish_twice():
    row = SimpleNamespace(state="published")
    with pytest.raises(MachineError):
        registry.fire("bulletin", row, "publish")
    assert row.state == "published"
