"""Bulletin figures from complaints and disputes, worked out by hand from a fixed data set;
the interview threshold from the settings; recomputing a draft; the spreadsheet and the
printable page; who sees which bulletin."""

from datetime import date, datetime, time
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from factories import csrf_token, fresh, history, unchanged
from openpyxl import load_workbook

from casework import periods
from casework.bulletins import services, sweeps
from casework.bulletins.models import Bulletin
from casework.campaigns.models import ReportingCadence
from casework.cases.models import InspectionCase
from casework.complaints.models import Complaint
from casework.disputes.models import MedicalDispute
from casework.errors import GuardFailed, NotFound, NotPermitted, StaleObject
from casework.institutions.models import Institution
from casework.settings import services as settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
# World.make_campaign starts on 1 April 2021: its first half-year is clipped to
# 1 April – 30 June 2021, 91 days of a 365-day year.
H1 = periods.Period(date(2021, 4, 1), date(2021, 6, 30), "2021-H1")


@pytest.fixture(autouse=True)
def today(clock):
    clock("2021-07-05T09:00:00+08:00")


def _html(response):
    return response.get_data(as_text=True)


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/dashboard"), **data})


_codes = iter(range(10**6))


def complaint(db, institution, received_on, category, *, state="received", outcome=None,
              handler=None, department=None):
    row = Complaint(tracking_code=f"T{next(_codes):011d}", channel="hotline",
                    category=category, institution_id=institution.id, description="投诉",
                    received_on=received_on, deadline=received_on, state=state,
                    outcome=outcome, handler_id=handler.id if handler else None,
                    transfer_department=department,
                    findings="查明" if outcome else None)
    db.session.add(row)
    return row


def dispute(db, institution, occurred_on, route, status="open"):
    db.session.add(MedicalDispute(institution_id=institution.id, occurred_on=occurred_on,
                                  route=route, type="surgery", status=status,
                                  resolved_on=occurred_on if status != "open" else None,
                                  summary="纠纷"))


@pytest.fixture
def data(db, world, users):
    """Four institutions with a case in the campaign; annual visits:
    H1 365,000 · H2 73,000 · H3 146,000 · the clinic C1 not recorded."""
    campaign = world.make_campaign(db)
    campaign.cadences.append(ReportingCadence(position=0, kind="bulletin",
                                              frequency="half_yearly"))
    h3 = Institution(code="H3", name="沙坡头区第二医院", type="general_hospital",
                     level="secondary", ownership="public", region=world.district,
                     annual_visits=146000)
    world.hospital.annual_visits = 365000
    world.far_hospital.annual_visits = 73000
    db.session.add(h3)
    for institution in (world.hospital, world.far_hospital, h3, world.clinic):
        db.session.add(InspectionCase(campaign=campaign, institution=institution))
    inspector = users["inspector"]
    H, F, C = world.hospital, world.far_hospital, world.clinic
    # H1: five complaints in the period, of four categories and every outcome ...
    complaint(db, H, date(2021, 4, 1), "red_envelope", state="concluded",
              outcome="substantiated", handler=inspector)
    complaint(db, H, date(2021, 5, 2), "red_envelope", state="closed",
              outcome="unsubstantiated", handler=inspector)
    complaint(db, H, date(2021, 5, 3), "service_attitude", state="transferred",
              department="market_supervision")
    complaint(db, H, date(2021, 6, 4), "irregular_fees")
    complaint(db, H, date(2021, 6, 30), "over_treatment", state="investigating",
              handler=inspector)
    # ... and two outside it: before the campaign's first day, after the period.
    complaint(db, H, date(2021, 3, 31), "red_envelope")
    complaint(db, H, date(2021, 7, 1), "red_envelope")
    # A closed complaint that was transferred still counts as transferred.
    complaint(db, F, date(2021, 4, 20), "other", state="closed", department="public_security")
    for day in (10, 11, 12):
        complaint(db, C, date(2021, 5, day), "service_attitude")
    # Disputes: H1 two in the period (one more after it), H2 one, H3 four.
    dispute(db, H, date(2021, 5, 1), "negotiation")
    dispute(db, H, date(2021, 6, 30), "mediation", status="resolved")
    dispute(db, H, date(2021, 7, 2), "litigation")
    dispute(db, F, date(2021, 4, 1), "litigation", status="withdrawn")
    for day in (1, 2, 3, 4):
        dispute(db, h3, date(2021, 5, day), "mediation")
    db.session.commit()
    return {"campaign": campaign, "H1": H, "H2": F, "H3": h3, "C1": C}


def rows_by_code(figures):
    return {row["code"]: row for row in figures["institutions"]}


