"""The layer contracts (import-linter, pyproject.toml) hold, and they would catch a
deliberate violation: a model importing a view, a machine importing SQLAlchemy, a service
importing a view, a model importing the binding, a cycle between two domain packages."""

import shutil
import subprocess
import sys
import tomllib
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


LAYERS = "Views above services above the binding above the models and the machines"


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
    # The layers, views → services → binding → policy → models → registry → machines.
    ("casework/cases/services.py", "from casework.orders import views  # noqa",
     LAYERS),
    ("casework/orders/models.py", "from workflows import binding  # noqa", LAYERS),
    ("casework/policy.py", "from casework.orders import services  # noqa", LAYERS),
    ("workflows/registry.py", "from workflows import binding  # noqa", LAYERS),
    ("workflows/extension.py", "from workflows import order  # noqa", LAYERS),
    # Campaigns sit below orders (orders → cases → campaigns): this closes a cycle.
    ("casework/campaigns/services.py", "from casework.orders import services  # noqa",
     "No cycles between the domain packages"),
])
def test_a_deliberate_violation_breaks_its_contract(tmp_path, module, line, contract):
    tree = _tree(tmp_path)
    _append(tree / module, line)
    result = _lint(tree)
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout, result.stdout


def test_an_ignored_import_that_is_gone_fails(tmp_path):
    """The cycles' ignore list only shrinks: an entry matching no import is an error."""
    tree = _tree(tmp_path)
    config = tree / "pyproject.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        '"casework.oversight.services -> casework.queue.services",',
        '"casework.oversight.services -> casework.queue.services",\n'
        '    "casework.users.services -> casework.orders.services",'), encoding="utf-8")
    result = _lint(tree)
    assert result.returncode != 0
    assert "No matches for ignored import casework.users.services -> casework.orders.services" \
        in " ".join(result.stdout.split()), result.stdout


def _layered() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [layers] = [c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers"]
    return {name.strip().strip("()") for layer in layers["layers"]
            for name in layer.replace("|", ":").split(":")}


def test_every_view_service_sweep_model_and_machine_has_a_layer():
    """A new module named like a layer takes its place in the contract (it would escape
    it otherwise: import-linter's layers name modules, not patterns)."""
    expected = {f"casework.{path.parent.name}.{path.stem}"
                for tail in ("views", "services", "sweeps", "models")
                for path in (ROOT / "casework").glob(f"*/{tail}.py")}
    expected |= {f"workflows.{path.stem}" for path in (ROOT / "workflows").glob("*.py")
                 if path.stem != "__init__"}
    expected |= {"casework.models", "casework.policy", "casework.web"}
    assert expected - _layered() == set()
    assert _layered() - expected == set()


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
