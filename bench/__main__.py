"""`python -m bench` (scripts/bench): generate the data, then measure pages and jobs.

    scripts/bench                     # scale 0.01 into casework_bench, then measure
    scripts/bench --scale 1.0         # province scale (about 10 minutes to generate)
    scripts/bench --skip-generate     # measure the database as it is
    scripts/bench --only generate     # or: check, pages, jobs, schedulers, load
    scripts/bench --skip-generate --schedulers   # add the scheduler handover to a run
"""

import argparse
import json
import sys
from pathlib import Path

from bench import generate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="casework_bench",
                        help="PostgreSQL database on 127.0.0.1:5432 (dropped and recreated)")
    parser.add_argument("--scale", type=float, default=0.01,
                        help="fraction of province scale (1.0 = 5,000 institutions, "
                             "1,000,000 complaints)")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds per page after which fewer requests (at least 3) do")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results.json"),
                        help="where the figures go as JSON")
    parser.add_argument("--skip-generate", action="store_true",
                        help="measure the existing database")
    parser.add_argument("--only",
                        choices=("generate", "check", "pages", "jobs", "schedulers", "load"),
                        action="append", help="run only these parts (repeatable)")
    parser.add_argument("--load", action="store_true",
                        help="also run the multi-process load test against gunicorn")
    parser.add_argument("--load-seconds", type=int, default=20)
    parser.add_argument("--schedulers", action="store_true",
                        help="also (with --only: just) the scheduler handover: 4 gunicorn "
                             "workers, two schedulers, the leader SIGKILLed with due work")
    args = parser.parse_args(argv)
    parts = set(args.only or ["generate", "check", "pages", "jobs", "schedulers"])
    if args.load:
        parts.add("load")
    if args.schedulers:
        parts.add("schedulers")
    if args.skip_generate:
        parts.discard("generate")
    # Parts run now replace theirs in the results file, the others stay (so a --load run
    # later adds to the figures of the database it measures).
    results = {}
    out = Path(args.out)
    if out.exists():
        try:
            results = json.loads(out.read_text())
        except ValueError:
            results = {}
    if "generate" in parts or results.get("db") != args.db:
        results = {"db": args.db, "scale": args.scale}

    def save():
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))

    if "generate" in parts:
        print(f"== Generating (scale {args.scale}) ==")
        results["generate"] = generate.build(args.db, args.scale)
        results["counts"] = generate.counts(args.scale)
        save()
    if "check" in parts:
        import psycopg

        from bench import check

        with psycopg.connect(generate.pg_url(args.db)) as conn:
            found = check.problems(conn)
        print("== Consistency with the machines: "
              + ("fine ==" if not found else "PROBLEMS ==\n  " + "\n  ".join(found)))
        results["consistency_problems"] = found
        save()
    if "pages" in parts:
        from bench import measure

        print(f"== Pages ({args.repeat} requests each, in-process test client) ==")
        results["pages"] = measure.pages(args.db, args.repeat, args.budget)
        save()
    if "jobs" in parts:
        import psycopg

        from bench import jobs

        print("== Scheduler jobs (rolled back) vs raw set-based SQL (rolled back) ==")
        results["jobs"] = jobs.measure(args.db)
        save()
        # The jobs ran in transactions rolled back: their millions of rows are dead now.
        # Production's autovacuum would clear them before long; the parts that follow
        # (the handover, the load) must not measure the bloat and the stale statistics.
        with psycopg.connect(generate.pg_url(args.db)) as conn:
            seconds = generate.vacuum_analyze(conn)
        print(f"  vacuum analyze after the rolled-back jobs {seconds:8.1f} s", flush=True)
    if "schedulers" in parts:
        from bench import schedulers

        print("== Scheduler handover (copy of the database; 4 gunicorn workers, "
              "2 schedulers, SIGKILL) ==")
        results["schedulers"] = schedulers.run(args.db)
        save()
    if "load" in parts:
        from bench import load

        print(f"== Load ({args.load_seconds} s per path, gunicorn) ==")
        results["load"] = load.run(args.db, args.load_seconds)
        save()
    print(f"Written {out}")
    handover = results.get("schedulers") if "schedulers" in parts else None
    return 1 if results.get("consistency_problems") or (handover and not handover["ok"]) \
        else 0


if __name__ == "__main__":
    sys.exit(main())
