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
    handover = results.get("schedulers")
    if handover:
        yes = {True: "yes", False: "**no**"}
        lines += [
            f"Scheduler handover ({handover['workers']} gunicorn workers, 2 schedulers, "
            f"catch-up as of {handover['catch_up_at'][:16]}; the leader SIGKILLed during "
            f"{handover['killed_during']} with {handover['notifications_at_kill']:,} "
            "notifications committed):\n",
            "| check | result |", "|---|---|",
            f"| one leader of two | {yes[handover['one_leader']]} |",
            f"| handover (lease {handover['lease_s']} s) | {handover['handover_s']} s |",
            f"| notifications (expected {handover['notifications_expected']:,}) | "
            f"{handover['notifications']:,}: {handover['missing']} missing, "
            f"{handover['extra']} extra, {handover['duplicate_rows']} duplicated |",
            f"| history events (expected {handover['history_expected']:,}) | "
            f"{handover['history']:,}, same {yes[handover['history_same']]}, "
            f"{handover['history_duplicates']} twice for one transition |",
            f"| GET /status during the handover | {handover['web_requests']} requests, "
            f"{handover['web_failures']} failed |",
            f"| login limit {handover['login_limit']}/min ({handover['rate_limit_storage']}) "
            f"| refused at attempt {handover['login_refused_at_attempt']}, shared "
            f"{yes[bool(handover.get('login_limit_shared'))]} |",
            ""]
    load = results.get("load") or {}
    if load.get("paths"):
        lines += [f"gunicorn, {load['workers']} sync workers, {load['users']} locust users, "
                  f"{load['seconds']} s per path; peak RSS of a worker "
                  f"{load.get('worker_peak_rss_mib')} MiB; worker RSS from the start of the "
                  f"load to its end {load.get('worker_rss_start_mib')} → "
                  f"{load.get('worker_rss_end_mib')} MiB "
                  f"({load.get('worker_rss_growth_percent')} %).\n",
                  "| path | req/s | p50 ms | p95 ms | × /status |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {r['path']} | {r['requests_per_s']} | {r['p50_ms']} | {r['p95_ms']} | "
                  f"{r['ratio_to_baseline']} |" for r in load["paths"]]
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results.json")
    print(markdown(json.loads(path.read_text())))
