"""scripts/bench --load: gunicorn (several sync workers) on the benchmark database, locust
headless against a few paths, requests per second of each against GET /status, and the
peak resident memory (VmHWM) of the workers."""

import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.generate import ROOT, sqlalchemy_url

PATHS = [("baseline /status", "", "/status"),
         ("institution to-do (orders)", "institution", "/orders/"),
         ("escalation queue", "coordinator", "/queue/")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_kib(pid: int, field: str = "VmHWM") -> int:
    """A process's peak (VmHWM) or current (VmRSS) resident memory in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _workers_rss_mib(server_pid: int) -> float:
    """The largest current resident memory among the workers, in MiB."""
    return round(max((_peak_rss_kib(pid, "VmRSS") for pid in _children(server_pid)),
                     default=0) / 1024, 1)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def run(db: str, seconds: int = 20, workers: int = 3, users: int = 6, out=print) -> dict:
    bin_dir = Path(sys.executable).parent
    locust = shutil.which("locust", path=str(bin_dir))
    if locust is None:
        out("  locust is not installed (pip install -e '.[bench]'): skipped")
        return {"skipped": "locust not installed"}
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": sqlalchemy_url(db), "CASEWORK_ENV": "development",
           "SECRET_KEY": "bench-only", "LOGIN_RATE_LIMIT": "10000 per minute",
           "SCHEDULER": "0", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--timeout", "300", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {"workers": workers, "users": users, "seconds": seconds, "paths": []}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        out(f"  {'path':<30} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'× base':>8}")
        baseline = None
        with tempfile.TemporaryDirectory() as tmp:
            for label, user, path in PATHS:
                prefix = Path(tmp) / label.split()[0]
                subprocess.run(
                    [locust, "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                     "-u", str(users), "-r", str(users), "-t", f"{seconds}s",
                     "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix),
                     "--only-summary", "--loglevel", "ERROR"],
                    cwd=ROOT, env={**env, "BENCH_USER": user, "BENCH_PATH": path},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                try:
                    with open(f"{prefix}_stats.csv") as f:
                        row = next(r for r in csv.DictReader(f) if r["Name"] == "page")
                except (OSError, StopIteration):  # not one answer in the time given
                    row = {"Requests/s": 0, "50%": "nan", "95%": "nan", "Failure Count": 0}
                rps = float(row["Requests/s"])
                baseline = baseline or rps
                entry = {"path": label, "url": path, "user": user or None,
                         "requests_per_s": round(rps, 1),
                         "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
                         "failures": int(row["Failure Count"]),
                         "ratio_to_baseline": round(rps / baseline, 3) if baseline else None}
                results["paths"].append(entry)
                out(f"  {label:<30} {rps:>8.1f} {entry['p50_ms']:>8.0f} "
                    f"{entry['p95_ms']:>8.0f} {entry['ratio_to_baseline']:>8.3f}")
                if "worker_rss_start_mib" not in results:
                    # Warm (the baseline path served), before the measured pages.
                    results["worker_rss_start_mib"] = _workers_rss_mib(server.pid)
        results["worker_rss_end_mib"] = end = _workers_rss_mib(server.pid)
        start = results.get("worker_rss_start_mib") or 0
        results["worker_rss_growth_percent"] = growth = (
            round(100 * (end - start) / start, 1) if start else None)
        out(f"  worker RSS at the start of the load → at its end: {start} → {end} MiB "
            f"({'—' if growth is None else f'{growth:+.1f} %'})")
        peaks = {pid: _peak_rss_kib(pid) for pid in _children(server.pid)}
        results["worker_peak_rss_mib"] = round(max(peaks.values(), default=0) / 1024, 1)
        out(f"  peak RSS of a worker: {results['worker_peak_rss_mib']} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results
