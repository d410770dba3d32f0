"""Complaint and dispute bulletins (通报): the list, a bulletin's figures as tables, a
chart, a spreadsheet and a printable page; the coordinator's commentary, `publish`,
and recomputing a draft's figures.

The scheduler drafts the bulletins and computes `figures` (casework/bulletins/sweeps.py
documents the shape and the rules: rates per 10,000 visits, ranks, the interview
threshold). This module reads them defensively: an old draft may have no figures,
missing keys or nulls (before complaints and disputes existed), and none of that may
break a page. Known keys get their labels; unknown ones show under their own name.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from babel import numbers as babel_numbers
from flask_babel import format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import defer, joinedload

from casework import labels, policy
from casework.bulletins.models import Bulletin
from casework.campaigns.models import Campaign
from casework.errors import GuardFailed, Invalid, NotFound
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.history.services import history_of
from casework.institutions.models import Institution
from casework.pagination import Page, paginate
from workflows import binding

MAX_COMMENTARY = 20000
MISSING = "—"
# The bulletin page shows its institutions this many at a time (a province's bulletin
# ranks 1,500 of them); the print view and the spreadsheet hold them all.
PER_PAGE = 50

# Per-institution columns of the main table, in display order; unknown scalar keys
# follow under their own names.
KNOWN_COLUMNS = {
    "institution": _l("Institution"),
    "rank": _l("Rank"),
    "level": _l("Level"),
    "complaints": _l("Complaints"),
    "substantiated": _l("Substantiated"),
    "disputes": _l("Medical disputes"),
    "visits": _l("Visits"),
    "rate_per_10k": _l("Per 10,000 visits"),
    "interview": _l("Proposed for interview"),
    "findings": _l("Findings"),
    "orders": _l("Rectification orders"),
    "orders_overdue": _l("Orders overdue or escalated"),
    "points": _l("Bad-conduct points"),
}
# Breakdowns ({key: n} per institution) go to a table of their own, one column per key.
BREAKDOWNS = {
    "complaints_by_category": _l("Complaints by category"),
    "complaints_by_outcome": _l("Complaints by outcome"),
    "disputes_by_route": _l("Disputes by resolution route"),
}
# Where a row may keep the institution's name; ids are resolved to names, never shown.
NAME_KEYS = ("institution_name", "name", "institution")
ID_KEYS = ("institution_id", "id")
HIDDEN_KEYS = (*ID_KEYS, *NAME_KEYS, "code", *BREAKDOWNS)
ROW_LISTS = ("institutions", "rows")
# Top-level keys shown elsewhere on the page (the period is in the heading).
NOT_NOTES = (*ROW_LISTS, "totals", "period", "threshold")
# Registers an old draft may not have (null before complaints and disputes existed).
REGISTERS = {"complaints": _l("Complaints"), "disputes": _l("Medical disputes")}
NOTE_LABELS = {"levels": _l("Institution levels"), "note": _l("Note")}
TOTALS = "totals"


def _breakdown_labels(key: str) -> dict:
    if key == "complaints_by_category":
        return labels.COMPLAINT_CATEGORIES
    if key == "complaints_by_outcome":
        return {**labels.COMPLAINT_OUTCOMES,
                "transferred": labels.state_label("transferred", "complaint"),
                "pending": _l("Not concluded")}
    if key == "disputes_by_route":
        return labels.DISPUTE_ROUTES
    return {}


# --- reading ----------------------------------------------------------------------

def get_bulletin(bulletin_id: int, actor) -> Bulletin:
    """The bulletin, if the actor may see it (drafts: the campaign's coordinators and
    viewers; published: its institutions too); NotFound otherwise."""
    bulletin = db.session.scalar(
        sa.select(Bulletin).where(Bulletin.id == bulletin_id)
        .options(joinedload(Bulletin.campaign).joinedload(Campaign.region)))
    if bulletin is None or not policy.allows("bulletin_view", actor, bulletin):
        raise NotFound()
    return bulletin


def list_bulletins(actor, *, page: int = 1, per_page: int = 50) -> Page:
    """Bulletins the actor may see, drafts first, then the latest period first.

    The same rule as bulletin_view, as a query (policy.visible_bulletins). Raises
    NotPermitted for a role without a bulletin list.
    """
    query = (sa.select(Bulletin).join(Campaign, Campaign.id == Bulletin.campaign_id)
             # The list shows no figures: a province's are 1,500 rows of JSON each.
             .options(joinedload(Bulletin.campaign), defer(Bulletin.figures),
                      defer(Bulletin.commentary))
             .order_by(sa.case((Bulletin.state == "draft", 0), else_=1),
                       Bulletin.period_start.desc(), Campaign.starts_on.desc(), Bulletin.id))
    policy.check("bulletin_list", actor)
    query = policy.visible_bulletins(query, actor, Bulletin, Campaign)
    return paginate(query, page=page, per_page=per_page)


def bulletin_history(bulletin) -> list[HistoryEvent]:
    return history_of(bulletin)


def may_publish(bulletin, actor) -> bool:
    return bulletin.state == "draft" and policy.allows("bulletin_publish", actor, bulletin)


# --- the figures as tables ---------------------------------------------------------

@dataclass
class FiguresTable:
    columns: list = field(default_factory=list)   # [(key, label, numeric)]
    rows: list = field(default_factory=list)      # [[cell text]], one per institution
    totals: list | None = None                    # [cell text] under the rows
    notes: list = field(default_factory=list)     # [(label, text)]: other top-level values
    missing: list = field(default_factory=list)   # [label]: registers not recorded yet
    values: list = field(default_factory=list)    # [[raw value]] for the spreadsheet
    total_values: list | None = None

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass
class BreakdownTable:
    groups: list = field(default_factory=list)    # [(label, number of columns)]
    columns: list = field(default_factory=list)   # [(breakdown key, sub key, label)]
    names: list = field(default_factory=list)     # institution per row
    rows: list = field(default_factory=list)      # [[cell text]]
    totals: list | None = None
    values: list = field(default_factory=list)
    total_values: list | None = None

    @property
    def empty(self) -> bool:
        return not self.columns or not self.rows


def _number_formatter():
    """Numbers as the locale writes them (grouped thousands, two decimals for rates):
    Babel's symbols read once, so a table of 40,000 cells does not ask Babel 40,000
    times (format_decimal costs ~0.2 ms a call)."""
    locale = get_locale()
    if locale is None:
        return lambda value, decimals: (
            format_decimal(value) if decimals is None
            else format_decimal(value, format="#,##0.00"))
    swap = str.maketrans({",": babel_numbers.get_group_symbol(locale),
                          ".": babel_numbers.get_decimal_symbol(locale),
                          "-": babel_numbers.get_minus_sign_symbol(locale)})

    def fmt(value, decimals):
        text = f"{value:,}" if decimals is None else f"{value:,.{decimals}f}"
        return text.translate(swap)
    return fmt


def _cell(value, key: str | None = None, fmt=None) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key == "level" and isinstance(value, str):
        return str(labels.level_label(value))
    if isinstance(value, int | float):
        fmt = fmt or _number_formatter()
        return fmt(value, None) if isinstance(value, int) else fmt(round(value, 2), 2)
    if isinstance(value, dict):
        return "；".join(f"{k}: {_cell(v, fmt=fmt)}" for k, v in value.items()) or MISSING
    if isinstance(value, list | tuple):
        return "、".join(_cell(v, key, fmt) for v in value) or MISSING
    return str(value)


def _raw(value, key: str | None = None):
    """A value as a spreadsheet cell: numbers stay numbers, the rest is text."""
    if isinstance(value, bool) or isinstance(value, dict | list | tuple) or (
            key == "level" and isinstance(value, str)):
        return _cell(value, key)
    if isinstance(value, int | float) or value is None:
        return value
    return str(value)


def _rows_of(figures) -> list[dict]:
    """The per-institution rows, whatever container the job used."""
    if isinstance(figures, list):
        found = figures
    elif isinstance(figures, dict):
        found = next((figures[k] for k in ROW_LISTS if k in figures), [])
        if isinstance(found, dict):
            # {"<id or name>": {...}}: the key names the institution when the row does not.
            found = [{"institution": key, **row} if isinstance(row, dict) else None
                     for key, row in found.items()]
    else:
        found = []
    return [row for row in (found or []) if isinstance(row, dict)]


def _institution_id(row: dict):
    value = next((row[k] for k in ID_KEYS if k in row), None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _names(rows: list[dict]) -> dict[int, str]:
    """Names of the institutions that rows give only by id (one query, or none)."""
    ids = {_institution_id(row) for row in rows
           if not any(row.get(k) not in (None, "") for k in NAME_KEYS)} - {None}
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(Institution.id, Institution.name).where(Institution.id.in_(ids))).all())


def _name(row: dict, names: dict[int, str]) -> str:
    for key in NAME_KEYS:
        value = row.get(key)
        if isinstance(value, dict):
            value = value.get("name") or value.get("id")
        if value not in (None, ""):
            return str(value)
    return names.get(_institution_id(row), MISSING)


def _rank_key(row: dict):
    rank = row.get("rank")
    return (0, rank) if isinstance(rank, int | float) and not isinstance(rank, bool) \
        else (1, 0)


def _numeric(rows: list[dict], key: str) -> bool:
    """Whether a column holds numbers only (right-aligned), gaps aside."""
    values = [row.get(key) for row in rows if row.get(key) is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                for v in values)


def _notes(figures: dict) -> tuple[list, list]:
    notes, missing = [], []
    for key, value in figures.items():
        if key in NOT_NOTES:
            continue
        if key in REGISTERS and value is None:
            missing.append(REGISTERS[key])
        elif key == "levels" and isinstance(value, list):
            notes.append((NOTE_LABELS[key], _cell(value, "level")))
        elif value is not None and not isinstance(value, dict | list):
            notes.append((NOTE_LABELS.get(key, key.replace("_", " ")), _cell(value)))
    return notes, missing


def _sorted_rows(bulletin) -> list[dict]:
    return sorted(_rows_of(bulletin.figures), key=_rank_key)


@dataclass(frozen=True)
class Window:
    """Which institutions of a bulletin a page shows, in rank order: rows first..last
    (1-based) of `total`, page `page` of `pages`. The chart, the ranking and both tables
    of the bulletin page show the same window."""
    page: int
    pages: int
    total: int
    first: int
    last: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def partial(self) -> bool:
        return self.pages > 1

    def cut(self, rows: list) -> list:
        return rows[self.first - 1:self.last]


def window(bulletin, page: int = 1) -> Window:
    """The window of institutions page `page` shows (PER_PAGE at a time). Raises NotFound
    for a page before the first or after the last (a bulletin without institution rows
    has one empty page)."""
    total = len(_rows_of(bulletin.figures))
    pages = max(1, -(-total // PER_PAGE))
    if page < 1 or page > pages:
        raise NotFound(_("This bulletin has %(pages)d pages of institutions.", pages=pages))
    first = (page - 1) * PER_PAGE + 1
    return Window(page, pages, total, min(first, total) if total else 0,
                  min(page * PER_PAGE, total))


def _shown(bulletin, shown: Window | None) -> list[dict]:
    rows = _sorted_rows(bulletin)
    return shown.cut(rows) if shown is not None else rows


def _totals_of(bulletin) -> dict | None:
    figures = bulletin.figures
    totals = figures.get(TOTALS) if isinstance(figures, dict) else None
    return totals if isinstance(totals, dict) else None


def figures_table(bulletin, shown: Window | None = None) -> FiguresTable:
    """The bulletin's figures as columns and rows of text, in rank order when ranked:
    every institution, or those of the window `shown`.

    Known keys come first in a fixed order with their labels; unknown keys follow under
    their own names; a missing or null value shows as "—". The breakdowns by category,
    outcome and route are in breakdown_table(). Never raises on odd data.
    """
    figures = bulletin.figures
    every = _sorted_rows(bulletin)
    rows = shown.cut(every) if shown is not None else every
    table = FiguresTable()
    if isinstance(figures, dict):
        table.notes, table.missing = _notes(figures)
    if not rows:
        return table
    fmt = _number_formatter()
    # The columns are those of every row, so each page of the table has the same ones.
    seen = dict.fromkeys(k for row in every for k in row if isinstance(k, str))
    keys = ["institution", *(k for k in KNOWN_COLUMNS if k != "institution" and k in seen),
            *(k for k in seen if k not in KNOWN_COLUMNS and k not in HIDDEN_KEYS)]
    table.columns = [(k, KNOWN_COLUMNS.get(k, k.replace("_", " ")), _numeric(every, k))
                     for k in keys]
    names = _names(rows)
    table.rows = [[_name(row, names) if k == "institution" else _cell(row.get(k), k, fmt)
                   for k in keys] for row in rows]
    table.values = [[_name(row, names) if k == "institution" else _raw(row.get(k), k)
                     for k in keys] for row in rows]
    totals = _totals_of(bulletin)
    if totals is not None:
        table.totals = [_("Total") if k == "institution" else
                        (_cell(totals[k], k, fmt) if k in totals else "") for k in keys]
        table.total_values = [_("Total") if k == "institution" else
                              (_raw(totals[k], k) if k in totals else None) for k in keys]
    return table


def breakdown_table(bulletin, shown: Window | None = None) -> BreakdownTable:
    """Complaints by category and by outcome, disputes by route: one column per key,
    one row per institution (in rank order; those of the window `shown`, if given), and
    the totals. Never raises on odd data."""
    every = _sorted_rows(bulletin)
    rows = shown.cut(every) if shown is not None else every
    table = BreakdownTable()
    for key, group_label in BREAKDOWNS.items():
        found = [row[key] for row in every if isinstance(row.get(key), dict)]
        if not found:
            continue
        known = _breakdown_labels(key)
        seen = dict.fromkeys(str(k) for d in found for k in d)
        subs = [*(k for k in known if k in seen), *(k for k in seen if k not in known)]
        table.groups.append((group_label, len(subs)))
        table.columns += [(key, sub, known.get(sub, sub)) for sub in subs]
    if not table.columns:
        return table
    names = _names(rows)

    def value(container, key, sub):
        part = container.get(key) if isinstance(container, dict) else None
        found = part.get(sub) if isinstance(part, dict) else None
        return found if isinstance(found, int | float) and not isinstance(found, bool) \
            else None

    fmt = _number_formatter()
    table.names = [_name(row, names) for row in rows]
    table.values = [[value(row, key, sub) for key, sub, _label in table.columns]
                    for row in rows]
    table.rows = [[_cell(v, fmt=fmt) for v in line] for line in table.values]
    totals = _totals_of(bulletin)
    if totals is not None:
        table.total_values = [value(totals, key, sub) for key, sub, _label in table.columns]
        table.totals = [_cell(v, fmt=fmt) for v in table.total_values]
    return table


def threshold_of(bulletin) -> dict | None:
    """The interview threshold the figures were computed with ({"rate", "count"})."""
    figures = bulletin.figures
    found = figures.get("threshold") if isinstance(figures, dict) else None
    if isinstance(found, dict) and all(isinstance(found.get(k), int | float)
                                       for k in ("rate", "count")):
        return {"rate": found["rate"], "count": found["count"]}
    return None


def proposed_for_interview(bulletin) -> list[str]:
    """The institutions proposed for interview, in rank order."""
    rows = _sorted_rows(bulletin)
    names = _names(rows)
    return [_name(row, names) for row in rows if row.get("interview") is True]


def ranking(bulletin, shown: Window | None = None) -> list[dict]:
    """The institutions in rank order (those of the window `shown`, if given):
    {"rank", "name", "count", "rate", "interview"}, as text (a gap shows as "—");
    empty when the figures have no rates."""
    if not any("rate_per_10k" in row for row in _rows_of(bulletin.figures)):
        return []
    rows = _shown(bulletin, shown)
    names = _names(rows)
    fmt = _number_formatter()

    def count(row):
        values = [row.get(k) for k in ("complaints", "disputes")]
        numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        return sum(numbers) if numbers else None

    return [{"rank": _cell(row.get("rank"), fmt=fmt), "name": _name(row, names),
             "count": _cell(count(row), fmt=fmt),
             "rate": _cell(row.get("rate_per_10k"), fmt=fmt),
             "interview": row.get("interview") is True} for row in rows]


def chart_data(bulletin, shown: Window | None = None) -> dict | None:
    """What the chart of rates per 10,000 visits draws (institutions with visits, in
    rank order; those of the window `shown`, if given); None when none has a rate."""
    rows = [row for row in _shown(bulletin, shown)
            if isinstance(row.get("rate_per_10k"), int | float)
            and not isinstance(row.get("rate_per_10k"), bool)]
    if not rows:
        return None
    names = _names(rows)
    threshold = threshold_of(bulletin)
    return {"labels": [_name(row, names) for row in rows],
            "rates": [row["rate_per_10k"] for row in rows],
            "interview": [row.get("interview") is True for row in rows],
            "threshold": threshold["rate"] if threshold else None,
            "label": str(_("Per 10,000 visits")),
            "threshold_label": str(_("Interview threshold"))}


def bulletin_sheets(bulletin) -> list:
    """The bulletin as spreadsheet sheets: the figures with the breakdowns beside them,
    under a preamble (title, campaign, period, threshold, proposed, generated)."""
    from casework import xlsx

    table, breakdown = figures_table(bulletin), breakdown_table(bulletin)
    header = [label for _key, label, _numeric in table.columns]
    header += [f"{group}：{label}" for key, _sub, label in breakdown.columns
               for group in [BREAKDOWNS[key]]]
    rows = [list(line) for line in table.values]
    if not breakdown.empty:
        for line, extra in zip(rows, breakdown.values, strict=True):
            line.extend(extra)
    if table.total_values is not None:
        rows.append([*table.total_values, *(breakdown.total_values or
                                            [None] * len(breakdown.columns))])
    preamble = [f"{_('Complaint and dispute bulletin')} {_period_text(bulletin)}",
                _localized_title(bulletin.campaign),
                f"{_('Period')}: {bulletin.period_start.isoformat()} – "
                f"{bulletin.period_end.isoformat()}"]
    threshold = threshold_of(bulletin)
    if threshold:
        preamble.append(_threshold_text(threshold))
    proposed = proposed_for_interview(bulletin)
    preamble.append(f"{_('Proposed for interview')}: "
                    f"{'、'.join(proposed) if proposed else _('none')}")
    if bulletin.commentary:
        preamble.append(f"{_('Commentary')}: {bulletin.commentary}")
    preamble.append(f"{_('Generated')}: {format_datetime(bulletin.generated_at)}")
    return [xlsx.Sheet(_("Bulletin"), header or [_("Institution")], rows, preamble)]


def _threshold_text(threshold: dict) -> str:
    return _("Interview threshold: %(rate)s per 10,000 visits, or %(count)s complaints and "
             "disputes where visits are not recorded", rate=format_decimal(threshold["rate"]),
             count=format_decimal(threshold["count"]))


def _period_text(bulletin) -> str:
    from casework.labels import period_label

    return str(period_label(bulletin.period_start, bulletin.period_end))


def _localized_title(campaign) -> str:
    from casework.labels import localized

    return localized(campaign, "title")


def export_filename(bulletin) -> str:
    return f"{_('Bulletin')}-{bulletin.period_start.isoformat()}-" \
           f"{bulletin.period_end.isoformat()}.xlsx"


# --- writing ----------------------------------------------------------------------

def _commentary(value) -> str | None:
    value = (value if isinstance(value, str) else "").strip()
    if len(value) > MAX_COMMENTARY:
        raise Invalid({"commentary": [_("At most %(max)d characters.", max=MAX_COMMENTARY)]})
    return value or None


def save_commentary(bulletin_id: int, *, actor, version: int | None,
                    commentary: str | None) -> Bulletin:
    """Save the draft's commentary without publishing (no history event).

    Raises NotFound, NotPermitted (bulletin_publish), GuardFailed (already published),
    Invalid (too long), StaleObject (changed since `version` was read).
    """
    bulletin = get_bulletin(bulletin_id, actor)
    policy.check("bulletin_publish", actor, bulletin)
    commentary = _commentary(commentary)

    def still_draft(locked):
        if locked.state != "draft":
            raise GuardFailed([_("The bulletin is published; its commentary can no longer "
                                 "be changed.")])

    with binding.changing(Bulletin, bulletin.id, version=version, check=still_draft) as locked:
        locked.commentary = commentary
    return locked


def publish_bulletin(bulletin_id: int, *, actor, version: int | None,
                     commentary: str | None, comment: str | None = None) -> HistoryEvent:
    """Publish the draft with this commentary (saved in the same transaction); the
    campaign's institutions see it from then on. See binding.apply for the errors;
    Invalid for a commentary that is too long."""
    bulletin = get_bulletin(bulletin_id, actor)
    commentary = _commentary(commentary)
    return binding.apply(bulletin, "publish", actor=actor, version=version, comment=comment,
                         changes={"commentary": commentary})


def _summary(figures) -> dict:
    """Totals worth recording in the history when the figures change."""
    totals = figures.get(TOTALS) if isinstance(figures, dict) else None
    totals = totals if isinstance(totals, dict) else {}
    return {"complaints": totals.get("complaints"), "disputes": totals.get("disputes"),
            "interview": totals.get("interview")}


def recompute_figures(bulletin_id: int, *, actor, version: int | None) -> Bulletin:
    """Compute a draft's figures again from the data as it is now (complaints and
    disputes registered late, a changed interview threshold) and record it in the
    history ("recomputed", with the old and new totals).

    Raises NotFound, NotPermitted (bulletin_recompute), GuardFailed (published: its
    figures are final), StaleObject (changed since `version` was read).
    """
    from casework import clock
    from casework.bulletins import sweeps

    bulletin = get_bulletin(bulletin_id, actor)
    policy.check("bulletin_recompute", actor, bulletin)

    def still_draft(locked):
        if locked.state != "draft":
            raise GuardFailed([_("The bulletin is published; its figures can no longer "
                                 "be changed.")])

    with binding.changing(Bulletin, bulletin.id, version=version, check=still_draft) as locked:
        old = _summary(locked.figures)
        locked.figures = sweeps.refigure(locked)
        locked.generated_at = clock.now()
        new = _summary(locked.figures)
        binding.record(locked, "recomputed", actor=actor,
                       data={**{f"old_{k}": v for k, v in old.items()},
                             **{f"new_{k}": v for k, v in new.items()}})
    return locked


def may_recompute(bulletin, actor) -> bool:
    return bulletin.state == "draft" and policy.allows("bulletin_recompute", actor, bulletin)
