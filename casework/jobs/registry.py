"""The scheduler's jobs: name, when APScheduler wakes it, and the sweep it runs.

A job never remembers what is due: each is a sweep over the domain tables that
creates whatever is due up to its instant and is missing, so running it twice, late,
or after a crash sends nothing twice and misses nothing (DESIGN.md, Scheduler). The
functions live with their modules; this table only names them (their titles and
descriptions, translated, are casework/labels.JOBS).
"""

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Job:
    name: str
    target: str          # "module:function", called as function(at) -> summary dict
    cron: dict           # APScheduler cron fields, in the configured time zone

    def function(self):
        module, _, attribute = self.target.partition(":")
        return getattr(import_module(module), attribute)


JOBS = {job.name: job for job in (
    Job("deadline_sweep", "casework.orders.sweeps:deadline_sweep",
        {"hour": 0, "minute": 15}),
    Job("deadline_reminders", "casework.orders.sweeps:deadline_reminders",
        {"hour": 8, "minute": 0}),
    Job("phase_changes", "casework.cases.sweeps:phase_changes",
        {"hour": 0, "minute": 30}),
    Job("progress_reports", "casework.reports.sweeps:progress_reports",
        {"hour": 1, "minute": 0}),
    Job("bulletins", "casework.bulletins.sweeps:bulletins",
        {"hour": 2, "minute": 0}),
    Job("supervision_report_reminders", "casework.reports.sweeps:supervision_report_reminders",
        {"hour": 8, "minute": 30}),
    Job("complaint_reminders", "casework.complaints.sweeps:complaint_reminders",
        {"hour": 8, "minute": 10}),
    Job("send_mail", "casework.notifications.mail:send_pending",
        {"minute": "*/5"}),
)}

# The daily sweeps in the order a catch-up runs them: deadlines move before reminders
# are computed, phases before reports.
SWEEP_ORDER = ("phase_changes", "deadline_sweep", "deadline_reminders", "progress_reports",
               "bulletins", "supervision_report_reminders", "complaint_reminders")
