"""The layer contracts (import-linter, pyproject.toml) hold, and they would catch a
deliberate violation: a model importing a view, a machine importing SQLAlchemy."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter missing")


def _tree(tmp_path) -> Path:
    """A copy of the application's packages and the contracts, to break on purpose."""
    for package in ("casework", "workflows"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "static", "translations",
                                                      "definitions", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=tree,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


def _append(path: Path, line: str):
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_the_contracts_hold(tmp_path):
    result = _lint(_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("casework/orders/models.py", "from casework.orders import views  # noqa",
     "Services, sweeps, models and the binding never import a view"),
    ("casework/complaints/services.py", "import casework.web  # noqa",
     "Services, sweeps, models and the binding never import a view"),
    ("workflows/order.py", "import sqlalchemy  # noqa",
     "Machines import neither Flask nor SQLAlchemy nor the application"),
    ("casework/cases/models.py", "from casework.cases import services  # noqa",
     "Models import no services"),
    ("workflows/binding.py", "from casework.orders import services  # noqa",
     "The binding imports no service"),
])
def test_a_deliberate_violation_breaks_its_contract(tmp_path, module, line, contract):
    tree = _tree(tmp_path)
    _append(tree / module, line)
    result = _lint(tree)
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout, result.stdout


# The models import each other without cycles: every import between them points one way
# (a cycle made `new_uuid`, in casework/inspections/models.py, reach the evidence models
# through the orders). grimp is what import-linter builds its graph with.
MODEL_CYCLES = """
import grimp
graph = grimp.build_graph("casework", "workflows", cache_dir=None)
models = sorted(m for m in graph.modules if m == "casework.models" or m.endswith(".models"))
for model in models:
    for imported in sorted(graph.find_modules_directly_imported_by(model)):
        chain = graph.find_shortest_chain(importer=imported, imported=model)
        if chain:
            print(" -> ".join((model, *chain)))
"""


def _model_cycles(tree: Path) -> list[str]:
    result = subprocess.run([sys.executable, "-c", MODEL_CYCLES], cwd=tree,
                            env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=120, check=True)
    return result.stdout.splitlines()


def test_the_models_import_each_other_without_cycles():
    assert _model_cycles(ROOT) == []


def test_a_deliberate_model_cycle_is_found(tmp_path):
    tree = _tree(tmp_path)
    _append(tree / "casework/cases/models.py", "from casework.orders import models  # noqa")
    assert "casework.cases.models -> casework.orders.models -> casework.cases.models" in \
        _model_cycles(tree)
