"""scripts/bench --schedulers: the scheduler's handover with the real parts running.

On a copy of the benchmark database (`<db>_schedulers`, made from it as a template and
dropped afterwards, so the other parts keep measuring the generated data): gunicorn with
4 workers, and two `flask scheduler run` processes, both started while the benchmark
itself holds the scheduler's advisory lock so that both stand by; then the lock is let
go and

1. exactly one of the two must lead (one `leader:` line, every job run its pid), the
   other must log that it stands by;
2. the leader runs the catch-up as of an instant with plenty of due work
   (`--catch-up-at`, days ahead of the generated data: overdue orders to escalate,
   reminders to send) and is killed with SIGKILL as soon as the first of that work is
   committed, in the middle of its sweeps;
3. the standby must take over within the lease (SCHEDULER_LEASE_SECONDS, 60 s by
   default; on PostgreSQL the lock goes with the killed session, so the standby's next
   poll gets it) and finish the catch-up;
4. what was created must be exactly what one uninterrupted run creates: the
   notifications by (user, key) against the set a rolled-back run of the same sweeps at
   the same instant makes (none missing, none extra; two rows for one key are impossible,
   the key is unique), and no logical duplicate either: no two history events for one
   transition of one object; bench/check.py's consistency checks still pass;
5. meanwhile the web workers keep answering (GET /status polled throughout), and the
   login limit is one count for all 4 workers when RATELIMIT_STORAGE_URI is Redis
   (redis://127.0.0.1:6379/0 when one answers there, memory:// otherwise; the figure
   shows which).
"""

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import psycopg

from bench.generate import ADMIN_URL, ROOT, pg_url, sqlalchemy_url
from bench.load import _free_port

ZONE = ZoneInfo("Asia/Shanghai")
WORKERS = 4
DAYS_AHEAD = 20  # as bench/jobs.py's deadline sweep: many orders overdue and escalated
LEASE_SECONDS = 60  # the production default
WAIT = 180  # seconds: the bound on every wait
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
LOGIN_LIMIT = 5


def _instant() -> datetime:
    day = datetime.now(ZONE).date() + timedelta(days=DAYS_AHEAD)
    return datetime.combine(day, clock_time(9, 0), ZONE)


def _clone(db: str) -> str:
    clone = f"{db}_schedulers"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        # A template must have no other sessions (the pages part's pool, say).
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", (db,))
        conn.execute(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{clone}" TEMPLATE "{db}"')
    return clone


def _drop(clone: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)')


def _redis_answers() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def _expected(clone: str, at: datetime) -> tuple[set, set]:
    """(user_id, key) of the notifications and (type, id, trigger, from, to) of the
    history events one uninterrupted catch-up at `at` creates, from a rolled-back run."""
    from sqlalchemy.orm import Session

    from bench.app import make_app
    from casework.extensions import db
    from casework.jobs.runner import run_sweeps

    app = make_app(clone)
    with app.app_context():
        notes, events = _marks(clone)
        db.session.rollback()
        with mock.patch.object(Session, "commit", Session.flush):
            runs = run_sweeps(at, source="scheduler")
            failed = [r.job for r in runs if r.outcome != "ok"]
            if failed:
                raise RuntimeError(f"the rolled-back catch-up failed in {failed}")
            conn = db.session.connection()
            new_notes = set(conn.exec_driver_sql(
                "SELECT user_id, key FROM notification WHERE id > %(n)s", {"n": notes}))
            new_events = set(conn.exec_driver_sql(
                "SELECT object_type, object_id, trigger, from_state, to_state "
                "FROM history_event WHERE id > %(e)s", {"e": events}))
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()  # no session left on the clone
    return new_notes, new_events


def _marks(clone: str) -> tuple[int, int]:
    with psycopg.connect(pg_url(clone)) as conn:
        return conn.execute("SELECT (SELECT coalesce(max(id), 0) FROM notification), "
                            "(SELECT coalesce(max(id), 0) FROM history_event)").fetchone()


class Poller(threading.Thread):
    """GET /status every 50 ms until stopped; counts answers that were not 200."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.requests, self.failures = url, 0, 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.05):
            self.requests += 1
            try:
                with urllib.request.urlopen(self.url, timeout=10) as response:
                    ok = response.status == 200
            except OSError:
                ok = False
            self.failures += not ok


def _login_attempts_until_refused(base: str, username: str, most: int = 40) -> int | None:
    """Wrong logins (each on a new connection, so the workers share them out) until the
    first 429; None if none came."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": username, "password": "Wrong-pw-123",
                                   "csrf_token": token}).encode()
    for attempt in range(1, most + 1):
        try:
            opener.open(f"{base}/login", data=body, timeout=10)
        except urllib.error.HTTPError as error:
            if error.code == 429:
                return attempt
    return None


