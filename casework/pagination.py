"""A page of rows plus what the template needs to link to the others.

Two ways to page:

- `paginate`: page numbers, OFFSET and an exact COUNT(*). Fine for short lists.
- `paginate_keyset`: for lists that can grow to province scale. The first pages may be
  asked for by number (a small OFFSET); every "next"/"previous" link carries a cursor
  instead: the sort key values and id of the last (first) row shown, so the database
  seeks straight to the page through the index that matches the sort, however deep it
  is, and a row inserted or deleted meanwhile neither repeats nor skips a row. The total
  is counted only up to COUNT_CAP rows (a LIMITed subquery): exact when small, "more
  than COUNT_CAP" otherwise.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from math import ceil

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import InstrumentedAttribute

from casework.errors import Invalid
from casework.extensions import db

COUNT_CAP = 10_000
# Page numbers beyond this go by cursor (the Next link) instead of OFFSET.
MAX_OFFSET_PAGE = 20


@dataclass
class Page:
    items: list
    total: int
    page: int | None
    per_page: int
    # Keyset pages: the total is a lower bound (more than COUNT_CAP rows).
    capped: bool = False
    keyset: bool = False
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        if self.keyset:
            return self.prev_cursor is not None or (self.page or 1) > 1
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if self.keyset:
            return self.next_cursor is not None
        return self.page < self.pages


def paginate(query, *, page: int, per_page: int, count_query=None) -> Page:
    """Run `query` for one page; `count_query` (default: derived) counts all rows."""
    page = max(1, page)
    if count_query is None:
        count_query = sa.select(sa.func.count()).select_from(
            query.order_by(None).options().subquery()
        )
    total = db.session.scalar(count_query)
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, total=total, page=page, per_page=per_page)


# --- keyset -----------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """One sort key of a keyset list: a NOT NULL mapped column, ascending or not. The
    last key must be unique (the id)."""

    column: InstrumentedAttribute
    descending: bool = False

    @property
    def ordering(self):
        return self.column.desc() if self.descending else self.column.asc()


def capped_count(query, id_column, cap: int | None = None) -> tuple[int, bool]:
    """(rows, capped): the number of rows of `query`, counting at most `cap` (default
    COUNT_CAP) + 1."""
    cap = cap or COUNT_CAP
    limited = query.order_by(None).with_only_columns(id_column).limit(cap + 1).subquery()
    n = db.session.scalar(sa.select(sa.func.count()).select_from(limited))
    return min(n, cap), n > cap


def _encode(values) -> str:
    plain = [v.isoformat() if isinstance(v, date | datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> Invalid:
    return Invalid({"cursor": [_("This page link is not valid any more. Start again from "
                                 "the first page.")]})


def _decode(token: str, keys: list[Key]) -> list:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    if not isinstance(values, list) or len(values) != len(keys):
        raise _bad_cursor()
    decoded = []
    for key, value in zip(keys, values, strict=True):
        kind = key.column.type.python_type
        try:
            if kind is date:
                decoded.append(date.fromisoformat(value))
            elif kind is int and isinstance(value, int) and not isinstance(value, bool):
                decoded.append(value)
            elif kind is str and isinstance(value, str):
                decoded.append(value)
            else:
                raise ValueError(value)
        except (TypeError, ValueError):
            raise _bad_cursor() from None
    return decoded


def _beyond(keys: list[Key], values: list, *, backwards: bool):
    """Rows strictly after `values` in the keys' order (strictly before: `backwards`)."""

    def down(key):  # whether the comparison looks for smaller values
        return key.descending != backwards

    params = [sa.bindparam(None, v, type_=k.column.type)
              for k, v in zip(keys, values, strict=True)]
    # The longest leading run of keys in one direction, compared as a row value: what an
    # index on those columns can seek to.
    n = 1
    while n < len(keys) and keys[n].descending == keys[0].descending:
        n += 1
    prefix = sa.tuple_(*(k.column for k in keys[:n]))
    prefix_values = sa.tuple_(*params[:n])
    if n == len(keys):
        return prefix < prefix_values if down(keys[0]) else prefix > prefix_values
    either = []
    for i, key in enumerate(keys):
        ties = [k.column == p for k, p in zip(keys[:i], params[:i], strict=True)]
        either.append(sa.and_(*ties, key.column < params[i] if down(key)
                              else key.column > params[i]))
    seek = prefix <= prefix_values if down(keys[0]) else prefix >= prefix_values
    return sa.and_(seek, sa.or_(*either))


def paginate_keyset(query, keys: list[Key], *, per_page: int, page: int | None = 1,
                    after: str | None = None, before: str | None = None,
                    count_cap: int | None = None) -> Page:
    """One page of `query` (not yet ordered) in the order of `keys`.

    `after` / `before`: a cursor from a previous page's next_cursor / prev_cursor; the
    page then starts right after (ends right before) that row, and `page` is only the
    number to show (None: unknown). Without a cursor, `page` (1..MAX_OFFSET_PAGE) is
    served by OFFSET. Raises Invalid (a malformed cursor, a page number too deep)."""
    ordered = query.order_by(*(k.ordering for k in keys))
    total, capped = capped_count(query, keys[-1].column, count_cap)

    def cursor(item) -> str:
        return _encode([getattr(item, k.column.key) for k in keys])

    if before:
        values = _decode(before, keys)
        reverse = query.where(_beyond(keys, values, backwards=True)).order_by(
            *((k.column.asc() if k.descending else k.column.desc()) for k in keys))
        rows = list(db.session.scalars(reverse.limit(per_page + 1)).unique())
        if len(rows) > per_page:
            items = rows[:per_page][::-1]
            return Page(items=items, total=total, page=page, per_page=per_page,
                        capped=capped, keyset=True, next_cursor=cursor(items[-1]),
                        prev_cursor=cursor(items[0]))
        # Reached the start: show the first page, whole.
        page, after = 1, None
    if after:
        values = _decode(after, keys)
        rows = list(db.session.scalars(
            ordered.where(_beyond(keys, values, backwards=False)).limit(per_page + 1)).unique())
        items = rows[:per_page]
        return Page(items=items, total=total, page=page, per_page=per_page, capped=capped,
                    keyset=True,
                    next_cursor=cursor(items[-1]) if len(rows) > per_page else None,
                    prev_cursor=cursor(items[0]) if items else after)
    page = max(1, page or 1)
    if page > MAX_OFFSET_PAGE:
        raise Invalid({"page": [_("Pages after %(n)d are reached with the Next link.",
                                  n=MAX_OFFSET_PAGE)]})
    rows = list(db.session.scalars(
        ordered.limit(per_page + 1).offset((page - 1) * per_page)).unique())
    items = rows[:per_page]
    return Page(items=items, total=total, page=page, per_page=per_page, capped=capped,
                keyset=True,
                next_cursor=cursor(items[-1]) if len(rows) > per_page else None,
                prev_cursor=cursor(items[0]) if items and page > 1 else None)
