"""A page of rows plus what the template needs to link to the others."""

from dataclasses import dataclass
from math import ceil

import sqlalchemy as sa

from casework.extensions import db


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
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
