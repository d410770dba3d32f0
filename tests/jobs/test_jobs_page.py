"""The jobs page (/admin/jobs): admins and coordinators see each job's next and last
run, its outcome and what it did, who leads, and the recent runs."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from casework.jobs import scheduler
from casework.jobs.leadership import LEASE_NAME
from casework.jobs.models import JobRun, SchedulerLease
from casework.jobs.registry import JOBS

PAGE = "/admin/jobs"


def _html(response):
    return response.get_data(as_text=True)


def _job_rows(html):
    return dict(re.findall(r'<tr data-testid="job" data-job="(\w+)"(.*?)</tr>', html, re.S))


def _run(db, job, *, ago, outcome="ok", summary=None, error=None, source="scheduler",
         pid=4242):
    started = datetime.now(UTC) - timedelta(minutes=ago)
    run = JobRun(job=job, at=started, source=source, outcome=outcome, started_at=started,
                 finished_at=None if outcome == "running" else started + timedelta(seconds=3),
                 summary=summary, error=error, host="sched-host", pid=pid)
    db.session.add(run)
    return run


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("coordinator", 200), ("inspector", 403), ("institution", 403),
    ("viewer", 403)])
def test_only_admins_and_coordinators_see_it(client, login, role, status):
    login.as_(role)
    assert client.get(PAGE).status_code == status
    nav = _html(client.get("/dashboard"))
    assert (f'href="{PAGE}"' in nav) is (status == 200)


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_it_shows_each_jobs_last_run_outcome_and_summary(client, login, db, users):
    _run(db, "deadline_sweep", ago=60 * 24, summary={"overdue": 7})
    _run(db, "deadline_sweep", ago=30, summary={"overdue": 3, "escalated": 1})
    _run(db, "bulletins", ago=60 * 24, summary={"drafted": 1})
    _run(db, "bulletins", ago=20, outcome="failed", error="RuntimeError: boom")
    _run(db, "phase_changes", ago=10, outcome="running", pid=1)  # its process died
    _run(db, "send_mail", ago=1, outcome="running", pid=4243)  # the leader is on it
    _run(db, "progress_reports", ago=5, source="cli", summary={"created": 12})
    db.session.add(SchedulerLease(name=LEASE_NAME, holder="sched-host:4243",
                                  acquired_at=datetime.now(UTC) - timedelta(hours=2),
                                  expires_at=datetime.now(UTC) + timedelta(seconds=50)))
    db.session.commit()
    login.as_("admin")
    html = _html(client.get(PAGE))
    rows = _job_rows(html)
    assert set(rows) == set(JOBS)

    sweep = rows["deadline_sweep"]
    assert 'data-outcome="ok"' in sweep
    # The summary's keys in the admin's language (zh_CN), not the sweep's identifiers.
    assert 'data-key="overdue">逾期: <strong>3</strong>' in sweep
    assert 'data-key="escalated">已升级督办: <strong>1</strong>' in sweep
    assert "<strong>7</strong>" not in sweep  # the last run, not an older one
    assert "sched-host:4242" in sweep

    failed = rows["bulletins"]
    assert failed.startswith(' class="table-danger"')  # failures stand out
    assert 'data-outcome="failed"' in failed and "RuntimeError: boom" in failed
    assert 'data-testid="last-ok"' in failed  # and when it last worked

    assert 'data-outcome="interrupted"' in rows["phase_changes"]
    assert rows["phase_changes"].startswith(' class="table-warning"')
    assert 'data-outcome="running"' in rows["send_mail"]
    assert "已创建: <strong>12</strong>" in rows["progress_reports"]
    assert 'data-outcome' not in rows["supervision_report_reminders"]  # never ran

    leader = re.search(r'data-testid="leader" data-active="(\d)">(.*?)</div>', html, re.S)
    assert leader.group(1) == "1" and "sched-host:4243" in leader.group(2)
    assert len(re.findall(r'data-testid="run"', html)) == 7


def test_a_stopped_scheduler_is_flagged(client, login, db, users):
    db.session.add(SchedulerLease(name=LEASE_NAME, holder="sched-host:4243",
                                  expires_at=datetime.now(UTC) - timedelta(minutes=5)))
    db.session.commit()
    login.as_("coordinator")
    html = _html(client.get(PAGE))
    assert re.search(r'data-testid="leader" data-active="0">.*?sched-host:4243', html, re.S)


@pytest.fixture
def job_store(db):
    yield
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {scheduler.JOBSTORE_TABLE}"))


def test_next_runs_come_from_the_scheduler_in_local_time(app, client, login, users, clock,
                                                          job_store):
    clock("2022-03-01T12:02:00+08:00", tick=False)
    login.as_("admin")
    assert 'data-testid="next-run">—<' in _job_rows(_html(client.get(PAGE)))["deadline_sweep"]
    sched = scheduler.build_scheduler(app, BackgroundScheduler)
    sched.start(paused=True)  # what `flask scheduler run` writes to the job store
    sched.shutdown(wait=False)
    rows = _job_rows(_html(client.get(PAGE)))
    # 00:15 in Asia/Shanghai (16:15 UTC the day before), shown in local time.
    assert re.search(r'data-testid="next-run">[^<]*2[^<]*00:15:00<', rows["deadline_sweep"])
    assert re.search(r'data-testid="next-run">[^<]*12:05:00<', rows["send_mail"])


def test_query_count_does_not_grow_with_runs(client, login, db, users, count_queries):
    login.as_("coordinator")
    counts = []
    for total in (1, 80):
        db.session.execute(sa.delete(JobRun))
        names = list(JOBS)
        for i in range(total):
            _run(db, names[i % len(names)], ago=total - i,
                 outcome=("ok", "failed")[i % 2], summary={"n": i}, error=None)
        db.session.commit()
        with count_queries() as statements:
            response = client.get(PAGE)
        assert response.status_code == 200
        counts.append(len(statements))
        assert len(re.findall(r'data-testid="run"', _html(response))) == min(total, 50)
    assert counts[0] == counts[1], counts
