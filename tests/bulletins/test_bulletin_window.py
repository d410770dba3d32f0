"""A province's bulletin ranks 1,500 institutions: the bulletin page shows them PER_PAGE
at a time (ranking, chart and both tables the same window, in rank order, with the same
columns on every page), the print view and the spreadsheet hold all; numbers are written
as Babel writes them for the locale."""

from datetime import date

import pytest
from babel.numbers import format_decimal
from factories import make_bulletin
from flask_babel import force_locale

from casework.bulletins import services
from casework.errors import NotFound

TOTAL = services.PER_PAGE * 2 + 20


@pytest.fixture(autouse=True)
def today(clock):
    clock("2021-07-05T09:00:00+08:00")


@pytest.fixture
def big(world, db):
    campaign = world.make_campaign(db)
    world.make_case(db, campaign=campaign)
    rows = [{"institution_name": f"机构{n:04d}", "complaints": 3 * n, "disputes": n % 4,
             "visits": 1000 + n, "rate_per_10k": round(10000 * 4 * n / (1000 + n), 2),
             "rank": n, "interview": n <= 3,
             "complaints_by_category": {"服务态度": n, "红包回扣": 2 * n}}
            for n in range(TOTAL, 0, -1)]  # stored out of rank order
    rows[0]["late_column"] = 1  # a column only the last-ranked institution has
    return make_bulletin(db, campaign, figures={"institutions": rows,
                                                "totals": {"complaints": 1}})


def test_the_window_cuts_every_table_the_same_way(app, big):
    shown = services.window(big, 3)
    assert (shown.first, shown.last, shown.total, shown.pages) == (
        2 * services.PER_PAGE + 1, TOTAL, TOTAL, 3)
    table = services.figures_table(big, shown)
    breakdown = services.breakdown_table(big, shown)
    ranking = services.ranking(big, shown)
    chart = services.chart_data(big, shown)
    expected = [f"机构{n:04d}" for n in range(2 * services.PER_PAGE + 1, TOTAL + 1)]
    assert [row[0] for row in table.rows] == expected
    assert breakdown.names == expected
    assert [r["name"] for r in ranking] == expected
    assert chart["labels"] == expected
    # The same columns on every page, even one only a row elsewhere has.
    first = services.figures_table(big, services.window(big, 1))
    assert table.columns == first.columns
    assert "late_column" in [key for key, _label, _numeric in first.columns]
    assert breakdown.columns == services.breakdown_table(big, services.window(big, 1)).columns
    # Without a window: everything (print view, spreadsheet).
    assert len(services.figures_table(big).rows) == TOTAL


@pytest.mark.parametrize("page", [0, -1, 4, 99])
def test_a_page_outside_the_bulletin_is_not_found(app, big, page):
    with pytest.raises(NotFound):
        services.window(big, page)


def test_an_empty_bulletin_has_one_empty_page(app, world, db):
    campaign = world.make_campaign(db)
    bulletin = make_bulletin(db, campaign)
    shown = services.window(bulletin, 1)
    assert (shown.pages, shown.total, shown.partial) == (1, 0, False)
    assert services.figures_table(bulletin, shown).empty


def test_the_page_shows_one_window_with_a_pager(client, login, big):
    login.as_("coordinator")
    html = client.get(f"/bulletins/{big.id}").get_data(as_text=True)
    assert html.count('data-testid="figures-row"') == services.PER_PAGE
    assert html.count('data-testid="ranking-row"') == services.PER_PAGE
    assert f"第 1–{services.PER_PAGE} 家，共 {TOTAL} 家医疗机构" in html
    assert 'data-testid="institutions-next"' in html
    html = client.get(f"/bulletins/{big.id}?page=3").get_data(as_text=True)
    assert html.count('data-testid="figures-row"') == TOTAL - 2 * services.PER_PAGE
    assert ">机构0101</th>" in html and ">机构0001</th>" not in html
    response = client.get(f"/bulletins/{big.id}?page=4")
    assert response.status_code == 404
    assert "本通报的医疗机构共 3 页。" in response.get_data(as_text=True)
    # The print view holds every institution.
    html = client.get(f"/bulletins/{big.id}/print").get_data(as_text=True)
    assert html.count("机构0") >= TOTAL


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_numbers_are_written_as_babel_writes_them(app, locale):
    values = [0, 7, 999, 1000, 1234567, -4321, 0.5, 2.675, 1234.5678, -0.125, 10 ** 9 + 0.1]
    with app.test_request_context(), force_locale(locale):
        fmt = services._number_formatter()
        for value in values:
            if isinstance(value, int):
                assert fmt(value, None) == format_decimal(value, locale=locale)
            else:
                assert fmt(round(value, 2), 2) == format_decimal(
                    round(value, 2), format="#,##0.00", locale=locale)


def test_the_list_never_reads_the_figures(client, login, world, db, count_queries):
    # A province's bulletin holds 1,500 institution rows of JSON: the list shows none of
    # them, loads none of them, and its statements do not grow with the bulletins.
    campaign = world.make_campaign(db)
    figures = {"institutions": [{"institution_name": f"机构{n}", "complaints": n, "rank": n}
                                for n in range(1, 301)]}
    for year in (2019, 2020):
        make_bulletin(db, campaign, period=(date(year, 1, 1), date(year, 6, 30)),
                      figures=figures)
    login.as_("coordinator")
    client.get("/bulletins/")
    with count_queries() as few:
        html = client.get("/bulletins/").get_data(as_text=True)
    assert html.count("2019") >= 1 and "机构1" not in html
    for year in range(2000, 2012):
        make_bulletin(db, campaign, period=(date(year, 1, 1), date(year, 6, 30)),
                      figures=figures)
    with count_queries() as many:
        assert client.get("/bulletins/").status_code == 200
    assert len(many) == len(few)
    assert not any("figures" in s.split("FROM")[0] for s in many if "bulletin" in s)
