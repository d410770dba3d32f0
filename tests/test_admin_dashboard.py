"""The admin dashboard warns while a year's holiday arrangement is missing."""

import datetime as dt


def _span(first, last, name):
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(start + dt.timedelta(days=i), name) for i in range((end - start).days + 1)]


def test_admin_is_told_to_enter_next_year(client, login, users, clock):
    from casework.workdays import services as workdays

    clock("2026-11-25T09:00:00+08:00")
    login.as_("admin")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="calendar-missing"' in page and "2027" in page
    assert "/admin/calendar/2027" in page

    workdays.enter_year(2027, _span("2027-01-01", "2027-01-03", "元旦"), [],
                        actor=users["admin"], no_workdays=True)
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="calendar-missing"' not in page
