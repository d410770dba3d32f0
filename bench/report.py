"""`python -m bench.report [results.json]`: the figures as Markdown tables (for README)."""

import json
import sys
from pathlib import Path


def markdown(results: dict) -> str:
    lines = []
    if "generate" in results:
        lines.append(f"Generated in {results['generate'].get('total')} s "
                     f"(scale {results.get('scale')}).\n")
    if results.get("pages"):
        lines += ["| page | user | p50 ms | p95 ms | SQL statements | × /status | n |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['path']} | {r['user'] or '—'} | {r['p50_ms']:,.1f} | "
                  f"{r['p95_ms']:,.1f} | {r['queries']} | {r['ratio']:,.1f} | "
                  f"{r.get('requests', '')} |" for r in results["pages"]]
        lines.append("")
    if results.get("jobs"):
        lines += ["| job | instant | job s | raw SQL s | ratio | same changes |",
                  "|---|---|---:|---:|---:|---|"]
        lines += [f"| {r['job']} | {r['at'][:10] if 'T' in r['at'] else r['at']} | "
                  f"{r['job_s']:,.2f} | {r['sql_s']:,.3f} | {r['ratio']:,.1f} | "
                  f"{'yes' if r['same'] else 'no'}: {r['job_result']} |"
                  for r in results["jobs"]]
        lines.append("")
    load = results.get("load") or {}
    if load.get("paths"):
        lines += [f"gunicorn, {load['workers']} sync workers, {load['users']} locust users, "
                  f"{load['seconds']} s per path; peak RSS of a worker "
                  f"{load.get('worker_peak_rss_mib')} MiB.\n",
                  "| path | req/s | p50 ms | p95 ms | × /status |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {r['path']} | {r['requests_per_s']} | {r['p50_ms']} | {r['p95_ms']} | "
                  f"{r['ratio_to_baseline']} |" for r in load["paths"]]
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results.json")
    print(markdown(json.loads(path.read_text())))