def _wait(predicate, what, *procs):
    deadline = time.monotonic() + WAIT
    while not predicate():
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"process {proc.pid} exited ({proc.returncode}) while "
                                   f"waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.005)


def run(db: str, out=print) -> dict:
    from casework.jobs.leadership import ADVISORY_LOCK_KEY
    from casework.jobs.registry import SWEEP_ORDER

    at = _instant()
    clone = _clone(db)
    procs: list[subprocess.Popen] = []
    paths: dict[int, Path] = {}
    logs = tempfile.TemporaryDirectory()
    try:
        out(f"  copy {clone}; catch-up as of {at:%Y-%m-%d %H:%M} local "
            f"({DAYS_AHEAD} days ahead); expected changes from a rolled-back run…")
        expected_notes, expected_events = _expected(clone, at)
        notes_mark, events_mark = _marks(clone)
        storage = REDIS_URL if _redis_answers() else "memory://"
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": sqlalchemy_url(clone),
               "CASEWORK_ENV": "development", "SECRET_KEY": "bench-only",
               "PYTHONPATH": str(ROOT), "SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
               "RATELIMIT_STORAGE_URI": storage,
               "LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per minute",
               # Reminders are e-mailed by send_mail: to a port nobody listens on.
               "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(_free_port())}
        bin_dir = Path(sys.executable).parent

        def start(label, args):
            path = Path(logs.name) / f"{label}.log"
            with open(path, "wb") as log:
                procs.append(subprocess.Popen(args, cwd=ROOT, env=env, stdout=log,
                                              stderr=subprocess.STDOUT))
            paths[procs[-1].pid] = path
            return procs[-1]

        def log_of(proc):
            return paths[proc.pid].read_text(errors="replace")

        web = start("web", [str(bin_dir / "gunicorn"), "-w", str(WORKERS), "-b",
                            f"127.0.0.1:{port}", "--timeout", "300", "wsgi:app"])
        base = f"http://127.0.0.1:{port}"

        def web_up():
            try:
                return urllib.request.urlopen(f"{base}/status", timeout=2).status == 200
            except OSError:
                return False

        # The benchmark holds the lock: both schedulers come up as standbys.
        gate = psycopg.connect(pg_url(clone), autocommit=True)
        gate.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run",
                   "--catch-up-at", at.isoformat()]
        pair = [start("scheduler-a", command), start("scheduler-b", command)]
        _wait(lambda: all("standby: waiting" in log_of(p) for p in pair),
              "both schedulers to stand by", *pair)
        _wait(web_up, "gunicorn", web)
        poller = Poller(f"{base}/status")
        poller.start()
        watch = psycopg.connect(pg_url(clone), autocommit=True)

        def leaders():
            return [p for p in pair if "leader:" in log_of(p)]

        def committed():
            return watch.execute("SELECT count(*) FROM notification WHERE id > %s",
                                 (notes_mark,)).fetchone()[0]

        def caught_up():
            finished = watch.execute(
                "SELECT count(DISTINCT job) FROM job_run WHERE outcome = 'ok' "
                "AND pid = ANY(%s) AND id > %s", ([p.pid for p in pair], runs_mark))
            return finished.fetchone()[0] >= len(done)

        done = set(SWEEP_ORDER)
        runs_mark = watch.execute("SELECT coalesce(max(id), 0) FROM job_run").fetchone()[0]
        gate.close()  # let go: one of the two takes it at its next poll
        # The first due work committed (or, with none due at this scale, the catch-up over).
        _wait(lambda: committed() > 0 or caught_up(),
              "the leader's first committed notifications", *pair)
        found = leaders()
        leader = found[0]
        standby = next(p for p in pair if p is not leader)
        running = watch.execute(
            "SELECT job FROM job_run WHERE pid = %s AND outcome = 'running' AND id > %s",
            (leader.pid, runs_mark)).fetchone()
        leader.send_signal(signal.SIGKILL)
        killed_at = datetime.now(UTC)
        leader.wait(WAIT)
        at_kill = committed()
        pids_before = {r[0] for r in watch.execute(
            "SELECT DISTINCT pid FROM job_run WHERE id > %s", (runs_mark,))}
        _wait(lambda: {r[0] for r in watch.execute(
            "SELECT job FROM job_run WHERE pid = %s AND outcome = 'ok'", (standby.pid,))}
            >= done, "the standby to finish the catch-up", standby)
        acquired_at, first_run = watch.execute(
            "SELECT (SELECT acquired_at FROM scheduler_lease), "
            "(SELECT min(started_at) FROM job_run WHERE pid = %s)", (standby.pid,)).fetchone()
        standby.send_signal(signal.SIGTERM)
        standby_exit = standby.wait(WAIT)
        poller.stop.set()
        poller.join()
        refused_at = _login_attempts_until_refused(base, f"bench-throttle-{port}")

        notes = set(watch.execute("SELECT user_id, key FROM notification WHERE id > %s",
                                  (notes_mark,)))
        note_rows = watch.execute("SELECT count(*) FROM notification WHERE id > %s",
                                  (notes_mark,)).fetchone()[0]
        events = list(watch.execute(
            "SELECT object_type, object_id, trigger, from_state, to_state "
            "FROM history_event WHERE id > %s", (events_mark,)))
        watch.close()
        from bench import check

        with psycopg.connect(pg_url(clone)) as conn:
            problems = check.problems(conn)
        handover = (acquired_at - killed_at).total_seconds()
        result = {
            "workers": WORKERS, "lease_s": LEASE_SECONDS, "catch_up_at": at.isoformat(),
            "one_leader": len(found) == 1 and pids_before == {leader.pid}
            and "standby: waiting" in log_of(standby),
            "killed_during": running[0] if running else "between sweeps or after them",
            "notifications_at_kill": at_kill,
            "handover_s": round(handover, 2),
            "first_run_after_kill_s": round((first_run - killed_at).total_seconds(), 2),
            "within_lease": 0 <= handover <= LEASE_SECONDS,
            "standby_exit": standby_exit,
            "notifications_expected": len(expected_notes), "notifications": note_rows,
            "missing": len(expected_notes - notes), "extra": len(notes - expected_notes),
            "duplicate_rows": note_rows - len(notes),
            "history_expected": len(expected_events), "history": len(events),
            "history_duplicates": len(events) - len(set(events)),
            "history_same": set(events) == expected_events,
            "consistency_problems": problems,
            "web_requests": poller.requests, "web_failures": poller.failures,
            "rate_limit_storage": storage.split("://")[0],
            "login_refused_at_attempt": refused_at,
            "login_limit": LOGIN_LIMIT,
            # One count for all workers: refused right after the limit.
            "login_limit_shared": refused_at == LOGIN_LIMIT + 1,
        }
        result["ok"] = (result["one_leader"] and result["within_lease"] and not problems
                        and standby_exit == 0 and result["missing"] == result["extra"]
                        == result["duplicate_rows"] == result["history_duplicates"] == 0
                        and result["history_same"] and poller.failures == 0)
        _print(result, out)
        return result
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(WAIT)
        logs.cleanup()
        _drop(clone)


