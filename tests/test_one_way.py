"""One way for each thing (issue 22, item 7): the shared pieces have one home, and a
copy creeping back fails here rather than drifting apart from the original.

* form macros (field messages, typed values, the trigger form): templates/macros/forms.html
* `Posted`, the refused form shown again: casework/forms.py
* command-line groups: casework/<module>/cli.py, registered by casework/cli.py
* blueprints: imported plainly by create_app
"""

import re
from pathlib import Path

from casework.forms import Posted
from casework.queue.forms import AssignForm, ExtensionDecisionForm

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CODE = ROOT / "casework"
FORM_MACROS = ("field_errors", "invalid", "other_errors", "typed", "trigger_form", "errors",
               "general_errors")


def _files(folder: Path, pattern: str):
    return sorted(p for p in folder.rglob(pattern) if p.is_file())


def test_form_macros_are_defined_once():
    homes = {}
    for path in _files(TEMPLATES, "*.html"):
        for name in re.findall(r"\{%-?\s*macro\s+(\w+)\s*\(", path.read_text("utf-8")):
            if name in FORM_MACROS:
                homes.setdefault(name, []).append(path.relative_to(TEMPLATES).as_posix())
    assert homes == {name: ["macros/forms.html"] for name in
                     ("field_errors", "invalid", "other_errors", "typed", "trigger_form")}


def test_trigger_forms_come_from_the_macro():
    # A hand-written form posting to a `fire` endpoint is a copy of trigger_form.
    copies = [path.relative_to(TEMPLATES).as_posix() for path in _files(TEMPLATES, "*.html")
              if re.search(r"<form[^>]+url_for\('\w+\.fire'", path.read_text("utf-8"))]
    assert copies == []


def test_posted_lives_in_casework_forms():
    homes = [path.relative_to(ROOT).as_posix() for path in _files(CODE, "*.py")
             if re.search(r"^class Posted\b", path.read_text("utf-8"), re.M)]
    assert homes == ["casework/forms.py"]


def test_command_groups_live_in_cli_modules():
    for path in _files(CODE, "*.py"):
        text = path.read_text("utf-8")
        if path.name != "cli.py":
            assert "AppGroup(" not in text and "cli_group" not in text, path
    assert "__import__(" not in (CODE / "__init__.py").read_text("utf-8")


def test_every_command_is_registered(app):
    commands = {name: sorted(group.commands) for name, group in app.cli.commands.items()
                if name in ("users", "demo", "campaigns", "workdays", "jobs", "scheduler")}
    assert commands == {
        "users": ["create", "deactivate", "set-password"], "demo": ["load"],
        "campaigns": ["load"], "workdays": ["seed", "show"], "jobs": ["list", "run"],
        "scheduler": ["run"],
    }


def test_views_read_forms_not_request_form():
    # request.form is only handed back as what was typed (Posted, re-rendered pages);
    # reading a value out of it by name is the forms' job.
    readers = []
    for path in _files(CODE, "views.py"):
        for line in path.read_text("utf-8").splitlines():
            if re.search(r"request\.form(\.get|\.getlist|\[)", line):
                readers.append(f"{path.relative_to(ROOT).as_posix()}: {line.strip()}")
    # The login rate limit keys on the user name before any view runs.
    assert [r.split(":")[0] for r in readers] == ["casework/users/views.py"]


def test_lenient_fields_never_refuse(app):
    with app.test_request_context(method="POST", data={
            "item": ["order:1", "order:2"], "seen:order:1": "3", "seen:order:9": "x",
            "assignee": "-1", "action": "claim"}):
        form = AssignForm()
        assert form.item.data == ["order:1", "order:2"]
        assert form.expected() == {"order:1": 3}
        assert form.assignee.data is None and form.action.data == "claim"
        assert form.next.data == ""
    with app.test_request_context(method="POST", data={
            "decision": "approve", "version": "2", "new_deadline": "2026-02-30"}):
        form = ExtensionDecisionForm()
        assert form.approve and form.version.data == 2
        assert form.new_deadline.data is None and form.comment.data is None
    assert Posted("x", {"a": "1"}).errors == {}


def test_an_empty_post_is_all_not_sent(app):
    with app.test_request_context(method="POST"):
        form = AssignForm()
        assert (form.item.data, form.expected(), form.action.data, form.next.data,
                form.assignee.data) == ([], {}, "", "", None)
