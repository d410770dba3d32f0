"""`python -m bench.profile PATH [ROLE] [--db DB]`: the statements one request runs, slowest
first, with their time (a helper for finding what a page spends its time on)."""

import argparse
import time

import sqlalchemy as sa

from bench import measure
from bench.app import make_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("role", nargs="?", default="coordinator")
    parser.add_argument("--db", default="casework_bench_full")
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--explain", type=int, default=0,
                        help="EXPLAIN ANALYZE the N slowest statements")
    args = parser.parse_args()
    app = make_app(args.db)
    client = measure.login(app, args.role) if args.role != "-" else app.test_client()
    client.get(args.path)  # warm
    timings: list[tuple[float, str]] = []
    with app.app_context():
        from casework.extensions import db

        engine = db.engine

    def before(conn, cursor, statement, params, context, executemany):
        conn.info["t0"] = time.perf_counter()

    def after(conn, cursor, statement, params, context, executemany):
        timings.append((time.perf_counter() - conn.info.pop("t0"), statement, params))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    start = time.perf_counter()
    response = client.get(args.path)
    total = time.perf_counter() - start
    sa.event.remove(engine, "before_cursor_execute", before)
    sa.event.remove(engine, "after_cursor_execute", after)
    print(f"{args.path} as {args.role}: {response.status_code}, {total * 1000:.0f} ms, "
          f"{len(timings)} statements, {sum(t for t, _s, _p in timings) * 1000:.0f} ms in SQL")
    slowest = sorted(timings, key=lambda t: -t[0])
    for seconds, statement, _params in slowest[:args.top]:
        print(f"{seconds * 1000:8.1f} ms  {' '.join(statement.split())[:300]}")
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        for _seconds, statement, params in slowest[:args.explain]:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            print("\n".join(row[0] for row in cursor.fetchall()))
            print()


if __name__ == "__main__":
    main()