def test_figures_match_the_hand_computed_ones(db, data):
    figures = sweeps.figures(data["campaign"].id, None, H1)
    rows = rows_by_code(figures)
    h1, h2, h3, c1 = rows["H1"], rows["H2"], rows["H3"], rows["C1"]

    # H1: complaints received 1 April – 30 June: 5 (31 March and 1 July are outside).
    assert h1["complaints"] == 5
    assert h1["complaints_by_category"] == {
        "service_attitude": 1, "red_envelope": 2, "irregular_fees": 1, "over_treatment": 1,
        "illegal_advertising": 0, "other": 0}
    # substantiated 1, unsubstantiated 1, transferred 1, pending = received + investigating.
    assert h1["complaints_by_outcome"] == {"substantiated": 1, "unsubstantiated": 1,
                                           "transferred": 1, "pending": 2}
    # Disputes that occurred 1 May and 30 June (2 July is outside).
    assert h1["disputes"] == 2
    assert h1["disputes_by_route"] == {"negotiation": 1, "mediation": 1, "litigation": 0}
    # Visits: 365,000 × 91 / 365 = 91,000. Rate: (5 + 2) × 10,000 / 91,000 = 0.769… → 0.77
    assert h1["visits"] == 91000 and h1["rate_per_10k"] == 0.77

    # H2: 73,000 × 91 / 365 = 18,200 visits; (1 + 1) × 10,000 / 18,200 = 1.0989… → 1.10
    assert h2["complaints_by_outcome"]["transferred"] == 1
    assert (h2["complaints"], h2["disputes"], h2["visits"], h2["rate_per_10k"]) == (
        1, 1, 18200, 1.10)
    # H3: 146,000 × 91 / 365 = 36,400 visits; (0 + 4) × 10,000 / 36,400 = 1.0989… → 1.10
    assert (h3["complaints"], h3["disputes"], h3["visits"], h3["rate_per_10k"]) == (
        0, 4, 36400, 1.10)
    # C1: no visits recorded: no rate; 3 complaints.
    assert (c1["complaints"], c1["disputes"], c1["visits"], c1["rate_per_10k"]) == (
        3, 0, None, None)

    # Rank: H2 and H3 tie at 1.10 and share rank 1; H1 (0.77) is 3rd; C1, without
    # visits, comes after every institution with a rate: 4th.
    assert {code: row["rank"] for code, row in rows.items()} == {
        "H2": 1, "H3": 1, "H1": 3, "C1": 4}
    # Default threshold (5 per 10,000; 5 complaints and disputes): nobody.
    assert figures["threshold"] == {"rate": 5, "count": 5}
    assert not any(row["interview"] for row in rows.values())

    totals = figures["totals"]
    # 5 + 1 + 0 + 3 complaints, 2 + 1 + 4 + 0 disputes.
    assert (totals["complaints"], totals["disputes"]) == (9, 7)
    assert totals["complaints_by_outcome"] == {"substantiated": 1, "unsubstantiated": 1,
                                               "transferred": 2, "pending": 5}
    assert totals["disputes_by_route"] == {"negotiation": 1, "mediation": 5, "litigation": 1}
    # Over the institutions with visits only: 91,000 + 18,200 + 36,400 = 145,600 visits,
    # (7 + 2 + 4) × 10,000 / 145,600 = 0.8928… → 0.89.
    assert (totals["visits"], totals["rate_per_10k"], totals["interview"]) == (
        145600, 0.89, 0)


def test_the_threshold_from_the_settings_decides_who_is_proposed(db, data, users):
    admin = users["admin"]
    settings.update({"bulletin_interview_rate": 1, "bulletin_interview_count": 3},
                    actor=admin)
    rows = rows_by_code(sweeps.figures(data["campaign"].id, None, H1))
    # 1.10 ≥ 1 (H2, H3); 0.77 < 1 (H1); the clinic by count: 3 ≥ 3.
    assert {code: row["interview"] for code, row in rows.items()} == {
        "H1": False, "H2": True, "H3": True, "C1": True}
    settings.update({"bulletin_interview_rate": 2, "bulletin_interview_count": 4},
                    actor=admin)
    figures = sweeps.figures(data["campaign"].id, None, H1)
    assert not any(row["interview"] for row in figures["institutions"])
    assert figures["threshold"] == {"rate": 2, "count": 4}


