"""One unit of work: nothing but `binding.unit_of_work()` (and the job runner, which owns
its session) commits or rolls back. Services write inside a unit (or through
binding.apply / binding.changing, which open one); loaders and the mailer too."""

import ast
from pathlib import Path

import pytest

from casework.notifications import mail
from workflows import binding

ROOT = Path(__file__).resolve().parent.parent

# Where commit() and rollback() belong: the unit of work itself and the job runner
# (it commits the JobRun row before the job and records the outcome after it).
ALLOWED = {
    "workflows/binding.py",
    "casework/jobs/runner.py",
}
# CLI loaders that may keep their own commit (demo data, seeds). None does: `flask demo
# load`, the points demo and `flask workdays seed` write through unit_of_work() too.
CLI_LOADERS: set[str] = set()


def _transaction_calls(path: Path) -> list[str]:
    """`line: source` of every `.commit` / `.rollback` attribute in the file (called or
    not, so `commit = db.session.commit` counts too)."""
    source = path.read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Attribute) and node.attr in ("commit", "rollback"):
            found.append(f"{node.lineno}: {ast.get_source_segment(source, node)}")
    return sorted(found, key=lambda entry: int(entry.split(":")[0]))


def _committing_files() -> dict[str, list[str]]:
    result = {}
    for package in ("casework", "workflows"):
        for path in sorted((ROOT / package).rglob("*.py")):
            calls = _transaction_calls(path)
            if calls:
                result[path.relative_to(ROOT).as_posix()] = calls
    return result


def test_only_the_unit_of_work_the_runner_and_cli_loaders_commit():
    found = _committing_files()
    unexpected = {f: c for f, c in found.items() if f not in ALLOWED | CLI_LOADERS}
    assert unexpected == {}, "write through binding.unit_of_work() instead"


def test_the_allowed_files_exist():
    for name in ALLOWED | CLI_LOADERS:
        assert (ROOT / name).is_file(), name


def test_the_scan_sees_an_alias(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("session = db.session\nsession.commit()\ndone = session.rollback\n")
    assert _transaction_calls(sample) == ["2: session.commit", "3: session.rollback"]


def test_the_mailer_refuses_to_run_inside_a_unit(db):
    # Its guarantee (a crash repeats one message at most) needs a commit per message.
    with pytest.raises(RuntimeError, match="outside a unit of work"), binding.unit_of_work():
        mail.send_pending(mail.clock.now())
    assert not binding.in_unit_of_work()