def _print(r: dict, out) -> None:
    def yes(flag):
        return "yes" if flag else "NO"

    out(f"  one leader of two: {yes(r['one_leader'])}; leader SIGKILLed during "
        f"{r['killed_during']} ({r['notifications_at_kill']:,} notifications committed)")
    out(f"  handover {r['handover_s']} s (lease {r['lease_s']} s: {yes(r['within_lease'])}), "
        f"first sweep {r['first_run_after_kill_s']} s after the kill")
    out(f"  notifications {r['notifications']:,} of {r['notifications_expected']:,} expected: "
        f"missing {r['missing']}, extra {r['extra']}, duplicates {r['duplicate_rows']}")
    out(f"  history events {r['history']:,} of {r['history_expected']:,}: same "
        f"{yes(r['history_same'])}, two for one transition {r['history_duplicates']}; "
        f"consistency {'fine' if not r['consistency_problems'] else r['consistency_problems']}")
    out(f"  {r['workers']} gunicorn workers: {r['web_requests']} GET /status during the "
        f"handover, {r['web_failures']} failed; login limit {r['login_limit']}/min "
        f"({r['rate_limit_storage']}) refused attempt {r['login_refused_at_attempt']}: "
        f"shared by the workers {yes(r['login_limit_shared'])}")
    out(f"  handover checks: {'all passed' if r['ok'] else 'FAILED'}")
