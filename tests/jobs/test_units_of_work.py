"""Sweeps and jobs never end a transaction themselves: each chunk is one
`binding.unit_of_work()`, and only the job runner (which owns the JobRun row's session)
commits or rolls back."""

import ast
from pathlib import Path

import casework

ROOT = Path(casework.__file__).parent
OWNS_ITS_SESSION = {ROOT / "jobs" / "runner.py"}


def _transaction_calls(path: Path) -> list[str]:
    return [f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.func.attr}()"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"commit", "rollback"}]


def test_sweeps_and_jobs_commit_only_through_units_of_work():
    files = sorted({*ROOT.glob("*/sweeps.py"), *(ROOT / "jobs").glob("*.py")}
                   - OWNS_ITS_SESSION)
    assert ROOT / "orders" / "sweeps.py" in files and ROOT / "jobs" / "sweeping.py" in files
    assert [call for path in files for call in _transaction_calls(path)] == []
