"""The benchmark's generator (bench/generate.py) at a tiny scale, on PostgreSQL only: the
rows it makes are ones the machines could have produced (bench/check.py)."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("DATABASE_URL", "")


@pytest.mark.skipif(not URL.startswith("postgres"), reason="the benchmark needs PostgreSQL")
def test_generated_rows_are_consistent_with_the_machines(tmp_path):
    name = f"casework_bench_smoke_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--db", name, "--scale", "0.0005",
         "--only", "generate", "--only", "check", "--out", str(tmp_path / "results.json")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Consistency with the machines: fine" in done.stdout
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as conn:
            count = lambda table: conn.execute(  # noqa: E731
                f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            assert count("institution") > 34 and count("complaint") >= 500
            assert count("rectification_order") >= 100
            assert count("history_event") > count("complaint")
            # Every state of the order and complaint machines is there.
            states = {r[0] for r in conn.execute("SELECT DISTINCT state FROM complaint")}
            assert states == {"received", "assigned", "investigating", "concluded",
                              "replied", "transferred", "closed"}
            orders = {r[0] for r in conn.execute(
                "SELECT DISTINCT state FROM rectification_order")}
            assert orders == {"issued", "acknowledged", "submitted", "returned", "overdue",
                              "escalated", "closed", "cancelled"}
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(not URL.startswith("postgres"), reason="the benchmark needs PostgreSQL")
def test_the_scheduler_handover_part_passes_its_checks(tmp_path):
    """bench/schedulers.py at a tiny scale: two real schedulers beside 4 gunicorn workers,
    the leader SIGKILLed with due work, the standby finishing it exactly once."""
    import json

    name = f"casework_bench_handover_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    out = tmp_path / "results.json"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--db", name, "--scale", "0.0005",
             "--only", "generate", "--only", "schedulers", "--out", str(out)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
            text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "handover checks: all passed" in done.stdout
        handover = json.loads(out.read_text())["schedulers"]
        assert handover["one_leader"] and handover["within_lease"]
        assert handover["notifications"] == handover["notifications_expected"] > 0
        assert handover["missing"] == handover["extra"] == handover["history_duplicates"] == 0
        assert handover["web_failures"] == 0
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_schedulers" WITH (FORCE)')