@pytest.mark.parametrize("annual, period, expected", [
    (None, H1, None), (0, H1, None),
    (365000, H1, 91000),
    # A leap year's half-year: 366,000 × 182 / 366 = 182,000.
    (366000, periods.Period(date(2024, 1, 1), date(2024, 6, 30), "2024-H1"), 182000),
    # 1,000 × 91 / 365 = 249.3… → 249; 1,003 × 91 / 365 = 250.06… → 250.
    (1000, H1, 249), (1003, H1, 250),
])
def test_period_visits(annual, period, expected):
    assert sweeps.period_visits(annual, period) == expected


def test_ranking_ties_share_a_rank_and_the_next_skips():
    rows = [{"rate_per_10k": r, "complaints": c, "disputes": 0}
            for r, c in ((2.0, 0), (3.5, 0), (2.0, 0), (None, 4), (None, 1), (None, 4),
                         (1.0, 9))]
    sweeps.rank_rows(rows)
    assert [r["rank"] for r in rows] == [2, 1, 2, 5, 7, 5, 4]


def test_figures_query_count_does_not_grow_with_the_institutions(db, world, count_queries):
    counts = []
    for n in (3, 30):
        campaign = world.make_campaign(db, code=f"c{n}")
        institutions = [Institution(code=f"Q{n}-{i}", name=f"医院{i}", type="general_hospital",
                                    level="secondary", ownership="public",
                                    region=world.district, annual_visits=10000 * (i + 1))
                        for i in range(n)]
        db.session.add_all(institutions)
        db.session.add_all(InspectionCase(campaign=campaign, institution=i)
                           for i in institutions)
        db.session.flush()
        for i in institutions:
            complaint(db, i, date(2021, 5, 1), "other")
            dispute(db, i, date(2021, 5, 2), "mediation")
        db.session.commit()
        with count_queries() as statements:
            figures = sweeps.figures(campaign.id, None, H1)
        assert figures["totals"]["complaints"] == n and figures["totals"]["disputes"] == n
        counts.append(len(statements))
    assert counts[0] == counts[1]


# --- the draft: recompute, publish, export, print -------------------------------------------

@pytest.fixture
def draft(db, data):
    summary = sweeps.bulletins(datetime.combine(date(2021, 7, 1), time(1), tzinfo=SHANGHAI))
    assert summary["drafted"] == [{"campaign": "test-campaign", "period": "2021-H1"}]
    return db.session.scalar(sa.select(Bulletin))


def test_the_sweep_drafts_the_figures(draft):
    assert rows_by_code(draft.figures)["H1"]["rate_per_10k"] == 0.77
    assert draft.figures["totals"]["complaints"] == 9


def test_a_coordinator_recomputes_a_draft_after_late_complaints(client, login, db, data,
                                                                draft):
    # Registered on 5 July, received on 28 June: in the period.
    complaint(db, data["H1"], date(2021, 6, 28), "red_envelope")
    db.session.commit()
    login.as_("coordinator")
    page = _html(client.get(f"/bulletins/{draft.id}"))
    assert 'data-testid="recompute"' in page
    response = _post(client, f"/bulletins/{draft.id}/recompute", {"version": "1"})
    assert response.status_code == 302
    bulletin = fresh(db, draft)
    h1 = rows_by_code(bulletin.figures)["H1"]
    # (6 + 2) × 10,000 / 91,000 = 0.879… → 0.88
    assert (h1["complaints"], h1["rate_per_10k"], bulletin.version) == (6, 0.88, 2)
    (event,) = history(db, bulletin)
    assert (event.trigger, event.from_state, event.to_state, event.actor_role) == (
        "recomputed", "draft", "draft", "coordinator")
    assert event.data == {"old_complaints": 9, "new_complaints": 10, "old_disputes": 7,
                          "new_disputes": 7, "old_interview": 0, "new_interview": 0}
    assert 'data-testid="recomputed-change"' in _html(client.get(f"/bulletins/{draft.id}"))

    # A stale form is a conflict and changes nothing.
    with unchanged(db, draft):
        stale = _post(client, f"/bulletins/{draft.id}/recompute", {"version": "1"})
    assert stale.status_code == 409 and len(history(db, bulletin)) == 1


def test_recompute_is_for_the_campaigns_coordinators_and_drafts_only(db, users, draft):
    with unchanged(db, draft), pytest.raises(NotPermitted):
        services.recompute_figures(draft.id, actor=users["viewer"], version=1)
    with pytest.raises(NotFound):
        services.recompute_figures(draft.id, actor=users["institution"], version=1)
    with unchanged(db, draft), pytest.raises(StaleObject):
        services.recompute_figures(draft.id, actor=users["coordinator"], version=None)
    services.publish_bulletin(draft.id, actor=users["coordinator"], version=1,
                              commentary="通报")
    with pytest.raises(GuardFailed):
        services.recompute_figures(draft.id, actor=users["coordinator"], version=2)
    assert [e.trigger for e in history(db, draft)] == ["publish"]


