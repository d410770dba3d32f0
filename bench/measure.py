"""Page timings in-process (Flask test client): p50/p95 server time and SQL statements
per request for the pages that grow with the data, each against GET /status."""

import re
import statistics
import time

import sqlalchemy as sa

from bench.app import DEMO_PASSWORDS, counting, make_app

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def login(app, username: str):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(html).group(1)
    response = client.post("/login", data={"username": username,
                                           "password": DEMO_PASSWORDS[username],
                                           "csrf_token": token})
    assert response.status_code == 302, f"login as {username}: {response.status_code}"
    return client


def targets(app) -> dict:
    """The ids the detail pages and the deep list pages need, from the data."""
    from casework.extensions import db

    with app.app_context():
        def q(sql, **params):
            return db.session.execute(sa.text(sql), params).scalar()

        big = q("SELECT id FROM institution WHERE code = 'ZW-001'")
        live = q("SELECT id FROM campaign WHERE code = 'zhongwei-2026-demo'")
        return {
            "live": live,
            "order": q("""SELECT o.id FROM rectification_order o
                          JOIN inspection_case c ON c.id = o.case_id
                          WHERE c.institution_id = :big
                          ORDER BY o.version DESC, o.id DESC LIMIT 1""", big=big),
            "complaint": q("""SELECT id FROM complaint WHERE institution_id = :big
                              ORDER BY version DESC, id DESC LIMIT 1""", big=big),
            "bulletin": q("""SELECT id FROM bulletin WHERE campaign_id = :live
                             ORDER BY period_start DESC LIMIT 1""", live=live),
            # The middle page of the city-wide lists (50 rows a page).
            # Numbered pages stop at 20 (deeper ones go by cursor, pagination.paginate_keyset).
            "complaint_page": min(20, max(1, q("SELECT count(*) FROM complaint") // 100)),
            "order_page": min(20, max(1, q("SELECT count(*) FROM rectification_order") // 100)),
        }


def paths(t: dict) -> list[tuple[str, str | None, str]]:
    """(label, demo user or None for no login, URL)."""
    return [
        ("baseline /status", None, "/status"),
        ("coordinator dashboard", "coordinator", "/dashboard"),
        ("inspector dashboard", "inspector", "/dashboard"),
        ("viewer dashboard", "viewer", "/dashboard"),
        ("institution dashboard", "institution", "/dashboard"),
        ("escalation queue", "coordinator", "/queue/"),
        ("complaint list p1", "coordinator", "/complaints/"),
        (f"complaint list p{t['complaint_page']}", "coordinator",
         f"/complaints/?page={t['complaint_page']}"),
        ("order list p1", "coordinator", "/orders/"),
        (f"order list p{t['order_page']}", "coordinator", f"/orders/?page={t['order_page']}"),
        ("case list", "coordinator", "/cases/"),
        ("institution to-do (orders)", "institution", "/orders/"),
        ("institution reports", "institution", "/reports/"),
        ("order detail", "coordinator", f"/orders/{t['order']}"),
        ("complaint detail", "coordinator", f"/complaints/{t['complaint']}"),
        ("bulletin list", "coordinator", "/bulletins/"),
        ("bulletin view", "coordinator", f"/bulletins/{t['bulletin']}"),
        ("campaign report", "coordinator", f"/campaigns/{t['live']}/report"),
    ]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def pages(db: str, repeat: int = 20, budget: float = 60.0, out=print) -> list[dict]:
    """`repeat` timed requests per path after one warm-up, fewer (at least 3) once a path
    has taken `budget` seconds."""
    app = make_app(db)
    t = targets(app)
    clients = {None: app.test_client()}
    results = []
    out(f"  {'path':<30} {'p50 ms':>9} {'p95 ms':>9} {'queries':>8} {'× base':>8}  n  status")
    baseline = None
    for label, user, url in paths(t):
        if user not in clients:
            clients[user] = login(app, user)
        client = clients[user]
        client.get(url)  # warm-up: templates compiled, caches filled
        times, queries, statuses = [], [], set()
        began = time.perf_counter()
        for n in range(repeat):
            if n >= 3 and time.perf_counter() - began > budget:
                break
            with counting(app) as statements:
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            queries.append(len(statements))
            statuses.add(response.status_code)
        row = {"path": label, "user": user, "url": url,
               "p50_ms": round(statistics.median(times), 1),
               "p95_ms": round(_percentile(times, 0.95), 1),
               "queries": int(statistics.median(queries)), "requests": len(times),
               "status": sorted(statuses)}
        baseline = baseline or row["p50_ms"]
        row["ratio"] = round(row["p50_ms"] / baseline, 1)
        results.append(row)
        out(f"  {label:<30} {row['p50_ms']:>9.1f} {row['p95_ms']:>9.1f} {row['queries']:>8}"
            f" {row['ratio']:>8.1f} {len(times):>2}  {','.join(map(str, row['status']))}")
    return results