def test_the_page_shows_the_chart_ranking_and_who_is_proposed(client, login, db, users,
                                                              data):
    settings.update({"bulletin_interview_rate": 1, "bulletin_interview_count": 3},
                    actor=users["admin"])
    sweeps.bulletins(datetime.combine(date(2021, 7, 1), time(1), tzinfo=SHANGHAI))
    bulletin = db.session.scalar(sa.select(Bulletin))
    login.as_("coordinator")
    page = _html(client.get(f"/bulletins/{bulletin.id}"))
    assert "data-chart='" in page and "chart.umd.min.js" in page and "js/bulletins.js" in page
    assert "<script>" not in page and 'style="' not in page
    chart = services.chart_data(bulletin)
    assert chart["labels"][2] == data["H1"].name and chart["rates"] == [1.1, 1.1, 0.77]
    assert chart["interview"] == [True, True, False] and chart["threshold"] == 1
    assert page.count('data-testid="ranking-row"') == 4
    assert page.count('data-testid="interview-badge"') == 3
    assert page.count('data-testid="breakdown-row"') == 4
    assert "红包、回扣" in page and "人民调解" in page and "尚未办结" in page
    assert "registers-missing" not in page


def test_the_spreadsheet_holds_the_figures(client, login, db, data, draft):
    login.as_("coordinator")
    response = client.get(f"/bulletins/{draft.id}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    rows = [r for r in sheet.iter_rows(values_only=True)]
    assert "通报" in rows[0][0]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "医疗机构")
    header = rows[header_at]
    body = rows[header_at + 1:]
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    h1 = by_name[data["H1"].name]
    assert (h1["排名"], h1["投诉举报"], h1["医疗纠纷"], h1["诊疗人次"], h1["每万人次诊疗"]) == (
        3, 5, 2, 91000, 0.77)
    assert h1["投诉举报（按类别）：红包、回扣"] == 2
    assert h1["投诉举报（按办理结果）：已转办"] == 1
    assert h1["医疗纠纷（按处理途径）：协商"] == 1
    assert by_name[data["C1"].name]["每万人次诊疗"] is None
    total = by_name["合计"]
    assert (total["投诉举报"], total["医疗纠纷"], total["每万人次诊疗"]) == (9, 7, 0.89)


def test_the_printable_bulletin(client, login, db, users, data, draft):
    services.publish_bulletin(draft.id, actor=users["coordinator"], version=1,
                              commentary="第一段。\n第二段。")
    login.as_("institution")
    response = client.get(f"/bulletins/{draft.id}/print")
    assert response.status_code == 200
    page = _html(response)
    assert "css/bulletin-print.css" in page and 'data-testid="print-draft"' not in page
    assert page.count('data-testid="print-commentary"') == 2
    assert page.count('data-testid="print-row"') == 4
    assert 'data-testid="print-proposed"' in page and 'data-testid="print-generated"' in page
    assert "约谈阈值" in page and "2021年4月1日" in page


# --- who sees which bulletin ----------------------------------------------------------------

def test_institutions_see_published_bulletins_of_their_campaigns_only(client, login, db, world,
                                                                     data, draft):
    other = world.make_campaign(db, code="other")
    db.session.add(InspectionCase(campaign=other, institution=world.far_hospital))
    others = Bulletin(campaign=other, period_start=H1.start, period_end=H1.end,
                      state="published", figures={"institutions": []})
    db.session.add(others)
    db.session.commit()
    login.as_("institution")
    for path in ("", "/print", "/export.xlsx"):
        assert client.get(f"/bulletins/{draft.id}{path}").status_code == 404, path
        assert client.get(f"/bulletins/{others.id}{path}").status_code == 404, path
    assert 'data-testid="bulletin-row"' not in _html(client.get("/bulletins/"))
    assert _post(client, f"/bulletins/{draft.id}/recompute", {"version": "1"}
                 ).status_code == 404

    bulletin = fresh(db, draft)
    from casework.users.models import User

    services.publish_bulletin(bulletin.id, actor=db.session.scalar(
        sa.select(User).where(User.username == "coord")), version=1, commentary="")
    listing = _html(client.get("/bulletins/"))
    assert f'href="/bulletins/{draft.id}"' in listing
    assert f'href="/bulletins/{others.id}"' not in listing
    for path in ("", "/print", "/export.xlsx"):
        assert client.get(f"/bulletins/{draft.id}{path}").status_code == 200, path
    assert 'data-testid="recompute"' not in _html(client.get(f"/bulletins/{draft.id}"))
